//! The scanner seam: decoded parts out, threats in, hold or remove-part.

use mukaika_sanitize::{Action, OnInfected, Policy, Scan, Threat, Verdict, sanitize_with};

/// The EICAR test file, joined at run time so that no file in the
/// repository is one (a virus scanner on a checkout would flag it).
fn eicar() -> String {
    [
        r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD",
        "-ANTIVIRUS-TEST-FILE!$H+H*",
    ]
    .concat()
}

/// A mail with a Japanese body and an attachment in base64 with odd line
/// lengths (so the raw message does not hold the decoded bytes verbatim).
fn mail() -> Vec<u8> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(eicar());
    let odd: Vec<&str> = b64
        .as_bytes()
        .chunks(7)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: =?UTF-8?B?5bGx55Sw?= <yamada@example.com>\r\nTo: a@example.jp\r\nSubject: =?UTF-8?B?6KaL56mN5pu4?=\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nご確認ください。\r\n--b\r\nContent-Type: application/octet-stream; name=\"test.com\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        odd.join("\r\n")
    )
    .into_bytes()
}

fn threat(part: Option<&str>) -> Threat {
    Threat {
        name: "Eicar-Test-Signature".into(),
        part: part.map(Into::into),
        entry: None,
        engine: "ClamAV 1.4.6".into(),
        database: None,
    }
}

/// The second run: the mail sanitized knowing `threats`.
fn with_threats(policy: &Policy, threats: &[Threat]) -> mukaika_sanitize::Sanitized {
    sanitize_with(
        &mail(),
        policy,
        &Scan {
            extract: false,
            threats,
            ..Scan::default()
        },
    )
}

fn text(message: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::new().parse(message).unwrap();
    parsed.body_text(0).unwrap().into_owned()
}

#[test]
fn extract_returns_decoded_leaf_parts() {
    let out = sanitize_with(
        &mail(),
        &Policy::default(),
        &Scan {
            extract: true,
            threats: &[],
            ..Scan::default()
        },
    );
    let parts: Vec<(&str, &[u8])> = out
        .extracted
        .iter()
        .map(|e| (e.part.as_str(), e.bytes.as_slice()))
        .collect();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[1], ("2", eicar().as_bytes()));
    assert!(
        std::str::from_utf8(parts[0].1)
            .unwrap()
            .contains("ご確認ください")
    );
    // Without `extract`, nothing is copied out.
    let plain = mukaika_sanitize::sanitize(&mail(), &Policy::default());
    assert!(plain.extracted.is_empty());
    assert_eq!(plain.message, out.message);
}

#[test]
fn hold_delivers_only_a_notice_naming_sender_subject_and_threat() {
    let threats = [threat(Some("2"))];
    let out = with_threats(&Policy::default(), &threats);
    assert_eq!(out.report.verdict, Verdict::Held);
    assert_eq!(out.report.reason.as_deref(), Some("virus-found"));
    assert_eq!(out.report.threats, threats);
    assert!(out.report.parts.iter().all(|p| p.action == Action::Held));
    assert_eq!(out.report.parts[1].reason, "virus-found");
    assert_eq!(out.report.parts[0].reason, "message-held");
    let body = text(&out.message);
    assert!(body.contains("差出人: 山田 <yamada@example.com>"), "{body}");
    assert!(body.contains("件名: 見積書"), "{body}");
    assert!(
        body.contains("検出したウイルス: Eicar-Test-Signature（\"test.com\"）"),
        "{body}"
    );
    assert!(!body.contains("ご確認ください"), "{body}");
}

#[test]
fn remove_part_delivers_the_rest() {
    let policy = Policy {
        on_infected: OnInfected::RemovePart,
        ..Policy::default()
    };
    let threats = [threat(Some("2"))];
    let out = with_threats(&policy, &threats);
    assert_eq!(out.report.verdict, Verdict::Sanitized);
    assert_eq!(out.report.parts[1].action, Action::Removed);
    assert_eq!(out.report.parts[1].reason, "virus-found");
    let body = text(&out.message);
    assert!(body.contains("ご確認ください"), "{body}");
    assert!(
        body.contains(
            "「test.com」からウイルス（Eicar-Test-Signature）を検出したため削除しました。"
        ),
        "{body}"
    );
}

#[test]
fn a_threat_no_part_accounts_for_holds_even_in_remove_part_mode() {
    let policy = Policy {
        on_infected: OnInfected::RemovePart,
        ..Policy::default()
    };
    for threats in [[threat(None)], [threat(Some("7"))]] {
        let out = with_threats(&policy, &threats);
        assert_eq!(out.report.verdict, Verdict::Held, "{threats:?}");
        let body = text(&out.message);
        assert!(body.contains("Virus found: Eicar-Test-Signature"), "{body}");
    }
}

#[test]
fn a_whole_message_match_explained_by_a_part_is_pinned() {
    let policy = Policy {
        on_infected: OnInfected::RemovePart,
        ..Policy::default()
    };
    // What the pipeline reports: clamd matched the raw message and part 2.
    let threats = [threat(None), threat(Some("2"))];
    let out = with_threats(&policy, &threats);
    assert_eq!(out.report.verdict, Verdict::Sanitized);
    assert_eq!(out.report.parts[1].reason, "virus-found");
    // Held instead: the notice names the threat once.
    let out = with_threats(&Policy::default(), &threats);
    let body = text(&out.message);
    assert_eq!(body.matches("Virus found:").count(), 1, "{body}");
}

#[test]
fn extract_returns_the_entries_of_tar_gz_and_7z_attachments() {
    use base64::Engine;
    let zip = {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer
            .start_file("eicar.com", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut writer, eicar().as_bytes()).unwrap();
        writer.finish().unwrap().into_inner()
    };
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(zip.len() as u64);
    builder
        .append_data(&mut header, "docs/in.zip", &zip[..])
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &builder.into_inner().unwrap()).unwrap();
    let tgz = gz.finish().unwrap();
    let mut sevenz = sevenz_rust2::ArchiveWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    sevenz
        .push_archive_entry(
            sevenz_rust2::ArchiveEntry::new_file("x.tgz"),
            Some(&tgz[..]),
        )
        .unwrap();
    let sevenz = sevenz.finish().unwrap().into_inner();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&sevenz);
    let mail = format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b\r\nContent-Type: application/x-7z-compressed; name=\"a.7z\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n"
    );
    let out = sanitize_with(
        mail.as_bytes(),
        &Policy::default(),
        &Scan {
            extract: true,
            ..Scan::default()
        },
    );
    let entries: Vec<&str> = out
        .extracted
        .iter()
        .filter_map(|e| e.entry.as_deref())
        .collect();
    assert_eq!(
        entries,
        [
            "x.tgz",
            "x.tgz > docs/in.zip",
            "x.tgz > docs/in.zip > eicar.com"
        ]
    );
    let found = out
        .extracted
        .iter()
        .find(|e| e.entry.as_deref() == Some("x.tgz > docs/in.zip > eicar.com"))
        .unwrap();
    assert_eq!(found.part, "2");
    assert_eq!(found.bytes, eicar().as_bytes());
}
