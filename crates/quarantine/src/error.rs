//! NAME
//!   error - what can go wrong in the quarantine, with the path and the action

use std::fmt;
use std::io;
use std::path::PathBuf;

use mukaika_spool::QueueId;

/// A quarantine error, in one line fit for a log.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file system call failed.
    Io {
        /// What was being done: "writing", "fsyncing directory"...
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// A `meta.json` that does not parse (damaged disk, or edited by hand).
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No record for this ID.
    NotFound {
        /// The ID.
        id: QueueId,
    },
    /// The search index failed: `mukaika quarantine reindex` rebuilds it.
    Index {
        /// The index file.
        path: PathBuf,
        /// SQLite's error.
        reason: String,
    },
    /// A search that cannot be run as given (too long a text).
    Search(String),
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
            } => write!(f, "quarantine: {action} {}: {source}", path.display()),
            Error::Corrupt { path, reason } => {
                write!(f, "quarantine: {} is damaged: {reason}", path.display())
            }
            Error::NotFound { id } => write!(f, "quarantine: no record {id}"),
            Error::Index { path, reason } => write!(
                f,
                "quarantine index {}: {reason} (`mukaika quarantine reindex` rebuilds it)",
                path.display()
            ),
            Error::Search(why) => write!(f, "quarantine search: {why}"),
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

/// A quarantine result.
pub type Result<T> = std::result::Result<T, Error>;
