//! NAME
//!   config: the `[relay]` section.
//!
//! DESCRIPTION
//!   What the relay needs to know: the next hop, how to protect the
//!   connection to it, how long to keep trying and where bounces go.
//!   `validate` checks what serde cannot; `Relay::new` validates again, so
//!   an unchecked `Config` never reaches the network.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// The `[relay]` section of the configuration file.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `smtp://host:port` (port 25 if left out; `[v6addr]` for IPv6) or
    /// `maildir:PATH`.
    pub next_hop: String,
    /// STARTTLS to the next hop.
    pub tls: TlsMode,
    /// An extra CA certificate (PEM) trusted for the next hop's certificate
    /// besides the system store, e.g. a private LGWAN CA. Only used with
    /// `tls = "required"`: opportunistic TLS does not verify certificates.
    pub tls_ca: Option<PathBuf>,
    /// SMTP AUTH (PLAIN or LOGIN) at the next hop; both or neither. Refused
    /// with `tls = "none"`, which would send the password in clear text.
    pub auth_user: Option<String>,
    /// The password for `auth_user`; never logged.
    pub auth_password: Option<String>,
    /// Our name in EHLO, in Maildir file names and in DSNs (`Reporting-MTA`).
    pub helo_name: String,
    /// Time allowed for the TCP connection to the next hop.
    pub connect_timeout_secs: u64,
    /// Time allowed for each SMTP command (and each started MiB of message
    /// data); a conversation that exceeds its sum is abandoned: Temporary.
    pub command_timeout_secs: u64,
    /// Connections open at once to one destination, and connections kept
    /// open for reuse. Default 20 (Postfix's
    /// default_destination_concurrency_limit).
    pub max_connections: u32,
    /// When to try again after a temporary failure, and when to give up.
    pub retry: RetryConfig,
    /// `smtp://host:port`: where DSNs to Internet senders are sent. None:
    /// undeliverable mail stays in quarantine, marked so.
    pub bounce_route: Option<String>,
    /// The From of DSNs. Empty (the default): `postmaster@<helo_name>`;
    /// see [`Config::postmaster_address`].
    pub postmaster: String,
}

/// STARTTLS to the next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text only.
    None,
    /// STARTTLS when the next hop offers it, without verifying its
    /// certificate (Postfix's `may`: protects against eavesdropping only; an
    /// active attacker can strip STARTTLS anyway). A failed handshake is a
    /// temporary failure.
    #[default]
    Opportunistic,
    /// STARTTLS or no delivery, with the certificate verified against the
    /// system store plus `tls_ca` and the next hop's host name or IP
    /// address. A next hop without STARTTLS is a temporary failure.
    Required,
}

/// `[relay.retry]`: the backoff schedule, like Postfix's
/// `minimal_backoff_time`, `maximal_backoff_time` and
/// `maximal_queue_lifetime`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Delay after the first failed attempt; it doubles after each further
    /// one.
    pub initial_secs: u64,
    /// The delay never grows beyond this.
    pub max_delay_secs: u64,
    /// A message older than this is not retried: it bounces.
    pub max_age_secs: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_secs: 300,
            max_delay_secs: 4000,
            max_age_secs: 5 * 24 * 3600,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            next_hop: "maildir:./var/outbox".into(),
            tls: TlsMode::default(),
            tls_ca: None,
            auth_user: None,
            auth_password: None,
            helo_name: "mukaika.localdomain".into(),
            connect_timeout_secs: 30,
            command_timeout_secs: 300,
            max_connections: 20,
            retry: RetryConfig::default(),
            bounce_route: None,
            postmaster: String::new(),
        }
    }
}

/// The password stays out of logs.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("next_hop", &self.next_hop)
            .field("tls", &self.tls)
            .field("tls_ca", &self.tls_ca)
            .field("auth_user", &self.auth_user)
            .field(
                "auth_password",
                &self.auth_password.as_ref().map(|_| "<redacted>"),
            )
            .field("helo_name", &self.helo_name)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("command_timeout_secs", &self.command_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("retry", &self.retry)
            .field("bounce_route", &self.bounce_route)
            .field("postmaster", &self.postmaster)
            .finish()
    }
}

/// A parsed `next_hop` or `bounce_route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hop {
    Smtp { host: String, port: u16 },
    Maildir(PathBuf),
}

