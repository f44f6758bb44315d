//! `[admin]`: where the console listens, who may use it, and where its
//! users, secret and audit log are kept.

use std::path::PathBuf;

use serde::Deserialize;

/// The console's settings (`[admin]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `IP:PORT` of the console, or `"off"`. Loopback by default.
    pub listen: String,
    /// PEM certificate chain and key: with both set, the console speaks
    /// HTTPS only and its cookies are `Secure`.
    pub tls_cert: Option<PathBuf>,
    /// The key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// The base URL written into notice links (`https://host:8025`);
    /// empty: `http(s)://` + `listen`.
    pub public_url: String,
    /// Whether a release needs one approver or two different people.
    pub release_approval: ReleaseApproval,
    /// The key that signs recipient links, 32 random bytes, made with
    /// 0600 permissions at first start if missing.
    pub secret_file: PathBuf,
    /// Console users: names, roles and argon2id hashes (0600).
    pub users_file: PathBuf,
    /// The tamper-evident audit log: one hash-chained JSON line per action.
    pub audit_log: PathBuf,
    /// A session ends after this many seconds without a request.
    pub session_idle_secs: u64,
    /// Failed logins (per user name, and per client address) before lockout.
    pub login_max_failures: u32,
    /// How long a lockout lasts.
    pub login_lockout_secs: u64,
    /// How long the link in a notice lets a recipient ask for the original.
    pub request_link_days: u32,
    /// A file holding a bearer token for `/metrics`; none: `/metrics` is open
    /// to whoever reaches the listener.
    pub metrics_token_file: Option<PathBuf>,
}

/// `release_approval`: how many people a release takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseApproval {
    /// An approver releases on their own.
    Single,
    /// One user asks, a different user with the approver role approves.
    TwoPerson,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8025".into(),
            tls_cert: None,
            tls_key: None,
            public_url: String::new(),
            release_approval: ReleaseApproval::Single,
            secret_file: "./var/admin/secret".into(),
            users_file: "./var/admin/users.json".into(),
            audit_log: "./var/admin/audit.log".into(),
            session_idle_secs: 1800,
            login_max_failures: 5,
            login_lockout_secs: 900,
            request_link_days: 30,
            metrics_token_file: None,
        }
    }
}

impl Config {
    /// Whether the console is served at all.
    pub fn enabled(&self) -> bool {
        self.listen != "off"
    }

    /// Checks what serde cannot. Returns the offending key and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.enabled() && self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err((
                "listen".into(),
                format!(
                    "{:?} is not an IP:PORT address (e.g. \"127.0.0.1:8025\") or \"off\"",
                    self.listen
                ),
            ));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err((
                "tls_cert".into(),
                "tls_cert and tls_key go together: set both or neither".into(),
            ));
        }
        let scheme = ["https://", "http://"]
            .iter()
            .any(|s| self.public_url.starts_with(s));
        if !self.public_url.is_empty() && !scheme {
            return Err((
                "public_url".into(),
                format!("{:?} must start with https:// or http://", self.public_url),
            ));
        }
        let ranges: [(&str, u64, u64, u64); 4] = [
            ("session_idle_secs", self.session_idle_secs, 60, 86_400),
            ("login_max_failures", self.login_max_failures.into(), 1, 100),
            ("login_lockout_secs", self.login_lockout_secs, 1, 86_400),
            ("request_link_days", self.request_link_days.into(), 1, 365),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err((key.into(), format!("{value} is outside {min}..={max}")));
            }
        }
        Ok(())
    }

    /// The base of links into the console, without a trailing slash.
    pub fn base_url(&self) -> String {
        if !self.public_url.is_empty() {
            return self.public_url.trim_end_matches('/').to_owned();
        }
        let scheme = if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.listen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_loopback() {
        let config = Config::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.base_url(), "http://127.0.0.1:8025");
    }

    #[test]
    fn ranges_and_pairs_are_checked() {
        let bad = Config {
            session_idle_secs: 0,
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "session_idle_secs");
        let bad = Config {
            tls_cert: Some("c.pem".into()),
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "tls_cert");
        let bad = Config {
            listen: "localhost".into(),
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "listen");
        let off = Config {
            listen: "off".into(),
            ..Config::default()
        };
        assert!(off.validate().is_ok() && !off.enabled());
    }
}
