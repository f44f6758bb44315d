//! Errors of setting ingress up (loading the TLS certificate). Errors of a
//! session are SMTP replies, not values of this type.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why ingress could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A certificate or key file could not be read or holds no usable PEM.
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The configuration asks for TLS but does not name a file.
    MissingTlsFile {
        /// The missing key, e.g. `tls.cert`.
        key: &'static str,
    },
    /// rustls refused the certificate and key (e.g. they do not match).
    Tls(rustls::Error),
    /// An I/O error outside a session.
    Io(io::Error),
}

/// Ingress's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Pem { path, message } => write!(f, "{}: {message}", path.display()),
            Error::MissingTlsFile { key } => write!(
                f,
                "ingress.{key} is required when ingress.tls.mode is not \"off\""
            ),
            Error::Tls(e) => write!(f, "TLS certificate and key refused: {e}"),
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Tls(e) => Some(e),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}
