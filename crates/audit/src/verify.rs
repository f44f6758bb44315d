//! NAME
//!   verify - checking the chain of an audit log
//!
//! DESCRIPTION
//!   Reads the log line by line with a bounded buffer, checks each line
//!   parses and carries the hash of the one before it, and names the first
//!   line that does not. Never reads more than `MAX_LINE` bytes of a line.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::line::{LineIn, hash};
use crate::{Error, GENESIS, MAX_LINE};

/// An intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many lines it holds.
    pub lines: usize,
}

/// The first line where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// Its number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Why a log could not be verified.
#[derive(Debug)]
pub enum VerifyError {
    /// The chain breaks.
    Broken(Broken),
    /// The log could not be read.
    Io(Error),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Broken(b) => write!(f, "line {}: {}", b.line, b.reason),
            VerifyError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Checks the chain of the log at `path`.
pub fn verify(path: &Path) -> Result<Verified, VerifyError> {
    let file = File::open(path).map_err(|e| VerifyError::Io(Error::io("opening", path)(e)))?;
    let mut reader = BufReader::new(file);
    let mut prev = GENESIS.to_owned();
    let mut lines = 0;
    loop {
        let mut line = Vec::new();
        let read = reader
            .by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| VerifyError::Io(Error::io("reading", path)(e)))?;
        if read == 0 {
            return Ok(Verified { lines });
        }
        lines += 1;
        let broken = |reason: String| {
            VerifyError::Broken(Broken {
                line: lines,
                reason,
            })
        };
        let Some(body) = line.strip_suffix(b"\n") else {
            return Err(broken(if line.len() > MAX_LINE {
                format!("longer than {MAX_LINE} bytes")
            } else {
                "cut short (no newline): an append did not finish".into()
            }));
        };
        let parsed: LineIn =
            serde_json::from_slice(body).map_err(|e| broken(format!("not an audit line: {e}")))?;
        if parsed.prev != prev {
            return Err(broken(
                "its prev is not the hash of the line before: a line was edited, removed, inserted or moved".into(),
            ));
        }
        if parsed.time != crate::rfc3339(parsed.at) {
            return Err(broken("its time and at disagree: edited".into()));
        }
        prev = hash(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, AuditLog, Entry};

    fn log_of(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/audit.log");
        let log = AuditLog::open(&path).unwrap();
        for i in 0..n {
            log.append(
                &Entry::new(format!("user{i}"), "192.0.2.1", Action::Login).detail("日本語"),
            )
            .unwrap();
        }
        (dir, path)
    }

    fn broken_at(path: &Path) -> usize {
        match verify(path) {
            Err(VerifyError::Broken(b)) => b.line,
            other => panic!("not broken: {other:?}"),
        }
    }

    #[test]
    fn an_intact_log_verifies_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = log_of(5);
        assert_eq!(verify(&path).unwrap(), Verified { lines: 5 });
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }

    #[test]
    fn edits_removals_reorders_and_cuts_are_found_at_their_line() {
        let (_dir, path) = log_of(5);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let write = |lines: &[&str], tail: &str| {
            std::fs::write(&path, format!("{}\n{tail}", lines.join("\n"))).unwrap();
        };
        // Edited: line 3's user changes; line 4 no longer chains to it.
        let edited = lines[2].replace("user2", "userX");
        write(&[lines[0], lines[1], &edited, lines[3], lines[4]], "");
        assert_eq!(broken_at(&path), 4);
        // Removed: line 2 gone.
        write(&[lines[0], lines[2], lines[3], lines[4]], "");
        assert_eq!(broken_at(&path), 2);
        // Reordered.
        write(&[lines[0], lines[2], lines[1], lines[3], lines[4]], "");
        assert_eq!(broken_at(&path), 2);
        // The first line edited: its own prev is fine, the second breaks.
        let first = lines[0].replace("user0", "admin");
        write(&[&first, lines[1], lines[2], lines[3], lines[4]], "");
        assert_eq!(broken_at(&path), 2);
        // Cut short: the last append did not finish.
        write(&lines[..4], &lines[4][..20]);
        assert_eq!(broken_at(&path), 5);
        // Not JSON.
        write(&[lines[0], "garbage"], "");
        assert_eq!(broken_at(&path), 2);
        // Intact again.
        write(&lines, "");
        assert_eq!(verify(&path).unwrap().lines, 5);
    }

    #[test]
    fn an_over_long_line_is_bounded() {
        let (_dir, path) = log_of(1);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&"x".repeat(MAX_LINE * 3));
        std::fs::write(&path, text).unwrap();
        assert_eq!(broken_at(&path), 2);
        let log = AuditLog::open(&path).unwrap();
        assert!(matches!(
            log.append(&Entry::new("a", "b", Action::Login)),
            Err(Error::Damaged { .. })
        ));
        let long = Entry::new("a", "b", Action::Login).detail("y".repeat(MAX_LINE));
        let (_dir2, fresh) = log_of(0);
        assert!(matches!(
            AuditLog::open(&fresh).unwrap().append(&long),
            Err(Error::TooLong { .. })
        ));
    }

    #[test]
    fn handles_in_threads_keep_one_chain() {
        let (_dir, path) = log_of(0);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let log = AuditLog::open(&path).unwrap();
                    for i in 0..25 {
                        log.append(
                            &Entry::new(format!("t{t}"), "local", Action::Flush)
                                .detail(i.to_string()),
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(verify(&path).unwrap().lines, 100);
    }
}
