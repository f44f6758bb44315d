//! NAME
//!   smtp: delivery to an SMTP next hop with lettre's SMTP client.
//!
//! SUMMARY
//!   Our own small pool of lettre `AsyncSmtpConnection`s per destination,
//!   on TCP sockets with TCP_NODELAY; a semaphore caps the sessions open
//!   at once.
//!
//! DESCRIPTION
//!   Why not lettre's `AsyncSmtpTransport` pool: lettre writes the message
//!   and then CRLF "." CRLF as a second, 5-byte write, on a socket without
//!   TCP_NODELAY. Nagle's algorithm holds those 5 bytes until the next
//!   hop ACKs the data, and the next hop delays that ACK (40 ms on Linux):
//!   every message stalled 40 ms, ~41 messages/s per connection instead
//!   of ~600 in the load benchmark. lettre 0.11.23 has no hook for socket
//!   options, so we connect the socket ourselves (`lookup_host`, each
//!   address in turn within `connect_timeout`), set TCP_NODELAY, and hand
//!   it to `AsyncSmtpConnection::connect_with_transport`; STARTTLS (per
//!   `relay.tls`) and AUTH follow, then the connection is pooled here.
//!
//!   Pool: idle connections wait in a list, most recently used first out,
//!   for at most 60 s; at most `max_connections` of them. A connection goes
//!   back only after a successful transaction (or one refused before any
//!   command, e.g. 8-bit data to a 7-bit next hop); after any failed
//!   command or a time-out it is closed, never reused. No NOOP before
//!   reuse (lettre's pool sent one every time: a round trip per message).
//!   Instead, when a reused connection fails at the connection level (no
//!   reply, or a 421, as a next hop that restarted or timed the idle
//!   session out gives) before the message data was written, the
//!   transaction goes once more on a fresh connection. That retry cannot
//!   deliver twice: the next hop never got the data. A connection lost
//!   after the data went out and before the reply to "." came is reported
//!   Temporary and not retried here; the next hop may have accepted the
//!   message, and the later retry then delivers it a second time — SMTP's
//!   usual at-least-once (RFC 1047), as with lettre's pool and Postfix.
//!
//!   lettre sends MAIL, every RCPT, DATA in one transaction and gives up on
//!   the first negative reply, without saying which command drew it. So:
//!
//!   1. Recipients go in one transaction per 50 (Postfix's
//!      `smtp_destination_recipient_limit`). Success: all Delivered.
//!   2. A reply that concerns the whole session or message (421, a
//!      connection, TLS or time-out failure, enhanced codes X.1.7/X.1.8
//!      sender, X.3.4 size, X.6.x content) applies to every recipient
//!      not yet delivered: no further transactions are tried.
//!   3. Any other 4xx/5xx with more than one recipient: each recipient is
//!      then tried in a transaction of its own, which gives per-recipient
//!      outcomes. No recipient can receive the message twice: a
//!      transaction that drew a negative reply delivered nothing. A
//!      session-wide failure during this stops it; the rest get that.
//!   4. Before a 5xx is reported as Permanent, a probe (a fresh session
//!      and NOOP) checks that the next hop still accepts sessions at all:
//!      a 5xx greeting, EHLO or AUTH reply (a misconfigured next hop, bad
//!      credentials) defers the mail instead of bouncing it, as Postfix
//!      does with `smtp_skip_5xx_greeting`.
//!
//!   Each send (connecting if needed, and the one retry) is bounded by
//!   `connect + command × (5 + recipients + MiB)`. A send that runs out of
//!   time is abandoned with its connection: the half-used connection must
//!   never go back to the pool, where the next transaction would read
//!   replies out of step.
//!
//!   The message goes out as given, except that bare LF or CR become CRLF
//!   (lettre dot-stuffs only after CRLF: a bare-LF "." line would end the
//!   data early — SMTP smuggling) and one final CRLF is dropped because
//!   lettre appends CRLF "." CRLF itself.
//!
//! SECURITY
//!   Replies from the next hop are untrusted text: control characters are
//!   replaced and their length capped before they become reasons.

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::address::Envelope as SmtpEnvelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, Certificate, CertificateStore, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::config::TlsMode;
use crate::error::{Error, Result};
use crate::{Outcome, clean_reason};

