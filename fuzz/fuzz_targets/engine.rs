//! The `engine` target: see `mqtt_fuzz::engine`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqtt_fuzz::engine::run(data));