impl Hop {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("maildir:") {
            if path.is_empty() {
                return Err(
                    "maildir: needs a directory, e.g. \"maildir:/var/lib/mukaika/outbox\"".into(),
                );
            }
            return Ok(Hop::Maildir(PathBuf::from(path)));
        }
        let Some(rest) = s.strip_prefix("smtp://") else {
            return Err(format!(
                "{s:?}: expected \"smtp://host:port\" or \"maildir:PATH\""
            ));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let Some((addr, after)) = v6.split_once(']') else {
                return Err(format!("{s:?}: unclosed '[' in the host"));
            };
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!("{s:?}: {addr:?} is not an IPv6 address"));
            }
            match after {
                "" => (addr, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (addr, Some(port)),
                    None => return Err(format!("{s:?}: expected ':port' after ']'")),
                },
            }
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{s:?}: no host"));
        }
        let valid_host = host.parse::<std::net::Ipv6Addr>().is_ok()
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
        if !valid_host {
            return Err(format!("{s:?}: {host:?} is not a host name or IP address"));
        }
        let port = match port {
            None => 25,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(format!("{s:?}: {p:?} is not a port number")),
            },
        };
        Ok(Hop::Smtp {
            host: host.to_owned(),
            port,
        })
    }
}

impl Config {
    /// The From of DSNs: `postmaster`, or `postmaster@<helo_name>` when
    /// that is empty.
    pub fn postmaster_address(&self) -> String {
        if self.postmaster.is_empty() {
            format!("postmaster@{}", self.helo_name)
        } else {
            self.postmaster.clone()
        }
    }

