//! Tests against a real clamd (Debian `clamav-daemon`), started per test in
//! the foreground with the project's own signatures (`tests/signatures/`).
//! No internet and no freshclam: the database is only those files.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{Clamd, eicar, project_sample};

use mukaika_scan::{Config, Error, Scanner, Verdict};

fn scanner(clamd: &str, timeout_secs: u64, concurrency: usize) -> Scanner {
    Scanner::new(&Config {
        clamd: clamd.into(),
        timeout_secs,
        concurrency,
        ..Config::default()
    })
    .unwrap()
    .expect("not off")
}

fn names(verdict: Verdict) -> Vec<String> {
    match verdict {
        Verdict::Infected(names) => names,
        Verdict::Clean => panic!("expected Infected, got Clean"),
    }
}

#[tokio::test]
async fn verdicts_over_unix_and_tcp() {
    let clamd = Clamd::start(&signatures());
    for address in [clamd.unix(), clamd.tcp()] {
        let s = scanner(&address, 10, 4);
        s.ping().await.unwrap();

        let started = Instant::now();
        assert_eq!(
            s.scan(b"Dear colleague, the minutes are attached.\r\n")
                .await,
            Ok(Verdict::Clean)
        );
        eprintln!("{address}: small clean scan took {:?}", started.elapsed());
        assert_eq!(s.scan(b"").await, Ok(Verdict::Clean));

        let found = names(s.scan(&eicar()).await.unwrap());
        assert!(found.iter().all(|n| n.contains("EICAR")), "{found:?}");

        let mut embedded = b"prefix bytes ".to_vec();
        embedded.extend(eicar());
        let found = names(s.scan(&embedded).await.unwrap());
        assert!(
            found.iter().any(|n| n.starts_with("Custom.EICAR.NDB")),
            "{found:?}"
        );

        let found = names(s.scan(&project_sample()).await.unwrap());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("Mukaika.Test.Sig"), "{found:?}");
    }
}

#[tokio::test]
async fn version_names_engine_and_database() {
    let clamd = Clamd::start(&signatures());
    let s = scanner(&clamd.unix(), 10, 4);
    let v = s.version().await.unwrap();
    eprintln!("version: {v}");
    assert!(v.engine.starts_with("ClamAV 1."), "{v}");
    // Local signature files only: no database version to report.
    assert_eq!(v.database, None);
    // Cached: still answers with clamd gone.
    drop(clamd);
    assert_eq!(s.version().await.unwrap(), v);
}

#[tokio::test]
async fn killed_is_unavailable_then_recovers() {
    let mut clamd = Clamd::start(&signatures());
    for address in [clamd.unix(), clamd.tcp()] {
        let s = scanner(&address, 5, 4);
        assert_eq!(s.scan(b"clean").await, Ok(Verdict::Clean));

        clamd.kill();
        let started = Instant::now();
        let err = s.scan(&eicar()).await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(matches!(err, Error::Unavailable(_)), "{err}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        eprintln!("{address}: clamd down -> {err} after {elapsed:?}");
        assert!(matches!(s.ping().await, Err(Error::Unavailable(_))));

        clamd.restart();
        assert!(!names(s.scan(&eicar()).await.unwrap()).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_scans() {
    let clamd = Clamd::start(&signatures());
    let s = scanner(&clamd.unix(), 30, 4);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let s = s.clone();
        tasks.spawn(async move {
            let clean = format!("message {i}: nothing to see here\n").repeat(1000);
            let clean_verdict = s.scan(clean.as_bytes()).await;
            let bad = if i % 2 == 0 {
                eicar()
            } else {
                project_sample()
            };
            (clean_verdict, s.scan(&bad).await)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (clean, bad) = joined.unwrap();
        assert_eq!(clean, Ok(Verdict::Clean));
        assert!(!names(bad.unwrap()).is_empty());
    }
    eprintln!(
        "40 scans (20 tasks, concurrency 4) took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn five_megabytes_clean() {
    let clamd = Clamd::start(&signatures());
    let big: Vec<u8> = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n"
        .iter()
        .copied()
        .cycle()
        .take(5 * 1024 * 1024)
        .collect();
    for address in [clamd.unix(), clamd.tcp()] {
        let s = scanner(&address, 30, 4);
        let started = Instant::now();
        assert_eq!(s.scan(&big).await, Ok(Verdict::Clean));
        eprintln!("{address}: 5 MiB clean scan took {:?}", started.elapsed());

        // The same buffer with the project signature at its very end.
        let mut tail = big.clone();
        tail.extend(project_sample());
        assert!(!names(s.scan(&tail).await.unwrap()).is_empty());
    }
}

fn signatures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signatures")
}
