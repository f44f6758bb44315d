//! Arbitrary bytes as an SVG: rasterizing must never panic, hang, load
//! anything or draw past the pixel limit (a small one here, so canvas
//! bombs show); whatever it delivers is a PNG of the size it says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mukaika_sanitize::svg::{MAX_SIDE, rasterize};

fuzz_target!(|data: &[u8]| {
    let max_pixels = 1_000_000;
    if let Ok(out) = rasterize(data, max_pixels) {
        assert!(u64::from(out.width) * u64::from(out.height) <= max_pixels);
        assert!(out.width <= MAX_SIDE && out.height <= MAX_SIDE);
        assert!(out.png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }
});
