//! The worker pool against real `mukaika worker` processes, and against a
//! fake worker that answers garbage: whatever a worker does, the pool gives
//! a result or a [`Failure`] for that one job, and the next job works.

use std::path::PathBuf;
use std::time::Duration;

use mukaika_sanitize::{Context, HoldReason, Policy, Scan, Verdict};
use mukaika_worker::sandbox::{self, Applied, Landlock};
use mukaika_worker::{Config, Failure, Pool, Program, SandboxMode};

fn mukaika() -> Program {
    Program {
        path: PathBuf::from(env!("CARGO_BIN_EXE_mukaika")),
        args: vec!["worker".into()],
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn samples() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_worker_gives_what_the_core_gives_in_process_for_every_sample() {
    let policy = Policy::default();
    runtime().block_on(async {
        let (pool, proof) = Pool::start(mukaika(), &Config::default(), 1, &policy, 1 << 30)
            .await
            .unwrap();
        assert!(proof.shortfalls.is_empty(), "{:?}", proof.shortfalls);
        let samples = samples();
        assert!(samples.len() > 50);
        for (name, raw) in samples {
            let here = mukaika_sanitize::sanitize(&raw, &policy);
            let there = pool
                .sanitize(
                    &raw,
                    &Scan {
                        extract: true,
                        ..Scan::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(there.report.verdict, here.report.verdict, "{name}");
            assert_eq!(there.report.parts, here.report.parts, "{name}");
            assert_eq!(there.report.profile, "standard", "{name}");
            let there_extracted = there.extracted.len();
            assert!(
                there_extracted > 0 || here.report.parts.is_empty(),
                "{name}"
            );
            if raw.windows(6).any(|w| w == b"\nDate:") {
                assert_eq!(there.message, here.message, "{name}");
            }
        }
    });
}

#[test]
fn the_start_up_probe_proves_the_sandbox() {
    runtime().block_on(async {
        let (_pool, proof) = Pool::start(
            mukaika(),
            &Config::default(),
            1,
            &Policy::default(),
            1 << 20,
        )
        .await
        .unwrap();
        assert!(proof.probe.escapes().is_empty(), "{:?}", proof.probe);
        assert!(proof.shortfalls.is_empty(), "{:?}", proof.shortfalls);
        assert!(matches!(proof.applied.landlock, Landlock::Full { .. }));
        assert!(proof.applied.seccomp && proof.applied.no_new_privs && proof.applied.rlimits);
        assert_ne!(proof.applied.uid, 0);
        // Each attempt was refused, not merely absent.
        let passwd = proof
            .probe
            .attempts()
            .into_iter()
            .find(|(n, _)| *n == "read_etc_passwd");
        assert!(matches!(passwd, Some((_, Err(_)))), "{passwd:?}");
        // The CJK fonts (IPAex, from scripts/test) were read before the
        // sandbox closed the filesystem.
        assert_eq!(
            proof.cjk_fonts,
            [
                "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
                "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
            ]
        );
    });
}

#[test]
fn workers_are_replaced_after_their_jobs() {
    let config = Config {
        jobs_per_worker: 3,
        ..Config::default()
    };
    let policy = Policy::default();
    let mail = b"From: a@example.jp\r\nSubject: s\r\n\r\nbody\r\n";
    runtime().block_on(async {
        let (pool, _) = Pool::start(mukaika(), &config, 1, &policy, 1 << 20)
            .await
            .unwrap();
        // The probe was the first worker's first job.
        for _ in 0..7 {
            pool.sanitize(mail, &Scan::default()).await.unwrap();
        }
        assert_eq!(pool.started(), 3);
        // The context crosses to the worker: the notice has the queue id.
        let context = Context {
            queue_id: Some("0193A4F2C1D8E7B6a1b2".into()),
            ..Context::default()
        };
        let held = pool
            .hold(mail, HoldReason::WorkerTimeout, &context)
            .await
            .unwrap();
        assert_eq!(held.report.verdict, Verdict::Held);
        assert_eq!(held.report.reason.as_deref(), Some("worker-timeout"));
        let text = String::from_utf8_lossy(&held.message);
        assert!(
            text.contains("X-Mukaika-Queue-Id: 0193A4F2C1D8E7B6a1b2"),
            "{text}"
        );
    });
}

/// A worker in Python that speaks the protocol's framing correctly up to
/// the first job, then answers it the way `mode` says.
const FAKE_WORKER: &str = r#"
import sys, struct
mode, hello, probe = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
inp, out = sys.stdin.buffer, sys.stdout.buffer
def frame(kind, fields, version=PROTOCOL_VERSION):
    body = b''.join(struct.pack('>I', len(f)) + f for f in fields)
    return b'MKW' + bytes([version, kind]) + struct.pack('>I', len(body)) + body
def read():
    head = inp.read(9)
    if len(head) < 9:
        sys.exit(0)
    return head[4], inp.read(struct.unpack('>I', head[5:9])[0])
out.write(frame(1, [hello])); out.flush()
read()
read()
out.write(frame(7, [probe])); out.flush()
read()
report = b'{"report":{"verdict":"sanitized","profile":"p","message_id":null,"parts":[],"threats":[],"timings_us":{"parse":0,"bodies":0,"build":0,"total":0}},"cpu_ms":0}'
replies = {
    'garbage': b'HTTP/1.1 200 OK\r\n\r\n',
    'huge': b'MKW' + bytes([PROTOCOL_VERSION]) + b'\x06\xff\xff\xff\xff',
    'old-version': frame(6, [report, b'm'], version=0),
    'wrong-kind': frame(7, [probe]),
    'bad-report': frame(6, [b'{"report":{"verdict":"clean"},"cpu_ms":0}', b'm']),
    'lying-field': b'MKW' + bytes([PROTOCOL_VERSION]) + b'\x06' + struct.pack('>I', 8) + struct.pack('>I', 1000) + b'abcd',
    'no-message': frame(6, [report]),
    'extra-garbage-place': frame(6, [report, b'm', b'not json', b'x']),
    'valid': frame(6, [report, b'Subject: x\r\n\r\nok\r\n']),
}
if mode == 'exit':
    sys.exit(3)
if mode == 'sleep':
    import time; time.sleep(30)
out.write(replies[mode]); out.flush()
inp.read()
"#;

fn fake(mode: &str) -> Program {
    let hello = serde_json::json!({
        "pid": 1,
        "applied": Applied {
            rlimits: false,
            no_new_privs: false,
            landlock: Landlock::Unsupported,
            seccomp: false,
            uid: 65534,
            gid: 65534,
            errors: vec![],
        },
    });
    // The test process runs the probe unsandboxed: real escapes, in the
    // right shape.
    let probe = serde_json::to_string(&sandbox::probe()).unwrap();
    Program {
        path: "/usr/bin/python3".into(),
        args: vec![
            "-c".into(),
            // The fake speaks the daemon's protocol version.
            FAKE_WORKER
                .replace(
                    "PROTOCOL_VERSION",
                    &mukaika_worker::protocol::VERSION.to_string(),
                )
                .into(),
            mode.into(),
            hello.to_string().into(),
            probe.into(),
        ],
    }
}

#[test]
fn whatever_a_worker_answers_is_checked_before_it_is_used() {
    let degraded = Config {
        sandbox: SandboxMode::AllowDegraded,
        timeout_secs: 2,
        ..Config::default()
    };
    let policy = Policy::default();
    // (mode, what the failure must say); every one is Invalid but `exit`.
    let cases = [
        ("garbage", "no MKW magic"),
        ("huge", "more than the limit"),
        ("old-version", "protocol version 0"),
        ("wrong-kind", "Probed in reply"),
        ("bad-report", "unknown variant `clean`"),
        ("lying-field", "1000 bytes in 4"),
        ("no-message", "no message field"),
        ("extra-garbage-place", "place"),
        ("exit", "exited with status 3"),
    ];
    runtime().block_on(async {
        for (mode, words) in cases {
            let (pool, proof) = Pool::start(fake(mode), &degraded, 1, &policy, 1 << 20)
                .await
                .unwrap();
            assert!(!proof.shortfalls.is_empty());
            let failure = pool
                .sanitize(b"Subject: x\r\n\r\n", &Scan::default())
                .await
                .unwrap_err();
            if mode == "exit" {
                assert!(matches!(failure, Failure::Crashed(_)), "{failure:?}");
            } else {
                assert!(
                    matches!(failure, Failure::Invalid(_)),
                    "{mode}: {failure:?}"
                );
            }
            assert!(failure.to_string().contains(words), "{mode}: {failure}");
        }
        let (pool, _) = Pool::start(fake("sleep"), &degraded, 1, &policy, 1 << 20)
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let failure = pool.sanitize(b"x", &Scan::default()).await.unwrap_err();
        assert!(matches!(failure, Failure::Timeout(_)), "{failure:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(failure.hold_reason(), HoldReason::WorkerTimeout);
        let (pool, _) = Pool::start(fake("valid"), &degraded, 1, &policy, 1 << 20)
            .await
            .unwrap();
        let ok = pool.sanitize(b"x", &Scan::default()).await.unwrap();
        assert_eq!(ok.message, b"Subject: x\r\n\r\nok\r\n");
    });
}

#[test]
fn a_required_sandbox_refuses_a_worker_that_is_not_in_one() {
    let runtime = runtime();
    let result = runtime.block_on(Pool::start(
        fake("valid"),
        &Config::default(),
        1,
        &Policy::default(),
        1 << 20,
    ));
    let Err(failure) = result else {
        panic!("an unsandboxed worker was accepted")
    };
    let text = failure.to_string();
    assert!(
        text.contains("the worker sandbox is not in force"),
        "{text}"
    );
    assert!(text.contains("no seccomp filter"), "{text}");
}
