//! The `decode` target: see `mqtt_fuzz::decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqtt_fuzz::decode::run(data));
