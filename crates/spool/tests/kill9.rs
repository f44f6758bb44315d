//! "kill -9 loses nothing": a child process (this test binary again, told
//! by an environment variable) enqueues in a loop and prints each ID once
//! `enqueue` has returned: the moment ingress would answer 250. The parent
//! SIGKILLs it mid-loop, runs `recover()`, and every printed ID must be
//! there, whole. Six rounds on one spool, so later rounds also recover
//! the entries the parent left active.
//!
//! This covers process death, not power loss: the page cache survives a
//! SIGKILL. Power loss is what the fsyncs are for; it cannot be simulated
//! here.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mukaika_spool::{Config, Envelope, Error, FsSpool, QueueId, Spool, Stage};

const CHILD_ENV: &str = "MUKAIKA_SPOOL_KILL9_CHILD";
const PREFIX: &str = "ENQUEUED ";

fn envelope(n: usize) -> Envelope {
    Envelope {
        sender: format!("sender{n}@example.jp"),
        recipients: vec!["b@city.lg.jp".into()],
        received_at: 1_700_000_000 + n as u64,
        client_ip: "192.0.2.1".into(),
        helo: "mx.example.jp".into(),
        stage: Stage::Original,
        attempts: 0,
        next_attempt: 0,
        last_error: None,
    }
}

/// Message `n`: sizes vary up to ~200 kB, so kills land mid-write too.
fn message(n: usize) -> Vec<u8> {
    let mut message = format!("Subject: message {n}\r\n\r\n").into_bytes();
    message.extend(std::iter::repeat_n(
        b'a' + (n % 26) as u8,
        (n * 7919) % 200_000,
    ));
    message
}

fn config(dir: &Path) -> Config {
    Config {
        dir: dir.into(),
        ..Config::default()
    }
}

/// The child: enqueue until killed (bounded, so it stops by itself).
fn child(dir: &Path) {
    let started = Instant::now();
    let spool = loop {
        match FsSpool::open(&config(dir)) {
            Err(Error::Locked { .. }) if started.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(10))
            }
            result => break result.expect("child: opening the spool"),
        }
    };
    let mut stdout = std::io::stdout().lock();
    for n in 0..5_000 {
        if started.elapsed() > Duration::from_secs(60) {
            break;
        }
        let id = spool
            .enqueue(&envelope(n), &message(n))
            .expect("child: enqueue");
        writeln!(stdout, "{PREFIX}{id} {n}")
            .and_then(|()| stdout.flush())
            .expect("child: stdout");
    }
}

#[test]
fn kill_9_loses_nothing() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged: Vec<(QueueId, usize)> = Vec::new();
    for round in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "kill_9_loses_nothing",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let wanted = 10 + 7 * round;
        let mut seen = 0;
        let mut line = Vec::new();
        let parse = |line: &[u8], acknowledged: &mut Vec<(QueueId, usize)>| -> bool {
            // Only whole lines: a line cut by the kill was never printed.
            let Some(text) = line.strip_suffix(b"\n") else {
                return false;
            };
            let Some(rest) = std::str::from_utf8(text).unwrap().strip_prefix(PREFIX) else {
                return false;
            };
            let (id, n) = rest.split_once(' ').unwrap();
            acknowledged.push((id.parse().unwrap(), n.parse().unwrap()));
            true
        };
        while seen < wanted {
            line.clear();
            if stdout.read_until(b'\n', &mut line).unwrap() == 0 {
                panic!(
                    "round {round}: the child stopped after {seen} messages: {:?}",
                    child.wait()
                );
            }
            seen += usize::from(parse(&line, &mut acknowledged));
        }
        // Vary the moment, to land in different steps of enqueue().
        std::thread::sleep(Duration::from_micros(137 * round as u64 % 1000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // What it printed before it died.
        loop {
            line.clear();
            if stdout.read_until(b'\n', &mut line).unwrap() == 0 {
                break;
            }
            parse(&line, &mut acknowledged);
        }

        let spool = FsSpool::open(&config(dir.path())).unwrap();
        let recovery = spool.recover().unwrap();
        eprintln!(
            "round {round}: {} acknowledged so far; recover: {recovery}",
            acknowledged.len()
        );
        assert_eq!(recovery.corrupted, 0, "round {round}: {recovery}");
        let incoming = spool.incoming().unwrap();
        assert!(
            incoming.len() >= acknowledged.len(),
            "round {round}: {recovery}"
        );
        for (id, n) in &acknowledged {
            assert!(
                incoming.binary_search(id).is_ok(),
                "round {round}: message {n} ({id}) was acknowledged, then lost"
            );
            let entry = spool.claim(id).unwrap().expect("claimable");
            assert_eq!(entry.envelope, envelope(*n));
            assert!(
                entry.message == message(*n),
                "round {round}: message {n} ({id}) differs"
            );
        }
        // Left in active on purpose: the next round's recover() must put
        // them back.
    }
}
