//! What the worker sandbox costs per mail: `Sanitizer::run` (the step the
//! daemon runs, verifier included) with the core in sandboxed `mukaika
//! worker` processes, against the same step in this process, on mails (a)
//! and (b) of docs/PERFORMANCE.md; one mail at a time (the added latency),
//! and 16 at once on a pool of one worker per core (the throughput).

use std::hint::black_box;
use std::path::PathBuf;
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
use mukaika_worker::{Config, Pool, Program};

mod corpus;

fn in_process(slots: usize) -> Sanitizer {
    Sanitizer {
        policy: Arc::new(Policy::default()),
        scanner: None,
        engine: Engine::InProcess {
            slots: tokio::sync::Semaphore::new(slots),
        },
        converter: None,
    }
}

fn pooled(runtime: &tokio::runtime::Runtime, size: usize) -> Sanitizer {
    let program = Program {
        path: PathBuf::from(env!("CARGO_BIN_EXE_mukaika")),
        args: vec!["worker".into()],
    };
    let policy = Policy::default();
    let (pool, proof) = runtime
        .block_on(Pool::start(
            program,
            &Config::default(),
            size,
            &policy,
            1 << 30,
        ))
        .expect("starting the workers");
    assert!(proof.shortfalls.is_empty(), "{:?}", proof.shortfalls);
    Sanitizer {
        policy: Arc::new(policy),
        scanner: None,
        engine: Engine::Workers(pool),
        converter: None,
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let run = |s: &Sanitizer, mail: &Arc<Vec<u8>>| {
        runtime.block_on(async {
            match s.run(mail.clone(), &NO_CONTEXT).await.unwrap() {
                Outcome::Done(out) => black_box(out),
                Outcome::NoVerdict(why) => panic!("no verdict: {why}"),
            }
        })
    };
    let many = |s: &Sanitizer, mail: &Arc<Vec<u8>>| {
        runtime.block_on(async {
            let runs = (0..16).map(|_| s.run(mail.clone(), &NO_CONTEXT));
            for out in futures_util::future::join_all(runs).await {
                assert!(matches!(out, Ok(Outcome::Done(_))));
            }
        })
    };
    let (here, there) = (in_process(1), pooled(&runtime, 1));
    let (here_all, there_all) = (in_process(cores), pooled(&runtime, cores));

    let mut group = c.benchmark_group("workers");
    group.sample_size(50);
    for (name, mail) in [
        // The pool's fixed cost per message shows best on a tiny one.
        (
            "tiny_200b",
            b"From: a@example.jp\r\nSubject: hi\r\nDate: Sun, 22 Nov 2026 10:00:00 +0900\r\n\r\nhello\r\n".to_vec(),
        ),
        ("a_jis_text_20k", corpus::jis_text_mail()),
        ("b_html_100k", corpus::html_mail()),
    ] {
        let mail = Arc::new(mail);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{name}/in_process"), |b| {
            b.iter(|| run(&here, &mail))
        });
        group.bench_function(format!("{name}/worker"), |b| b.iter(|| run(&there, &mail)));
        group.throughput(Throughput::Elements(16));
        group.bench_function(format!("{name}/16_at_once_in_process"), |b| {
            b.iter(|| many(&here_all, &mail))
        });
        group.bench_function(format!("{name}/16_at_once_workers"), |b| {
            b.iter(|| many(&there_all, &mail))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
