//! Virus scanning end to end: swaks → mukaika serve ⇄ a real clamd (the
//! project's own signatures) → smtp-sink.

use std::time::Duration;

use crate::WAIT;
use crate::clamd::{Clamd, eicar};
use crate::harness::{
    self, Mukaika, Sink, delivered_with, record, send, sevenz_of, tgz_of, with_attachment, zip_of,
};

fn start_clamd() -> Clamd {
    Clamd::start(&harness::repo().join("crates/scan/tests/signatures"))
}

fn relay(sink: &Sink, clamd: &Clamd, more: &[(&str, &str)]) -> Mukaika {
    let address = format!("\"{}\"", clamd.unix());
    let mut overrides = vec![
        ("scanner.clamd", address.as_str()),
        ("scanner.retry_secs", "1"),
    ];
    overrides.extend_from_slice(more);
    Mukaika::start(sink, &overrides)
}

/// A message forwarding `inner` as message/rfc822.
fn forwarding(subject: &str, inner: &[u8]) -> Vec<u8> {
    let mut mail = format!(
        "From: Sender <sender@example.com>\r\nTo: a@lgwan.example.jp\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fw\"\r\n\r\n\
         --fw\r\nContent-Type: text/plain\r\n\r\nForwarding.\r\n\
         --fw\r\nContent-Type: message/rfc822\r\n\r\n"
    )
    .into_bytes();
    mail.extend_from_slice(inner);
    mail.extend_from_slice(b"\r\n--fw--\r\n");
    mail
}

