//! The `maildir:PATH` next hop: a reader of new/ only ever sees whole
//! messages.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mukaika_relay::{Config, Outcome, Relay};

fn relay(dir: &Path) -> Relay {
    Relay::new(&Config {
        next_hop: format!("maildir:{}", dir.display()),
        ..Config::default()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_appear_in_new_only_complete() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    // Large enough that writing it takes many write calls.
    let mut message = b"Subject: big\r\n\r\n".to_vec();
    while message.len() < 16 << 20 {
        message.extend_from_slice(
            b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n",
        );
    }
    let expected = [
        b"Return-Path: <s@example.com>\r\nDelivered-To: a@example.lg.jp\r\n".as_slice(),
        &message,
    ]
    .concat();

    // A reader polls new/ while the messages are written.
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (done, new, len) = (done.clone(), dir.path().join("new"), expected.len() as u64);
        std::thread::spawn(move || {
            let mut seen = 0u64;
            while !done.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir(&new).unwrap() {
                    let size = entry.unwrap().metadata().map(|m| m.len()).unwrap_or(len);
                    assert_eq!(size, len, "a partial file was visible in new/");
                    seen += 1;
                }
            }
            seen
        })
    };
    for _ in 0..4 {
        let d = relay
            .deliver("s@example.com", &["a@example.lg.jp".to_string()], &message)
            .await;
        assert!(
            matches!(&d.outcomes[0].1, Outcome::Delivered(r) if r.contains("new/")),
            "{d:?}"
        );
    }
    done.store(true, Ordering::Relaxed);
    let seen = watcher.join().expect("the watcher saw only whole files");
    assert!(seen > 0, "the watcher looked at new/ while files arrived");

    let files: Vec<_> = std::fs::read_dir(dir.path().join("new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 4, "one file per delivery");
    for f in &files {
        assert!(
            std::fs::read(f).unwrap() == expected,
            "{} differs",
            f.display()
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "tmp/ is left empty"
    );
}

#[tokio::test]
async fn a_missing_maildir_is_created_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outbox");
    let relay = relay(&root);
    std::fs::remove_dir_all(&root).unwrap();
    let d = relay
        .deliver("", &["a@example.lg.jp".to_string()], b"A: b\r\n\r\n")
        .await;
    assert!(d.all_delivered(), "{d:?}");
    assert_eq!(std::fs::read_dir(root.join("new")).unwrap().count(), 1);
}