/// Recipients per transaction, like Postfix's
/// `smtp_destination_recipient_limit`: more go in further transactions.
const RCPT_BATCH: usize = 50;

/// How long a connection may wait idle in the pool (what lettre's pool
/// was configured with).
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// How to reach one SMTP destination.
pub(crate) struct SmtpSettings<'a> {
    pub host: &'a str,
    pub port: u16,
    pub tls: TlsMode,
    /// PEM of an extra CA (only with `TlsMode::Required`).
    pub extra_ca: Option<&'a [u8]>,
    pub credentials: Option<(String, String)>,
    pub helo_name: &'a str,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub max_connections: u32,
}

/// One SMTP destination: the next hop or the bounce route.
pub(crate) struct SmtpHop {
    /// `host:port`, for reasons and logs.
    label: String,
    host: String,
    port: u16,
    tls: TlsMode,
    /// For STARTTLS: unverified with `Opportunistic`, verified with
    /// `Required`, None with `TlsMode::None`.
    tls_params: Option<TlsParameters>,
    hello: ClientId,
    credentials: Option<Credentials>,
    /// Connections between transactions; the most recently used last.
    idle: Mutex<Vec<Idle>>,
    /// At most this many idle connections are kept.
    max_idle: usize,
    /// One permit per session in use at once.
    slots: Semaphore,
    connect_timeout: Duration,
    command_timeout: Duration,
}

/// A pooled connection and when it was last used.
struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// Why a send failed, and how far the failure reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    permanent: bool,
    reason: String,
    /// A 4xx/5xx reply to a transaction command that may concern only some
    /// recipients: sending per recipient can tell which.
    per_recipient: bool,
}

impl Failure {
    fn temporary(reason: String) -> Self {
        Self {
            permanent: false,
            reason,
            per_recipient: false,
        }
    }

    fn permanent(reason: String) -> Self {
        Self {
            permanent: true,
            reason,
            per_recipient: false,
        }
    }

    fn outcome(&self) -> Outcome {
        if self.permanent {
            Outcome::Permanent(self.reason.clone())
        } else {
            Outcome::Temporary(self.reason.clone())
        }
    }
}

/// How a transaction on an open connection failed.
enum TxFailure {
    /// Refused before any command was sent; the connection is still good.
    Unsent(Failure),
    /// A command or the data failed; the connection is done.
    /// `data_sent`: the message data had (begun to be) written.
    Failed { error: SmtpError, data_sent: bool },
}

/// How one attempt of a send failed.
struct AttemptFailure {
    failure: Failure,
    /// A reused connection failed at the connection level before the data
    /// went out: a fresh connection may be tried, without risk of a
    /// duplicate.
    stale: bool,
}

impl From<Failure> for AttemptFailure {
    fn from(failure: Failure) -> Self {
        Self {
            failure,
            stale: false,
        }
    }
}

