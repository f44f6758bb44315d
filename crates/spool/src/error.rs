//! NAME
//!   error - what can go wrong in the spool, with the path and the action

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::{QueueId, State};

/// A spool error. Each names what was being done and to which file or
/// entry, in one line fit for a log.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file system call failed.
    Io {
        /// What the spool was doing: "fsyncing", "linking into place"...
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// Another process (or another [`FsSpool`](crate::FsSpool) in this
    /// one) has the spool open: two queue managers on one spool would
    /// take each other's active entries.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// An entry was not a valid spool file. It has already been moved to
    /// `corrupt/`: log this and go on.
    Corrupt {
        /// The entry.
        id: QueueId,
        /// Where it is now, in `corrupt/`.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The operation needs the entry in a state it is not in, e.g.
    /// [`complete`](crate::Spool::complete) on an entry that was never
    /// claimed.
    NotFound {
        /// The entry.
        id: QueueId,
        /// The operation.
        action: &'static str,
        /// Where it had to be.
        wanted: &'static [State],
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                action,
                path,
                source,
            } => write!(f, "spool: {action} {}: {source}", path.display()),
            Error::Locked { path } => {
                write!(
                    f,
                    "spool: {} is locked: another mukaika process is using this spool",
                    path.display()
                )
            }
            Error::Corrupt { id, path, reason } => {
                write!(
                    f,
                    "spool: entry {id} is damaged ({reason}); moved to {}",
                    path.display()
                )
            }
            Error::NotFound { id, action, wanted } => {
                let wanted: Vec<&str> = wanted.iter().map(|s| s.as_str()).collect();
                write!(
                    f,
                    "spool: cannot {action} {id}: it is not in {}",
                    wanted.join(" or ")
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A spool result.
pub type Result<T> = std::result::Result<T, Error>;
