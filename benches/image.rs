//! Image re-encoding, per megapixel: a 12 MP photograph-like JPEG (smooth
//! gradients with noise, re-encoded as JPEG) and a 2 MP screenshot-like
//! PNG (flat colours and text-like strokes, re-encoded as PNG), both made
//! here so the bench needs no files. Throughput is in megapixels.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::{ImageFormat, Rgb, RgbImage};
use mukaika_sanitize::image::{ImageOptions, reencode};

/// A photograph stand-in: gradients plus pseudo-random grain, which JPEG
/// must really work on.
fn photo(width: u32, height: u32) -> Vec<u8> {
    let mut seed = 0x2545_F491_u32;
    let img = RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let grain = (seed % 24) as u8;
        Rgb([
            ((x * 255 / width) as u8).saturating_add(grain),
            ((y * 255 / height) as u8).saturating_add(grain),
            (((x + y) * 127 / (width + height)) as u8).saturating_add(grain),
        ])
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .unwrap();
    out
}

/// A screenshot stand-in: a white page with dark strokes and a few flat
/// coloured panels.
fn screenshot(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        if y % 24 < 14 && x % 9 < 6 && (x / 90 + y / 24) % 3 != 0 {
            Rgb([30, 30, 30])
        } else if x < width / 5 {
            Rgb([230, 236, 245])
        } else {
            Rgb([255, 255, 255])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn bench(c: &mut Criterion) {
    let options = ImageOptions::default();
    let mut group = c.benchmark_group("reencode");
    group.sample_size(10);
    for (name, bytes, megapixels) in [
        ("photo_jpeg_12mp", photo(4000, 3000), 12),
        ("screenshot_png_2mp", screenshot(1920, 1080), 2),
    ] {
        group.throughput(Throughput::Elements(megapixels));
        group.bench_function(name, |b| {
            b.iter(|| reencode(black_box(&bytes), &options).expect("re-encodes"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