impl SmtpHop {
    pub(crate) fn new(s: SmtpSettings<'_>) -> Result<Self> {
        let tls_err = |e: SmtpError| Error::Config {
            key: "tls".into(),
            message: e.to_string(),
        };
        let tls_params = match s.tls {
            TlsMode::None => None,
            // Postfix's `may`: encrypt, do not authenticate. No roots needed.
            TlsMode::Opportunistic => Some(
                TlsParameters::builder(s.host.to_owned())
                    .certificate_store(CertificateStore::None)
                    .dangerous_accept_invalid_certs(true)
                    .build()
                    .map_err(tls_err)?,
            ),
            TlsMode::Required => {
                let mut params = TlsParameters::builder(s.host.to_owned());
                if let Some(pem) = s.extra_ca {
                    let cert = Certificate::from_pem(pem).map_err(|e| Error::Config {
                        key: "tls_ca".into(),
                        message: format!("not a PEM certificate: {e}"),
                    })?;
                    params = params.add_root_certificate(cert);
                }
                Some(params.build().map_err(|e| Error::Config {
                    key: if s.extra_ca.is_some() {
                        "tls_ca".into()
                    } else {
                        "tls".into()
                    },
                    message: e.to_string(),
                })?)
            }
        };
        let label = if s.host.contains(':') {
            format!("[{}]:{}", s.host, s.port)
        } else {
            format!("{}:{}", s.host, s.port)
        };
        Ok(Self {
            label,
            host: s.host.to_owned(),
            port: s.port,
            tls: s.tls,
            tls_params,
            hello: ClientId::Domain(s.helo_name.to_owned()),
            credentials: s
                .credentials
                .map(|(user, password)| Credentials::new(user, password)),
            idle: Mutex::new(Vec::new()),
            max_idle: s.max_connections as usize,
            slots: Semaphore::new(s.max_connections as usize),
            connect_timeout: s.connect_timeout,
            command_timeout: s.command_timeout,
        })
    }

    /// Delivers `message` and says per recipient what happened, in the
    /// order given.
    pub(crate) async fn deliver(
        &self,
        sender: &str,
        recipients: &[String],
        message: &[u8],
    ) -> Vec<(String, Outcome)> {
        let mut outcomes: Vec<(String, Option<Outcome>)> =
            recipients.iter().map(|r| (r.clone(), None)).collect();

        let from = if sender.is_empty() {
            None
        } else {
            match parse_address(sender) {
                Some(a) => Some(a),
                None => {
                    let why = clean_reason(&format!("5.1.7 bad sender address syntax: <{sender}>"));
                    return recipients
                        .iter()
                        .map(|r| (r.clone(), Outcome::Permanent(why.clone())))
                        .collect();
                }
            }
        };
        // Index into `outcomes` and the parsed address of each usable recipient.
        let mut todo: Vec<(usize, Address)> = Vec::new();
        for (i, (r, outcome)) in outcomes.iter_mut().enumerate() {
            match parse_address(r) {
                Some(a) => todo.push((i, a)),
                None => {
                    *outcome = Some(Outcome::Permanent(clean_reason(&format!(
                        "5.1.3 bad recipient address syntax: <{r}>"
                    ))))
                }
            }
        }

        let data = smtp_data(message);
        // Set once a failure concerns the session or the message, not a
        // recipient: it is then every remaining recipient's outcome.
        let mut rest: Option<Failure> = None;
        for batch in todo.chunks(RCPT_BATCH) {
            if let Some(f) = &rest {
                for (i, _) in batch {
                    outcomes[*i].1 = Some(f.outcome());
                }
                continue;
            }
            let all: Vec<Address> = batch.iter().map(|(_, a)| a.clone()).collect();
            let failure = match self.send(from.clone(), all, &data).await {
                Ok(reply) => {
                    for (i, _) in batch {
                        outcomes[*i].1 = Some(Outcome::Delivered(reply.clone()));
                    }
                    continue;
                }
                Err(failure) => self.confirm(failure).await,
            };
            if !failure.per_recipient || batch.len() == 1 {
                for (i, _) in batch {
                    outcomes[*i].1 = Some(failure.outcome());
                }
                if !failure.per_recipient {
                    rest = Some(failure);
                }
                continue;
            }
            tracing::debug!(next_hop = %self.label, reason = %failure.reason, "transaction failed; retrying per recipient");
            for (i, addr) in batch {
                let outcome = match &rest {
                    Some(f) => f.outcome(),
                    None => match self.send(from.clone(), vec![addr.clone()], &data).await {
                        Ok(reply) => Outcome::Delivered(reply),
                        Err(f) if f.per_recipient => f.outcome(),
                        Err(f) => {
                            let outcome = f.outcome();
                            rest = Some(f);
                            outcome
                        }
                    },
                };
                outcomes[*i].1 = Some(outcome);
            }
        }
        outcomes
            .into_iter()
            .map(|(r, o)| (r, o.expect("every recipient has an outcome")))
            .collect()
    }

