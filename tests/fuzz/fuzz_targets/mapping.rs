//! Fuzz target `mapping`: see `pactum_fuzz::mapping` (tests/fuzz/src/harness.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pactum_fuzz::mapping(data));
