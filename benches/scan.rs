//! What virus scanning adds per mail: `Sanitizer::run` (the step the
//! daemon runs) with a real clamd (the project's test signatures, on a
//! unix socket) against the same step without a scanner, on mails (a) and
//! (c) of docs/PERFORMANCE.md; and 16 mails at once, to show that scans of
//! different mails overlap instead of queueing behind each other.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mukaika::scan::{Engine, Outcome, Sanitizer};
use mukaika_sanitize::{Context, Policy};

/// Benches run the core as the offline command does: no queue id or envelope.
static NO_CONTEXT: Context = Context {
    queue_id: None,
    envelope_sender: None,
    received_at: None,
    request_url: None,
};
use mukaika_scan::{Config, Scanner};

#[path = "../crates/scan/tests/support/mod.rs"]
mod clamd;
mod corpus;

fn sanitizer(scanner: Option<Scanner>) -> Sanitizer {
    Sanitizer {
        policy: Arc::new(Policy::default()),
        scanner,
        engine: Engine::InProcess {
            slots: tokio::sync::Semaphore::new(2),
        },
        converter: None,
    }
}

fn bench(c: &mut Criterion) {
    let clamd = clamd::Clamd::start(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/scan/tests/signatures"),
    );
    let scanner = Scanner::new(&Config {
        clamd: clamd.unix(),
        concurrency: 8,
        ..Config::default()
    })
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let with = sanitizer(scanner);
    let without = sanitizer(None);
    let run = |s: &Sanitizer, mail: &Arc<Vec<u8>>| match runtime
        .block_on(s.run(mail.clone(), &NO_CONTEXT))
        .unwrap()
    {
        Outcome::Done(out) => black_box(out),
        Outcome::NoVerdict(why) => panic!("no verdict: {why}"),
    };

    let mut group = c.benchmark_group("scan");
    group.sample_size(30);
    for (name, mail) in [
        ("a_jis_text_20k", corpus::jis_text_mail()),
        ("c_attachments_5m", corpus::large_mail()),
    ] {
        let mail = Arc::new(mail);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{name}/sanitize_only"), |b| {
            b.iter(|| run(&without, &mail))
        });
        group.bench_function(format!("{name}/sanitize_and_scan"), |b| {
            b.iter(|| run(&with, &mail))
        });
    }
    let mail = Arc::new(corpus::jis_text_mail());
    group.throughput(Throughput::Elements(16));
    group.bench_function("a_jis_text_20k/16_at_once_scanned", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let runs = (0..16).map(|_| with.run(mail.clone(), &NO_CONTEXT));
                for out in futures_util::future::join_all(runs).await {
                    assert!(matches!(out, Ok(Outcome::Done(_))));
                }
            })
        })
    });
    group.finish();
    drop(clamd);
}

criterion_group!(benches, bench);
criterion_main!(benches);
