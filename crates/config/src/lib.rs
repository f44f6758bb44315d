//! Mukaika's configuration: the embedded default, optionally overlaid by a
//! TOML file, validated into profiles the sanitizer core can use.
//!
//! Every error names the file, the line and the dotted key it is about, in
//! one line, so `mukaika check-config` can print it as is.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use mukaika_sanitize::Policy;
use serde::Deserialize;

/// The configuration used when no file is given.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../../config/default.toml");

/// Largest config file read; a config is a few kilobytes.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from: a path, or "<embedded default>".
    pub origin: String,
    pub default_profile: String,
    pub profiles: BTreeMap<String, Policy>,
    pub ingress: mukaika_ingress::Config,
    pub relay: mukaika_relay::Config,
    pub spool: mukaika_spool::Config,
    pub quarantine: mukaika_quarantine::Config,
    pub scanner: mukaika_scan::Config,
    pub workers: mukaika_worker::Config,
    pub pipeline: Pipeline,
    pub log: Log,
    pub metrics: Metrics,
    pub admin: mukaika_console::Config,
    pub auth: mukaika_auth::Config,
}

/// A configuration error, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub origin: String,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Policy>,
    ingress: Option<mukaika_ingress::Config>,
    relay: Option<mukaika_relay::Config>,
    spool: Option<mukaika_spool::Config>,
    quarantine: Option<mukaika_quarantine::Config>,
    scanner: Option<mukaika_scan::Config>,
    workers: Option<mukaika_worker::Config>,
    pipeline: Option<Pipeline>,
    log: Option<Log>,
    metrics: Option<Metrics>,
    admin: Option<mukaika_console::Config>,
    auth: Option<mukaika_auth::Config>,
}

/// How many messages are worked on at once, and how often the queue is run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pipeline {
    /// Messages sanitized at once (CPU-bound work), each in its own worker
    /// process (see `[workers]`); 0 = one per CPU core.
    /// Deliveries in flight are bounded by `relay.max_connections`.
    pub workers: usize,
    /// Seconds between scans of the deferred queue (Postfix: queue_run_delay).
    pub queue_run_secs: u64,
    /// On SIGTERM, how long in-flight work may take before the daemon exits
    /// (what is unfinished stays in the spool).
    pub shutdown_grace_secs: u64,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self {
            workers: 0,
            queue_run_secs: 30,
            shutdown_grace_secs: 30,
        }
    }
}

