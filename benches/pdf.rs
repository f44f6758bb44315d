//! PDF flattening at 150 DPI, all included (open, render, encode, write):
//! a 10-page Helvetica text document and a 3-page photograph document,
//! the files of `corpus/pdf/` that mutool and pdftoppm are timed on in
//! docs/PERFORMANCE.md. Throughput is in pages. The `clean` group times
//! the structural clean (`attachments.pdf = "clean"`) of the same files.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mukaika_sanitize::pdf::{FlattenOptions, clean, flatten};
use std::hint::black_box;

const TEXT: &[u8] = include_bytes!("corpus/pdf/text-10.pdf");
const PHOTO: &[u8] = include_bytes!("corpus/pdf/photo-3.pdf");

fn bench(c: &mut Criterion) {
    let options = FlattenOptions::default();
    let mut group = c.benchmark_group("flatten_150dpi");
    group.sample_size(20);
    for (name, pdf, pages) in [("text_10_pages", TEXT, 10), ("photo_3_pages", PHOTO, 3)] {
        group.throughput(Throughput::Elements(pages));
        group.bench_function(name, |b| {
            b.iter(|| flatten(black_box(pdf), &options).expect("the corpus flattens"))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("clean");
    for (name, pdf, pages) in [("text_10_pages", TEXT, 10), ("photo_3_pages", PHOTO, 3)] {
        group.throughput(Throughput::Elements(pages));
        group.bench_function(name, |b| {
            b.iter(|| clean(black_box(pdf), &options).expect("the corpus cleans"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