    /// A 5xx reply is only final if the next hop still accepts sessions: a
    /// 5xx greeting, EHLO or AUTH reply (lettre does not say which command
    /// drew it) defers instead of bouncing.
    async fn confirm(&self, failure: Failure) -> Failure {
        if !(failure.permanent && starts_with_reply(&failure.reason, b'5')) {
            return failure;
        }
        match self.probe().await {
            Ok(()) => failure,
            Err(why) => Failure::temporary(clean_reason(&format!(
                "4.4.2 {} refuses new sessions ({why}); deferred instead of bounced: {}",
                self.label, failure.reason
            ))),
        }
    }

    /// One transaction: sender, recipients, data. On an idle connection
    /// if there is one; once more on a fresh one if that turns out dead
    /// before the data went out (see the module doc).
    async fn send(
        &self,
        from: Option<Address>,
        to: Vec<Address>,
        data: &[u8],
    ) -> std::result::Result<String, Failure> {
        let envelope = SmtpEnvelope::new(from, to).map_err(|e| {
            Failure::permanent(clean_reason(&format!("5.1.3 unusable envelope: {e}")))
        })?;
        let mib = data.len().div_ceil(1 << 20) as u32;
        let steps = 5u32
            .saturating_add(envelope.to().len() as u32)
            .saturating_add(mib);
        let budget = self.connect_timeout + self.command_timeout.saturating_mul(steps);

        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let deadline = tokio::time::Instant::now() + budget;
        let mut reuse = true;
        loop {
            // A time-out drops the attempt and the connection in it: it
            // never goes back to the pool.
            match tokio::time::timeout_at(deadline, self.attempt(reuse, &envelope, data)).await {
                Ok(Ok(reply)) => return Ok(reply),
                Ok(Err(AttemptFailure {
                    failure,
                    stale: true,
                })) => {
                    tracing::debug!(next_hop = %self.label, reason = %failure.reason, "pooled connection is dead; once more on a fresh one");
                    reuse = false;
                }
                Ok(Err(AttemptFailure { failure, .. })) => return Err(failure),
                Err(_) => {
                    tracing::warn!(next_hop = %self.label, "SMTP conversation timed out; closing its connection");
                    return Err(Failure::temporary(format!(
                        "4.4.2 conversation with {} timed out after {}s",
                        self.label,
                        budget.as_secs()
                    )));
                }
            }
        }
    }

    /// One transaction on an idle connection (if `reuse` and there is one)
    /// or a fresh one.
    async fn attempt(
        &self,
        reuse: bool,
        envelope: &SmtpEnvelope,
        data: &[u8],
    ) -> std::result::Result<String, AttemptFailure> {
        let (mut conn, reused) = match reuse.then(|| self.take_idle()).flatten() {
            Some(conn) => (conn, true),
            None => (self.open().await?, false),
        };
        match self.transaction(&mut conn, envelope, data).await {
            Ok(response) => {
                self.park(conn);
                Ok(reply_text(&response))
            }
            Err(TxFailure::Unsent(failure)) => {
                self.park(conn);
                Err(failure.into())
            }
            Err(TxFailure::Failed { error, data_sent }) => {
                // No reply at all (the next hop hung up) or a 421 (it is
                // closing the session): the connection, not the mail.
                let connection_level = error.status().is_none_or(|code| code.to_string() == "421");
                self.close(conn);
                Err(AttemptFailure {
                    failure: self.classify(&error),
                    stale: reused && !data_sent && connection_level,
                })
            }
        }
    }