impl Pipeline {
    pub fn workers(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}

/// Log output of the daemon and the commands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    pub format: LogFormat,
    /// A tracing filter: "info", "debug", "mukaika=debug,info"…
    pub level: String,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

/// The Prometheus endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Metrics {
    /// `HOST:PORT` serving `/metrics`; empty (the default) serves none.
    pub listen: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

impl Config {
    /// The embedded default alone.
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED_DEFAULT, "<embedded default>", None)
            .expect("the embedded default config is valid (tested)")
    }

    /// The file at `path` over the embedded default, or the embedded default.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::embedded());
        };
        let origin = path.display().to_string();
        let io_error = |e: std::io::Error| Error {
            origin: origin.clone(),
            line: None,
            key: None,
            message: e.to_string(),
        };
        let len = std::fs::metadata(path).map_err(io_error)?.len();
        if len > MAX_FILE_BYTES {
            return Err(Error {
                origin,
                line: None,
                key: None,
                message: format!("file is {len} bytes; a config is at most {MAX_FILE_BYTES}"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io_error)?;
        Self::parse(&text, &origin, Some(Self::embedded()))
    }

    /// Parses `text`; its profiles replace or extend those of `base`.
    pub fn parse(text: &str, origin: &str, base: Option<Config>) -> Result<Self> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start);
            Error {
                origin: origin.into(),
                line: offset.map(|o| line_of(text, o)),
                key: offset.and_then(|o| key_at(text, o)),
                message: e.message().trim().to_owned(),
            }
        })?;
        let located = |key: String, message: String| Error {
            origin: origin.into(),
            line: line_of_key(text, &key),
            key: Some(key),
            message,
        };
        let mut profiles = base
            .as_ref()
            .map(|b| b.profiles.clone())
            .unwrap_or_default();
        for (name, mut policy) in raw.profiles {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(located(
                    format!("profiles.{name}"),
                    "a profile name uses only ASCII letters, digits, '-' and '_'".into(),
                ));
            }
            if let Err((key, message)) = validate(&policy) {
                return Err(located(format!("profiles.{name}.{key}"), message));
            }
            policy.name = name.clone();
            profiles.insert(name, policy);
        }
        let default_profile = raw
            .default_profile
            .or_else(|| base.as_ref().map(|b| b.default_profile.clone()))
            .unwrap_or_else(|| "standard".into());
        if !profiles.contains_key(&default_profile) {
            return Err(located(
                "default_profile".into(),
                format!("no profile named {default_profile:?}"),
            ));
        }
        // A section in the file replaces the base's; its missing keys take
        // their defaults.
        let base = base.map(|b| {
            (
                b.ingress,
                b.relay,
                b.spool,
                b.quarantine,
                b.scanner,
                b.workers,
                b.pipeline,
                b.log,
                b.metrics,
                b.admin,
                b.auth,
            )
        });
        let (
            ingress,
            relay,
            spool,
            quarantine,
            scanner,
            workers,
            pipeline,
            log,
            metrics,
            admin,
            auth,
        ) = base.unwrap_or_default();
        let config = Self {
            origin: origin.into(),
            default_profile,
            profiles,
            ingress: raw.ingress.unwrap_or(ingress),
            relay: raw.relay.unwrap_or(relay),
            spool: raw.spool.unwrap_or(spool),
            quarantine: raw.quarantine.unwrap_or(quarantine),
            scanner: raw.scanner.unwrap_or(scanner),
            workers: raw.workers.unwrap_or(workers),
            pipeline: raw.pipeline.unwrap_or(pipeline),
            log: raw.log.unwrap_or(log),
            metrics: raw.metrics.unwrap_or(metrics),
            admin: raw.admin.unwrap_or(admin),
            auth: raw.auth.unwrap_or(auth),
        };
        let sections = [
            ("ingress", config.ingress.validate()),
            ("relay", config.relay.validate()),
            ("scanner", config.scanner.validate()),
            ("workers", config.workers.validate()),
            ("admin", config.admin.validate()),
            ("auth", config.auth.validate()),
        ];
        for (section, result) in sections {
            if let Err((key, message)) = result {
                return Err(located(format!("{section}.{key}"), message));
            }
        }
        if let Some(message) = open_relay(&config.ingress) {
            return Err(located("ingress.allow_clients".into(), message));
        }
        if config.quarantine.retention_days == 0 {
            return Err(located(
                "quarantine.retention_days".into(),
                "must be at least 1".into(),
            ));
        }
        if !config.metrics.listen.is_empty()
            && config
                .metrics
                .listen
                .parse::<std::net::SocketAddr>()
                .is_err()
        {
            let message = format!(
                "{:?} is not an IP:PORT address (e.g. \"127.0.0.1:9325\")",
                config.metrics.listen
            );
            return Err(located("metrics.listen".into(), message));
        }
        if config
            .log
            .level
            .parse::<tracing_subscriber::EnvFilter>()
            .is_err()
        {
            let message = format!("{:?} is not a log filter (e.g. \"info\")", config.log.level);
            return Err(located("log.level".into(), message));
        }
        Ok(config)
    }

    /// The named profile, or the default one.
    pub fn profile(&self, name: Option<&str>) -> Result<&Policy> {
        let name = name.unwrap_or(&self.default_profile);
        self.profiles.get(name).ok_or_else(|| Error {
            origin: self.origin.clone(),
            line: None,
            key: None,
            message: format!(
                "no profile named {name:?} (defined: {})",
                self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }
}

/// Why `ingress` makes an open relay, if it does: any recipient domain
/// (`accept_domains = ["*"]`) for clients that cover the whole Internet
/// (all of IPv4, directly or as IPv4-mapped IPv6, or all of the global
/// IPv6 unicast space 2000::/3), so anyone could send anywhere through it
/// and spammers would within hours. Coverage is of the networks together:
/// `0.0.0.0/1` and `128.0.0.0/1` are the whole Internet too.
fn open_relay(ingress: &mukaika_ingress::Config) -> Option<String> {
    if !ingress.accept_domains.iter().any(|d| d == "*") {
        return None;
    }
    // Each network as a range of the IPv6 space, IPv4 as IPv4-mapped.
    let mut ranges: Vec<(u128, u128)> = ingress
        .allow_clients
        .iter()
        .map(|net| {
            let (first, last) = (net.network(), net.broadcast());
            let wide = |ip: std::net::IpAddr| match ip {
                std::net::IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
                std::net::IpAddr::V6(v6) => u128::from(v6),
            };
            (wide(first), wide(last))
        })
        .collect();
    ranges.sort_unstable();
    let covers = |first: u128, last: u128| {
        let mut next = first;
        for &(start, end) in &ranges {
            if start > next {
                break;
            }
            if end >= next {
                if end >= last {
                    return true;
                }
                next = end + 1;
            }
        }
        false
    };
    let ipv4 = covers(0xffff_0000_0000, 0xffff_ffff_ffff);
    let ipv6 = covers(0x2000 << 112, (0x4000 << 112) - 1);
    (ipv4 || ipv6).then(|| {
        format!(
            "with accept_domains = [\"*\"] these networks ({}) make an open relay: anyone on \
             the Internet could send mail to any domain through it; list the clients that may \
             send (your MTA's address) or the domains to accept",
            ingress
                .allow_clients
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Checks what serde cannot: ranges. Returns the offending key and why.
fn validate(policy: &Policy) -> std::result::Result<(), (String, String)> {
    let l = &policy.limits;
    let ranges: [(&str, usize, usize, usize); 6] = [
        (
            "limits.max_message_bytes",
            l.max_message_bytes,
            1024,
            1 << 30,
        ),
        (
            "limits.max_header_bytes",
            l.max_header_bytes,
            1024,
            16 << 20,
        ),
        ("limits.max_headers", l.max_headers, 10, 100_000),
        ("limits.max_depth", l.max_depth, 1, 100),
        ("limits.max_parts", l.max_parts, 1, 100_000),
        ("limits.max_conversions", l.max_conversions, 0, 1_000),
    ];
    for (key, value, min, max) in ranges {
        if !(min..=max).contains(&value) {
            return Err((
                key.into(),
                format!("{value} is out of range: must be between {min} and {max}"),
            ));
        }
    }
    let image = &policy.image;
    if !(1..=100).contains(&image.jpeg_quality) {
        return Err((
            "image.jpeg_quality".into(),
            format!(
                "{} is out of range: must be between 1 and 100",
                image.jpeg_quality
            ),
        ));
    }
    if !(1..=1_000_000_000).contains(&image.max_pixels) {
        return Err((
            "image.max_pixels".into(),
            format!(
                "{} is out of range: must be between 1 and 1000000000",
                image.max_pixels
            ),
        ));
    }
    if l.max_header_bytes > l.max_message_bytes {
        return Err((
            "limits.max_header_bytes".into(),
            "must not exceed limits.max_message_bytes".into(),
        ));
    }
    let n = &policy.notice;
    for (key, value) in [
        ("notice.ja_intro", &n.ja_intro),
        ("notice.en_intro", &n.en_intro),
    ] {
        if value.trim().is_empty() {
            return Err((
                key.into(),
                "must not be empty: the recipient has to be told".into(),
            ));
        }
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The dotted key whose key or value spans `offset`. Searches every table:
/// a `[a.b]` header gives its implicit tables no span covering their keys.
fn key_at(text: &str, offset: usize) -> Option<String> {
    use toml::de::{DeTable, DeValue};
    fn search(table: &DeTable<'_>, offset: usize, path: &mut Vec<String>) -> bool {
        for (key, value) in table.iter() {
            path.push(key.get_ref().to_string());
            let found = match value.get_ref() {
                DeValue::Table(inner) => {
                    key.span().contains(&offset) || search(inner, offset, path)
                }
                _ => key.span().contains(&offset) || value.span().contains(&offset),
            };
            if found {
                return true;
            }
            path.pop();
        }
        false
    }
    let table = DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    search(table.get_ref(), offset, &mut path).then(|| path.join("."))
}

/// The line where a dotted key is set, if the text sets it.
fn line_of_key(text: &str, dotted: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let table = DeTable::parse(text).ok()?;
    let mut current = table.get_ref();
    let mut line = None;
    for part in dotted.split('.') {
        let (key, value) = current.iter().find(|(k, _)| k.get_ref().as_ref() == part)?;
        line = Some(line_of(text, key.span().start));
        match value.get_ref() {
            DeValue::Table(inner) => current = inner,
            _ => break,
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use mukaika_sanitize::LinkMode;

    #[test]
    fn embedded_default_has_the_builtin_profiles() {
        let config = Config::embedded();
        assert_eq!(config.default_profile, "standard");
        assert_eq!(config.profile(None).unwrap().links, LinkMode::Defang);
        assert_eq!(
            config.profile(Some("strict")).unwrap().links,
            LinkMode::Remove
        );
        let strict = config.profile(Some("strict")).unwrap();
        assert_eq!(strict.name, "strict");
        let rules = &strict.attachments;
        assert_eq!(rules.office, mukaika_sanitize::attachment::OfficeRule::Pdf);
        assert_eq!(
            rules.archives,
            mukaika_sanitize::attachment::ArchiveRule::Attachments
        );
    }

    #[test]
    fn shipped_example_is_valid() {
        let text = include_str!("../../../config/mukaika.toml");
        let config = Config::parse(text, "mukaika.toml", Some(Config::embedded())).unwrap();
        assert!(config.profiles.contains_key("legacy-jis"));
        assert_eq!(
            config.profile(Some("standard")).unwrap(),
            &Policy::default()
        );
        assert_eq!(config.scanner.clamd, "unix:/var/run/clamav/clamd.ctl");
        assert_eq!(Config::embedded().scanner.clamd, "off");
    }

    #[test]
    fn worker_errors_name_the_key() {
        let err = Config::parse(
            "[workers]\ntimeout_secs = 0\n",
            "f.toml",
            Some(Config::embedded()),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:2: workers.timeout_secs: must be from 1 to 86400"
        );
        let err = Config::parse(
            "[workers]\nsandbox = \"off\"\n",
            "f.toml",
            Some(Config::embedded()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("workers.sandbox"), "{err}");
        let config = Config::parse(
            "[workers]\nmemory_mb = 512\n",
            "f.toml",
            Some(Config::embedded()),
        )
        .unwrap();
        assert_eq!(config.workers.memory_mb, 512);
        assert_eq!(config.workers.timeout_secs, 120);
    }

    #[test]
    fn auth_errors_name_the_key() {
        let err = Config::parse(
            "[auth]\nmode = \"annotate\"\ntimeout_ms = 0\n",
            "f.toml",
            Some(Config::embedded()),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:3: auth.timeout_ms: 0 is outside 100..=60000"
        );
        let err = Config::parse(
            "[auth]\ntrusted_clients = [\"10.0.0.0/40\"]\n",
            "f.toml",
            Some(Config::embedded()),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("f.toml:2: auth.trusted_clients: "),
            "{err}"
        );
        assert_eq!(Config::embedded().auth.mode, mukaika_auth::Mode::Off);
    }

    #[test]
    fn scanner_errors_name_the_key() {
        let err = Config::parse(
            "[scanner]\nclamd = \"clamd.sock\"\n",
            "f.toml",
            Some(Config::embedded()),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("f.toml:2: scanner.clamd: expected \"unix:PATH\""),
            "{err}"
        );
        let err = Config::parse(
            "[profiles.x]\non_infected = \"delete\"\n",
            "f.toml",
            Some(Config::embedded()),
        )
        .unwrap_err();
        assert_eq!(err.key.as_deref(), Some("profiles.x.on_infected"));
    }

    #[test]
    fn issue_16_an_open_relay_is_refused() {
        for clients in [
            r#"["0.0.0.0/0"]"#,
            r#"["::/0"]"#,
            r#"["192.0.2.1/32", "0.0.0.0/1", "128.0.0.0/1"]"#,
            r#"["::ffff:0.0.0.0/96"]"#,
            r#"["2000::/4", "3000::/4"]"#,
        ] {
            let text = format!("[ingress]\naccept_domains = [\"*\"]\nallow_clients = {clients}\n");
            let err = Config::parse(&text, "f.toml", Some(Config::embedded())).unwrap_err();
            assert_eq!(
                (err.line, err.key.as_deref()),
                (Some(3), Some("ingress.allow_clients")),
                "{clients}: {err}"
            );
            assert!(err.message.contains("open relay"), "{err}");
        }
        // Closed: named domains, or clients short of the whole Internet.
        for (domains, clients) in [
            (r#"["lgwan.example.jp"]"#, r#"["0.0.0.0/0", "::/0"]"#),
            (r#"["*"]"#, r#"["192.0.2.0/24", "2001:db8::/32"]"#),
            (r#"["*"]"#, r#"["0.0.0.0/1"]"#),
            (r#"["*"]"#, r#"["127.0.0.0/8", "::1/128"]"#),
        ] {
            let text =
                format!("[ingress]\naccept_domains = {domains}\nallow_clients = {clients}\n");
            let parsed = Config::parse(&text, "f.toml", Some(Config::embedded()));
            assert!(parsed.is_ok(), "{domains} {clients}: {:?}", parsed.err());
        }
    }

    #[test]
    fn errors_name_line_and_key() {
        let text =
            "default_profile = \"standard\"\n\n[profiles.x]\nlinks = \"defang\"\nlinkz = 1\n";
        let err = Config::parse(text, "f.toml", Some(Config::embedded())).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(5), Some("profiles.x.linkz"))
        );
        assert!(
            err.to_string()
                .starts_with("f.toml:5: profiles.x.linkz: unknown field"),
            "{err}"
        );

        let text = "[profiles.x]\nlinks = \"sometimes\"\n";
        let err = Config::parse(text, "f.toml", None).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(2), Some("profiles.x.links"))
        );

        let text = "[profiles.x.limits]\nmax_depth = 0\n";
        let err = Config::parse(text, "f.toml", Some(Config::embedded())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:2: profiles.x.limits.max_depth: 0 is out of range: must be between 1 and 100"
        );

        let err = Config::parse(
            "default_profile = \"nope\"\n",
            "f.toml",
            Some(Config::embedded()),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:1: default_profile: no profile named \"nope\""
        );

        let err = Config::parse("[profiles.x\n", "f.toml", None).unwrap_err();
        assert_eq!(err.line, Some(1));
    }
}
