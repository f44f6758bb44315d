//! The listener: accepts connections, applies the connection limits, runs
//! one [`Session`] task per connection and drives shutdown.
//!
//! Shutdown, once the injected future completes:
//! 1. the phase becomes `Draining`: idle sessions say `421 4.3.2` and
//!    close, sessions in a transaction finish it first;
//! 2. the listener keeps accepting, only to answer `421 4.3.2 Service
//!    shutting down` (a closed port would look like a dead host to
//!    Postfix, which would then try the next MX at once);
//! 3. after `shutdown_grace_secs` the phase becomes `Closing`: every session
//!    still waiting on its client says 421 and closes;
//! 4. [`serve`] returns when the last session has ended.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::Accept;
use crate::config::{Config, TlsMode};
use crate::connection::Connection;
use crate::limits::{Connections, Full};
use crate::policy::canonical_ip;
use crate::session::Session;
use crate::shutdown::{Phase, Shutdown};

/// Connections being turned away (with a 421) at once; beyond this, a
/// connection is closed without a word, so that a flood cannot pile up
/// tasks.
const MAX_REFUSALS: usize = 64;

/// How long a 421 to a turned-away connection may take.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the SMTP server on `listener` until `shutdown` completes, then
/// drains the sessions as described in the module docs. `tls` is required
/// when `config.tls.mode` is not `"off"` (see [`crate::load_tls`]) and
/// ignored otherwise.
///
/// Errors: only a configuration that asks for TLS without one given;
/// errors accepting connections are logged and retried.
pub async fn serve<A: Accept>(
    listener: TcpListener,
    config: Arc<Config>,
    tls: Option<Arc<rustls::ServerConfig>>,
    accept: Arc<A>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let tls = match config.tls.mode {
        TlsMode::Off => None,
        TlsMode::Optional | TlsMode::Required => {
            let tls = tls.ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "ingress.tls.mode asks for TLS but no TLS configuration was given",
                )
            })?;
            Some(TlsAcceptor::from(tls))
        }
    };
    let (phase, phase_rx) = watch::channel(Phase::Running);
    let listener = Listener {
        listener,
        connections: Connections::new(config.max_connections, config.max_connections_per_ip),
        refusal_permits: Arc::new(Semaphore::new(MAX_REFUSALS)),
        config,
        tls,
        accept,
        phase_rx,
        sessions: JoinSet::new(),
        refusals: JoinSet::new(),
    };
    listener.run(phase, shutdown).await;
    Ok(())
}

struct Listener<A: Accept> {
    listener: TcpListener,
    config: Arc<Config>,
    tls: Option<TlsAcceptor>,
    accept: Arc<A>,
    /// Counts sessions against `max_connections` and
    /// `max_connections_per_ip`.
    connections: Arc<Connections>,
    /// Caps the tasks that send a 421 to turned-away connections.
    refusal_permits: Arc<Semaphore>,
    /// Handed to each session; the sender stays in [`Listener::run`].
    phase_rx: watch::Receiver<Phase>,
    /// Sessions running; `serve` returns when it is empty.
    sessions: JoinSet<()>,
    /// Connections being sent a 421; aborted when `serve` returns.
    refusals: JoinSet<()>,
}

impl<A: Accept> Listener<A> {
    async fn run(mut self, phase: watch::Sender<Phase>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => self.connected(stream, peer),
                    Err(e) => {
                        // EMFILE and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(result) = self.sessions.join_next(), if !self.sessions.is_empty() => reaped(result),
                Some(_) = self.refusals.join_next(), if !self.refusals.is_empty() => {}
            }
        }

        tracing::info!(sessions = self.sessions.len(), "shutting down SMTP ingress");
        phase.send_replace(Phase::Draining);
        let grace = tokio::time::sleep(Duration::from_secs(self.config.shutdown_grace_secs));
        tokio::pin!(grace);
        let mut closing = false;
        while !self.sessions.is_empty() {
            tokio::select! {
                () = &mut grace, if !closing => {
                    tracing::info!(sessions = self.sessions.len(), "shutdown grace period over: closing sessions");
                    phase.send_replace(Phase::Closing);
                    closing = true;
                }
                accepted = self.listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        let text = format!("421 4.3.2 {} Service shutting down\r\n", self.config.hostname);
                        self.refuse(stream, text);
                    }
                }
                Some(result) = self.sessions.join_next() => reaped(result),
                Some(_) = self.refusals.join_next(), if !self.refusals.is_empty() => {}
            }
        }
        self.refusals.shutdown().await;
        tracing::info!("SMTP ingress stopped");
    }

    /// A new connection: a session if the limits allow, else a 421.
    fn connected(&mut self, stream: TcpStream, peer: SocketAddr) {
        let ip = canonical_ip(peer.ip());
        let slot = match self.connections.try_acquire(ip) {
            Ok(slot) => slot,
            Err(full) => {
                let hostname = &self.config.hostname;
                let text = match full {
                    Full::Total => format!("421 4.7.0 {hostname} Error: too many connections\r\n"),
                    Full::PerIp => {
                        format!("421 4.7.0 {hostname} Error: too many connections from {ip}\r\n")
                    }
                };
                tracing::warn!(client = %ip, limit = ?full, "connection refused: too many connections");
                self.refuse(stream, text);
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        let write_timeout = Duration::from_secs(self.config.command_timeout_secs);
        let session = Session::new(
            Connection::new(stream, write_timeout),
            Arc::clone(&self.config),
            Arc::clone(&self.accept),
            self.tls.clone(),
            ip,
            Shutdown::new(self.phase_rx.clone()),
        );
        let span = tracing::info_span!("smtp", client = %ip);
        self.sessions.spawn(
            async move {
                tracing::debug!("connected");
                session.run().await;
                tracing::debug!("disconnected");
                drop(slot);
            }
            .instrument(span),
        );
    }

    /// Sends `text` (a 421) and closes, in a task of its own; if too many
    /// are already being refused, closes without a word.
    fn refuse(&mut self, mut stream: TcpStream, text: String) {
        let Ok(permit) = Arc::clone(&self.refusal_permits).try_acquire_owned() else {
            return;
        };
        self.refusals.spawn(async move {
            let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
                stream.write_all(text.as_bytes()).await?;
                stream.shutdown().await
            })
            .await;
            drop(permit);
        });
    }
}

fn reaped(result: Result<(), tokio::task::JoinError>) {
    if let Err(e) = result
        && e.is_panic()
    {
        tracing::error!(error = %e, "SMTP session panicked");
    }
}
