//! Fuzz target `scenario`: see `pactum_fuzz::scenario` (tests/fuzz/src/harness.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pactum_fuzz::scenario(data));
