//! Arbitrary bytes as an image: re-encoding must never panic, hang or
//! allocate past the pixel limit (a small one here, so bombs show).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mukaika_sanitize::image::{ImageOptions, OutputFormat, reencode};

fuzz_target!(|data: &[u8]| {
    for format in [OutputFormat::Auto, OutputFormat::Jpeg] {
        let options = ImageOptions {
            format,
            max_pixels: 4_000_000,
            ..ImageOptions::default()
        };
        if let Ok(out) = reencode(data, &options) {
            assert!(u64::from(out.width) * u64::from(out.height) <= options.max_pixels);
        }
    }
});
