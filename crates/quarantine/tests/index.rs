//! The search index behind `list`, `count` and `stats`: what the console
//! searches by, pages through and charts, and its rebuild from the records.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mukaika_quarantine::{
    Config, Event, EventKind, Filter, FsQuarantine, Quarantine, Release, SEARCH_MAX_BYTES, Sort,
};
use mukaika_spool::{Envelope, QueueId, Stage};
use serde_json::json;

const T0: u64 = 1_790_000_000;

fn envelope(sender: &str, to: &str) -> Envelope {
    Envelope {
        sender: sender.into(),
        recipients: vec![to.into()],
        received_at: T0,
        client_ip: "192.0.2.1".into(),
        helo: "mx.example.jp".into(),
        stage: Stage::Original,
        attempts: 0,
        next_attempt: 0,
        last_error: None,
    }
}

fn open(dir: &std::path::Path, now: &Arc<AtomicU64>) -> FsQuarantine {
    let clock = now.clone();
    FsQuarantine::open(&Config {
        dir: dir.into(),
        retention_days: 30,
    })
    .unwrap()
    .with_clock(move || clock.load(Ordering::SeqCst))
}

/// Three mails an hour apart: a Japanese invoice with a macro removed, a
/// held encrypted zip, an infected one.
fn three(q: &FsQuarantine, now: &AtomicU64) -> Vec<QueueId> {
    let mails = [
        (
            "sanitized",
            "keiri@example.co.jp",
            "tanaka@city.lg.jp",
            json!({"verdict": "sanitized", "subject": "【請求書】12月分 のご送付", "from": "経理部 <keiri@example.co.jp>",
                   "parts": [{"path": "1", "action": "kept", "reason": "text"},
                             {"path": "2", "action": "cleaned", "reason": "ooxml-macros-removed"}],
                   "threats": [], "timings_us": {"total": 4000}}),
            100,
        ),
        (
            "held",
            "sato@example.com",
            "suzuki@city.lg.jp",
            json!({"verdict": "sanitized", "subject": "Password-protected 見積書", "from": "Sato <sato@example.com>",
                   "parts": [{"path": "2", "action": "held", "reason": "archive-encrypted",
                              "entries": [{"path": "a.docx", "action": "held", "reason": "entry-encrypted"}]}],
                   "threats": [], "timings_us": {"total": 2000}}),
            5000,
        ),
        (
            "infected",
            "bad@evil.example",
            "tanaka@city.lg.jp",
            json!({"verdict": "held", "reason": "virus-found", "subject": "請求書 (再送)",
                   "parts": [], "threats": [{"name": "Custom.EICAR.NDB.UNOFFICIAL", "part": "2"}],
                   "timings_us": {"total": 9000}}),
            300,
        ),
    ];
    mails
        .into_iter()
        .enumerate()
        .map(|(i, (verdict, from, to, report, size))| {
            now.store(T0 + 3600 * i as u64, Ordering::SeqCst);
            let id = QueueId::generate();
            q.store(
                &id,
                &envelope(from, to),
                &vec![b'x'; size],
                verdict,
                &report.to_string(),
            )
            .unwrap();
            id
        })
        .collect()
}

fn ids(q: &FsQuarantine, filter: Filter) -> Vec<QueueId> {
    let listed: Vec<QueueId> = q.list(&filter).unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(q.count(&filter).unwrap(), listed.len() as u64, "{filter:?}");
    listed
}

