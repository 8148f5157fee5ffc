//! Fuzz target `events`: see `pactum_fuzz::events` (tests/fuzz/src/harness.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pactum_fuzz::events(data));
