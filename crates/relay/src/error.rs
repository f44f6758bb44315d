//! NAME
//!   error: what can go wrong outside a delivery attempt.
//!
//! DESCRIPTION
//!   A delivery attempt never fails as a whole: its result is an
//!   [`Outcome`](crate::Outcome) per recipient. `Error` is for setting the
//!   relay up and for the bounce route.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Setting up the relay, or sending through the bounce route, failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A `[relay]` key is invalid.
    Config {
        /// Relative to `[relay]`, e.g. `retry.initial_secs`.
        key: String,
        /// Why.
        message: String,
    },
    /// A file or directory the configuration names cannot be used.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// `send_bounce` was called but `bounce_route` is not set.
    NoBounceRoute,
    /// The bounce route did not take the message.
    Bounce {
        /// It said 5xx, or the recipient cannot be used; otherwise try
        /// again later.
        permanent: bool,
        /// As in [`Outcome`](crate::Outcome).
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { key, message } => write!(f, "relay.{key}: {message}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::NoBounceRoute => f.write_str("no relay.bounce_route is configured"),
            Error::Bounce {
                permanent: true,
                reason,
            } => write!(f, "bounce route refused the message: {reason}"),
            Error::Bounce {
                permanent: false,
                reason,
            } => {
                write!(f, "bounce route failed temporarily: {reason}")
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

/// This crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
