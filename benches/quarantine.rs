//! The console's list and search over a large quarantine: 100,000 records
//! (override with MUKAIKA_BENCH_RECORDS), each a realistic `meta.json`,
//! indexed by `reindex`. Criterion measures each query; a second pass
//! prints the p95 of 200 runs per query, the figure the console's target
//! is stated in (≤ 100 ms per page).
//!
//! The records are written without fsync, straight in the quarantine's
//! layout (fixture making, not the code under test), then `reindex` builds
//! the index: its time is printed too.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mukaika_quarantine::{Config, Filter, FsQuarantine, Quarantine, Sort};
use serde_json::json;

const T0: u64 = 1_790_000_000;

const SUBJECTS: [&str; 8] = [
    "【請求書】{n}月分のご送付",
    "会議資料の送付について ({n})",
    "Re: 見積依頼 No.{n}",
    "Invoice {n} attached",
    "【至急】予算要求資料の提出 {n}",
    "お知らせ：システム更新のお願い {n}",
    "FW: 住民説明会の開催案内 {n}",
    "Weekly report #{n}",
];

const REASONS: [&str; 5] = [
    "ooxml-macros-removed",
    "executable-or-script",
    "archive-encrypted",
    "pdf-flattened",
    "image-reencoded",
];

fn build(dir: &std::path::Path, n: usize) -> FsQuarantine {
    for i in 0..n {
        let id = format!("{:016X}{:08X}", T0 + i as u64, i);
        let record_dir = dir.join(&id);
        std::fs::create_dir_all(&record_dir).unwrap();
        let subject = SUBJECTS[i % SUBJECTS.len()].replace("{n}", &i.to_string());
        let infected = i % 97 == 0;
        let record = json!({
            "id": id,
            "stored_at": T0 + i as u64 * 30,
            "verdict": if infected { "infected" } else if i % 5 == 0 { "held" } else { "sanitized" },
            "status": "delivered",
            "size": 2_000 + (i * 7919) % 5_000_000,
            "sha256": format!("{:064x}", i),
            "envelope": {
                "sender": format!("user{}@example{}.co.jp", i % 1000, i % 37),
                "recipients": [format!("clerk{}@city.lg.jp", i % 300)],
                "received_at": T0 + i as u64 * 30 - 2,
                "client_ip": "192.0.2.1", "helo": "mx.example.jp", "stage": "original",
                "attempts": 0, "next_attempt": 0, "last_error": null
            },
            "history": [{"at": T0 + i as u64 * 30, "kind": "stored", "detail": "", "by": null}],
            "report": {
                "verdict": "sanitized", "profile": "standard", "subject": subject,
                "from": format!("送信者{} <user{}@example.co.jp>", i % 1000, i % 1000),
                "parts": [
                    {"path": "1", "action": "kept", "reason": "text"},
                    {"path": "2", "action": "removed", "reason": REASONS[i % REASONS.len()]}
                ],
                "threats": if infected { json!([{"name": "Custom.EICAR.NDB.UNOFFICIAL", "part": "2"}]) } else { json!([]) },
                "timings_us": {"total": 1_000 + i % 50_000}
            }
        });
        std::fs::write(record_dir.join("meta.json"), record.to_string()).unwrap();
        std::fs::write(record_dir.join("original.eml"), b"x").unwrap();
    }
    let quarantine = FsQuarantine::open(&Config {
        dir: dir.into(),
        retention_days: 3650,
    })
    .unwrap();
    let started = Instant::now();
    let indexed = quarantine.reindex().unwrap();
    eprintln!(
        "reindex of {indexed} records: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    quarantine
}

fn queries() -> Vec<(&'static str, Filter)> {
    let page = |f: Filter| Filter {
        limit: Some(50),
        ..f
    };
    vec![
        ("newest page", page(Filter::default())),
        (
            "page 100",
            page(Filter {
                offset: 5_000,
                ..Filter::default()
            }),
        ),
        (
            "subject word 予算要求",
            page(Filter {
                subject: Some("予算要求".into()),
                ..Filter::default()
            }),
        ),
        (
            "subject, rare match",
            page(Filter {
                subject: Some("見積依頼 No.99991".into()),
                ..Filter::default()
            }),
        ),
        (
            "sender",
            page(Filter {
                sender: Some("user42@".into()),
                ..Filter::default()
            }),
        ),
        (
            "reason, oldest first",
            page(Filter {
                reason: Some("archive-encrypted".into()),
                sort: Sort::Oldest,
                ..Filter::default()
            }),
        ),
        (
            "threat",
            page(Filter {
                threat: Some("eicar".into()),
                ..Filter::default()
            }),
        ),
        (
            "verdict + date range",
            page(Filter {
                verdict: Some("held".into()),
                since: Some(T0 + 1_000_000),
                until: Some(T0 + 2_000_000),
                ..Filter::default()
            }),
        ),
        (
            "largest",
            page(Filter {
                sort: Sort::Largest,
                ..Filter::default()
            }),
        ),
    ]
}

/// What one console page costs: the page and its total count.
fn page_of(q: &FsQuarantine, filter: &Filter) -> usize {
    q.list(filter).unwrap().len() + q.count(filter).unwrap() as usize
}

fn bench(c: &mut Criterion) {
    let n = std::env::var("MUKAIKA_BENCH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let q = build(dir.path(), n);
    for (name, filter) in queries() {
        let mut times: Vec<Duration> = (0..200)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(page_of(&q, &filter));
                t.elapsed()
            })
            .collect();
        times.sort();
        eprintln!(
            "{name:<24} p50 {:>7.2} ms  p95 {:>7.2} ms  ({n} records)",
            times[100].as_secs_f64() * 1e3,
            times[189].as_secs_f64() * 1e3
        );
    }
    let stats_started = Instant::now();
    let stats = q.stats(T0, T0 + n as u64 * 30 + 1, 86_400).unwrap();
    eprintln!(
        "stats over {} records: {:.1} ms",
        stats.total,
        stats_started.elapsed().as_secs_f64() * 1e3
    );
    let mut group = c.benchmark_group(format!("quarantine_{n}"));
    for (name, filter) in queries() {
        group.bench_function(name, |b| b.iter(|| page_of(&q, &filter)));
    }
    group.bench_function("stats 30 days", |b| {
        b.iter(|| q.stats(T0, T0 + 30 * 86_400, 86_400).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
