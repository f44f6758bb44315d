//! The `[scanner]` section of the configuration.
//!
//! serde reads it as typed ([`Config`]); [`Config::validate`] checks what
//! serde cannot, and [`Scanner::new`](crate::Scanner::new) validates again,
//! so an unchecked `Config` never reaches a socket.

use std::path::PathBuf;

use serde::Deserialize;

/// The `[scanner]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where clamd listens: `"unix:/run/clamav/clamd.ctl"`,
    /// `"tcp:127.0.0.1:3310"`, or `"off"` (no scanning).
    pub clamd: String,
    /// Limit for one clamd exchange (connect, send, reply), in seconds.
    pub timeout_secs: u64,
    /// How many scans run at once. clamd serves `MaxThreads` (10 by
    /// default) connections at a time and queues the rest, so a few less
    /// leaves room for other clients.
    pub concurrency: usize,
    /// The largest buffer sent to clamd: its `StreamMaxLength` (25 MB by
    /// default). clamd answers a longer stream with an error and hangs up,
    /// so a longer buffer gets [`Error::TooLarge`](crate::Error::TooLarge)
    /// without being sent. Raise both together.
    pub max_stream_bytes: u64,
    /// What the caller does while clamd cannot give a verdict.
    pub on_unavailable: OnUnavailable,
    /// With `on_unavailable = "defer"`: seconds until a message waiting
    /// for clamd is tried again.
    pub retry_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            clamd: "off".into(),
            timeout_secs: 30,
            concurrency: 4,
            max_stream_bytes: 25 * 1024 * 1024,
            on_unavailable: OnUnavailable::Defer,
            retry_secs: 60,
        }
    }
}

/// What to do when clamd gives no verdict (down, timeout, error reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnavailable {
    /// Leave the message deferred and try again later.
    Defer,
    /// Put the message on hold for an operator.
    Hold,
}

/// Longest accepted `timeout_secs`.
const MAX_TIMEOUT_SECS: u64 = 3600;
/// Largest accepted `concurrency`.
const MAX_CONCURRENCY: usize = 256;
/// Largest accepted `max_stream_bytes`: clamd's own ceiling is 4 GB.
const MAX_STREAM_BYTES: u64 = 4_000_000_000;

impl Config {
    /// Checks what serde cannot. The error is `(key, message)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        fn err(key: &str, message: String) -> Result<(), (String, String)> {
            Err((key.to_owned(), message))
        }

        if let Err(message) = Address::parse(&self.clamd) {
            return err("clamd", message);
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.timeout_secs) {
            return err(
                "timeout_secs",
                format!(
                    "must be between 1 and {MAX_TIMEOUT_SECS}, not {}",
                    self.timeout_secs
                ),
            );
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return err(
                "concurrency",
                format!(
                    "must be between 1 and {MAX_CONCURRENCY}, not {}",
                    self.concurrency
                ),
            );
        }
        if !(1..=MAX_STREAM_BYTES).contains(&self.max_stream_bytes) {
            return err(
                "max_stream_bytes",
                format!(
                    "must be between 1 and {MAX_STREAM_BYTES} (clamd's limit is 4 GB), not {}",
                    self.max_stream_bytes
                ),
            );
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.retry_secs) {
            return err(
                "retry_secs",
                format!(
                    "must be between 1 and {MAX_TIMEOUT_SECS}, not {}",
                    self.retry_secs
                ),
            );
        }
        Ok(())
    }
}

/// A parsed `clamd` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Address {
    Off,
    Unix(PathBuf),
    /// `HOST:PORT`, as given (`[::1]:3310` for IPv6).
    Tcp(String),
}