    /// MAIL, RCPT each, DATA, the data; lettre's `send` with the same
    /// SMTPUTF8 and 8BITMIME checks, but saying whether the data went out.
    async fn transaction(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &SmtpEnvelope,
        data: &[u8],
    ) -> std::result::Result<Response, TxFailure> {
        let hop = &self.label;
        let mut params = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(TxFailure::Unsent(Failure {
                    per_recipient: true,
                    ..Failure::permanent(format!(
                        "5.6.7 non-ASCII address but {hop} does not offer SMTPUTF8"
                    ))
                }));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        if !data.is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                return Err(TxFailure::Unsent(Failure::permanent(format!(
                    "5.6.3 the message has 8-bit content but {hop} does not offer 8BITMIME"
                ))));
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let before = |error| TxFailure::Failed {
            error,
            data_sent: false,
        };
        conn.command(Mail::new(envelope.from().cloned(), params))
            .await
            .map_err(before)?;
        for rcpt in envelope.to() {
            conn.command(Rcpt::new(rcpt.clone(), Vec::new()))
                .await
                .map_err(before)?;
        }
        conn.command(Data).await.map_err(before)?;
        conn.message(data).await.map_err(|error| TxFailure::Failed {
            error,
            data_sent: true,
        })
    }

    /// A new session: TCP with TCP_NODELAY, greeting, EHLO, STARTTLS as
    /// `relay.tls` says, AUTH if configured.
    async fn open(&self) -> std::result::Result<AsyncSmtpConnection, Failure> {
        let hop = &self.label;
        let stream = self.connect().await?;
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
            .await
            .map_err(|e| self.classify(&e))?;
        if let Some(params) = &self.tls_params {
            if conn.can_starttls() {
                // On failure the stream is unusable (lettre left it
                // half-upgraded): drop it, no QUIT.
                conn.starttls(params.clone(), &self.hello)
                    .await
                    .map_err(|e| self.classify(&e))?;
            } else if self.tls == TlsMode::Required {
                self.close(conn);
                return Err(Failure::temporary(format!(
                    "4.7.4 TLS is required (relay.tls = \"required\") but {hop} does not offer STARTTLS"
                )));
            }
        }
        if let Some(credentials) = &self.credentials
            && let Err(e) = conn.auth(DEFAULT_MECHANISMS, credentials).await
        {
            self.close(conn);
            return Err(self.classify(&e));
        }
        Ok(conn)
    }

    /// TCP to the first address of `host` that answers within
    /// `connect_timeout`, with TCP_NODELAY (see the module doc).
    async fn connect(&self) -> std::result::Result<TcpStream, Failure> {
        let fail = |why: &str| {
            Failure::temporary(clean_reason(&format!(
                "4.4.1 connect to {}: {why}",
                self.label
            )))
        };
        let addrs = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| fail(&e.to_string()))?;
        let mut last = None;
        for addr in addrs {
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::warn!(next_hop = %self.label, error = %e, "cannot set TCP_NODELAY: each message may stall until a delayed ACK");
                    }
                    return Ok(stream);
                }
                Ok(Err(e)) => last = Some(e.to_string()),
                Err(_) => last = Some("timed out".to_owned()),
            }
        }
        Err(fail(
            last.as_deref()
                .unwrap_or("could not resolve to any supported address"),
        ))
    }

    /// Can a new session be had? Err says why not. A good one is pooled.
    async fn probe(&self) -> std::result::Result<(), String> {
        let budget = self.connect_timeout + self.command_timeout.saturating_mul(6);
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let session = async {
            let mut conn = self.open().await.map_err(|f| f.reason)?;
            if conn.test_connected().await {
                self.park(conn);
                Ok(())
            } else {
                self.close(conn);
                Err("NOOP failed".to_owned())
            }
        };
        match tokio::time::timeout(budget, session).await {
            Ok(result) => result,
            Err(_) => Err(format!("no session within {}s", budget.as_secs())),
        }
    }

    /// The most recently used idle connection, if one is young enough.
    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut idle);
        idle.pop().map(|i| i.conn)
    }

    /// Puts a connection that finished a transaction back for reuse.
    fn park(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut idle);
        if idle.len() < self.max_idle {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        } else {
            drop(idle);
            self.close(conn);
        }
    }

    /// Closes the connections idle for longer than `IDLE_LIMIT` (the
    /// oldest are first).
    fn expire(&self, idle: &mut Vec<Idle>) {
        let old = idle
            .iter()
            .position(|i| i.since.elapsed() < IDLE_LIMIT)
            .unwrap_or(idle.len());
        for i in idle.drain(..old) {
            self.close(i.conn);
        }
    }

    /// QUIT and close, in the background.
    fn close(&self, conn: AsyncSmtpConnection) {
        close(conn, self.command_timeout);
    }

    /// Maps a lettre error to a reason and its reach. See the module doc.
    fn classify(&self, e: &SmtpError) -> Failure {
        let hop = &self.label;
        let detail = std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_default();
        if let Some(code) = e.status() {
            let code = code.to_string();
            let reason = clean_reason(&format!("{code} {detail}"));
            let permanent = e.is_permanent();
            let whole = code == "421" || enhanced_code(&reason).is_some_and(message_level);
            return Failure {
                permanent,
                reason,
                per_recipient: !whole,
            };
        }
        let text = clean_reason(&e.to_string());
        if let Some(tls) = rustls_error(e) {
            let hint = match tls {
                rustls::Error::InvalidCertificate(_) if self.tls == TlsMode::Required => {
                    " (is it signed by a CA in the system store or relay.tls_ca, for this host name?)"
                }
                _ => "",
            };
            return Failure::temporary(clean_reason(&format!(
                "4.7.5 TLS with {hop} failed: {tls}{hint}"
            )));
        }
        if e.is_tls() {
            return Failure::temporary(format!("4.7.5 TLS with {hop} failed: {text}"));
        }
        if e.is_client() {
            if detail.contains("authentication") {
                return Failure::temporary(format!(
                    "4.7.0 SMTP AUTH with {hop} impossible: {text}"
                ));
            }
            return Failure::temporary(format!("4.3.0 {hop}: {text}"));
        }
        if text.starts_with("Connection error") {
            return Failure::temporary(format!("4.4.1 connect to {hop}: {detail}"));
        }
        Failure::temporary(clean_reason(&format!(
            "4.4.2 lost connection with {hop}: {text}"
        )))
    }
}

