//! HTML to text, side by side with the reference: html2text 0.17 (a full
//! html5ever DOM) and Mukaika's converter, on the same 100 KB page.

mod corpus;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mukaika_sanitize::{LinkMode, text::html::html_to_text};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let page = corpus::html_page(100_000);
    let mut group = c.benchmark_group("html_to_text_100k");
    group.throughput(Throughput::Bytes(page.len() as u64));
    group.bench_function("mukaika", |b| {
        b.iter(|| html_to_text(black_box(&page), LinkMode::Defang))
    });
    group.bench_function("html2text_0_17", |b| {
        b.iter(|| html2text::from_read(black_box(page.as_bytes()), 80))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
