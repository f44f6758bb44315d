//! DSNs read back with mail-parser, as a mail client would.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use mukaika_relay::dsn;
use mukaika_spool::{Envelope, Stage};

fn envelope(sender: &str) -> Envelope {
    Envelope {
        sender: sender.into(),
        recipients: vec!["taro@example.lg.jp".into(), "hanako@example.lg.jp".into()],
        received_at: 1_700_000_000,
        client_ip: "192.0.2.1".into(),
        helo: "mx.example.com".into(),
        stage: Stage::Sanitized,
        attempts: 3,
        next_attempt: 0,
        last_error: None,
    }
}

const ORIGINAL: &[u8] = "From: sender@example.com\r\n\
To: taro@example.lg.jp\r\n\
Subject: =?UTF-8?B?6KuL5rGC5pu4?=\r\n\
Message-ID: <orig-1@example.com>\r\n\
\r\n\
body that must not be included\r\n"
    .as_bytes();

fn part_text(part: &mail_parser::MessagePart<'_>) -> String {
    match &part.body {
        PartType::Text(t) => t.to_string(),
        PartType::Binary(b) | PartType::InlineBinary(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("unexpected body {other:?}"),
    }
}

/// (name, value) pairs of one block of the delivery-status body.
fn fields(block: &str) -> Vec<(String, String)> {
    block
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn get<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {f:?}"))
}

#[test]
fn a_dsn_is_an_rfc3464_report() {
    let failed = vec![
        (
            "taro@example.lg.jp".to_string(),
            "550 5.1.1 <taro@example.lg.jp>: Recipient address rejected".to_string(),
        ),
        (
            "hanako@example.lg.jp".to_string(),
            "4.4.1 connect to 10.0.0.25:25: Connection refused".to_string(),
        ),
    ];
    let raw = dsn(
        &envelope("sender@example.com"),
        &failed,
        ORIGINAL,
        "relay.example.lg.jp",
        1_700_000_500,
    );
    let msg = MessageParser::default().parse(&raw).expect("parses");

    // Top level.
    assert_eq!(
        msg.to().unwrap().first().unwrap().address().unwrap(),
        "sender@example.com"
    );
    assert_eq!(
        msg.from().unwrap().first().unwrap().address().unwrap(),
        "postmaster@relay.example.lg.jp"
    );
    assert!(
        msg.subject()
            .unwrap()
            .contains("Undelivered Mail Returned to Sender")
    );
    assert!(msg.subject().unwrap().starts_with("配送不能"));
    assert_eq!(
        msg.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-replied")
    );
    assert!(msg.message_id().unwrap().ends_with("@relay.example.lg.jp"));
    assert_eq!(msg.date().unwrap().to_timestamp(), 1_700_000_500);
    let ct = msg.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("report")));
    assert_eq!(ct.attribute("report-type"), Some("delivery-status"));

    // Three parts, in RFC 3464 order.
    let root = &msg.parts[0];
    let PartType::Multipart(children) = &root.body else {
        panic!("multipart root")
    };
    assert_eq!(children.len(), 3);
    let types: Vec<String> = children
        .iter()
        .map(|&i| {
            let ct = msg.parts[i as usize].content_type().unwrap();
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        types,
        [
            "text/plain",
            "message/delivery-status",
            "text/rfc822-headers"
        ]
    );
    let [text, status, headers] = [0, 1, 2].map(|n| &msg.parts[children[n] as usize]);

    // Human-readable: Japanese first, then English, both naming the failures.
    let text = part_text(text);
    let ja = text.find("配送できませんでした").expect("Japanese text");
    let en = text.find("could not be delivered").expect("English text");
    assert!(ja < en, "Japanese comes first");
    for (rcpt, reason) in &failed {
        assert!(
            text.matches(&format!("<{rcpt}>")).count() >= 2,
            "{rcpt} in both languages"
        );
        assert_eq!(
            text.matches(reason.as_str()).count(),
            2,
            "{reason} in both languages"
        );
    }

    // Machine-readable.
    let status = part_text(status);
    let blocks: Vec<&str> = status
        .split("\r\n\r\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect();
    assert_eq!(
        blocks.len(),
        3,
        "per-message block + one per recipient: {status:?}"
    );
    let per_message = fields(blocks[0]);
    assert_eq!(
        get(&per_message, "Reporting-MTA"),
        "dns; relay.example.lg.jp"
    );
    assert!(get(&per_message, "Arrival-Date").contains("14 Nov 2023"));
    let taro = fields(blocks[1]);
    assert_eq!(get(&taro, "Final-Recipient"), "rfc822; taro@example.lg.jp");
    assert_eq!(get(&taro, "Action"), "failed");
    assert_eq!(get(&taro, "Status"), "5.1.1");
    assert_eq!(
        get(&taro, "Diagnostic-Code"),
        "smtp; 550 5.1.1 <taro@example.lg.jp>: Recipient address rejected"
    );
    let hanako = fields(blocks[2]);
    assert_eq!(
        get(&hanako, "Final-Recipient"),
        "rfc822; hanako@example.lg.jp"
    );
    assert_eq!(get(&hanako, "Action"), "failed");
    assert_eq!(
        get(&hanako, "Status"),
        "4.4.1",
        "an expired temporary failure keeps its code, as in Postfix"
    );
    assert!(get(&hanako, "Diagnostic-Code").starts_with("X-Mukaika; 4.4.1 connect to"));

    // The original's headers, not its body.
    let headers = part_text(headers);
    assert!(headers.contains("Message-ID: <orig-1@example.com>"));
    assert!(headers.contains("Subject: =?UTF-8?B?6KuL5rGC5pu4?="));
    assert!(!headers.contains("must not be included"));
}

#[test]
fn a_hostile_reason_cannot_forge_fields() {
    let failed = vec![(
        "taro@example.lg.jp".to_string(),
        "550 5.1.1 nope\r\nAction: delivered\r\n\r\nFinal-Recipient: rfc822; x@evil".to_string(),
    )];
    let raw = dsn(
        &envelope("sender@example.com"),
        &failed,
        ORIGINAL,
        "relay.example.lg.jp",
        1_700_000_500,
    );
    let msg = MessageParser::default().parse(&raw).unwrap();
    let status = msg
        .parts
        .iter()
        .find(|p| {
            p.content_type()
                .is_some_and(|c| c.subtype() == Some("delivery-status"))
        })
        .map(part_text)
        .unwrap();
    let starting = |name: &str| status.lines().filter(|l| l.starts_with(name)).count();
    assert_eq!(starting("Action:"), 1, "{status}");
    assert_eq!(starting("Final-Recipient:"), 1, "{status}");
    assert!(status.contains("\r\nAction: failed\r\n"));
    let diagnostic = status
        .lines()
        .find(|l| l.starts_with("Diagnostic-Code:"))
        .unwrap();
    assert!(
        diagnostic.starts_with("Diagnostic-Code: smtp; 550 5.1.1 nope ")
            && diagnostic.contains("x@evil")
    );
}

#[test]
fn non_ascii_parts_survive_the_transfer_encoding() {
    let failed = vec![(
        "山田@example.lg.jp".to_string(),
        "550 5.1.1 宛先が存在しません".to_string(),
    )];
    let headers = "Subject: 日本語の件名\r\nFrom: a@example.com\r\n".as_bytes();
    let raw = dsn(
        &envelope("sender@example.com"),
        &failed,
        headers,
        "relay.example.lg.jp",
        1_700_000_500,
    );
    assert!(raw.is_ascii(), "the DSN itself is 7-bit");
    let msg = MessageParser::default().parse(&raw).unwrap();
    let text = part_text(&msg.parts[msg.text_body[0] as usize]);
    assert!(text.contains("山田@example.lg.jp") && text.contains("宛先が存在しません"));
    let all: String = msg.parts.iter().skip(1).map(part_text).collect();
    assert!(all.contains("Final-Recipient: utf-8; \\x{5C71}\\x{7530}@example.lg.jp"));
    assert!(all.contains("Subject: 日本語の件名"));
}