impl Drop for SmtpHop {
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        for i in idle {
            close(i.conn, self.command_timeout);
        }
    }
}

/// Sends QUIT (waiting at most `limit`) and closes, in a task of its own;
/// outside a Tokio runtime (process exit) just closes the socket.
fn close(mut conn: AsyncSmtpConnection, limit: Duration) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = tokio::time::timeout(limit, conn.abort()).await;
        });
    }
}

/// The rustls error under a lettre error, if a TLS handshake failed (lettre
/// reports those as connection errors wrapping an `io::Error`).
fn rustls_error(e: &SmtpError) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        source = s.source();
    }
    None
}

fn parse_address(s: &str) -> Option<Address> {
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    s.parse().ok()
}

/// "250 2.0.0 Ok: queued as X", lines joined.
fn reply_text(r: &Response) -> String {
    clean_reason(&format!(
        "{} {}",
        r.code(),
        r.message().collect::<Vec<_>>().join(" ")
    ))
}

/// Does `reason` start with an SMTP reply code of class `class` (b'5')?
pub(crate) fn starts_with_reply(reason: &str, class: u8) -> bool {
    let b = reason.as_bytes();
    b.len() >= 3
        && b[0] == class
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b.get(3).is_none_or(|c| *c == b' ' || *c == b'-')
}

/// The first RFC 3463 enhanced status code in `text`, as (class, subject, detail).
pub(crate) fn enhanced_code(text: &str) -> Option<(u8, u16, u16)> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == '[')
        .find_map(|word| {
            let word = word.trim_end_matches([',', ';', ':', ')', ']']);
            let mut parts = word.split('.');
            let class: u8 = parts.next()?.parse().ok()?;
            let subject: u16 = parts
                .next()
                .filter(|p| (1..=3).contains(&p.len()))?
                .parse()
                .ok()?;
            let detail: u16 = parts
                .next()
                .filter(|p| (1..=3).contains(&p.len()))?
                .parse()
                .ok()?;
            (parts.next().is_none() && matches!(class, 2 | 4 | 5))
                .then_some((class, subject, detail))
        })
}

