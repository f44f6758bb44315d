//! Throughput of the sanitizer core on the three mails of docs/PERFORMANCE.md:
//! (a) a 20 KB ISO-2022-JP text mail, (b) a 100 KB HTML mail, (c) a 5 MB
//! mail with attachments, plus the even (a)+(b) mix the target is set on;
//! and the output verifier on what the core delivers for each.
//! Inputs come from `corpus/`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mukaika_sanitize::{Policy, sanitize};
use std::hint::black_box;

mod corpus;

use corpus::{html_mail, jis_text_mail, large_mail};

fn bench(c: &mut Criterion) {
    let policy = Policy::default();
    let mut group = c.benchmark_group("sanitize");
    for (name, mail) in [
        ("a_jis_text_20k", jis_text_mail()),
        ("b_html_100k", html_mail()),
        ("c_attachments_5m", large_mail()),
    ] {
        group.throughput(Throughput::Bytes(mail.len() as u64));
        group.bench_function(name, |b| b.iter(|| sanitize(black_box(&mail), &policy)));
    }
    // The target is set in mails per second on an even mix of (a) and (b).
    let (a, b) = (jis_text_mail(), html_mail());
    group.throughput(Throughput::Elements(2));
    group.bench_function("mix_a_b_per_2_mails", |bench| {
        bench.iter(|| {
            sanitize(black_box(&a), &policy);
            sanitize(black_box(&b), &policy)
        })
    });
    group.finish();

    // The output verifier, on what the core delivers for each mail.
    let mut group = c.benchmark_group("verify");
    for (name, mail) in [
        ("a_jis_text_20k", jis_text_mail()),
        ("b_html_100k", html_mail()),
        ("c_attachments_5m", large_mail()),
    ] {
        let output = sanitize(&mail, &policy).message;
        assert!(mukaika_verify::verify(&output).is_ok());
        group.bench_function(name, |b| {
            b.iter(|| mukaika_verify::verify(black_box(&output)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
