//! Fuzz target `conditions`: see `pactum_fuzz::conditions` (tests/fuzz/src/harness.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pactum_fuzz::conditions(data));
