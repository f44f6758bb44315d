/*!
Mukaika's relay: the last stage. It hands an already sanitized message to
the next hop (the LGWAN-side MTA) and says, per recipient, what happened;
it decides when a deferred message is tried again and builds the delivery
status notification (DSN) that tells an Internet sender a message bounced.

It does not touch the spool: the caller reads a message and its
[`Envelope`](mukaika_spool::Envelope), calls [`Relay::deliver`], and moves
the message according to the [`Outcome`]s — delivered recipients are done,
[`Outcome::Temporary`] ones wait until [`next_retry`], and
[`Outcome::Permanent`] ones (or temporary ones once `next_retry` says None)
go into a [`dsn`] sent with [`Relay::send_bounce`]. Nothing is dropped
silently: every recipient gets exactly one outcome.

# Layout
- `config.rs`: the `[relay]` section ([`Config`], [`TlsMode`], [`RetryConfig`]).
- `smtp.rs`: SMTP with lettre's client on our own connection pool (TCP_NODELAY);
  per-recipient outcomes; error mapping.
- `maildir.rs`: the `maildir:PATH` next hop (tmp/, fsync, rename to new/).
- `retry.rs`: [`next_retry`], the backoff schedule.
- `dsn.rs`: [`dsn`], RFC 3464 reports built with mail-builder.

# Example
```no_run
# async fn run(message: &[u8]) -> Result<(), mukaika_relay::Error> {
use mukaika_relay::{Config, Outcome, Relay};

let config = Config { next_hop: "smtp://lgwan-mx.example.lg.jp:25".into(), ..Config::default() };
let relay = Relay::new(&config)?;
let delivery = relay.deliver("sender@example.com", &["taro@example.lg.jp".into()], message).await;
for (rcpt, outcome) in &delivery.outcomes {
    match outcome {
        Outcome::Delivered(reply) => println!("{rcpt}: sent ({reply})"),
        Outcome::Temporary(why) => println!("{rcpt}: deferred ({why})"),
        Outcome::Permanent(why) => println!("{rcpt}: bounced ({why})"),
    }
}
# Ok(()) }
```

Reasons start with an SMTP reply from the next hop (`550 5.1.1 …`) or,
for what the relay judged itself, with an RFC 3463 code (`4.4.1 connect to
…`), so that [`dsn`] can fill in `Status` and `Diagnostic-Code`.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod dsn;
mod error;
mod maildir;
mod retry;
mod smtp;

use std::time::Duration;

pub use config::{Config, RetryConfig, TlsMode};
pub use dsn::dsn;
pub use error::{Error, Result};
use mukaika_spool::Envelope;
pub use retry::next_retry;

use crate::config::Hop;
use crate::maildir::Maildir;
use crate::smtp::{SmtpHop, SmtpSettings};

/// Delivers to the configured next hop and sends bounces. Build it once and
/// share it: SMTP connections are pooled and reused across deliveries.
///
/// `new` needs no runtime, but `deliver` and `send_bounce` must run on a
/// Tokio runtime.
pub struct Relay {
    next_hop: NextHop,
    bounce_route: Option<SmtpHop>,
    helo_name: String,
    postmaster: String,
}

enum NextHop {
    Smtp(Box<SmtpHop>),
    Maildir(Maildir),
}

/// What happened to each recipient of one delivery, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// One entry per recipient passed to [`Relay::deliver`].
    pub outcomes: Vec<(String, Outcome)>,
}

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The next hop took responsibility; its reply, for the log.
    Delivered(String),
    /// Try again later (4xx, connection, time-out, TLS, local I/O).
    Temporary(String),
    /// Will not work: bounce (5xx, unusable address).
    Permanent(String),
}

impl Outcome {
    /// The next hop's reply or the reason.
    pub fn text(&self) -> &str {
        match self {
            Outcome::Delivered(s) | Outcome::Temporary(s) | Outcome::Permanent(s) => s,
        }
    }
}

impl Delivery {
    /// True if every recipient was delivered.
    pub fn all_delivered(&self) -> bool {
        self.outcomes
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Delivered(_)))
    }

    /// Recipients still to try, with the reason.
    pub fn temporary(&self) -> impl Iterator<Item = (&str, &str)> {
        self.outcomes.iter().filter_map(|(r, o)| match o {
            Outcome::Temporary(why) => Some((r.as_str(), why.as_str())),
            _ => None,
        })
    }

    /// Recipients to bounce, with the reason.
    pub fn permanent(&self) -> impl Iterator<Item = (&str, &str)> {
        self.outcomes.iter().filter_map(|(r, o)| match o {
            Outcome::Permanent(why) => Some((r.as_str(), why.as_str())),
            _ => None,
        })
    }
}

impl Relay {
    /// Validates `config`, reads `tls_ca`, creates a Maildir's directories.
    /// Connects to nothing yet.
    pub fn new(config: &Config) -> Result<Self> {
        config
            .validate()
            .map_err(|(key, message)| Error::Config { key, message })?;
        let next_hop = match Hop::parse(&config.next_hop).expect("validated") {
            Hop::Maildir(path) => NextHop::Maildir(
                Maildir::open(path.clone(), &config.helo_name)
                    .map_err(|source| Error::Io { path, source })?,
            ),
            Hop::Smtp { host, port } => {
                let ca = match &config.tls_ca {
                    Some(path) => {
                        let pem = std::fs::read(path).map_err(|source| Error::Io {
                            path: path.clone(),
                            source,
                        })?;
                        if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                            return Err(Error::Config {
                                key: "tls_ca".into(),
                                message: format!("{}: no PEM certificate in it", path.display()),
                            });
                        }
                        Some(pem)
                    }
                    None => None,
                };
                let credentials = config.auth_user.clone().zip(config.auth_password.clone());
                if credentials.is_some() && config.tls == TlsMode::Opportunistic {
                    tracing::warn!(
                        "relay: SMTP AUTH with tls = \"opportunistic\": the password goes in clear text if STARTTLS is stripped"
                    );
                }
                NextHop::Smtp(Box::new(SmtpHop::new(SmtpSettings {
                    host: &host,
                    port,
                    tls: config.tls,
                    extra_ca: ca.as_deref(),
                    credentials,
                    helo_name: &config.helo_name,
                    connect_timeout: Duration::from_secs(config.connect_timeout_secs),
                    command_timeout: Duration::from_secs(config.command_timeout_secs),
                    max_connections: config.max_connections,
                })?))
            }
        };
        let bounce_route = match config.bounce_route.as_deref().map(Hop::parse) {
            Some(Ok(Hop::Smtp { host, port })) => Some(SmtpHop::new(SmtpSettings {
                host: &host,
                port,
                // The Internet side: encrypt when offered; the next hop's
                // CA and credentials do not apply here.
                tls: if config.tls == TlsMode::None {
                    TlsMode::None
                } else {
                    TlsMode::Opportunistic
                },
                extra_ca: None,
                credentials: None,
                helo_name: &config.helo_name,
                connect_timeout: Duration::from_secs(config.connect_timeout_secs),
                command_timeout: Duration::from_secs(config.command_timeout_secs),
                max_connections: config.max_connections.min(4),
            })?),
            _ => None,
        };
        Ok(Self {
            next_hop,
            bounce_route,
            helo_name: config.helo_name.clone(),
            postmaster: config.postmaster_address(),
        })
    }

    /// Delivers `message` from `sender` ("" for the null sender `<>`) to
    /// `recipients` at the next hop. Every recipient gets one outcome, in
    /// the order given; an empty list gives an empty [`Delivery`].
    pub async fn deliver(&self, sender: &str, recipients: &[String], message: &[u8]) -> Delivery {
        if recipients.is_empty() {
            return Delivery {
                outcomes: Vec::new(),
            };
        }
        let outcomes = match &self.next_hop {
            NextHop::Smtp(hop) => hop.deliver(sender, recipients, message).await,
            NextHop::Maildir(md) => md.deliver(sender, recipients, message).await,
        };
        Delivery { outcomes }
    }

    /// Sends a DSN (or any message) with the null sender through the bounce
    /// route; Err if none is configured or it did not take the message.
    pub async fn send_bounce(&self, recipient: &str, message: &[u8]) -> Result<()> {
        let Some(route) = &self.bounce_route else {
            return Err(Error::NoBounceRoute);
        };
        if recipient.is_empty() {
            return Err(Error::Bounce {
                permanent: true,
                reason: "no recipient: a bounce is never bounced".into(),
            });
        }
        let outcomes = route.deliver("", &[recipient.to_owned()], message).await;
        match outcomes.into_iter().next().map(|(_, o)| o) {
            Some(Outcome::Delivered(_)) => Ok(()),
            Some(Outcome::Temporary(reason)) => Err(Error::Bounce {
                permanent: false,
                reason,
            }),
            Some(Outcome::Permanent(reason)) => Err(Error::Bounce {
                permanent: true,
                reason,
            }),
            None => unreachable!("one recipient, one outcome"),
        }
    }

    /// [`dsn`] with this relay's `helo_name` as the reporting MTA and the
    /// configured `postmaster` as From.
    pub fn dsn(
        &self,
        envelope: &Envelope,
        failed: &[(String, String)],
        original_headers: &[u8],
        now: u64,
    ) -> Vec<u8> {
        dsn::build(
            envelope,
            failed,
            original_headers,
            &self.helo_name,
            &self.postmaster,
            now,
        )
    }
}

/// Untrusted text (a peer's reply, an address) made fit for a log line or
/// a reason: control characters become spaces, runs of spaces shrink, at
/// most 1000 bytes.
pub(crate) fn clean_reason(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(1000));
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if out.len() + c.len_utf8() > 1000 {
            break;
        }
        out.push(c);
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_cleaned() {
        assert_eq!(
            clean_reason("550 5.1.1 no\r\n such\tuser "),
            "550 5.1.1 no such user"
        );
        assert!(clean_reason(&"あ".repeat(1000)).len() <= 1000);
    }

    #[tokio::test]
    async fn empty_recipient_list_and_missing_bounce_route() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            next_hop: format!("maildir:{}", dir.path().display()),
            ..Config::default()
        };
        let relay = Relay::new(&config).unwrap();
        assert_eq!(relay.deliver("a@b.jp", &[], b"x").await.outcomes, vec![]);
        assert!(matches!(
            relay.send_bounce("a@b.jp", b"x").await,
            Err(Error::NoBounceRoute)
        ));
    }

    #[test]
    fn new_reports_bad_config_and_bad_ca() {
        let bad = Config {
            next_hop: "smtp://".into(),
            ..Config::default()
        };
        assert!(matches!(Relay::new(&bad), Err(Error::Config { key, .. }) if key == "next_hop"));
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").unwrap();
        let config = Config {
            next_hop: "smtp://127.0.0.1:25".into(),
            tls: TlsMode::Required,
            tls_ca: Some(ca),
            ..Config::default()
        };
        assert!(matches!(Relay::new(&config), Err(Error::Config { key, .. }) if key == "tls_ca"));
        let missing = Config {
            tls_ca: Some(dir.path().join("nope.pem")),
            ..config
        };
        assert!(matches!(Relay::new(&missing), Err(Error::Io { .. })));
    }
}