#[test]
fn searches_by_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(T0));
    let q = open(dir.path(), &now);
    let m = three(&q, &now);
    let by = |f: Filter| ids(&q, f);

    // Japanese words anywhere in the subject; every word must be there.
    let subject = |s: &str| Filter {
        subject: Some(s.into()),
        ..Filter::default()
    };
    assert_eq!(by(subject("請求書")), [m[2].clone(), m[0].clone()]);
    assert_eq!(by(subject("請求書 再送")), [m[2].clone()]);
    assert_eq!(by(subject("見積")), [m[1].clone()]);
    assert_eq!(by(subject("PASSWORD")), [m[1].clone()], "ASCII in any case");
    assert!(by(subject("発注")).is_empty());
    // The envelope sender or the From line, a recipient.
    let sender = |s: &str| Filter {
        sender: Some(s.into()),
        ..Filter::default()
    };
    assert_eq!(by(sender("経理部")), [m[0].clone()]);
    assert_eq!(by(sender("evil.example")), [m[2].clone()]);
    let to_tanaka = Filter {
        recipient: Some("tanaka@".into()),
        ..Filter::default()
    };
    assert_eq!(by(to_tanaka), [m[2].clone(), m[0].clone()]);
    // Reasons of the message, of parts and of archive entries not kept.
    let reason = |r: &str| Filter {
        reason: Some(r.into()),
        ..Filter::default()
    };
    assert_eq!(by(reason("ooxml-macros-removed")), [m[0].clone()]);
    assert_eq!(by(reason("entry-encrypted")), [m[1].clone()]);
    assert_eq!(by(reason("virus-found")), [m[2].clone()]);
    assert!(by(reason("text")).is_empty(), "kept parts are no reason");
    let threat = Filter {
        threat: Some("eicar".into()),
        ..Filter::default()
    };
    assert_eq!(by(threat), [m[2].clone()]);
    // Verdict and time range together.
    let held_late = Filter {
        verdict: Some("held".into()),
        since: Some(T0 + 1),
        until: Some(T0 + 3601),
        ..Filter::default()
    };
    assert_eq!(by(held_late), [m[1].clone()]);

    let summary = &q.list(&subject("見積")).unwrap()[0];
    assert_eq!(
        summary.subject.as_deref(),
        Some("Password-protected 見積書")
    );
    assert_eq!(summary.from.as_deref(), Some("Sato <sato@example.com>"));
    assert_eq!(summary.size, 5000);
    let infected = &q.list(&reason("virus-found")).unwrap()[0];
    assert_eq!(infected.threats, ["Custom.EICAR.NDB.UNOFFICIAL"]);
}

#[test]
fn pages_and_orders() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(T0));
    let q = open(dir.path(), &now);
    let m = three(&q, &now);
    let page = |sort, offset, limit| {
        q.list(&Filter {
            sort,
            offset,
            limit: Some(limit),
            ..Filter::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect::<Vec<_>>()
    };
    assert_eq!(page(Sort::Newest, 0, 2), [m[2].clone(), m[1].clone()]);
    assert_eq!(page(Sort::Newest, 2, 2), [m[0].clone()]);
    assert_eq!(page(Sort::Oldest, 0, 1), [m[0].clone()]);
    assert_eq!(
        page(Sort::Largest, 0, 3),
        [m[1].clone(), m[2].clone(), m[0].clone()]
    );
    assert_eq!(
        q.count(&Filter {
            limit: Some(1),
            ..Filter::default()
        })
        .unwrap(),
        3,
        "a count ignores paging"
    );
}

#[test]
fn open_requests_follow_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(T0));
    let q = open(dir.path(), &now);
    let m = three(&q, &now);
    let release = |n: u32, reason: &str| Release {
        request: n,
        part: None,
        to: vec!["suzuki@city.lg.jp".into()],
        reason: reason.into(),
        sha256: None,
    };
    let event = |kind, n, by: &str| {
        let mut event = Event::new(T0 + 10, kind, "").by(by);
        event.release = Some(release(n, "業務で必要"));
        event
    };
    let waiting = Filter {
        open_requests: true,
        ..Filter::default()
    };
    assert!(ids(&q, waiting.clone()).is_empty());
    q.record(
        &m[1],
        event(
            EventKind::ReleaseRequested,
            1,
            "recipient:suzuki@city.lg.jp",
        ),
    )
    .unwrap();
    assert_eq!(ids(&q, waiting.clone()), [m[1].clone()]);
    let record = q.get(&m[1]).unwrap().unwrap();
    assert_eq!(record.open_requests().len(), 1);
    assert_eq!(record.next_request(), 2);
    assert_eq!(
        q.list(&waiting).unwrap()[0].status,
        EventKind::ReleaseRequested
    );
    // A failed release leaves the request open; a release closes it.
    q.record(&m[1], event(EventKind::ReleaseFailed, 1, "approver"))
        .unwrap();
    assert_eq!(ids(&q, waiting.clone()), [m[1].clone()]);
    q.record(&m[1], event(EventKind::Released, 1, "approver"))
        .unwrap();
    assert!(ids(&q, waiting.clone()).is_empty());
    // A refusal closes only the request it answers.
    q.record(&m[1], event(EventKind::ReleaseRequested, 2, "viewer"))
        .unwrap();
    q.record(&m[1], event(EventKind::ReleaseRequested, 3, "viewer"))
        .unwrap();
    q.record(&m[1], event(EventKind::ReleaseRefused, 2, "approver"))
        .unwrap();
    let record = q.get(&m[1]).unwrap().unwrap();
    let open: Vec<u32> = record
        .open_requests()
        .iter()
        .map(|e| e.release.as_ref().unwrap().request)
        .collect();
    assert_eq!(open, [3]);
    assert_eq!(q.list(&waiting).unwrap()[0].open_requests, 1);
}

