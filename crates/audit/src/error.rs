//! NAME
//!   error - what can go wrong writing or reading the audit log

use std::fmt;
use std::io;
use std::path::PathBuf;

/// An audit log error, in one line fit for a log.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file system call failed.
    Io {
        /// What was being done: "appending", "locking"...
        action: &'static str,
        /// The log or its directory.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// The entry would make a line longer than [`MAX_LINE`](crate::MAX_LINE).
    TooLong {
        /// The length of the line it would have made, in bytes.
        len: usize,
    },
    /// The file's last line cannot be chained to: longer than any line
    /// this crate writes, so not written by it.
    Damaged {
        /// The log.
        path: PathBuf,
        /// What is wrong.
        reason: String,
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
            } => write!(f, "audit log: {action} {}: {source}", path.display()),
            Error::TooLong { len } => write!(
                f,
                "audit log: an entry of {len} bytes is over the {} byte line limit",
                crate::MAX_LINE
            ),
            Error::Damaged { path, reason } => {
                write!(f, "audit log: {} is damaged: {reason}", path.display())
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

/// An audit log result.
pub type Result<T> = std::result::Result<T, Error>;
