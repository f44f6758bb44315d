//! NAME
//!   log - appending to the audit log, chained, across processes
//!
//! DESCRIPTION
//!   Each append locks the file (`flock`, which the daemon and the CLI
//!   both take), reads the last line actually there, writes the new line
//!   chained to it in one `write` with `O_APPEND`, and fsyncs before it
//!   returns. Reading the tail each time costs one `pread` of at most
//!   `MAX_LINE` bytes: appends are rare (people's actions).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::line::{encode, hash};
use crate::{Entry, Error, GENESIS, MAX_LINE, Result};

/// The audit log, open for appending. Shared between threads; every
/// append is serialized by the file lock.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// Opens (creating: directory 0700, file 0600) the log at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(Error::io("creating the directory of", path))?;
        }
        open(path)?;
        Ok(Self { path: path.into() })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` durably, chained to the last line in the file.
    pub fn append(&self, entry: &Entry) -> Result<()> {
        let mut file = open(&self.path)?;
        file.lock().map_err(Error::io("locking", &self.path))?;
        let prev = match last_line(&mut file, &self.path)? {
            Some(line) => hash(&line),
            None => GENESIS.to_owned(),
        };
        let mut line = encode(entry, &prev);
        if line.len() > MAX_LINE {
            return Err(Error::TooLong { len: line.len() });
        }
        line.push(b'\n');
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(Error::io("appending to", &self.path))?;
        tracing::info!(target: "audit", action = entry.action.as_str(), user = %entry.user, line_sha256 = %hash(&line[..line.len() - 1]), "audit");
        Ok(())
        // The lock goes with the file handle.
    }
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io("opening", path))
}

/// The file's last complete line, without its newline; None when empty.
/// A last line without a newline (an append cut short) is chained to as
/// it is: `verify` reports it.
fn last_line(file: &mut File, path: &Path) -> Result<Option<Vec<u8>>> {
    let len = file.metadata().map_err(Error::io("reading", path))?.len();
    if len == 0 {
        return Ok(None);
    }
    let take = len.min(MAX_LINE as u64 + 2);
    file.seek(SeekFrom::Start(len - take))
        .map_err(Error::io("reading", path))?;
    let mut tail = Vec::with_capacity(take as usize);
    Read::by_ref(file)
        .take(take)
        .read_to_end(&mut tail)
        .map_err(Error::io("reading", path))?;
    let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
    match memrchr_newline(body) {
        Some(i) => Ok(Some(body[i + 1..].to_vec())),
        None if take == len => Ok(Some(body.to_vec())),
        None => Err(Error::Damaged {
            path: path.into(),
            reason: format!("its last line is longer than {MAX_LINE} bytes"),
        }),
    }
}

fn memrchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().rposition(|&b| b == b'\n')
}
