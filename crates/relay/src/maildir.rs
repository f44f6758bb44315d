//! NAME
//!   maildir: delivery into a Maildir instead of an SMTP next hop.
//!
//! DESCRIPTION
//!   For a next hop that picks mail up from a directory (or for tests and
//!   offline export). One file per delivery: `Return-Path` and one
//!   `Delivered-To` per recipient, then the message bytes unchanged. The
//!   file is written to `tmp/`, fsynced, renamed into `new/`, and `new/` is
//!   fsynced: a reader of `new/` sees whole messages or nothing. Any I/O
//!   failure is temporary (disk full, permissions) and leaves no file in
//!   `new/`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Outcome;

pub(crate) struct Maildir {
    root: PathBuf,
    /// This host's name in file names (`helo_name`).
    host: String,
}

/// Makes file names unique within this process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Maildir {
    /// Creates `tmp/`, `new/` and `cur/` if missing.
    pub(crate) fn open(root: PathBuf, host: &str) -> io::Result<Self> {
        create_dirs(&root)?;
        Ok(Self {
            root,
            host: host.replace('/', "\\057").replace(':', "\\072"),
        })
    }

    pub(crate) async fn deliver(
        &self,
        sender: &str,
        recipients: &[String],
        message: &[u8],
    ) -> Vec<(String, Outcome)> {
        let bad = |a: &str| a.chars().any(|c| c.is_control());
        if bad(sender) {
            let why =
                Outcome::Permanent("5.1.7 bad sender address syntax (control characters)".into());
            return recipients
                .iter()
                .map(|r| (r.clone(), why.clone()))
                .collect();
        }
        let (good, bad): (Vec<&String>, Vec<&String>) =
            recipients.iter().partition(|r| !bad(r) && !r.is_empty());
        let result = if good.is_empty() {
            None
        } else {
            let file = self.prepare(sender, &good, message);
            let root = self.root.clone();
            let name = self.unique_name();
            let written = tokio::task::spawn_blocking(move || {
                create_dirs(&root)?;
                write_atomically(&root, &name, &file).map(|()| name)
            })
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e)));
            Some(match written {
                Ok(name) => {
                    Outcome::Delivered(format!("maildir {}: new/{name}", self.root.display()))
                }
                Err(e) => Outcome::Temporary(crate::clean_reason(&format!(
                    "4.3.0 maildir {}: {e}",
                    self.root.display()
                ))),
            })
        };
        recipients
            .iter()
            .map(|r| {
                let outcome = if bad.contains(&r) {
                    Outcome::Permanent("5.1.3 bad recipient address syntax".into())
                } else {
                    result.clone().expect("a good recipient exists")
                };
                (r.clone(), outcome)
            })
            .collect()
    }

    /// The file contents: trace headers in the message's own line ending,
    /// then the message.
    fn prepare(&self, sender: &str, recipients: &[&String], message: &[u8]) -> Vec<u8> {
        let eol: &[u8] = match message.iter().position(|&b| b == b'\n') {
            Some(i) if i > 0 && message[i - 1] == b'\r' => b"\r\n",
            Some(_) => b"\n",
            None => b"\r\n",
        };
        let mut out = Vec::with_capacity(message.len() + 64 * (recipients.len() + 1));
        out.extend_from_slice(format!("Return-Path: <{sender}>").as_bytes());
        out.extend_from_slice(eol);
        for r in recipients {
            out.extend_from_slice(format!("Delivered-To: {r}").as_bytes());
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(message);
        out
    }

    /// `SECONDS.MmicrosPpidQn.host`, the usual Maildir form.
    fn unique_name(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!(
            "{}.M{}P{}Q{n}.{}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            self.host
        )
    }
}

fn create_dirs(root: &Path) -> io::Result<()> {
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir_all(root.join(sub))?;
    }
    Ok(())
}

/// tmp/NAME, fsync, rename to new/NAME, fsync new/.
fn write_atomically(root: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    let tmp = root.join("tmp").join(name);
    let new = root.join("new").join(name);
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &new)?;
        File::open(root.join("new"))?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_file_in_new_with_trace_headers() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(dir.path().join("out"), "relay.example").unwrap();
        let msg = b"Subject: hi\r\n\r\nbody\r\n";
        let rcpts = vec!["a@lg.jp".to_string(), "b@lg.jp".to_string()];
        let outcomes = md.deliver("s@example.com", &rcpts, msg).await;
        assert_eq!(outcomes.len(), 2);
        assert!(
            outcomes
                .iter()
                .all(|(_, o)| matches!(o, Outcome::Delivered(_))),
            "{outcomes:?}"
        );
        let files: Vec<_> = fs::read_dir(dir.path().join("out/new"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.ends_with(".relay.example"), "{name}");
        assert_eq!(
            fs::read(&files[0]).unwrap(),
            b"Return-Path: <s@example.com>\r\nDelivered-To: a@lg.jp\r\nDelivered-To: b@lg.jp\r\nSubject: hi\r\n\r\nbody\r\n"
        );
        assert_eq!(fs::read_dir(dir.path().join("out/tmp")).unwrap().count(), 0);
        assert!(dir.path().join("out/cur").is_dir());
    }

    #[tokio::test]
    async fn null_sender_and_lf_messages() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(dir.path().to_owned(), "h").unwrap();
        md.deliver("", &["a@lg.jp".to_string()], b"A: b\n\nx\n")
            .await;
        let file = fs::read_dir(dir.path().join("new"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(
            fs::read(file).unwrap(),
            b"Return-Path: <>\nDelivered-To: a@lg.jp\nA: b\n\nx\n"
        );
    }

    #[tokio::test]
    async fn io_failure_is_temporary_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(dir.path().join("md"), "h").unwrap();
        // new/ replaced by a file: the rename fails.
        fs::remove_dir(dir.path().join("md/new")).unwrap();
        fs::write(dir.path().join("md/new"), b"").unwrap();
        let out = md
            .deliver("s@x.jp", &["a@lg.jp".to_string()], b"A: b\r\n\r\n")
            .await;
        assert!(
            matches!(&out[0].1, Outcome::Temporary(r) if r.starts_with("4.3.0 maildir")),
            "{out:?}"
        );
        assert_eq!(fs::read_dir(dir.path().join("md/tmp")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn header_injection_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(dir.path().to_owned(), "h").unwrap();
        let rcpts = vec!["a@lg.jp\nX-Evil: 1".to_string(), "b@lg.jp".to_string()];
        let out = md.deliver("s@x.jp", &rcpts, b"A: b\r\n\r\n").await;
        assert!(matches!(out[0].1, Outcome::Permanent(_)));
        assert!(matches!(out[1].1, Outcome::Delivered(_)));
    }
}
