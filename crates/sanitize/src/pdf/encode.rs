//! Page pixels to an image stream.
//!
//! Each page picks its own encoding, in two cheap passes over the pixels:
//! - **Colours**: a page whose every pixel has R = G = B (black text,
//!   greyscale drawings; hayro's anti-aliasing keeps black text grey) is
//!   written as 8-bit DeviceGray, a third of the samples of RGB.
//! - **Compression**: the share of pixels equal to their left neighbour
//!   (every fourth row) tells drawn pages from photographs. Text and
//!   drawings are runs of paper and ink (0.91 on a dense text page, 0.94 on
//!   a chart with coloured text); photographs and scans are noise (0.40 on
//!   the synthetic photo of the tests, 0.62 on a real 1280×720 photograph
//!   with white margins). At 0.75 or more the page goes lossless: zlib
//!   (Flate) level 2, with flate2's zlib-rs backend, which hayro-syntax
//!   already brings. Text stays crisp. Below 0.75: JPEG quality 85 (DCT).
//!
//! Measured on one core of this project's machines (release build, mean
//! of 20), on A4 pages rendered at 150 DPI (1240 × 1754 pixels, 5–7 ms to
//! render):
//!
//! | page | zlib-rs 1 | **zlib-rs 2** | zlib-rs 3 | miniz_oxide 1 | miniz_oxide 3 | JPEG q85 |
//! |---|---|---|---|---|---|---|
//! | dense text (grey) | 175 KB, 1.7 ms | **138 KB, 3.3 ms** | 135 KB, 4.6 ms | 156 KB, 2.9 ms | 135 KB, 8.0 ms | 293 KB, 10.0 ms |
//! | chart + coloured text (RGB) | 259 KB, 3.1 ms | **189 KB, 4.4 ms** | 183 KB, 5.4 ms | 216 KB, 4.6 ms | 161 KB, 16.9 ms | 236 KB, 17.3 ms |
//! | synthetic photo (RGB) | 1,756 KB, 14.9 ms | 1,395 KB, 26.4 ms | 1,355 KB, 30.4 ms | 1,335 KB, 21.7 ms | 1,102 KB, 58.0 ms | **223 KB, 17.7 ms** |
//! | real photo (RGB, landscape) | 2,010 KB, 18.4 ms | 1,767 KB, 31.7 ms | 1,675 KB, 37.8 ms | 1,704 KB, 26.3 ms | 1,399 KB, 60.6 ms | **183 KB, 16.7 ms** |
//!
//! zlib-rs level 2 is where size stops falling fast while a text page stays
//! well within its ~15 ms budget. JPEG is larger and blurrier on text, and
//! 6–10 times smaller on photographs, at the time Flate takes. Also
//! measured and not taken: the PNG "up" predictor (+27 % on text; it would
//! halve photographs, but they go JPEG); fdeflate (fast, but 6–10 times
//! larger on unfiltered samples); JPEG q92 (1.6 times the time and size of
//! q85); 4-bit grey (92 KB for the text page at miniz level 1, but 16
//! levels band greyscale gradients, and a page cannot cheaply tell which
//! it has).
//!
//! A page with a small photograph among text stays above 0.75 and goes
//! Flate: larger, never blurred.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;

/// Samples per pixel of the page image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Colors {
    Gray,
    Rgb,
}

/// How the samples are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    Flate,
    Jpeg,
}

/// One page image, ready to be written as an image XObject.
pub(super) struct PageImage {
    pub width: u16,
    pub height: u16,
    pub colors: Colors,
    pub codec: Codec,
    pub data: Vec<u8>,
}

/// zlib level (see the table above).
const FLATE_LEVEL: u32 = 2;
/// JPEG quality for photographic pages.
const JPEG_QUALITY: u8 = 85;
/// Below this share of flat pixels, a page is photographic.
const FLAT_SHARE_FOR_FLATE: f64 = 0.75;

