//! Against a real authoritative DNS server: Debian's nsd on 127.0.0.1,
//! zones written here with SPF, DKIM (a key made here with openssl) and
//! DMARC records; mail signed here by dkimpy's `dkimsign`.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mukaika_auth::{Authenticator, Config, Limits, Mode, Results, Verdict};
use support::Nsd;

const LIMITS: Limits = Limits {
    max_header_bytes: 64 << 10,
    max_message_bytes: 10 << 20,
};
fn authenticator(port: u16, timeout_ms: u64) -> Authenticator {
    let config = Config {
        mode: Mode::Annotate,
        nameservers: vec![format!("127.0.0.1:{port}")],
        timeout_ms,
        own_domains: vec!["city.lg.jp".into()],
        ..Config::default()
    };
    assert_eq!(config.validate(), Ok(()));
    Authenticator::new(&config, "mx.test").unwrap().unwrap()
}

fn verify(auth: &Authenticator, message: &[u8], sender: &str) -> Results {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(auth.verify(
            Arc::new(message.to_vec()),
            0,
            "127.0.0.1",
            "mail.good.test",
            sender,
            LIMITS,
        ))
}

const MAIL: &[u8] = b"From: Sato <sato@good.test>\r\nTo: tanaka@lgwan.example.jp\r\nSubject: test\r\nDate: Sat, 5 Dec 2026 10:00:00 +0900\r\nMessage-ID: <1@good.test>\r\n\r\nHello.\r\n";

#[test]
fn signed_mail_passes_and_a_changed_body_fails() {
    let nsd = Nsd::start();
    let auth = authenticator(nsd.port, 3000);
    let signed = nsd.sign(MAIL);
    let results = verify(&auth, &signed, "sato@good.test");
    assert_eq!(results.spf, Verdict::Pass, "{results:?}");
    assert_eq!(results.dkim_overall(), Verdict::Pass, "{results:?}");
    assert_eq!(results.dmarc, Verdict::Pass, "{results:?}");
    assert_eq!(results.warning(), None);
    let field = results.header_field("\r\n");
    assert!(
        field.contains("dkim=pass header.d=good.test header.s=s1")
            && field.starts_with("Authentication-Results: mx.test;"),
        "{field}"
    );

    let mut changed = signed.clone();
    let at = changed.len() - 4;
    changed[at] = b'!';
    let results = verify(&auth, &changed, "sato@good.test");
    assert_eq!(results.dkim_overall(), Verdict::Fail, "{results:?}");
    // SPF still passes and aligns: DMARC passes, the signature does not.
    assert_eq!(results.dmarc, Verdict::Pass, "{results:?}");
}

#[test]
fn spoofed_from_of_a_reject_domain_fails_dmarc() {
    let nsd = Nsd::start();
    let auth = authenticator(nsd.port, 3000);
    let spoof = String::from_utf8_lossy(MAIL).replace("sato@good.test", "boss@bad.test");
    let results = verify(&auth, spoof.as_bytes(), "boss@bad.test");
    assert_eq!(results.spf, Verdict::Fail, "{results:?}");
    assert_eq!(results.dkim_overall(), Verdict::None, "{results:?}");
    assert_eq!(results.dmarc, Verdict::Fail, "{results:?}");
    assert_eq!(
        results.dmarc_policy,
        Some(mukaika_auth::DmarcPolicy::Reject)
    );
    let warning = results.warning().expect("a warning");
    assert!(warning.ja.contains("なりすましの疑い") && warning.ja.contains("bad.test"));
}

#[test]
fn own_domain_from_outside_is_flagged() {
    let nsd = Nsd::start();
    let auth = authenticator(nsd.port, 3000);
    let own = String::from_utf8_lossy(MAIL).replace("sato@good.test", "mayor@city.lg.jp");
    let results = verify(&auth, own.as_bytes(), "sato@good.test");
    assert!(results.own_domain_untrusted, "{results:?}");
    assert!(results.warning().unwrap().ja.contains("自組織"));
}

#[test]
fn dns_server_stopped_is_temperror_within_the_timeout() {
    let mut nsd = Nsd::start();
    let auth = authenticator(nsd.port, 1000);
    let signed = nsd.sign(MAIL);
    nsd.stop();
    let started = Instant::now();
    let results = verify(&auth, &signed, "sato@good.test");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert!(results.has_temperror(), "{results:?}");
    assert_ne!(results.spf, Verdict::Pass, "{results:?}");
    assert_ne!(results.dkim_overall(), Verdict::Pass, "{results:?}");
    assert_ne!(results.dmarc, Verdict::Pass, "{results:?}");
    assert_eq!(results.dmarc, Verdict::TempError, "{results:?}");
}
