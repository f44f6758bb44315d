//! The `[ingress]` section of the configuration: what the SMTP listener
//! accepts, from whom, and every limit it enforces.
//!
//! Every key is optional and its default is the safe choice: loopback
//! clients only, no TLS, Postfix-like limits. [`Config::validate`] checks
//! what serde cannot (ranges, files required by the TLS mode).

use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::Deserialize;

/// The ingress configuration (`[ingress]` in the TOML file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the daemon binds (`"127.0.0.1:2525"`). Ingress itself is
    /// handed a bound listener; the key lives here so that all of the
    /// listener's settings are in one section.
    pub listen: SocketAddr,
    /// The name this server gives in its greeting, EHLO reply and
    /// `Received:` header (`"mukaika.localdomain"`).
    pub hostname: String,
    /// Recipient domains accepted, compared case-insensitively and exactly
    /// (a subdomain is another domain). `"*"` accepts any domain: only for
    /// tests and closed networks. Anything else gets
    /// `550 5.7.1 Relay access denied`. Default `["*"]`, safe only together
    /// with the loopback-only default of `allow_clients`.
    pub accept_domains: Vec<String>,
    /// Client networks that may connect (CIDR). Default: loopback only
    /// (`["127.0.0.0/8", "::1/128"]`). Others get a `554 5.7.1` greeting.
    pub allow_clients: Vec<IpNet>,
    /// Client networks refused even when `allow_clients` matches. Default `[]`.
    pub deny_clients: Vec<IpNet>,
    /// Senders (MAIL FROM) accepted: `user@domain`, `@domain` (the whole
    /// domain) or `<>` (the null sender of bounces), case-insensitive.
    /// Empty (the default) accepts every sender.
    pub allow_senders: Vec<String>,
    /// Senders refused with `550 5.7.1`, same patterns; checked before
    /// `allow_senders`. Default `[]`.
    pub deny_senders: Vec<String>,
    /// Largest message accepted, in octets, counted after dot-unstuffing
    /// and without the `Received:` header added here. Advertised as
    /// `SIZE`; a larger `MAIL FROM SIZE=` or message gets `552 5.3.4`.
    /// Default 50 MiB.
    pub max_message_bytes: usize,
    /// Recipients per message; the next RCPT gets `452 4.5.3`. Default 100.
    pub max_recipients: usize,
    /// Longest line of message data, in octets including CRLF (RFC 5321
    /// 4.5.3.1.6: 1000). A message with a longer line is refused with
    /// `554 5.6.0` once its data has been read. Default 1000.
    pub max_line_length: usize,
    /// Longest command line, in octets including CRLF (RFC 5321 4.5.3.1.4:
    /// 512). A longer one is discarded unread and gets `500 5.5.2`.
    /// Default 512.
    pub max_command_line_length: usize,
    /// Commands that move no mail (EHLO, HELO, NOOP, RSET, VRFY, EXPN,
    /// HELP, unknown ones) a client may send before the connection is
    /// closed with `421 4.7.0`; the count restarts after each accepted
    /// message. Like Postfix's `smtpd_junk_command_limit`. Default 20.
    pub max_junk_commands: u32,
    /// Error replies (syntax, sequence, refused sender or recipient, ...)
    /// before the connection is closed with `421 4.7.0`. Default 10.
    pub max_errors: u32,
    /// Sessions at once; further connections get `421 4.7.0` and are
    /// closed. Default 200.
    pub max_connections: usize,
    /// Sessions at once from one client address. Default 50 (as Postfix's
    /// smtpd_client_connection_count_limit): an MTA reconnecting for each
    /// mail holds a slot until its QUIT is processed.
    pub max_connections_per_ip: usize,
    /// Seconds to wait for a command line (or a TLS handshake, or for the
    /// client to read a reply) before `421 4.4.2`. Default 300 (RFC 5321
    /// 4.5.3.2.7).
    pub command_timeout_secs: u64,
    /// Seconds to wait for each read of message data before `421 4.4.2`.
    /// Default 600 (RFC 5321 4.5.3.2.5 asks for 10 minutes after the data
    /// terminator; used here for every read, like Postfix's smtpd_timeout).
    pub data_timeout_secs: u64,
    /// On shutdown, seconds a session may take to finish its current
    /// transaction before it gets `421 4.3.2`. Default 30.
    pub shutdown_grace_secs: u64,
    /// STARTTLS.
    pub tls: TlsConfig,
}

/// STARTTLS settings (`[ingress.tls]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// `"off"` (the default), `"optional"` (STARTTLS offered) or
    /// `"required"` (MAIL before STARTTLS gets `530 5.7.0`).
    pub mode: TlsMode,
    /// PEM file with the certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

/// Whether STARTTLS is offered and whether it is required.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// No STARTTLS.
    #[default]
    Off,
    /// STARTTLS offered, plaintext accepted.
    Optional,
    /// STARTTLS offered and required before MAIL.
    Required,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 2525)),
            hostname: "mukaika.localdomain".into(),
            accept_domains: vec!["*".into()],
            allow_clients: vec![
                "127.0.0.0/8".parse().expect("valid CIDR"),
                "::1/128".parse().expect("valid CIDR"),
            ],
            deny_clients: Vec::new(),
            allow_senders: Vec::new(),
            deny_senders: Vec::new(),
            max_message_bytes: 50 * 1024 * 1024,
            max_recipients: 100,
            max_line_length: 1000,
            max_command_line_length: 512,
            max_junk_commands: 20,
            max_errors: 10,
            max_connections: 200,
            max_connections_per_ip: 50,
            command_timeout_secs: 300,
            data_timeout_secs: 600,
            shutdown_grace_secs: 30,
            tls: TlsConfig::default(),
        }
    }
}

