//! What the caller knows besides the bytes ([`Context`]): the queue id in
//! every delivered message and notice (issue 17), and the From and Date a
//! mail lacked supplied from the envelope and the arrival (issue 16.9).

use mukaika_sanitize::{Context, HoldReason, Policy, Scan, Verdict, held, sanitize_with};

fn context(sender: &str) -> Context {
    Context {
        queue_id: Some("0193A4F2C1D8E7B6a1b2".into()),
        envelope_sender: Some(sender.into()),
        // 2024-11-14 10:30:00 +0900
        received_at: Some(1_731_547_800),
        request_url: None,
        sender_warning: None,
    }
}

fn run(raw: &[u8], context: Context) -> mukaika_sanitize::Sanitized {
    sanitize_with(
        raw,
        &Policy::default(),
        &Scan {
            context,
            ..Scan::default()
        },
    )
}

fn parsed(message: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::new().parse(message).unwrap()
}

#[test]
fn issue_16_missing_from_and_date_are_supplied_from_the_envelope() {
    let raw = "To: soumu@city.example.lg.jp\r\nSubject: 日付も差出人もないメール\r\n\r\n本文\r\n";
    let out = run(raw.as_bytes(), context("kikaku@example.jp"));
    assert_eq!(out.report.verdict, Verdict::Sanitized);
    assert_eq!(out.report.supplied_headers, ["from", "date"]);
    assert_eq!(
        out.report.from, None,
        "the report names the original's From"
    );
    let message = parsed(&out.message);
    let from = message.from().and_then(|f| f.first()).unwrap();
    assert_eq!(from.address(), Some("kikaku@example.jp"));
    assert_eq!(
        message.date().map(|d| d.to_rfc822()).as_deref(),
        Some("Thu, 14 Nov 2024 01:30:00 +0000")
    );
    let body = message.body_text(0).unwrap();
    assert!(
        body.contains("差出人（From）がなかったため、差出人を「kikaku@example.jp」"),
        "{body}"
    );
    assert!(body.contains("日付（Date）がなかったため"), "{body}");
    assert!(body.contains("The original had no Date field"), "{body}");
    // The same input and context give the same bytes.
    assert_eq!(
        run(raw.as_bytes(), context("kikaku@example.jp")).message,
        out.message
    );
}

#[test]
fn issue_16_null_sender_gets_a_fixed_from() {
    let raw = b"To: a@example.jp\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\nSubject: bounce\r\n\r\nx\r\n";
    let out = run(raw, context(""));
    assert_eq!(out.report.supplied_headers, ["from"]);
    let message = parsed(&out.message);
    let from = message.from().and_then(|f| f.first()).unwrap();
    assert_eq!(from.address(), Some("unknown-sender@invalid"));
    assert_eq!(
        message.date().map(|d| d.to_rfc822()).as_deref(),
        Some("Thu, 14 Nov 2024 10:30:00 +0900")
    );
}

#[test]
fn a_mail_with_from_and_date_gets_nothing_supplied() {
    let raw = b"From: a@example.jp\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\n\r\nx\r\n";
    let out = run(raw, context("other@example.jp"));
    assert!(out.report.supplied_headers.is_empty());
    let json = serde_json::to_string(&out.report).unwrap();
    assert!(!json.contains("supplied_headers"), "{json}");
    assert!(!String::from_utf8_lossy(&out.message).contains("other@example.jp"));
}

#[test]
fn issue_17_the_queue_id_is_in_the_header_and_the_notice() {
    let raw =
        b"From: a@example.jp\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\nSubject: s\r\n\r\nx\r\n";
    let out = run(raw, context("a@example.jp"));
    let message = parsed(&out.message);
    assert_eq!(
        message
            .header("X-Mukaika-Queue-Id")
            .and_then(|v| v.as_text()),
        Some("0193A4F2C1D8E7B6a1b2")
    );
    let body = message.body_text(0).unwrap();
    assert!(body.contains("受付番号: 0193A4F2C1D8E7B6a1b2"), "{body}");
    assert!(body.contains("Reference: 0193A4F2C1D8E7B6a1b2"), "{body}");
    assert!(mukaika_verify::verify(&out.message).is_ok());
    // Without a context (the offline command) there is none.
    let out = run(raw, Context::default());
    assert!(!String::from_utf8_lossy(&out.message).contains("Queue-Id"));
}

#[test]
fn issue_17_a_held_notice_has_the_queue_id_and_the_request_link() {
    let raw = b"Subject: s\r\n\r\nx\r\n";
    let ctx = Context {
        request_url: Some("https://console.example.lg.jp/request/0193A4F2C1D8E7B6a1b2".into()),
        ..context("")
    };
    let out = held(raw, &Policy::default(), HoldReason::ScanUnavailable, &ctx);
    assert_eq!(out.report.verdict, Verdict::Held);
    assert_eq!(out.report.supplied_headers, ["from", "date"]);
    let message = parsed(&out.message);
    assert_eq!(
        message
            .header("X-Mukaika-Queue-Id")
            .and_then(|v| v.as_text()),
        Some("0193A4F2C1D8E7B6a1b2")
    );
    let body = message.body_text(0).unwrap();
    assert!(
        body.contains(
            "原本の提供の依頼はこちら: https://console.example.lg.jp/request/0193A4F2C1D8E7B6a1b2"
        ),
        "{body}"
    );
    assert!(body.contains("To ask for the original: https://"), "{body}");
    assert!(mukaika_verify::verify(&out.message).is_ok());
}

#[test]
fn a_queue_id_or_link_that_could_inject_is_not_written() {
    let raw = b"From: a@example.jp\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\n\r\nx\r\n";
    let ctx = Context {
        queue_id: Some("abc\r\nBcc: x@example.com".into()),
        request_url: Some("https://x\r\nBcc: y".into()),
        ..Context::default()
    };
    let out = run(raw, ctx);
    let text = String::from_utf8_lossy(&out.message);
    assert!(!text.contains("Bcc"), "{text}");
}

#[test]
fn issue_14_a_sender_warning_opens_the_notice() {
    let raw = b"From: kacho@city.example.lg.jp\r\nSubject: s\r\n\r\nx\r\n";
    let warning = |ja: &str| Context {
        sender_warning: Some(mukaika_sanitize::Warning {
            ja: ja.into(),
            en: "Suspected spoofing: check with the sender.".into(),
        }),
        ..context("kacho@city.example.lg.jp")
    };
    let out = run(raw, warning("なりすましの疑い: 差出人に確かめてください。"));
    let body = parsed(&out.message).body_text(0).unwrap().into_owned();
    let first = body.lines().nth(1).unwrap_or_default();
    assert!(
        first.contains("なりすましの疑い"),
        "the first line of the notice: {body}"
    );
    assert!(body.contains("Suspected spoofing"), "{body}");
    // A warning that could inject text is not shown.
    let out = run(raw, warning("x\r\nBcc: y@example.com"));
    let text = String::from_utf8_lossy(&out.message);
    assert!(
        !text.contains("Bcc") && !text.contains("Suspected spoofing"),
        "{text}"
    );
}
