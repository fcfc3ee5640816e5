#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ebay_import_fuzz::read(data));
