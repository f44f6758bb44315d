//! `[auth]`: whether the sender is authenticated, against which DNS, how
//! long it may take, and which domains are our own.

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

/// The sender-authentication settings (`[auth]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `off` (the embedded default: no DNS, no header) or `annotate`.
    pub mode: Mode,
    /// The name in `Authentication-Results: <authserv-id>;`; empty: the
    /// ingress `hostname`.
    pub authserv_id: String,
    /// DNS servers, `IP` or `IP:PORT` (port 53 when omitted); empty: the
    /// system's `/etc/resolv.conf`.
    pub nameservers: Vec<String>,
    /// The whole verification of one message (every DNS query, every
    /// signature) ends after this many milliseconds; what is unknown by
    /// then is `temperror`.
    pub timeout_ms: u64,
    /// DNS answers kept in memory (by their TTL); 0 keeps none.
    pub cache_entries: u64,
    /// What a `temperror` (DNS down or too slow) does to the message.
    pub on_dns_failure: OnDnsFailure,
    /// With `on_dns_failure = "defer"`: seconds before the next try.
    pub retry_secs: u64,
    /// Our own domains (`city.lg.jp` also covers `sub.city.lg.jp`): a From
    /// in one of them that did not come from `trusted_clients` is flagged
    /// as suspected spoofing.
    pub own_domains: Vec<String>,
    /// Client networks (CIDR, e.g. `192.0.2.0/24`, or one address) through
    /// which mail from our own domains legitimately arrives.
    pub trusted_clients: Vec<String>,
}

/// `mode`: whether messages are verified at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// No verification, no DNS, no `Authentication-Results:` field.
    Off,
    /// Verify, write `Authentication-Results:`, warn in the notice; the
    /// message is delivered whatever the results.
    Annotate,
}

/// `on_dns_failure`: what a `temperror` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDnsFailure {
    /// Deliver now, with `temperror` in the field.
    Proceed,
    /// Wait in the spool and verify again after `retry_secs`, up to the
    /// relay's `retry.max_age_secs`; then deliver with `temperror`.
    Defer,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: Mode::Off,
            authserv_id: String::new(),
            nameservers: Vec::new(),
            timeout_ms: 3000,
            cache_entries: 1024,
            on_dns_failure: OnDnsFailure::Proceed,
            retry_secs: 60,
            own_domains: Vec::new(),
            trusted_clients: Vec::new(),
        }
    }
}

impl Config {
    /// Checks what serde cannot. Returns the offending key and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let ranges: [(&str, u64, u64, u64); 3] = [
            ("timeout_ms", self.timeout_ms, 100, 60_000),
            ("cache_entries", self.cache_entries, 0, 1_000_000),
            ("retry_secs", self.retry_secs, 1, 86_400),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err((key.into(), format!("{value} is outside {min}..={max}")));
            }
        }
        if !self.authserv_id.is_empty() && !is_domain(&self.authserv_id) {
            return Err((
                "authserv_id".into(),
                format!(
                    "{:?} is not a host name (ASCII letters, digits, '-' and '.')",
                    self.authserv_id
                ),
            ));
        }
        for server in &self.nameservers {
            if nameserver(server).is_none() {
                return Err((
                    "nameservers".into(),
                    format!("{server:?} is not IP or IP:PORT (e.g. \"127.0.0.1:5353\")"),
                ));
            }
        }
        for domain in &self.own_domains {
            if !is_domain(domain) {
                return Err((
                    "own_domains".into(),
                    format!("{domain:?} is not a domain (ASCII, e.g. \"city.lg.jp\")"),
                ));
            }
        }
        for cidr in &self.trusted_clients {
            if Network::parse(cidr).is_none() {
                return Err((
                    "trusted_clients".into(),
                    format!("{cidr:?} is not an address or CIDR (e.g. \"192.0.2.0/24\")"),
                ));
            }
        }
        Ok(())
    }

    /// The nameservers as socket addresses (validated: unparseable ones
    /// were refused by [`Config::validate`]).
    pub fn nameserver_addrs(&self) -> Vec<SocketAddr> {
        self.nameservers
            .iter()
            .filter_map(|s| nameserver(s))
            .collect()
    }

    /// The trusted client networks (validated).
    pub(crate) fn networks(&self) -> Vec<Network> {
        self.trusted_clients
            .iter()
            .filter_map(|c| Network::parse(c))
            .collect()
    }
}

fn nameserver(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

/// An ASCII host or domain name: labels of letters, digits, '-' and '_'.
pub(crate) fn is_domain(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// One `trusted_clients` entry. Eight lines of prefix matching do not need
/// a crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr.parse::<IpAddr>().ok()?, Some(prefix.parse().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (net, ip, bits) = match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => (u32::from(n) as u128, u32::from(a) as u128, 32),
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        shift >= bits || (net >> shift) == (ip >> shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_off() {
        let config = Config::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.mode, Mode::Off);
    }

    #[test]
    fn every_key_is_checked() {
        let bad = |config: Config| config.validate().unwrap_err().0;
        let base = Config::default;
        assert_eq!(
            bad(Config {
                timeout_ms: 0,
                ..base()
            }),
            "timeout_ms"
        );
        assert_eq!(
            bad(Config {
                retry_secs: 0,
                ..base()
            }),
            "retry_secs"
        );
        assert_eq!(
            bad(Config {
                authserv_id: "a b".into(),
                ..base()
            }),
            "authserv_id"
        );
        assert_eq!(
            bad(Config {
                nameservers: vec!["localhost:53".into()],
                ..base()
            }),
            "nameservers"
        );
        assert_eq!(
            bad(Config {
                own_domains: vec!["市.jp".into()],
                ..base()
            }),
            "own_domains"
        );
        assert_eq!(
            bad(Config {
                trusted_clients: vec!["10.0.0.0/33".into()],
                ..base()
            }),
            "trusted_clients"
        );
        let good = Config {
            nameservers: vec!["127.0.0.1:5353".into(), "::1".into()],
            ..base()
        };
        assert_eq!(good.validate(), Ok(()));
        assert_eq!(
            good.nameserver_addrs(),
            [
                "127.0.0.1:5353".parse().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn networks_match_by_prefix() {
        let net = Network::parse("192.0.2.0/24").unwrap();
        assert!(net.contains("192.0.2.77".parse().unwrap()));
        assert!(net.contains("::ffff:192.0.2.1".parse().unwrap()));
        assert!(!net.contains("192.0.3.1".parse().unwrap()));
        assert!(!net.contains("2001:db8::1".parse().unwrap()));
        let one = Network::parse("2001:db8::1").unwrap();
        assert!(one.contains("2001:db8::1".parse().unwrap()));
        assert!(!one.contains("2001:db8::2".parse().unwrap()));
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }
}