/// Encodes premultiplied RGBA pixels (`width * height * 4` bytes).
pub(super) fn encode(rgba: &[u8], width: u16, height: u16) -> PageImage {
    let (colors, samples) = match gray_samples(rgba) {
        Some(gray) => (Colors::Gray, gray),
        None => (Colors::Rgb, rgb_samples(rgba)),
    };
    let photographic =
        flat_share(&samples, usize::from(width), colors.channels()) < FLAT_SHARE_FOR_FLATE;
    let jpeg = photographic
        .then(|| jpeg(&samples, width, height, colors))
        .flatten();
    let (codec, data) = match jpeg {
        Some(data) => (Codec::Jpeg, data),
        None => (Codec::Flate, flate(&samples)),
    };
    PageImage {
        width,
        height,
        colors,
        codec,
        data,
    }
}

impl Colors {
    fn channels(self) -> usize {
        match self {
            Colors::Gray => 1,
            Colors::Rgb => 3,
        }
    }
}

// The pixel loops below read each pixel as one word and write into
// preallocated buffers: with `Iterator::all`, `collect` and slice
// comparisons over 4-byte chunks they took 40 % of a text page's time.

/// The page as grey samples, or `None` at the first block of pixels where
/// R = G = B does not hold. The check has no early exit inside a block, so
/// that the loop vectorizes, and shares the pass with the conversion.
fn gray_samples(rgba: &[u8]) -> Option<Vec<u8>> {
    const BLOCK: usize = 1024;
    let mut out = vec![0u8; rgba.len() / 4];
    for (grays, pixels) in out.chunks_mut(BLOCK).zip(rgba.chunks(4 * BLOCK)) {
        let mut diff = 0u32;
        for (gray, p) in grays.iter_mut().zip(pixels.chunks_exact(4)) {
            let v = pixel(p);
            // R ^ G in the low byte, G ^ B in the next.
            diff |= (v ^ (v >> 8)) & 0xFFFF;
            *gray = over_white(v, v >> 24);
        }
        if diff != 0 {
            return None;
        }
    }
    Some(out)
}

fn rgb_samples(rgba: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; rgba.len() / 4 * 3];
    for (rgb, p) in out.chunks_exact_mut(3).zip(rgba.chunks_exact(4)) {
        let (v, alpha) = (pixel(p), pixel(p) >> 24);
        rgb[0] = over_white(v, alpha);
        rgb[1] = over_white(v >> 8, alpha);
        rgb[2] = over_white(v >> 16, alpha);
    }
    out
}

/// One RGBA pixel as a little-endian word: R in the low byte, A in the high.
fn pixel(p: &[u8]) -> u32 {
    u32::from_le_bytes([p[0], p[1], p[2], p[3]])
}

/// The low byte of `channel`, a premultiplied value, composited over white
/// (as on paper): c + (255 - alpha), which a valid premultiplied pixel
/// keeps within 255; `min` guards an invalid one.
fn over_white(channel: u32, alpha: u32) -> u8 {
    ((channel & 0xFF) + 255 - alpha).min(255) as u8
}

/// The share of pixels equal to their left neighbour, over every fourth
/// row: high on text and drawings (runs of paper and ink), low on
/// photographs and scans (noise).
fn flat_share(samples: &[u8], width: usize, channels: usize) -> f64 {
    // A pixel as one integer, so that comparing two is not a memcmp call.
    let key = |p: &[u8]| p.iter().fold(0u32, |k, &b| (k << 8) | u32::from(b));
    let (mut flat, mut seen) = (0usize, 0usize);
    for row in samples.chunks_exact(width * channels).step_by(4) {
        let mut pixels = row.chunks_exact(channels).map(key);
        let Some(mut previous) = pixels.next() else {
            continue;
        };
        for pixel in pixels {
            flat += usize::from(pixel == previous);
            seen += 1;
            previous = pixel;
        }
    }
    if seen == 0 {
        return 1.0;
    }
    flat as f64 / seen as f64
}

fn flate(samples: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(
        Vec::with_capacity(samples.len() / 8),
        Compression::new(FLATE_LEVEL),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(samples);
    encoder.finish().unwrap_or_default()
}

fn jpeg(samples: &[u8], width: u16, height: u16, colors: Colors) -> Option<Vec<u8>> {
    crate::image::jpeg(samples, width, height, colors == Colors::Gray, JPEG_QUALITY)
}
