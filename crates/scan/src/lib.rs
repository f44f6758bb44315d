/*!
Mukaika's virus scanner client: asks clamd whether a buffer is infected.

[`Scanner::scan`] streams one buffer to clamd with `zINSTREAM` (through the
`clamav-client` crate) and returns a [`Verdict`]. It fails closed: only the
exact reply `stream: OK` is [`Verdict::Clean`]; `stream: NAME FOUND` is
[`Verdict::Infected`]; a connection failure, a timeout or a clamd `ERROR`
reply is [`Error::Unavailable`], and any other reply is [`Error::Garbage`].
The caller never treats an error as clean: per [`Config::on_unavailable`]
it defers or holds the message.

This crate does not decide what happens to a message (that is the
pipeline's job, following the profile's `on_infected`); it does not read
mail, MIME or the spool, and it does not start or manage clamd.

# Layout
- `config.rs`: the `[scanner]` section ([`Config`], [`OnUnavailable`]) and
  the `clamd` address.
- `reply.rs`: parsing clamd's replies (fail closed).
- `lib.rs`: [`Scanner`]: concurrency bound, timeouts, version cache.

# Example
```no_run
# async fn run(part: &[u8]) -> Result<(), mukaika_scan::Error> {
use mukaika_scan::{Config, Scanner, Verdict};

let config = Config { clamd: "unix:/run/clamav/clamd.ctl".into(), ..Config::default() };
let Some(scanner) = Scanner::new(&config)? else { return Ok(()) }; // "off"
match scanner.scan(part).await? {
    Verdict::Clean => {}
    Verdict::Infected(names) => println!("infected: {}", names.join(", ")),
}
# Ok(()) }
```
*/
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod reply;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clamav_client::tokio::{Socket, Tcp};
use tokio::sync::Semaphore;

use config::Address;
pub use config::{Config, OnUnavailable};

/// What clamd said about a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// clamd replied `stream: OK`.
    Clean,
    /// clamd replied `stream: NAME FOUND`: the signature names (one, or
    /// several with clamd's `AllMatchScans`), e.g.
    /// `Custom.EICAR.NDB.UNOFFICIAL`.
    Infected(Vec<String>),
}

/// What clamd says it is (`VERSION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// e.g. `ClamAV 1.4.6`.
    pub engine: String,
    /// Signature database version and date, e.g.
    /// `27812/Tue Nov 12 08:35:26 2024`; none when clamd runs on local
    /// signature files only.
    pub database: Option<String>,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.database {
            Some(db) => write!(f, "{}/{db}", self.engine),
            None => f.write_str(&self.engine),
        }
    }
}

