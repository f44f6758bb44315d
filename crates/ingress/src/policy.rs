//! Who may talk to us and for whom we take mail: client networks, sender
//! patterns and recipient domains. Pure functions over the configuration,
//! so that the rules that keep this relay closed are tested on their own.

use std::net::IpAddr;

use crate::config::Config;

/// The address as compared with CIDRs: an IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`, seen on dual-stack listeners) is its IPv4 address.
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether a client may use this server: in `allow_clients` and not in
/// `deny_clients`.
pub(crate) fn client_allowed(config: &Config, ip: IpAddr) -> bool {
    let ip = canonical_ip(ip);
    config.allow_clients.iter().any(|net| net.contains(&ip))
        && !config.deny_clients.iter().any(|net| net.contains(&ip))
}

/// Whether a sender pattern (`user@domain`, `@domain`, `<>`) matches a
/// reverse-path (empty for the null sender).
fn sender_matches(pattern: &str, sender: &str) -> bool {
    if pattern == "<>" {
        return sender.is_empty();
    }
    if sender.is_empty() {
        return false;
    }
    match pattern.strip_prefix('@') {
        Some(domain) => domain_of(sender).is_some_and(|d| same_domain(d, domain)),
        None => {
            pattern.eq_ignore_ascii_case(sender) || pattern.to_lowercase() == sender.to_lowercase()
        }
    }
}

/// Whether MAIL FROM may use this sender: not in `deny_senders`, and in
/// `allow_senders` when that list is not empty.
pub(crate) fn sender_allowed(config: &Config, sender: &str) -> bool {
    if config
        .deny_senders
        .iter()
        .any(|p| sender_matches(p, sender))
    {
        return false;
    }
    config.allow_senders.is_empty()
        || config
            .allow_senders
            .iter()
            .any(|p| sender_matches(p, sender))
}

/// Whether a recipient is one we relay for. Besides the domain check, local
/// parts that route elsewhere on a next hop that honours them (`%`, `!`,
/// or a quoted `@`: `user%other@ours`, `"other!user"@ours`) are refused,
/// as open-relay test suites expect.
pub fn recipient_allowed(config: &Config, recipient: &str) -> bool {
    let Some((local, domain)) = recipient.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.contains(['%', '!', '@']) {
        return false;
    }
    if domain.is_empty() || domain.starts_with('[') {
        // Address literals never match a configured domain; with "*" they
        // are still refused: we relay by name only.
        return false;
    }
    config
        .accept_domains
        .iter()
        .any(|d| d == "*" || same_domain(d, domain))
}

fn domain_of(address: &str) -> Option<&str> {
    address.rsplit_once('@').map(|(_, d)| d)
}

/// Domains compare case-insensitively, ignoring one trailing dot.
fn same_domain(a: &str, b: &str) -> bool {
    let a = a.strip_suffix('.').unwrap_or(a);
    let b = b.strip_suffix('.').unwrap_or(b);
    a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            accept_domains: vec!["lgwan.example.jp".into()],
            allow_clients: vec![
                "192.0.2.0/24".parse().unwrap(),
                "2001:db8::/32".parse().unwrap(),
            ],
            deny_clients: vec!["192.0.2.66/32".parse().unwrap()],
            deny_senders: vec!["@spam.example".into(), "bad@example.com".into()],
            ..Config::default()
        }
    }

    #[test]
    fn clients() {
        let c = config();
        assert!(client_allowed(&c, "192.0.2.1".parse().unwrap()));
        assert!(client_allowed(&c, "::ffff:192.0.2.1".parse().unwrap()));
        assert!(client_allowed(&c, "2001:db8::1".parse().unwrap()));
        assert!(!client_allowed(&c, "192.0.2.66".parse().unwrap()));
        assert!(!client_allowed(&c, "::ffff:192.0.2.66".parse().unwrap()));
        assert!(!client_allowed(&c, "198.51.100.1".parse().unwrap()));
        assert!(!client_allowed(&c, "127.0.0.1".parse().unwrap()));
        assert!(client_allowed(
            &Config::default(),
            "127.0.0.1".parse().unwrap()
        ));
        assert!(client_allowed(&Config::default(), "::1".parse().unwrap()));
        assert!(!client_allowed(
            &Config::default(),
            "10.0.0.1".parse().unwrap()
        ));
    }

    #[test]
    fn senders() {
        let mut c = config();
        assert!(sender_allowed(&c, "a@example.com"));
        assert!(sender_allowed(&c, ""));
        assert!(!sender_allowed(&c, "x@SPAM.example"));
        assert!(!sender_allowed(&c, "Bad@Example.com"));
        assert!(sender_allowed(&c, "x@sub.spam.example"));
        c.allow_senders = vec!["@partner.example".into()];
        assert!(sender_allowed(&c, "x@partner.example"));
        assert!(!sender_allowed(&c, "x@other.example"));
        assert!(!sender_allowed(&c, ""));
        c.allow_senders.push("<>".into());
        assert!(sender_allowed(&c, ""));
    }

    #[test]
    fn recipients() {
        let c = config();
        assert!(recipient_allowed(&c, "a@lgwan.example.jp"));
        assert!(recipient_allowed(&c, "a@LGWAN.Example.JP."));
        assert!(!recipient_allowed(&c, "a@example.com"));
        assert!(!recipient_allowed(&c, "a@sub.lgwan.example.jp"));
        assert!(!recipient_allowed(&c, "a%example.com@lgwan.example.jp"));
        assert!(!recipient_allowed(&c, "example.com!a@lgwan.example.jp"));
        assert!(!recipient_allowed(&c, "a@example.com@lgwan.example.jp"));
        assert!(!recipient_allowed(&c, "a@[192.0.2.1]"));
        assert!(!recipient_allowed(&c, ""));
        let any = Config::default();
        assert!(recipient_allowed(&any, "a@anything.example"));
        assert!(!recipient_allowed(&any, "a@[192.0.2.1]"));
    }
}