#[test]
fn stats_count_per_bucket_reason_and_threat() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(T0));
    let q = open(dir.path(), &now);
    three(&q, &now);
    let stats = q.stats(T0, T0 + 4 * 3600, 3600).unwrap();
    assert_eq!(stats.total, 3);
    assert_eq!(stats.buckets.len(), 4);
    let per_hour: Vec<Vec<(&str, u64)>> = stats
        .buckets
        .iter()
        .map(|b| b.verdicts.iter().map(|(v, n)| (v.as_str(), *n)).collect())
        .collect();
    assert_eq!(
        per_hour,
        [
            vec![("sanitized", 1)],
            vec![("held", 1)],
            vec![("infected", 1)],
            vec![]
        ]
    );
    assert!(stats.reasons.contains(&("virus-found".into(), 1)));
    assert!(stats.reasons.contains(&("archive-encrypted".into(), 1)));
    assert_eq!(
        stats.threats,
        [("Custom.EICAR.NDB.UNOFFICIAL".to_owned(), 1)]
    );
    assert_eq!(stats.worker_failures, 0);
    assert_eq!(stats.core_ms, (5.0, 9));
    // Arrival to quarantine: 0 s, 3600 s, 7200 s.
    assert_eq!(stats.latency_secs, (3600.0, 7200));
    let empty = q.stats(T0 + 86_400, T0 + 2 * 86_400, 86_400).unwrap();
    assert_eq!((empty.total, empty.buckets.len()), (0, 1));
}

#[test]
fn a_lost_index_is_rebuilt_from_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(T0));
    let m = three(&open(dir.path(), &now), &now);
    let index = dir.path().join("index.sqlite3");
    assert_eq!(
        std::fs::metadata(&index).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", index.display()));
    }
    let q = open(dir.path(), &now);
    assert_eq!(ids(&q, Filter::default()).len(), 3, "rebuilt at open");
    // A stale index (a row for a record deleted behind its back) comes
    // right with reindex.
    std::fs::remove_dir_all(dir.path().join(m[0].as_str())).unwrap();
    assert_eq!(ids(&q, Filter::default()).len(), 3);
    assert_eq!(q.reindex().unwrap(), 2);
    assert_eq!(ids(&q, Filter::default()), [m[2].clone(), m[1].clone()]);
}

#[test]
fn hostile_search_text_is_data() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(T0));
    let q = open(dir.path(), &now);
    three(&q, &now);
    for text in ["%", "_", "' OR 1=1 --", "\"); DROP TABLE records; --", "\0"] {
        let filter = Filter {
            subject: Some(text.into()),
            sender: Some(text.into()),
            ..Filter::default()
        };
        assert!(ids(&q, filter).is_empty(), "{text:?}");
    }
    assert_eq!(ids(&q, Filter::default()).len(), 3, "nothing was dropped");
    let long = Filter {
        subject: Some("あ".repeat(SEARCH_MAX_BYTES)),
        ..Filter::default()
    };
    assert!(q.list(&long).is_err() && q.count(&long).is_err());
}