#[test]
fn viruses_are_found_wherever_they_hide_and_the_mail_is_held() {
    let clamd = start_clamd();
    let sink = Sink::start();
    let relay = relay(&sink, &clamd, &[]);
    let eicar = eicar();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "attached",
            with_attachment("attached", "test.com", &eicar, 76),
        ),
        (
            "odd-base64",
            with_attachment("odd-base64", "x.bin", &eicar, 13),
        ),
        (
            "forwarded",
            forwarding("forwarded", &with_attachment("inner", "fw.com", &eicar, 76)),
        ),
        (
            "zipped",
            with_attachment("zipped", "見積.zip", &zip_of("eicar.com", &eicar), 76),
        ),
        (
            "nested-zips",
            with_attachment(
                "nested-zips",
                "outer.zip",
                &zip_of("b.zip", &zip_of("c.zip", &zip_of("eicar.com", &eicar))),
                76,
            ),
        ),
        (
            "tar-gz",
            with_attachment(
                "tar-gz",
                "資料.tar.gz",
                &tgz_of("docs/eicar.com", &eicar),
                76,
            ),
        ),
        (
            "zip-in-tgz-in-7z",
            with_attachment(
                "zip-in-tgz-in-7z",
                "outer.7z",
                &sevenz_of("in.tgz", &tgz_of("b.zip", &zip_of("eicar.com", &eicar))),
                76,
            ),
        ),
    ];
    let ids: Vec<(&str, String)> = cases
        .iter()
        .map(|(token, mail)| (*token, send(&relay, mail)))
        .collect();
    let clean = send(
        &relay,
        &with_attachment("clean", "note.txt", "ただのテキスト".as_bytes(), 76),
    );

    let n = ids.len() + 1;
    for (token, id) in &ids {
        let body = delivered_with(&sink, token, n);
        assert!(body.contains("ウイルスを検出"), "{token}: {body}");
        assert!(
            body.contains("差出人: Sender <sender@example.com>"),
            "{token}: {body}"
        );
        assert!(body.contains(&format!("件名: {token}")), "{token}: {body}");
        assert!(
            body.contains("Virus found: Custom.EICAR"),
            "{token}: {body}"
        );
        assert!(
            !body.contains("body-token"),
            "nothing of it is delivered: {body}"
        );
        relay.wait_for_status(id, "delivered", WAIT);
        let record = record(&relay, id);
        assert_eq!(record["verdict"], "infected", "{token}");
        assert_eq!(record["report"]["verdict"], "held", "{token}");
        let threats = record["report"]["threats"].as_array().unwrap();
        // The decoded part is found, not just the raw message.
        let in_part = threats.iter().find(|t| !t["part"].is_null());
        let in_part = in_part.unwrap_or_else(|| panic!("{token}: {threats:?}"));
        assert!(
            in_part["name"].as_str().unwrap().contains("EICAR"),
            "{in_part}"
        );
        assert!(
            in_part["engine"].as_str().unwrap().starts_with("ClamAV 1."),
            "{in_part}"
        );
        let expected_part = if *token == "forwarded" { "2.2" } else { "2" };
        assert_eq!(in_part["part"], expected_part, "{token}");
        // Archive entries are unpacked by the core and scanned one by one.
        let entry = match *token {
            "zipped" => Some("eicar.com"),
            "nested-zips" => Some("b.zip > c.zip > eicar.com"),
            "tar-gz" => Some("docs/eicar.com"),
            "zip-in-tgz-in-7z" => Some("in.tgz > b.zip > eicar.com"),
            _ => None,
        };
        if let Some(entry) = entry {
            assert!(
                threats
                    .iter()
                    .any(|t| t["entry"] == entry && t["part"] == "2"),
                "{token}: no threat in entry {entry}: {threats:?}"
            );
        }
    }
    let body = delivered_with(&sink, "clean", n);
    assert!(body.contains("body-token"), "{body}");
    assert_eq!(record(&relay, &clean)["verdict"], "sanitized");
    assert!(
        record(&relay, &clean)["report"]["threats"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let log = relay.log();
    assert!(
        log.lines()
            .any(|l| l.contains(&ids[0].1) && l.contains("virus found")),
        "{log}"
    );
    // An infected original is not released by mistake.
    let release = relay.command(&["quarantine", "release", &ids[0].1]);
    assert_eq!(release.status.code(), Some(2), "{}", release.text);
    assert!(release.text.contains("--force"), "{}", release.text);
}

#[test]
fn remove_part_mode_delivers_the_rest() {
    let clamd = start_clamd();
    let sink = Sink::start();
    let relay = relay(
        &sink,
        &clamd,
        &[("profiles.standard.on_infected", "\"remove-part\"")],
    );
    let id = send(
        &relay,
        &with_attachment("remove-part", "請求書.com", &eicar(), 76),
    );
    let body = delivered_with(&sink, "remove-part", 1);
    assert!(body.contains("本文です。body-token"), "{body}");
    assert!(
        body.contains("「請求書.com」からウイルス（")
            && body.contains("を検出したため削除しました"),
        "{body}"
    );
    relay.wait_for_status(&id, "delivered", WAIT);
    let record = record(&relay, &id);
    assert_eq!(record["verdict"], "infected");
    assert_eq!(record["report"]["verdict"], "sanitized");
    assert_eq!(record["report"]["parts"][1]["action"], "removed");
    assert_eq!(record["report"]["parts"][1]["reason"], "virus-found");
}

#[test]
fn clamd_down_defers_the_mail_and_it_flows_when_clamd_returns() {
    let mut clamd = start_clamd();
    let sink = Sink::start();
    let metrics_port = harness::free_port();
    let listen = format!("\"127.0.0.1:{metrics_port}\"");
    let relay = relay(&sink, &clamd, &[("metrics.listen", &listen)]);
    clamd.kill();
    let id = send(&relay, &with_attachment("waiting", "a.txt", b"plain", 76));
    // Accepted, but not delivered while there is no verdict.
    let deadline = std::time::Instant::now() + WAIT;
    while !relay
        .log()
        .lines()
        .any(|l| l.contains(&id) && l.contains("scan-deferred"))
    {
        assert!(std::time::Instant::now() < deadline, "{}", relay.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(sink.messages().is_empty(), "nothing passes unscanned");
    let metrics = http_get(metrics_port, "/metrics");
    assert!(
        metrics.contains(
            "mukaika_scan_no_verdict_total{reason=\"scan-unavailable\",then=\"deferred\"}"
        ),
        "{metrics}"
    );

    clamd.restart();
    let body = delivered_with(&sink, "waiting", 1);
    assert!(body.contains("body-token"), "{body}");
    relay.wait_for_status(&id, "delivered", WAIT);
    assert_eq!(record(&relay, &id)["verdict"], "sanitized");
}

/// A plain HTTP/1.0 GET on 127.0.0.1: the response, headers and body.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics listener");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn clamd_down_with_on_unavailable_hold_holds_with_a_notice() {
    let mut clamd = start_clamd();
    let sink = Sink::start();
    let relay = relay(&sink, &clamd, &[("scanner.on_unavailable", "\"hold\"")]);
    clamd.kill();
    let id = send(&relay, &with_attachment("unscanned", "a.txt", b"plain", 76));
    let body = delivered_with(&sink, "unscanned", 1);
    assert!(
        body.contains("ウイルス検査を実施できませんでした"),
        "{body}"
    );
    assert!(!body.contains("body-token"), "{body}");
    relay.wait_for_status(&id, "delivered", WAIT);
    let record = record(&relay, &id);
    assert_eq!(record["verdict"], "held");
    assert_eq!(record["report"]["reason"], "scan-unavailable");
}

#[test]
fn sanitize_command_scans_when_the_config_enables_clamd() {
    let clamd = start_clamd();
    let sink = Sink::stopped();
    let relay = relay(&sink, &clamd, &[]);
    let input = relay.dir.path().join("infected.eml");
    std::fs::write(&input, with_attachment("cli", "t.com", &eicar(), 76)).unwrap();
    let out = relay.command(&[
        "sanitize",
        input.to_str().unwrap(),
        "--out",
        "/dev/null",
        "--report",
        "-",
    ]);
    assert!(out.status.success(), "{}", out.text);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert_eq!(report["verdict"], "held");
    assert_eq!(report["reason"], "virus-found");
    assert!(
        report["threats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["part"] == "2"),
        "{report}"
    );
}

#[test]
fn a_part_too_large_for_clamd_is_held_not_retried() {
    let clamd = start_clamd();
    let sink = Sink::start();
    let relay = relay(&sink, &clamd, &[("scanner.max_stream_bytes", "4096")]);
    let big = "大きな添付ファイル。".repeat(1000).into_bytes();
    let id = send(&relay, &with_attachment("too-large", "big.txt", &big, 76));
    let body = delivered_with(&sink, "too-large", 1);
    assert!(
        body.contains("ウイルス検査できるサイズを超えています"),
        "{body}"
    );
    relay.wait_for_status(&id, "delivered", WAIT);
    let record = record(&relay, &id);
    assert_eq!(record["verdict"], "held");
    assert_eq!(record["report"]["reason"], "scan-too-large");
    assert!(
        relay
            .log()
            .lines()
            .any(|l| l.contains(&id) && l.contains("scan-held")),
        "{}",
        relay.log()
    );
}