    /// Checks what serde cannot. Returns the offending key, relative to
    /// `[relay]` (`retry.initial_secs`), and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        fn err<T>(key: &str, message: String) -> Result<T, (String, String)> {
            Err((key.to_owned(), message))
        }

        let hop = Hop::parse(&self.next_hop).or_else(|m| err("next_hop", m))?;
        if let Some(route) = &self.bounce_route {
            match Hop::parse(route) {
                Ok(Hop::Smtp { .. }) => {}
                Ok(Hop::Maildir(_)) => {
                    return err(
                        "bounce_route",
                        format!("{route:?}: must be \"smtp://host:port\""),
                    );
                }
                Err(m) => return err("bounce_route", m),
            }
        }
        let is_smtp = matches!(hop, Hop::Smtp { .. });
        if self.tls_ca.is_some() && self.tls != TlsMode::Required {
            return err(
                "tls_ca",
                "is only used with tls = \"required\" (opportunistic TLS does not verify certificates)"
                    .into(),
            );
        }
        if let Some(ca) = &self.tls_ca
            && ca.as_os_str().is_empty()
        {
            return err("tls_ca", "is empty".into());
        }
        match (&self.auth_user, &self.auth_password) {
            (Some(_), None) => {
                return err(
                    "auth_password",
                    "auth_user is set but auth_password is not".into(),
                );
            }
            (None, Some(_)) => {
                return err(
                    "auth_user",
                    "auth_password is set but auth_user is not".into(),
                );
            }
            (Some(user), Some(_)) => {
                if user.is_empty() {
                    return err("auth_user", "is empty".into());
                }
                if !is_smtp {
                    return err("auth_user", "SMTP AUTH needs an smtp:// next_hop".into());
                }
                if self.tls == TlsMode::None {
                    return err(
                        "auth_user",
                        "would send the password in clear text with tls = \"none\"; use tls = \"required\"".into(),
                    );
                }
            }
            (None, None) => {}
        }
        let helo_ok = !self.helo_name.is_empty()
            && self.helo_name.len() <= 253
            && self
                .helo_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && !self.helo_name.starts_with(['.', '-']);
        if !helo_ok {
            return err(
                "helo_name",
                format!("{:?} is not a host name", self.helo_name),
            );
        }
        if self.connect_timeout_secs == 0 || self.connect_timeout_secs > 3600 {
            return err("connect_timeout_secs", "must be between 1 and 3600".into());
        }
        if self.command_timeout_secs == 0 || self.command_timeout_secs > 3600 {
            return err("command_timeout_secs", "must be between 1 and 3600".into());
        }
        if self.max_connections == 0 || self.max_connections > 1000 {
            return err("max_connections", "must be between 1 and 1000".into());
        }
        let r = &self.retry;
        if r.initial_secs == 0 {
            return err("retry.initial_secs", "must be at least 1".into());
        }
        if r.max_delay_secs < r.initial_secs {
            return err(
                "retry.max_delay_secs",
                format!("must be at least retry.initial_secs ({})", r.initial_secs),
            );
        }
        if r.max_age_secs == 0 {
            return err("retry.max_age_secs", "must be at least 1".into());
        }
        if !self.postmaster.is_empty() {
            let p = &self.postmaster;
            let ok = p
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
                && !p
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>');
            if !ok {
                return err(
                    "postmaster",
                    format!("{p:?} is not an address like postmaster@example.jp"),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented() {
        let c = Config::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.tls, TlsMode::Opportunistic);
        assert_eq!(c.max_connections, 20);
        assert_eq!(
            c.retry,
            RetryConfig {
                initial_secs: 300,
                max_delay_secs: 4000,
                max_age_secs: 432000
            }
        );
        assert_eq!(c.postmaster_address(), "postmaster@mukaika.localdomain");
    }

    #[test]
    fn parses_toml_and_rejects_unknown_keys() {
        let c: Config = toml::from_str(
            "next_hop = \"smtp://lgwan-mx.example.lg.jp:2525\"\ntls = \"required\"\n\
             [retry]\ninitial_secs = 60\n",
        )
        .unwrap();
        assert_eq!(c.tls, TlsMode::Required);
        assert_eq!(c.retry.initial_secs, 60);
        assert_eq!(c.retry.max_delay_secs, 4000);
        assert_eq!(c.validate(), Ok(()));
        assert!(toml::from_str::<Config>("nexthop = \"x\"").is_err());
        assert!(toml::from_str::<Config>("tls = \"maybe\"").is_err());
        assert!(toml::from_str::<Config>("[retry]\nmax_age = 1").is_err());
    }

    #[test]
    fn hops_parse() {
        assert_eq!(
            Hop::parse("smtp://mx.example:2525"),
            Ok(Hop::Smtp {
                host: "mx.example".into(),
                port: 2525
            })
        );
        assert_eq!(
            Hop::parse("smtp://mx.example"),
            Ok(Hop::Smtp {
                host: "mx.example".into(),
                port: 25
            })
        );
        assert_eq!(
            Hop::parse("smtp://[::1]:26"),
            Ok(Hop::Smtp {
                host: "::1".into(),
                port: 26
            })
        );
        assert_eq!(
            Hop::parse("maildir:/tmp/x"),
            Ok(Hop::Maildir("/tmp/x".into()))
        );
        for bad in [
            "",
            "smtp://",
            "smtp://:25",
            "smtp://h:0",
            "smtp://h:x",
            "lmtp://h",
            "maildir:",
            "smtp://a b:25",
        ] {
            assert!(Hop::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn validate_names_the_key() {
        let key = |c: Config| c.validate().unwrap_err().0;
        assert_eq!(
            key(Config {
                next_hop: "ftp://x".into(),
                ..Config::default()
            }),
            "next_hop"
        );
        assert_eq!(
            key(Config {
                tls_ca: Some("/ca.pem".into()),
                ..Config::default()
            }),
            "tls_ca",
            "tls_ca without tls = required"
        );
        let auth = Config {
            next_hop: "smtp://mx:25".into(),
            auth_user: Some("u".into()),
            auth_password: Some("p".into()),
            tls: TlsMode::None,
            ..Config::default()
        };
        assert_eq!(key(auth.clone()), "auth_user");
        assert_eq!(
            Config {
                tls: TlsMode::Required,
                ..auth.clone()
            }
            .validate(),
            Ok(())
        );
        assert_eq!(
            key(Config {
                auth_password: None,
                tls: TlsMode::Required,
                ..auth
            }),
            "auth_password"
        );
        assert_eq!(
            key(Config {
                helo_name: "bad name".into(),
                ..Config::default()
            }),
            "helo_name"
        );
        assert_eq!(
            key(Config {
                max_connections: 0,
                ..Config::default()
            }),
            "max_connections"
        );
        let retry = RetryConfig {
            initial_secs: 600,
            max_delay_secs: 300,
            max_age_secs: 10,
        };
        assert_eq!(
            key(Config {
                retry,
                ..Config::default()
            }),
            "retry.max_delay_secs"
        );
        assert_eq!(
            key(Config {
                bounce_route: Some("maildir:/x".into()),
                ..Config::default()
            }),
            "bounce_route"
        );
        assert_eq!(
            key(Config {
                postmaster: "nobody".into(),
                ..Config::default()
            }),
            "postmaster"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let c = Config {
            auth_password: Some("s3cret".into()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
