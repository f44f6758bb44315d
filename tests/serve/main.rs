//! End-to-end tests of `mukaika serve` with real peers on 127.0.0.1:
//! swaks as the sending MTA, Postfix's smtp-sink as the LGWAN-side next
//! hop, the real spool and quarantine on disk. `scripts/test` installs the
//! tools; a missing one fails the test, it never skips.

mod auth;
mod browser;
#[path = "../../crates/scan/tests/support/mod.rs"]
mod clamd;
mod console;
mod convert;
mod harness;
#[path = "../../crates/auth/tests/support/mod.rs"]
mod nsd;
mod scanning;
mod workers;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::{Mukaika, Sink, queue_id, swaks};
use mail_parser::MimeHeaders;

const WAIT: Duration = Duration::from_secs(60);

fn parse(mail: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::new()
        .parse(mail)
        .expect("the sink got a mail")
}

#[test]
fn japanese_html_mail_arrives_sanitized_and_the_original_is_quarantined() {
    let sink = Sink::start();
    let relay = Mukaika::start(&sink, &[]);
    let sample = harness::repo().join("samples/104-html-shiftjis-meta-charset.eml");
    let out = swaks(
        &relay,
        &[
            "--to",
            "tanaka@lgwan.example.jp",
            "--data",
            sample.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "swaks failed:\n{}", out.text);
    let id = queue_id(&out.text).expect("a queue ID in the 250 reply");

    let delivered = sink.wait_for_messages(1, WAIT);
    let mail = parse(&delivered[0]);
    assert!(
        mail.parts.iter().all(|p| p
            .content_type()
            .is_none_or(|ct| ct.subtype() != Some("html"))),
        "no HTML may cross"
    );
    let text = mail.body_text(0).expect("a text body");
    assert!(text.contains("無害化"), "the notice opens the body: {text}");
    assert!(text.contains('～'), "Shift_JIS read as CP932: {text}");
    assert!(!text.contains("<p"), "no markup: {text}");
    let raw = String::from_utf8_lossy(&delivered[0]);
    assert!(
        raw.contains("X-Mukaika-Sanitized: profile=standard; verdict=sanitized"),
        "{raw}"
    );
    assert!(
        raw.contains("X-Rcpt-Args: <tanaka@lgwan.example.jp>"),
        "{raw}"
    );

    relay.wait_for_status(&id, "delivered", WAIT);
    let show = relay.command(&["quarantine", "show", &id]);
    assert!(show.status.success(), "{}", show.text);
    let record: serde_json::Value = serde_json::from_str(&show.stdout).expect("show prints JSON");
    assert_eq!(record["verdict"], "sanitized");
    assert_eq!(
        record["envelope"]["recipients"][0],
        "tanaka@lgwan.example.jp"
    );
    assert_eq!(record["report"]["parts"][0]["action"], "converted");
    let list = relay.command(&["quarantine", "list", "--verdict", "sanitized"]);
    assert!(list.stdout.contains(&id), "{}", list.text);
    // The log has one line per stage for the message.
    let log = relay.log();
    assert!(
        log.contains("VIRUS SCANNING IS OFF"),
        "the embedded default scans nothing, and says so:\n{log}"
    );
    for stage in ["received", "sanitized", "delivered"] {
        assert!(
            log.lines().any(|l| l.contains(&id) && l.contains(stage)),
            "no {stage} line for {id}:\n{log}"
        );
    }
}

#[test]
fn relay_is_denied_for_a_foreign_domain() {
    let sink = Sink::start();
    let relay = Mukaika::start(&sink, &[]);
    let out = swaks(&relay, &["--to", "victim@elsewhere.example.com"], None);
    assert!(!out.status.success());
    assert!(out.text.contains("550 5.7.1"), "{}", out.text);
    assert!(sink.messages().is_empty());
}

#[test]
fn a_message_over_the_size_limit_is_refused() {
    let sink = Sink::start();
    let relay = Mukaika::start(&sink, &[("ingress.max_message_bytes", "10000")]);
    let big = format!(
        "Subject: big\r\n\r\n{}",
        format!("{}\r\n", "x".repeat(98)).repeat(200)
    );
    let out = swaks(
        &relay,
        &["--to", "a@lgwan.example.jp", "--data", "-"],
        Some(big.as_bytes()),
    );
    assert!(!out.status.success());
    assert!(out.text.contains("552 5.3.4"), "{}", out.text);
}

#[test]
fn pipelining_sends_the_whole_transaction_at_once() {
    let sink = Sink::start();
    let relay = Mukaika::start(&sink, &[]);
    let out = swaks(
        &relay,
        &[
            "--pipeline",
            "--to",
            "a@lgwan.example.jp,b@lgwan.example.jp",
            "--h-Subject",
            "pipelined",
        ],
        None,
    );
    assert!(out.status.success(), "{}", out.text);
    let delivered = sink.wait_for_messages(1, WAIT);
    let raw = String::from_utf8_lossy(&delivered[0]);
    assert!(
        raw.contains("<a@lgwan.example.jp>") && raw.contains("<b@lgwan.example.jp>"),
        "{raw}"
    );
}

#[test]
fn starttls_with_a_test_certificate() {
    let sink = Sink::start();
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("running openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (cert, key) = (
        format!("\"{}\"", cert.display()),
        format!("\"{}\"", key.display()),
    );
    let relay = Mukaika::start(
        &sink,
        &[
            ("ingress.tls.mode", "\"required\""),
            ("ingress.tls.cert", &cert),
            ("ingress.tls.key", &key),
        ],
    );

    let plain = swaks(&relay, &["--to", "a@lgwan.example.jp"], None);
    assert!(!plain.status.success());
    assert!(
        plain.text.contains("530 5.7.0"),
        "TLS is required:\n{}",
        plain.text
    );

    let tls = swaks(
        &relay,
        &[
            "--tls",
            "--to",
            "a@lgwan.example.jp",
            "--h-Subject",
            "over TLS",
        ],
        None,
    );
    assert!(tls.status.success(), "{}", tls.text);
    let delivered = sink.wait_for_messages(1, WAIT);
    let raw = String::from_utf8_lossy(&delivered[0]);
    assert!(
        raw.contains("over TLS") && raw.contains("with ESMTPS"),
        "our Received line records TLS:\n{raw}"
    );
}

#[test]
fn next_hop_down_defers_then_delivers_when_it_returns() {
    let mut sink = Sink::stopped();
    let relay = Mukaika::start(&sink, &[]);
    let out = swaks(
        &relay,
        &[
            "--to",
            "a@lgwan.example.jp",
            "--h-Subject",
            "deferred-token",
        ],
        None,
    );
    assert!(out.status.success(), "{}", out.text);
    let id = queue_id(&out.text).unwrap();
    relay.wait_for_status(&id, "deferred", WAIT);

    sink.restart();
    let delivered = sink.wait_for_messages(1, WAIT);
    assert!(String::from_utf8_lossy(&delivered[0]).contains("deferred-token"));
    relay.wait_for_status(&id, "delivered", WAIT);
}

#[test]
fn kill_9_while_mail_streams_in_loses_no_accepted_message() {
    const MAILS: usize = 200;
    let sink = Sink::start();
    let relay = Arc::new(Mutex::new(Mukaika::start(&sink, &[])));
    let port = relay.lock().unwrap().port;
    let accepted = Arc::new(Mutex::new(BTreeSet::new()));
    let next = Arc::new(Mutex::new(0usize));

    let senders: Vec<_> = (0..4)
        .map(|_| {
            let (accepted, next) = (accepted.clone(), next.clone());
            std::thread::spawn(move || {
                loop {
                    let n = {
                        let mut next = next.lock().unwrap();
                        *next += 1;
                        *next
                    };
                    if n > MAILS {
                        return;
                    }
                    let token = format!("kill9-token-{n:04}");
                    let out = Command::new("swaks")
                        .args([
                            "--server",
                            &format!("127.0.0.1:{port}"),
                            "--from",
                            "s@example.com",
                        ])
                        .args([
                            "--to",
                            "a@lgwan.example.jp",
                            "--h-Subject",
                            &token,
                            "--timeout",
                            "10",
                        ])
                        .output()
                        .expect("running swaks");
                    if out.status.success() {
                        accepted.lock().unwrap().insert(token);
                    }
                }
            })
        })
        .collect();

    // Let some mail in, crash the relay, start it again while senders go on.
    while accepted.lock().unwrap().len() < 60 {
        std::thread::sleep(Duration::from_millis(10));
    }
    {
        let mut relay = relay.lock().unwrap();
        relay.kill9();
        relay.restart();
    }
    for s in senders {
        s.join().unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() > 100,
        "most mails should have been accepted: {}",
        accepted.len()
    );

    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let delivered: Vec<String> = sink
            .messages()
            .iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .collect();
        let missing: Vec<&String> = accepted
            .iter()
            .filter(|t| !delivered.iter().any(|m| m.contains(t.as_str())))
            .collect();
        if missing.is_empty() {
            let duplicates = delivered.len().saturating_sub(accepted.len());
            eprintln!(
                "{} accepted, {} delivered ({duplicates} extra: at-least-once)",
                accepted.len(),
                delivered.len()
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} accepted mails never arrived, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn quarantine_commands_release_show_delete_with_meaningful_exit_codes() {
    let sink = Sink::start();
    let relay = Mukaika::start(&sink, &[]);
    let html = "Subject: release me\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Original <b>bold</b> <a href=\"https://example.com/x\">link</a></p>\r\n";
    let out = swaks(
        &relay,
        &["--to", "a@lgwan.example.jp", "--data", "-"],
        Some(html.as_bytes()),
    );
    assert!(out.status.success(), "{}", out.text);
    let id = queue_id(&out.text).unwrap();
    relay.wait_for_status(&id, "delivered", WAIT);
    assert_eq!(sink.wait_for_messages(1, WAIT).len(), 1);

    // Release: the original, unchanged, goes to the next hop; who did it is recorded.
    let release = relay.command(&["quarantine", "release", &id, "--by", "yamada"]);
    assert!(release.status.success(), "{}", release.text);
    let delivered = sink.wait_for_messages(2, WAIT);
    let released = delivered
        .iter()
        .map(|m| String::from_utf8_lossy(m))
        .find(|m| m.contains("<b>bold</b>"));
    let released = released.expect("the original arrives as it was sent");
    assert!(!released.contains("X-Mukaika-Sanitized"), "{released}");
    // With resent fields on top, so it is told from the sanitized copy.
    assert!(
        released.contains("Resent-Message-ID: <")
            && released.contains("X-Mukaika-Released: by=cli:yamada"),
        "{released}"
    );
    let show: serde_json::Value =
        serde_json::from_str(&relay.command(&["quarantine", "show", &id]).stdout).unwrap();
    assert_eq!(show["status"], "released");
    let last = show["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["by"], "yamada");

    // Delete, then the ID is gone: exit 3; a malformed ID is a usage error: exit 2.
    assert_eq!(
        relay.command(&["quarantine", "delete", &id]).status.code(),
        Some(0)
    );
    assert_eq!(
        relay.command(&["quarantine", "show", &id]).status.code(),
        Some(3)
    );
    assert_eq!(
        relay.command(&["quarantine", "delete", &id]).status.code(),
        Some(3)
    );
    assert_eq!(
        relay
            .command(&["quarantine", "show", "../etc"])
            .status
            .code(),
        Some(2)
    );
    let purge = relay.command(&["quarantine", "purge"]);
    assert!(
        purge.status.success() && purge.stdout.contains("0 records purged"),
        "{}",
        purge.text
    );
}

#[test]
fn sigterm_stops_cleanly_and_a_restart_resumes() {
    let mut sink = Sink::stopped();
    let mut relay = Mukaika::start(&sink, &[]);
    let out = swaks(
        &relay,
        &[
            "--to",
            "a@lgwan.example.jp",
            "--h-Subject",
            "survives-restart",
        ],
        None,
    );
    assert!(out.status.success(), "{}", out.text);
    let id = queue_id(&out.text).unwrap();
    relay.wait_for_status(&id, "deferred", WAIT);

    let status = relay.terminate(Duration::from_secs(20));
    assert!(status.success(), "exit status {status}:\n{}", relay.log());
    assert!(relay.log().contains("shutting down"), "{}", relay.log());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", relay.port)).is_err(),
        "no longer listening"
    );

    sink.restart();
    relay.restart();
    let delivered = sink.wait_for_messages(1, WAIT);
    assert!(String::from_utf8_lossy(&delivered[0]).contains("survives-restart"));
    relay.wait_for_status(&id, "delivered", WAIT);
}

#[test]
fn a_permanent_failure_bounces_through_the_bounce_route_or_stays_undeliverable() {
    let refusing = Sink::start_with(&["-f", "RCPT"]);
    let bounces = Sink::start();
    let route = format!("\"smtp://127.0.0.1:{}\"", bounces.port);
    let relay = Mukaika::start(&refusing, &[("relay.bounce_route", &route)]);
    let out = swaks(
        &relay,
        &["--to", "gone@lgwan.example.jp", "--h-Subject", "bounce-me"],
        None,
    );
    assert!(out.status.success(), "{}", out.text);
    let id = queue_id(&out.text).unwrap();
    relay.wait_for_status(&id, "bounced", WAIT);
    let dsn = bounces.wait_for_messages(1, WAIT);
    let dsn = String::from_utf8_lossy(&dsn[0]);
    assert!(
        dsn.contains("X-Rcpt-Args: <sender@example.com>"),
        "the DSN goes to the envelope sender:\n{dsn}"
    );
    assert!(
        dsn.contains("X-Mail-Args: <>"),
        "from the null sender:\n{dsn}"
    );
    assert!(
        dsn.contains("message/delivery-status") && dsn.contains("Action: failed"),
        "{dsn}"
    );
    assert!(dsn.contains("gone@lgwan.example.jp"), "{dsn}");

    // Without a bounce route nothing is sent, and the record says so.
    let refusing = Sink::start_with(&["-f", "RCPT"]);
    let relay = Mukaika::start(&refusing, &[]);
    let out = swaks(&relay, &["--to", "gone@lgwan.example.jp"], None);
    let id = queue_id(&out.text).unwrap();
    relay.wait_for_status(&id, "undeliverable", WAIT);
}

#[test]
fn a_message_with_a_held_part_is_listed_with_the_held_ones() {
    let sink = Sink::start();
    let relay = Mukaika::start(&sink, &[]);
    // A zip whose entry says it is ZipCrypto-encrypted (local and central
    // flags): it cannot be opened, so it is held while the text crosses.
    let mut zip = harness::zip_of("secret.txt", b"0123456789abcdef");
    zip[6] |= 1;
    let central = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    zip[central + 8] |= 1;
    let mail = harness::with_attachment("locked-token", "秘密.zip", &zip, 76);
    let id = harness::send(&relay, &mail);
    let body = harness::delivered_with(&sink, "locked-token", 1);
    assert!(body.contains("秘密.zip"), "{body}");
    relay.wait_for_status(&id, "delivered", WAIT);
    let record = harness::record(&relay, &id);
    assert_eq!(record["verdict"], "held", "{record}");
    assert_eq!(record["report"]["verdict"], "sanitized", "{record}");
    let list = relay.command(&["quarantine", "list", "--verdict", "held"]);
    assert!(list.stdout.contains(&id), "{}", list.text);
    let history = record["history"].to_string();
    assert!(history.contains("part(s) held"), "{history}");
}

/// Issue 16.6: SIGHUP (logrotate, an admin's habit) used to end the daemon
/// without a word. It is logged and ignored; mail still flows.
#[test]
fn sighup_is_logged_and_ignored() {
    let sink = Sink::start();
    let relay = Mukaika::start(&sink, &[]);
    let hup = Command::new("kill")
        .args(["-HUP", &relay.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    std::thread::sleep(Duration::from_millis(500));
    let id = harness::send(&relay, b"Subject: after HUP\r\n\r\nstill here\r\n");
    relay.wait_for_status(&id, "delivered", WAIT);
    assert!(
        relay.log().contains("SIGHUP received"),
        "the signal is logged:\n{}",
        relay.log()
    );
}