impl Config {
    /// Checks what serde cannot. Returns the first offending key (relative
    /// to `[ingress]`, e.g. `tls.cert`) and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let ranges: [(&str, u64, u64, u64); 12] = [
            (
                "max_message_bytes",
                self.max_message_bytes as u64,
                1024,
                1 << 30,
            ),
            ("max_recipients", self.max_recipients as u64, 1, 10_000),
            (
                "max_line_length",
                self.max_line_length as u64,
                1000,
                1 << 20,
            ),
            (
                "max_command_line_length",
                self.max_command_line_length as u64,
                512,
                64 * 1024,
            ),
            (
                "max_junk_commands",
                self.max_junk_commands.into(),
                1,
                100_000,
            ),
            ("max_errors", self.max_errors.into(), 1, 10_000),
            ("max_connections", self.max_connections as u64, 1, 100_000),
            (
                "max_connections_per_ip",
                self.max_connections_per_ip as u64,
                1,
                100_000,
            ),
            ("command_timeout_secs", self.command_timeout_secs, 1, 3600),
            ("data_timeout_secs", self.data_timeout_secs, 1, 3600),
            ("shutdown_grace_secs", self.shutdown_grace_secs, 0, 3600),
            ("hostname", self.hostname.len() as u64, 1, 253),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err((
                    key.into(),
                    format!("{value} is out of range: must be between {min} and {max}"),
                ));
            }
        }
        let hostname_ok = self
            .hostname
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !hostname_ok {
            return Err((
                "hostname".into(),
                "use only ASCII letters, digits, '-' and '.'".into(),
            ));
        }
        if self.accept_domains.is_empty() {
            return Err((
                "accept_domains".into(),
                "must name at least one domain (or \"*\" for any)".into(),
            ));
        }
        for domain in &self.accept_domains {
            let ok = domain == "*"
                || (!domain.is_empty()
                    && domain.len() <= 253
                    && !domain.starts_with('.')
                    && domain
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '.'));
            if !ok {
                return Err((
                    "accept_domains".into(),
                    format!("{domain:?} is not a domain name (no '@', no wildcard but \"*\")"),
                ));
            }
        }
        for (key, patterns) in [
            ("allow_senders", &self.allow_senders),
            ("deny_senders", &self.deny_senders),
        ] {
            for pattern in patterns {
                let ok = pattern == "<>"
                    || pattern
                        .strip_prefix('@')
                        .is_some_and(|d| !d.is_empty() && !d.contains('@'))
                    || pattern
                        .split_once('@')
                        .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'));
                if !ok {
                    return Err((
                        key.into(),
                        format!("{pattern:?} is not \"user@domain\", \"@domain\" or \"<>\""),
                    ));
                }
            }
        }
        if self.allow_clients.is_empty() {
            return Err((
                "allow_clients".into(),
                "must list at least one network".into(),
            ));
        }
        if self.max_connections_per_ip > self.max_connections {
            return Err((
                "max_connections_per_ip".into(),
                "must not exceed max_connections".into(),
            ));
        }
        if self.tls.mode != TlsMode::Off {
            if self.tls.cert.is_none() {
                return Err((
                    "tls.cert".into(),
                    "required when tls.mode is not \"off\"".into(),
                ));
            }
            if self.tls.key.is_none() {
                return Err((
                    "tls.key".into(),
                    "required when tls.mode is not \"off\"".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_loopback_only() {
        let config = Config::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.allow_clients.len(), 2);
        assert!(config.allow_clients.iter().all(|n| n.addr().is_loopback()));
    }

    #[test]
    fn toml_keys_parse_and_unknown_keys_are_refused() {
        let config: Config = toml::from_str(
            r#"
            listen = "0.0.0.0:25"
            hostname = "mx.example.jp"
            accept_domains = ["lgwan.example.jp"]
            allow_clients = ["0.0.0.0/0", "::/0"]
            deny_clients = ["192.0.2.0/24"]
            deny_senders = ["@spam.example", "<>"]
            max_message_bytes = 1048576
            tls = { mode = "required", cert = "/etc/cert.pem", key = "/etc/key.pem" }
            "#,
        )
        .unwrap();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.tls.mode, TlsMode::Required);
        assert_eq!(config.max_recipients, 100);
        assert!(toml::from_str::<Config>("max_recipient = 3").is_err());
        assert!(toml::from_str::<Config>("tls = { mode = \"on\" }").is_err());
    }

    #[test]
    fn validation_names_the_key() {
        let config = Config {
            max_errors: 0,
            ..Config::default()
        };
        assert_eq!(config.validate().unwrap_err().0, "max_errors");
        let config = Config {
            tls: TlsConfig {
                mode: TlsMode::Optional,
                ..TlsConfig::default()
            },
            ..Config::default()
        };
        assert_eq!(config.validate().unwrap_err().0, "tls.cert");
        let config = Config {
            accept_domains: vec!["a@b".into()],
            ..Config::default()
        };
        assert_eq!(config.validate().unwrap_err().0, "accept_domains");
        let config = Config {
            allow_senders: vec!["nobody".into()],
            ..Config::default()
        };
        assert_eq!(config.validate().unwrap_err().0, "allow_senders");
    }
}
