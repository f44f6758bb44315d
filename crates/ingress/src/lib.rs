/*!
Mukaika's SMTP ingress: the server that Internet MTAs talk to. It takes a
message only for the configured LGWAN domains, only from allowed client
networks, within limits on everything, and answers `250` only once
[`Accept::accept`] says the message is durably spooled. It is not a
relay for anyone (no AUTH, no submission), does not sanitize (that is the
pipeline's job) and does not deliver (that is the relay's).

# Layout

- [`listener`](crate::serve): accepts connections, enforces connection
  limits, runs one session per connection, and drives shutdown.
- `session`: one SMTP conversation: the state machine and the dispatch
  of parsed commands (parsed by `smtp-proto`, never by hand).
- `verbs/`: one file per SMTP verb (`ehlo.rs`, `mail.rs`, `data.rs`, ...).
- `connection`: bytes ↔ lines and replies; pipelining; STARTTLS.
- `policy`: who may connect, which senders and recipients are accepted.
- `limits`: connection counting. `shutdown`: the shutdown phases.
- `received`: the `Received:` header. `config`, `tls`, `error`.

# Replies

Replies follow Postfix's wording and RFC 3463 enhanced status codes:

| situation | reply |
| --- | --- |
| greeting | `220 HOSTNAME ESMTP Mukaika` |
| client not in `allow_clients` / in `deny_clients` | greeting `554 5.7.1`, then `503 5.7.1` to all but QUIT |
| too many connections (total or per IP) | `421 4.7.0` at connect |
| MAIL before HELO/EHLO, nested MAIL, RCPT before MAIL, DATA before RCPT | `503 5.5.1` |
| MAIL while `tls.mode = "required"` and TLS is off | `530 5.7.0` |
| MAIL while the spool is over its high-water mark | `451 4.3.1` |
| sender in `deny_senders` / not in `allow_senders` | `550 5.7.1` |
| `SIZE=` over `max_message_bytes`; message over it | `552 5.3.4` |
| recipient outside `accept_domains` | `550 5.7.1 Relay access denied` |
| recipient beyond `max_recipients` | `452 4.5.3` |
| message with a line over `max_line_length` | `554 5.6.0` |
| message stored | `250 2.0.0 Ok: queued as ID` |
| [`Refusal::Temporary`] / [`Refusal::Permanent`] | `451 4.3.0` / `554 5.3.0` |
| command line over `max_command_line_length` | `500 5.5.2` |
| unknown command | `500 5.5.1`; EXPN, VRFY, AUTH, BDAT, ETRN...: `502 5.5.1` |
| `max_errors` or `max_junk_commands` reached | `421 4.7.0`, closed |
| timeout | `421 4.4.2`, closed |
| shutdown | `421 4.3.2 Service shutting down`, closed |

# Message data

DATA is read line by line: the leading dot of a dot-stuffed line is
removed, lines ending in a bare LF or a bare CR are stored with CRLF (the
stored message always uses CRLF), and the data ends only at
`CRLF . CRLF`: a `.` line after or before a bare line ending does not end
it, so that an SMTP smuggling attempt (`LF . LF`, `LF . CRLF`) stays inside
the message instead of starting a new one (Postfix's
`smtpd_forbid_bare_newline = normalize`). A `Received:` header is
prepended. CHUNKING (BDAT) is not offered.

# Example

```no_run
use std::sync::Arc;
use mukaika_ingress::{Accept, Config, Refusal, serve};
use mukaika_spool::{Envelope, QueueId};

struct Spool;
impl Accept for Spool {
    async fn accept(&self, _envelope: Envelope, _message: Vec<u8>) -> Result<QueueId, Refusal> {
        Err(Refusal::Temporary("not implemented".into()))
    }
    fn over_capacity(&self) -> bool {
        false
    }
}

# async fn run() -> std::io::Result<()> {
let config = Arc::new(Config::default());
let listener = tokio::net::TcpListener::bind(config.listen).await?;
serve(listener, config, None, Arc::new(Spool), async {
    let _ = tokio::signal::ctrl_c().await;
})
.await
# }
```
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod connection;
mod error;
mod limits;
mod listener;
mod policy;
mod received;
mod session;
mod shutdown;
mod tls;
mod verbs;

use std::future::Future;

pub use config::{Config, TlsConfig, TlsMode};
pub use error::{Error, Result};
pub use listener::serve;
pub use mukaika_spool::{Envelope, QueueId, Stage};
pub use policy::recipient_allowed;
pub use tls::{load_pem, load_tls, server_config};

/// What ingress hands accepted mail to (the daemon implements it with the
/// spool).
pub trait Accept: Send + Sync + 'static {
    /// Stores the message durably. `Ok(id)` only when it is on disk: the
    /// session then answers `250 2.0.0 Ok: queued as ID`. The message is
    /// the data as received, dot-unstuffed, with CRLF line endings and a
    /// `Received:` header in front. This future is never cancelled by
    /// ingress, not even at the end of the shutdown grace period.
    fn accept(
        &self,
        envelope: Envelope,
        message: Vec<u8>,
    ) -> impl Future<Output = std::result::Result<QueueId, Refusal>> + Send;

    /// The queue is over its high-water mark: MAIL gets `451 4.3.1`.
    fn over_capacity(&self) -> bool;
}

/// Why [`Accept::accept`] did not take a message. The text is sent to the
/// client after the status code (made single-line and printable first), so
/// it must not reveal internals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Try again later: `451 4.3.0 TEXT`.
    Temporary(String),
    /// Never: `554 5.3.0 TEXT`.
    Permanent(String),
}
