//! Fuzz target `agreement`: see `pactum_fuzz::agreement` (tests/fuzz/src/harness.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pactum_fuzz::agreement(data));
