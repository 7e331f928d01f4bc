//! The `roundtrip` target: see `mqtt_fuzz::roundtrip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqtt_fuzz::roundtrip::run(data));
