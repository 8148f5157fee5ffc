//! Fuzz target `saved_report`: see `pactum_fuzz::saved_report` (tests/fuzz/src/harness.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pactum_fuzz::saved_report(data));
