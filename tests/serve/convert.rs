//! Legacy Office end to end: a mail with a .doc attached crosses with a
//! flattened PDF in its place, converted by LibreOffice in its sandbox.

use std::process::Command;

use base64::Engine;
use mail_parser::MimeHeaders;

use crate::harness::{Mukaika, Sink, record, send};

/// A .doc made from RTF by plain soffice, outside any sandbox: a fixture.
fn doc() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let rtf = dir.path().join("fixture.rtf");
    std::fs::write(
        &rtf,
        r"{\rtf1\ansi\deff0 {\fonttbl{\f0 Times;}} \f0 Mitsumori \u35211?\u31309? \par}",
    )
    .unwrap();
    let out = Command::new("soffice")
        .arg("--headless")
        .arg(format!(
            "-env:UserInstallation=file://{}/profile",
            dir.path().display()
        ))
        .args(["--convert-to", "doc", "--outdir"])
        .arg(dir.path())
        .arg(&rtf)
        .env("HOME", dir.path())
        .output()
        .expect("soffice (libreoffice-writer-nogui) is installed");
    assert!(out.status.success(), "{out:?}");
    std::fs::read(dir.path().join("fixture.doc")).unwrap()
}

#[test]
fn an_attached_doc_arrives_as_a_flattened_pdf() {
    let sink = Sink::start();
    let relay = Mukaika::start(&sink, &[]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(doc());
    // Lines of 76, as a mail client writes them (the ingress limits lines).
    let b64: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let b64 = b64.join("\r\n");
    let mail = format!(
        "From: a@example.com\r\nTo: a@lgwan.example.jp\r\nSubject: doc-token\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nご確認ください。\r\n--b\r\nContent-Type: application/msword\r\nContent-Disposition: attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.doc\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n"
    );
    let id = send(&relay, mail.as_bytes());
    let mails = sink.wait_for_messages(1, std::time::Duration::from_secs(120));
    let delivered = crate::parse(&mails[0]);
    let attachments: Vec<_> = delivered.attachments().collect();
    assert_eq!(attachments.len(), 1, "{}", relay.log());
    assert_eq!(attachments[0].attachment_name(), Some("見積書.pdf"));
    assert!(attachments[0].contents().starts_with(b"%PDF"));
    let text = delivered.body_text(0).unwrap();
    assert!(text.contains("見積書.pdf」はPDFに変換し"), "{text}");
    let report = &record(&relay, &id)["report"];
    assert_eq!(report["parts"][1]["reason"], "office-converted-to-pdf");
    assert_eq!(report["parts"][1]["action"], "flattened");
    assert!(relay.log().contains("legacy Office conversion available"));
}
