//! NAME
//!   error - what can go wrong with accounts, the users file and the key

use std::fmt;
use std::path::PathBuf;

/// An access error, in one line fit for a log or the CLI.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file system call failed.
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The users file or the key file is not what we write.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A user name or password that is not allowed, or a user that exists.
    Invalid(String),
    /// No such user.
    NoSuchUser(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
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
            } => write!(f, "{action} {}: {source}", path.display()),
            Error::Damaged { path, reason } => write!(f, "{}: {reason}", path.display()),
            Error::Invalid(why) => f.write_str(why),
            Error::NoSuchUser(name) => write!(f, "no user {name:?}"),
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

/// An access result.
pub type Result<T> = std::result::Result<T, Error>;
