//! Arbitrary bytes as a PDF: flatten at a low resolution (fast enough for
//! many runs a second; the parser and interpreter see the same input at any
//! resolution) and with small images. Must never panic, hang or blow up, and what comes out must
//! be a PDF that flattens again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mukaika_sanitize::pdf::{FlattenOptions, flatten};

fuzz_target!(|data: &[u8]| {
    let options = FlattenOptions {
        dpi: 18,
        max_pages: 20,
        max_page_pixels: 1_000_000,
        // Images are decoded at full size whatever the DPI; larger ones
        // only find the memory limit, which the worker enforces.
        max_image_pixels: 4_000_000,
        ..FlattenOptions::default()
    };
    if let Ok(out) = flatten(data, &options) {
        assert!(out.pages > 0);
        let again = flatten(&out.pdf, &options).expect("a flattened PDF flattens again");
        assert_eq!(again.pages, out.pages);
    }
});
