//! The sanitizer runs in sandboxed worker processes: a job that hangs or
//! eats memory costs that one message (held, with a notice), never the
//! daemon. The misbehaving jobs are the workers' test hooks, on only in
//! these tests (`Mukaika::start_with_hooks`).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{Mukaika, Sink, delivered_with, record, send};

fn mail(hook: Option<&str>, subject: &str) -> Vec<u8> {
    let hook = hook.map_or(String::new(), |h| format!("X-Mukaika-Test-Hook: {h}\r\n"));
    format!(
        "From: Sender <sender@example.com>\r\nTo: a@lgwan.example.jp\r\n\
         {hook}Subject: {subject}\r\n\r\nbody of {subject}\r\n"
    )
    .into_bytes()
}

/// Peak resident memory of a process, from /proc.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .expect("VmHWM")
}

#[test]
fn a_job_that_loops_forever_is_killed_at_its_timeout_and_the_next_mail_is_delivered() {
    let sink = Sink::start();
    let relay = Mukaika::start_with_hooks(
        &sink,
        &[("workers.timeout_secs", "2"), ("pipeline.workers", "1")],
    );
    assert!(
        relay.log().contains("worker sandbox proven"),
        "{}",
        relay.log()
    );
    let started = Instant::now();
    let looping = send(&relay, &mail(Some("loop"), "loop-token"));
    let after = send(&relay, &mail(None, "next-mail-token"));
    let notice = delivered_with(&sink, "loop-token", 2);
    assert!(
        notice.contains("制限時間内に終わりませんでした"),
        "{notice}"
    );
    assert!(
        notice.contains("did not finish within its time limit"),
        "{notice}"
    );
    assert!(delivered_with(&sink, "next-mail-token", 2).contains("body of next-mail-token"));
    assert!(started.elapsed() < Duration::from_secs(30));
    let report = &record(&relay, &looping)["report"];
    assert_eq!(report["verdict"], "held", "{report}");
    assert_eq!(report["reason"], "worker-timeout", "{report}");
    assert_eq!(record(&relay, &after)["report"]["verdict"], "sanitized");
    let log = relay.log();
    assert!(log.contains("the worker was killed after 2 s"), "{log}");
}

#[test]
fn a_job_that_allocates_without_bound_dies_at_its_limit_and_the_daemon_stays_small() {
    let sink = Sink::start();
    let relay = Mukaika::start_with_hooks(
        &sink,
        &[("workers.memory_mb", "512"), ("pipeline.workers", "1")],
    );
    let hog = send(&relay, &mail(Some("alloc"), "alloc-token"));
    let crash = send(&relay, &mail(Some("abort"), "abort-token"));
    let after = send(&relay, &mail(None, "next-mail-token"));
    let notice = delivered_with(&sink, "alloc-token", 3);
    assert!(notice.contains("memory or CPU limit"), "{notice}");
    assert!(delivered_with(&sink, "next-mail-token", 3).contains("body of next-mail-token"));
    for id in [&hog, &crash] {
        let report = &record(&relay, id)["report"];
        assert_eq!(report["reason"], "worker-crashed", "{report}");
    }
    assert_eq!(record(&relay, &after)["report"]["verdict"], "sanitized");
    let log = relay.log();
    assert!(log.contains("SIGABRT"), "{log}");
    // The worker reached 512 MiB; the daemon never held more than a
    // fraction of that.
    let peak = peak_rss_kb(relay.pid());
    assert!(peak < 200 * 1024, "the daemon peaked at {peak} kB");
}

#[test]
fn serve_does_not_start_when_the_worker_user_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("m.toml");
    std::fs::write(
        &config,
        format!(
            "[ingress]\nlisten = \"127.0.0.1:0\"\n[spool]\ndir = \"{0}/spool\"\n\
             [quarantine]\ndir = \"{0}/q\"\n[workers]\nuser = \"no-such-user-mukaika\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mukaika"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("starting the sanitizer workers")
            && stderr.contains("no-such-user-mukaika"),
        "{stderr}"
    );
}