/// Why there is no verdict. None of these means clean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// clamd could not be reached, did not answer within `timeout_secs`,
    /// or replied with an error (e.g. `INSTREAM size limit exceeded`).
    Unavailable(String),
    /// clamd's reply could not be parsed.
    Garbage(String),
    /// The buffer is longer than clamd accepts (`max_stream_bytes`, or
    /// clamd said so): retrying cannot help.
    TooLarge(u64),
    /// The `[scanner]` section is invalid.
    Config {
        /// The offending key, e.g. `clamd`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unavailable(m) => write!(f, "clamd unavailable: {m}"),
            Error::Garbage(m) => write!(f, "clamd reply not understood: {m}"),
            Error::TooLarge(n) => write!(f, "{n} bytes is more than clamd accepts in one stream"),
            Error::Config { key, message } => write!(f, "scanner.{key}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// How long [`Scanner::version`] reuses clamd's answer.
const VERSION_TTL: Duration = Duration::from_secs(60);
/// INSTREAM chunk size. clamd accepts chunks up to `StreamMaxLength`;
/// 64 KiB keeps the number of writes small without a large copy.
const CHUNK_SIZE: usize = 64 * 1024;

/// A clamd client. Cheap to clone; clones share the concurrency bound and
/// the version cache.
#[derive(Clone)]
pub struct Scanner {
    inner: Arc<Inner>,
}

struct Inner {
    address: Address,
    timeout: Duration,
    max_stream_bytes: u64,
    /// Caps exchanges with clamd at `concurrency`, so that a burst of
    /// messages queues here instead of in clamd (whose queue is bounded by
    /// `MaxQueue` and whose threads by `MaxThreads`).
    permits: Semaphore,
    /// The last `VERSION` answer and when it was fetched.
    version: Mutex<Option<(Instant, Version)>>,
}

impl fmt::Debug for Scanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scanner")
            .field("address", &self.inner.address)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl Scanner {
    /// A scanner for `config`, or `None` when `clamd = "off"`. Validates
    /// the config; does not connect (see [`Scanner::ping`]).
    pub fn new(config: &Config) -> Result<Option<Self>> {
        config
            .validate()
            .map_err(|(key, message)| Error::Config { key, message })?;
        let address = Address::parse(&config.clamd).map_err(|message| Error::Config {
            key: "clamd".into(),
            message,
        })?;
        if address == Address::Off {
            return Ok(None);
        }
        Ok(Some(Scanner {
            inner: Arc::new(Inner {
                address,
                timeout: Duration::from_secs(config.timeout_secs),
                max_stream_bytes: config.max_stream_bytes,
                permits: Semaphore::new(config.concurrency),
                version: Mutex::new(None),
            }),
        }))
    }

    /// Scans one buffer through INSTREAM. Clean, or Infected with the
    /// signature names. A buffer longer than `max_stream_bytes` gets
    /// [`Error::TooLarge`] without being sent.
    ///
    /// Waiting for a free slot (see [`Config::concurrency`]) is not
    /// limited; the exchange with clamd is limited by `timeout_secs`.
    pub async fn scan(&self, bytes: &[u8]) -> Result<Verdict> {
        let len = bytes.len() as u64;
        if len > self.inner.max_stream_bytes {
            return Err(Error::TooLarge(len));
        }
        let started = Instant::now();
        let reply = match &self.inner.address {
            Address::Unix(path) => {
                let socket = Socket {
                    socket_path: path.as_path(),
                };
                self.exchange(
                    "INSTREAM",
                    clamav_client::tokio::scan_buffer(bytes, socket, Some(CHUNK_SIZE)),
                )
                .await
            }
            Address::Tcp(hostport) => {
                let tcp = Tcp {
                    host_address: hostport.as_str(),
                };
                self.exchange(
                    "INSTREAM",
                    clamav_client::tokio::scan_buffer(bytes, tcp, Some(CHUNK_SIZE)),
                )
                .await
            }
            Address::Off => unreachable!("Scanner::new returns None for off"),
        };
        let verdict = reply.and_then(|r| reply::scan(&r)).map_err(|e| match e {
            Error::Unavailable(m) if m.contains("size limit exceeded") => Error::TooLarge(len),
            e => e,
        });
        match &verdict {
            Ok(v) => {
                tracing::debug!(len = bytes.len(), elapsed = ?started.elapsed(), verdict = ?v, "scanned")
            }
            Err(e) => {
                tracing::warn!(len = bytes.len(), elapsed = ?started.elapsed(), error = %e, "scan failed")
            }
        }
        verdict
    }

    /// clamd VERSION: engine version and signature database version;
    /// cached for a minute.
    pub async fn version(&self) -> Result<Version> {
        if let Some((at, v)) = &*self.lock_version()
            && at.elapsed() < VERSION_TTL
        {
            return Ok(v.clone());
        }
        let reply = match &self.inner.address {
            Address::Unix(path) => {
                let socket = Socket {
                    socket_path: path.as_path(),
                };
                self.exchange("VERSION", clamav_client::tokio::get_version(socket))
                    .await
            }
            Address::Tcp(hostport) => {
                let tcp = Tcp {
                    host_address: hostport.as_str(),
                };
                self.exchange("VERSION", clamav_client::tokio::get_version(tcp))
                    .await
            }
            Address::Off => unreachable!("Scanner::new returns None for off"),
        }?;
        let version = reply::version(&reply)?;
        *self.lock_version() = Some((Instant::now(), version.clone()));
        Ok(version)
    }

    /// clamd PING: Ok when clamd answers PONG within the timeout.
    pub async fn ping(&self) -> Result<()> {
        let reply = match &self.inner.address {
            Address::Unix(path) => {
                let socket = Socket {
                    socket_path: path.as_path(),
                };
                self.exchange("PING", clamav_client::tokio::ping(socket))
                    .await
            }
            Address::Tcp(hostport) => {
                let tcp = Tcp {
                    host_address: hostport.as_str(),
                };
                self.exchange("PING", clamav_client::tokio::ping(tcp)).await
            }
            Address::Off => unreachable!("Scanner::new returns None for off"),
        }?;
        reply::ping(&reply)
    }

    /// Runs one clamd exchange under a permit and the timeout.
    async fn exchange(
        &self,
        command: &str,
        io: impl Future<Output = std::result::Result<Vec<u8>, std::io::Error>>,
    ) -> Result<Vec<u8>> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Unavailable("scanner closed".into()))?;
        match tokio::time::timeout(self.inner.timeout, io).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(Error::Unavailable(format!(
                "{command} to {}: {e}",
                self.address_text()
            ))),
            Err(_) => Err(Error::Unavailable(format!(
                "{command} to {}: no reply within {:?}",
                self.address_text(),
                self.inner.timeout
            ))),
        }
    }

    fn address_text(&self) -> String {
        match &self.inner.address {
            Address::Off => "off".into(),
            Address::Unix(p) => format!("unix:{}", p.display()),
            Address::Tcp(h) => format!("tcp:{h}"),
        }
    }

    fn lock_version(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Version)>> {
        // The cache holds no invariant a panic could break.
        self.inner
            .version
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_is_none() {
        assert!(Scanner::new(&Config::default()).unwrap().is_none());
    }

    #[test]
    fn new_validates() {
        let err = Scanner::new(&Config {
            clamd: "tcp:nowhere".into(),
            ..Config::default()
        })
        .unwrap_err();
        assert!(
            matches!(err, Error::Config { ref key, .. } if key == "clamd"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn refused_is_unavailable() {
        // Bind then drop to get a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let scanner = Scanner::new(&Config {
            clamd: format!("tcp:127.0.0.1:{port}"),
            ..Config::default()
        })
        .unwrap()
        .unwrap();
        assert!(matches!(
            scanner.scan(b"x").await,
            Err(Error::Unavailable(_))
        ));
        assert!(matches!(scanner.ping().await, Err(Error::Unavailable(_))));
        assert!(matches!(
            scanner.version().await,
            Err(Error::Unavailable(_))
        ));
    }
}
