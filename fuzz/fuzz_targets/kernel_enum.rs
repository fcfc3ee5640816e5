#![no_main]

use ebay_import_fuzz::{kernel, Kernel};

libfuzzer_sys::fuzz_target!(|data: &[u8]| kernel(Kernel::Enum, data));
