/*!
Sender authentication of the original, before it is rewritten: SPF, DKIM,
DMARC and ARC, and the `Authentication-Results:` field (RFC 8601) that
Mukaika writes on the sanitized mail.

The sanitizer rebuilds every mail, which drops its DKIM signatures: after
the boundary nobody can tell a spoofed `@city.lg.jp` mail from a real one.
So the original is verified here, with Stalwart's `mail-auth` and its
hickory resolver (nameservers, timeout and cache from `[auth]`), and the
results cross as one field that only Mukaika writes (the core drops every
`Authentication-Results:` that came from outside).

[`Authenticator::verify`] takes the original and the SMTP envelope facts
and returns [`Results`]: [`Results::header_field`] for the delivered mail,
[`Results::summary`] for the log, [`Results::warning`] for the notice's
`なりすましの疑い` line.

This crate runs in the daemon (verification needs DNS, which the sandboxed
workers cannot reach), so it is bounded: only a message whose header
section and size are within the profile's limits is parsed, at most
[`MAX_SIGNATURES`] DKIM signatures are verified, the whole verification
ends after `timeout_ms` (what is unknown then is `temperror`, never a
pass), and it runs in a task of its own so that a panic in the crate is a
result (`permerror`), not a crash. It does not decide what happens to the
message: the pipeline (and later the routes) does.

# Layout
- `config.rs`: the `[auth]` section ([`Config`]).
- `results.rs`: [`Results`] and what is made from them.
- `verify.rs`: running mail-auth within the bounds.
*/
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod results;
mod verify;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};

pub use config::{Config, Mode, OnDnsFailure};
pub use results::{DmarcPolicy, Results, Signature, Verdict, Warning};
pub use verify::Client;

/// DKIM signatures verified per message; more are ignored. Each costs a
/// DNS query and a public-key operation, and a mail has one or two.
pub const MAX_SIGNATURES: usize = 10;

/// Setting up the resolver failed.
#[derive(Debug)]
pub enum Error {
    /// `/etc/resolv.conf` could not be read (with `nameservers` empty).
    SystemConf(String),
    /// The resolver refused its configuration.
    Resolver(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SystemConf(e) => write!(f, "reading /etc/resolv.conf: {e}"),
            Error::Resolver(e) => write!(f, "setting up the DNS resolver: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// The limits a message must be within to be parsed at all (the profile's).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The header section, in bytes.
    pub max_header_bytes: usize,
    /// The whole message, in bytes.
    pub max_message_bytes: usize,
}

/// A configured verifier; cheap to share (`Arc`).
pub struct Authenticator {
    resolver: MessageAuthenticator,
    authserv_id: Arc<str>,
    timeout: Duration,
    own_domains: Vec<String>,
    networks: Vec<config::Network>,
}

impl Authenticator {
    /// The verifier of `config`, or `None` when `mode = "off"`.
    /// `hostname` names it when `authserv_id` is empty.
    pub fn new(config: &Config, hostname: &str) -> Result<Option<Self>> {
        if config.mode == Mode::Off {
            return Ok(None);
        }
        let timeout = Duration::from_millis(config.timeout_ms);
        let servers = config.nameserver_addrs();
        let (resolver_config, mut opts) = if servers.is_empty() {
            mail_auth::hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| Error::SystemConf(e.to_string()))?
        } else {
            let mut name_servers = Vec::new();
            for addr in servers {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut server.connections {
                    connection.port = addr.port();
                }
                name_servers.push(server);
            }
            (
                ResolverConfig::from_parts(None, Vec::new(), name_servers),
                ResolverOpts::default(),
            )
        };
        // One query may take the whole budget; the budget bounds them all.
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = config.cache_entries;
        let resolver = MessageAuthenticator::new(resolver_config, opts)
            .map_err(|e| Error::Resolver(e.to_string()))?;
        let authserv_id = if config.authserv_id.is_empty() {
            hostname
        } else {
            &config.authserv_id
        };
        Ok(Some(Self {
            resolver,
            authserv_id: authserv_id.into(),
            timeout,
            own_domains: config
                .own_domains
                .iter()
                .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                .collect(),
            networks: config.networks(),
        }))
    }

    /// Verifies `message[start..]` (the original as the client sent it:
    /// `start` skips the `Received:` field ingress wrote). `client_ip` is
    /// the envelope's text; unparseable, SPF cannot pass.
    pub async fn verify(
        &self,
        message: Arc<Vec<u8>>,
        start: usize,
        client_ip: &str,
        helo: &str,
        sender: &str,
        limits: Limits,
    ) -> Results {
        let start = start.min(message.len());
        let body = &message[start..];
        let ip: Option<IpAddr> = client_ip.parse().ok();
        let Some(ip) = ip.filter(|_| {
            body.len() <= limits.max_message_bytes && header_len(body) <= limits.max_header_bytes
        }) else {
            return Results::unknown(&self.authserv_id, Verdict::PermError);
        };
        let mut results = verify::bounded(
            self.resolver.clone(),
            self.authserv_id.clone(),
            message,
            start,
            ip,
            helo.to_owned(),
            sender.to_owned(),
            self.timeout,
        )
        .await;
        results.own_domain_untrusted = results.from_domain.as_deref().is_some_and(|d| {
            self.own_domains
                .iter()
                .any(|own| d == own || d.ends_with(&format!(".{own}")))
        }) && !self.networks.iter().any(|n| n.contains(ip));
        results
    }
}

/// Bytes up to and including the blank line ending the header section
/// (the whole message if there is none).
fn header_len(message: &[u8]) -> usize {
    [b"\n\n".as_slice(), b"\r\n\r\n"]
        .into_iter()
        .filter_map(|pattern| memchr_blank(message, pattern))
        .min()
        .unwrap_or(message.len())
}

fn memchr_blank(message: &[u8], pattern: &[u8]) -> Option<usize> {
    message
        .windows(pattern.len())
        .position(|w| w == pattern)
        .map(|i| i + pattern.len())
}