/// Codes about the sender or the message itself, not one recipient.
fn message_level((_, subject, detail): (u8, u16, u16)) -> bool {
    matches!((subject, detail), (1, 7) | (1, 8) | (3, 4)) || subject == 6
}

/// The bytes to hand to lettre: CRLF line ends, without the final CRLF
/// (lettre appends CRLF "." CRLF).
fn smtp_data(message: &[u8]) -> Cow<'_, [u8]> {
    let clean = !message.iter().enumerate().any(|(i, &b)| match b {
        b'\n' => i == 0 || message[i - 1] != b'\r',
        b'\r' => message.get(i + 1) != Some(&b'\n'),
        _ => false,
    });
    let mut data: Cow<'_, [u8]> = if clean {
        Cow::Borrowed(message)
    } else {
        let mut out = Vec::with_capacity(message.len() + message.len() / 32);
        let mut i = 0;
        while i < message.len() {
            match message[i] {
                b'\r' if message.get(i + 1) == Some(&b'\n') => {
                    out.extend_from_slice(b"\r\n");
                    i += 1;
                }
                b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
                b => out.push(b),
            }
            i += 1;
        }
        Cow::Owned(out)
    };
    if data.ends_with(b"\r\n") {
        match &mut data {
            Cow::Borrowed(b) => *b = &b[..b.len() - 2],
            Cow::Owned(v) => v.truncate(v.len() - 2),
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_keeps_crlf_mail_and_drops_the_final_crlf() {
        assert_eq!(&*smtp_data(b"A: b\r\n\r\nbody\r\n"), b"A: b\r\n\r\nbody");
        assert!(matches!(
            smtp_data(b"A: b\r\n\r\nbody\r\n"),
            Cow::Borrowed(_)
        ));
        assert_eq!(&*smtp_data(b"A: b\r\n\r\nbody"), b"A: b\r\n\r\nbody");
    }

    #[test]
    fn data_turns_bare_lf_and_cr_into_crlf() {
        // A bare-LF "." line must not reach lettre unstuffed.
        assert_eq!(
            &*smtp_data(b"A: b\n\nx\n.\nmore\n"),
            b"A: b\r\n\r\nx\r\n.\r\nmore"
        );
        assert_eq!(&*smtp_data(b"a\rb\r\n"), b"a\r\nb");
        assert_eq!(&*smtp_data(b"\n"), b"");
    }

    #[test]
    fn enhanced_codes_are_found() {
        assert_eq!(
            enhanced_code("550 5.1.1 <a@b>: Recipient address rejected"),
            Some((5, 1, 1))
        );
        assert_eq!(
            enhanced_code("452 4.5.3 Error: too many recipients"),
            Some((4, 5, 3))
        );
        assert_eq!(
            enhanced_code("554 Transaction failed (5.6.0)"),
            Some((5, 6, 0))
        );
        assert_eq!(enhanced_code("550 version 1.2.3 is old"), None);
        assert_eq!(enhanced_code("550 no code here"), None);
        assert_eq!(enhanced_code("550 10.0.0.1 blocked"), None);
        assert!(message_level(
            enhanced_code("552 5.3.4 Message size exceeds fixed limit").unwrap()
        ));
        assert!(message_level(
            enhanced_code("553 5.1.7 bad sender").unwrap()
        ));
        assert!(!message_level(
            enhanced_code("550 5.1.1 unknown user").unwrap()
        ));
    }

    #[test]
    fn reply_prefixes() {
        assert!(starts_with_reply("550 5.1.1 no", b'5'));
        assert!(starts_with_reply("554", b'5'));
        assert!(!starts_with_reply("5.1.3 bad address", b'5'));
        assert!(!starts_with_reply("450 4.2.0 later", b'5'));
    }

    #[test]
    fn addresses_are_checked() {
        assert!(parse_address("user@example.lg.jp").is_some());
        assert!(parse_address("user@example.lg.jp\r\nRCPT TO:<x@y>").is_none());
        assert!(parse_address("no-at-sign").is_none());
        assert!(parse_address("a b@example.jp").is_none());
    }
}
