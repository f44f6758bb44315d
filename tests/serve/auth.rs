//! Sender authentication end to end: swaks → `mukaika serve` (with
//! `[auth] mode = "annotate"` against a real nsd) → smtp-sink.

use std::time::{Duration, Instant};

use crate::harness::{Mukaika, Sink, swaks};
use crate::nsd::Nsd;

fn mail(from: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: <{from}>\r\nTo: a@lgwan.example.jp\r\nSubject: {subject}\r\n\
         Date: Sat, 5 Dec 2026 10:00:00 +0900\r\nMessage-ID: <{subject}@test>\r\n\r\n\
         本文です。\r\n"
    )
    .into_bytes()
}

fn send_from(relay: &Mukaika, sender: &str, mail: &[u8]) {
    let out = swaks(
        relay,
        &[
            "--from",
            sender,
            "--helo",
            "mail.good.test",
            "--to",
            "a@lgwan.example.jp",
            "--data",
            "-",
        ],
        Some(mail),
    );
    assert!(out.status.success(), "swaks failed:\n{}", out.text);
}

/// The delivered mail (raw) whose Subject contains `token`.
fn delivered(sink: &Sink, token: &str, n: usize) -> String {
    let mails = sink.wait_for_messages(n, crate::WAIT);
    let mail = mails
        .iter()
        .find(|m| crate::parse(m).subject().is_some_and(|s| s.contains(token)))
        .unwrap_or_else(|| panic!("no delivered mail about {token}"));
    String::from_utf8_lossy(mail).into_owned()
}

/// Every `Authentication-Results:` field of `mail`, unfolded.
fn auth_results(mail: &str) -> Vec<String> {
    let mail = mail.replace("\r\n", "\n");
    let headers = mail.split("\n\n").next().unwrap_or_default();
    let unfolded = headers.replace("\n\t", " ").replace("\n ", " ");
    unfolded
        .lines()
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with("authentication-results:")
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn issue_14_results_cross_as_our_one_field_and_forged_ones_do_not() {
    let mut nsd = Nsd::start();
    let sink = Sink::start();
    let nameservers = format!("[\"127.0.0.1:{}\"]", nsd.port);
    let relay = Mukaika::start(
        &sink,
        &[
            ("ingress.hostname", "\"mx.city.lg.jp\""),
            ("auth.mode", "\"annotate\""),
            ("auth.nameservers", &nameservers),
            ("auth.timeout_ms", "1000"),
        ],
    );

    // Signed by dkimpy, with a forged field from outside on top.
    let signed = nsd.sign(&mail("sato@good.test", "signed"));
    let mut forged =
        b"Authentication-Results: mx.city.lg.jp; dkim=pass header.d=evil.test\r\n".to_vec();
    forged.extend_from_slice(&signed);
    send_from(&relay, "sato@good.test", &forged);
    let got = delivered(&sink, "signed", 1);
    let fields = auth_results(&got);
    assert_eq!(fields.len(), 1, "{fields:?}\n{got}");
    assert!(!got.contains("evil.test"), "{got}");
    assert!(
        fields[0].starts_with("Authentication-Results: mx.city.lg.jp;")
            && fields[0].contains("spf=pass smtp.mailfrom=good.test")
            && fields[0].contains("dkim=pass header.d=good.test header.s=s1")
            && fields[0].contains("dmarc=pass"),
        "{fields:?}"
    );

    // The body changed after signing.
    let mut changed = nsd.sign(&mail("sato@good.test", "changed"));
    let at = changed.len() - 4;
    changed[at] = b'!';
    send_from(&relay, "sato@good.test", &changed);
    let fields = auth_results(&delivered(&sink, "changed", 2));
    assert!(
        fields[0].contains("dkim=fail header.d=good.test"),
        "{fields:?}"
    );

    // A spoofed From of a p=reject domain.
    send_from(
        &relay,
        "attacker@good.test",
        &mail("boss@bad.test", "spoofed"),
    );
    let spoofed = delivered(&sink, "spoofed", 3);
    let fields = auth_results(&spoofed);
    assert!(
        fields[0].contains("dmarc=fail policy.dmarc=reject header.from=bad.test"),
        "{fields:?}"
    );
    // The notice opens with the warning, for the clerk who reads it.
    let text = crate::parse(spoofed.as_bytes())
        .body_text(0)
        .unwrap()
        .into_owned();
    assert!(
        text.contains("なりすましの疑い") && text.contains("Suspected spoofing"),
        "{text}"
    );
    assert!(
        relay.log().contains("suspected spoofing"),
        "{}",
        relay.log()
    );

    // The DNS server stopped: temperror, delivered within the timeout
    // (a domain not asked before, so nothing comes from the cache).
    nsd.stop();
    let started = Instant::now();
    send_from(&relay, "kato@other.test", &mail("kato@other.test", "nodns"));
    let fields = auth_results(&delivered(&sink, "nodns", 4));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        fields[0].contains("spf=temperror") && fields[0].contains("dmarc=temperror"),
        "{fields:?}"
    );
    assert!(!fields[0].contains("=pass"), "{fields:?}");
}
