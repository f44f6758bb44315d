//! Issue 16, item 1: encoded-words split inside a character, in every
//! header that crosses (Subject, display names, filenames, a forwarded
//! message's headers), come out whole.

use base64::Engine;
use mukaika_sanitize::{Policy, Verdict, sanitize};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `text` in `label` as B words of `every` bytes, cut through characters.
fn split_b(text: &str, label: &str, every: usize) -> String {
    let bytes = match label {
        "ISO-2022-JP" => encoding_rs::ISO_2022_JP.encode(text).0.into_owned(),
        "Shift_JIS" => encoding_rs::SHIFT_JIS.encode(text).0.into_owned(),
        _ => text.as_bytes().to_vec(),
    };
    bytes
        .chunks(every)
        .map(|c| format!("=?{label}?B?{}?=", b64(c)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// The same as Q words, each `=XX` byte on its own.
fn split_q(text: &str, every: usize) -> String {
    text.as_bytes()
        .chunks(every)
        .map(|c| {
            let q: String = c.iter().map(|b| format!("={b:02X}")).collect();
            format!("=?UTF-8?Q?{q}?=")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn issue_16_split_words_in_subject_name_and_filename() {
    let subject = "庁内システム更新のお知らせ";
    let name = "総務課 情報係";
    let file = "更新手順書（第二版）.txt";
    let mail = format!(
        "From: {} <soumu@example.jp>\r\nTo: a@example.jp\r\nSubject: {}\r\n\
         Date: Thu, 14 Nov 2024 10:30:00 +0900\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n本文です。\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Disposition: attachment;\r\n filename=\"{}\"\r\n\r\n手順\r\n--b--\r\n",
        split_q(name, 4),
        split_b(subject, "UTF-8", 7),
        split_b(file, "UTF-8", 10),
    );
    let out = sanitize(mail.as_bytes(), &Policy::default());
    assert_eq!(out.report.verdict, Verdict::Sanitized);
    assert_eq!(out.report.subject.as_deref(), Some(subject));
    assert_eq!(
        out.report.from.as_deref(),
        Some("総務課 情報係 <soumu@example.jp>")
    );
    assert_eq!(out.report.parts[1].filename.as_deref(), Some(file));
    let text = String::from_utf8_lossy(&out.message);
    assert!(!text.contains('\u{FFFD}'), "{text}");
}

#[test]
fn issue_16_iso_2022_jp_words_split_inside_an_escape() {
    let subject = "議事録の送付について";
    // Every 5 bytes cuts through `ESC $ B` and through characters.
    let mail = format!(
        "From: {} <a@example.jp>\r\nTo: b@example.jp\r\nSubject: {}\r\n\r\nhi\r\n",
        split_b("山田 太郎", "Shift_JIS", 3),
        split_b(subject, "ISO-2022-JP", 5),
    );
    let out = sanitize(mail.as_bytes(), &Policy::default());
    assert_eq!(out.report.subject.as_deref(), Some(subject));
    assert_eq!(out.report.from.as_deref(), Some("山田 太郎 <a@example.jp>"));
}

#[test]
fn issue_16_forwarded_message_headers_are_joined_too() {
    let inner = format!(
        "From: x@example.jp\r\nSubject: {}\r\n\r\ninner\r\n",
        split_b("転送された件名です", "UTF-8", 4)
    );
    let mail = format!(
        "From: a@example.jp\r\nTo: b@example.jp\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nsee below\r\n--b\r\n\
         Content-Type: message/rfc822\r\n\r\n{inner}--b--\r\n"
    );
    let out = sanitize(mail.as_bytes(), &Policy::default());
    let text = String::from_utf8_lossy(&out.message).into_owned();
    let body = mail_parser::MessageParser::new()
        .parse(&out.message)
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or(text);
    assert!(body.contains("Subject: 転送された件名です"), "{body}");
}

#[test]
fn words_of_different_charsets_stay_apart() {
    let (x, y) = "会".as_bytes().split_at(1);
    let mail = format!(
        "From: a@example.jp\r\nSubject: =?UTF-8?B?{}?= =?ISO-8859-1?Q?caf=E9?= =?UTF-8?B?{}?=\r\n\r\nhi\r\n",
        b64(x),
        b64(y)
    );
    let out = sanitize(mail.as_bytes(), &Policy::default());
    let subject = out.report.subject.unwrap();
    assert!(subject.contains("café"), "{subject}");
    assert!(!subject.contains('会'), "{subject}");
}