impl Address {
    pub(crate) fn parse(value: &str) -> Result<Address, String> {
        if value == "off" {
            return Ok(Address::Off);
        }
        if let Some(path) = value.strip_prefix("unix:") {
            if !path.starts_with('/') {
                return Err(format!("unix socket path must be absolute: {value:?}"));
            }
            return Ok(Address::Unix(PathBuf::from(path)));
        }
        if let Some(hostport) = value.strip_prefix("tcp:") {
            let Some((host, port)) = hostport.rsplit_once(':') else {
                return Err(format!("expected tcp:HOST:PORT, not {value:?}"));
            };
            let host_ok = !host.is_empty()
                && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']')));
            if !host_ok {
                return Err(format!(
                    "bad host in {value:?} (write IPv6 addresses as [::1])"
                ));
            }
            match port.parse::<u16>() {
                Ok(p) if p != 0 => {}
                _ => return Err(format!("bad port in {value:?}")),
            }
            return Ok(Address::Tcp(hostport.to_owned()));
        }
        Err(format!(
            "expected \"unix:PATH\", \"tcp:HOST:PORT\" or \"off\", not {value:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.clamd, "off");
        assert_eq!(c.timeout_secs, 30);
        assert_eq!(c.concurrency, 4);
        assert_eq!(c.max_stream_bytes, 25 * 1024 * 1024);
        assert_eq!(c.on_unavailable, OnUnavailable::Defer);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn full_section() {
        let c: Config = toml::from_str(
            "clamd = \"tcp:127.0.0.1:3310\"\ntimeout_secs = 5\nconcurrency = 8\n\
             max_stream_bytes = 100000000\non_unavailable = \"hold\"\nretry_secs = 5\n",
        )
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.max_stream_bytes, 100_000_000);
        assert_eq!(c.retry_secs, 5);
        assert_eq!(c.on_unavailable, OnUnavailable::Hold);
        assert!(toml::from_str::<Config>("clamav = \"off\"").is_err());
        // on_infected is a profile setting, not the scanner's.
        assert!(toml::from_str::<Config>("on_infected = \"hold\"").is_err());
        assert!(toml::from_str::<Config>("on_unavailable = \"accept\"").is_err());
    }

    #[test]
    fn validate_names_the_key() {
        let key = |c: Config| c.validate().unwrap_err().0;
        let clamd = |s: &str| Config {
            clamd: s.into(),
            ..Config::default()
        };
        for bad in [
            "",
            "on",
            "unix:",
            "unix:relative/clamd.ctl",
            "tcp:",
            "tcp:localhost",
            "tcp::3310",
            "tcp:localhost:0",
            "tcp:localhost:http",
            "tcp:localhost:70000",
            "tcp:::1:3310",
            "/run/clamav/clamd.ctl",
        ] {
            assert_eq!(key(clamd(bad)), "clamd", "{bad:?}");
        }
        for good in [
            "off",
            "unix:/run/clamav/clamd.ctl",
            "tcp:127.0.0.1:3310",
            "tcp:clamd.internal:3310",
            "tcp:[::1]:3310",
        ] {
            assert_eq!(clamd(good).validate(), Ok(()), "{good:?}");
        }
        assert_eq!(
            key(Config {
                timeout_secs: 0,
                ..Config::default()
            }),
            "timeout_secs"
        );
        assert_eq!(
            key(Config {
                concurrency: 0,
                ..Config::default()
            }),
            "concurrency"
        );
        assert_eq!(
            key(Config {
                concurrency: 10_000,
                ..Config::default()
            }),
            "concurrency"
        );
        assert_eq!(
            key(Config {
                max_stream_bytes: 0,
                ..Config::default()
            }),
            "max_stream_bytes"
        );
        assert_eq!(
            key(Config {
                retry_secs: 0,
                ..Config::default()
            }),
            "retry_secs"
        );
    }

    #[test]
    fn address_parse() {
        assert_eq!(Address::parse("off"), Ok(Address::Off));
        assert_eq!(
            Address::parse("unix:/tmp/c.sock"),
            Ok(Address::Unix("/tmp/c.sock".into()))
        );
        assert_eq!(
            Address::parse("tcp:[::1]:3310"),
            Ok(Address::Tcp("[::1]:3310".into()))
        );
    }
}
