//! The converter seam: legacy Office, RTF and ODF attachments out to the
//! caller's converter, PDFs back in, flattened. No LibreOffice here: the
//! PDFs are made by the test suite's own writer.

#[path = "ooxml/fixtures.rs"]
#[allow(dead_code)] // This file uses the docm alone.
mod fixtures;
mod pdfs;
mod support;

use base64::Engine;
use mail_parser::MimeHeaders;
use mukaika_sanitize::attachment::LegacyOfficeRule;
use mukaika_sanitize::{Action, Converted, Policy, Sanitized, Scan, Verdict, sanitize_with};

/// An OLE2 compound file with a `WordDocument` stream name, as far as
/// detection looks: the magic, then the name in UTF-16LE.
fn ole_doc() -> Vec<u8> {
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.resize(512, 0);
    ole.extend("WordDocument".encode_utf16().flat_map(u16::to_le_bytes));
    ole.resize(1024, 0);
    ole
}

fn rtf() -> Vec<u8> {
    br"{\rtf1\ansi\deff0 {\fonttbl{\f0 Times;}} \f0 Hello \u28961?\u23475?\u21270? \par}".to_vec()
}

/// An ODF text document's first bytes: a stored `mimetype` entry first.
fn odt() -> Vec<u8> {
    let mime = b"application/vnd.oasis.opendocument.text";
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    zip.extend_from_slice(&crc32fast::hash(mime).to_le_bytes());
    zip.extend_from_slice(&(mime.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(mime.len() as u32).to_le_bytes());
    zip.extend_from_slice(&8u16.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(b"mimetype");
    zip.extend_from_slice(mime);
    zip.extend_from_slice(b"PK\x03\x04 rest of the package");
    zip
}

/// A mail with a body and `name` attached in base64.
fn mail(name: &str, bytes: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nご確認ください。\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=UTF-8''{}\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n",
        name.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
    )
    .into_bytes()
}

fn run(raw: &[u8], policy: &Policy, convert: bool, converted: &[Converted]) -> Sanitized {
    sanitize_with(
        raw,
        policy,
        &Scan {
            convert,
            converted,
            ..Scan::default()
        },
    )
}

fn attachments(message: &[u8]) -> Vec<(String, Vec<u8>)> {
    let parsed = mail_parser::MessageParser::new().parse(message).unwrap();
    parsed
        .attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap_or("").to_owned(),
                a.contents().to_vec(),
            )
        })
        .collect()
}

fn body(message: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::new().parse(message).unwrap();
    parsed.body_text(0).unwrap().into_owned()
}

#[test]
fn the_first_run_lists_documents_to_convert_and_delivers_nothing_for_them() {
    for (name, bytes, extension) in [
        ("見積書.doc", ole_doc(), "doc"),
        ("見積書.rtf", rtf(), "rtf"),
        ("見積書.odt", odt(), "odt"),
    ] {
        let out = run(&mail(name, &bytes), &Policy::default(), true, &[]);
        assert_eq!(out.to_convert.len(), 1, "{name}");
        let job = &out.to_convert[0];
        assert_eq!(
            (job.part.as_str(), job.filename.as_deref(), job.extension),
            ("2", Some(name), extension)
        );
        assert_eq!(job.bytes, bytes);
        assert!(attachments(&out.message).is_empty(), "{name}");
        let part = &out.report.parts[1];
        assert_eq!(part.action, Action::Removed);
        assert_eq!(part.reason, "office-conversion-pending");
    }
}

#[test]
fn without_a_converter_the_document_is_removed_as_unavailable() {
    let out = mukaika_sanitize::sanitize(&mail("見積書.doc", &ole_doc()), &Policy::default());
    assert!(out.to_convert.is_empty());
    assert_eq!(out.report.parts[1].reason, "office-conversion-unavailable");
    assert!(attachments(&out.message).is_empty());
    let text = body(&out.message);
    assert!(
        text.contains("添付ファイル「見積書.doc」を削除しました（この種類のOfficeファイルをPDFに変換する機能が利用できません）。"),
        "{text}"
    );
}

#[test]
fn the_second_run_delivers_the_pdf_flattened() {
    let raw = mail("見積書.doc", &ole_doc());
    let pdf = pdfs::text_document(2);
    let converted = [Converted {
        part: "2".into(),
        entry: None,
        pdf: Ok(pdf.clone()),
    }];
    let out = run(&raw, &Policy::default(), false, &converted);
    assert_eq!(out.report.verdict, Verdict::Sanitized);
    assert!(out.to_convert.is_empty());
    let part = &out.report.parts[1];
    assert_eq!(part.action, Action::Flattened);
    assert_eq!(part.reason, "office-converted-to-pdf");
    assert_eq!(part.detected_type, "application/msword");
    let delivered = attachments(&out.message);
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].0, "見積書.pdf");
    // Flattened, not the converter's PDF as it came.
    assert!(delivered[0].1.starts_with(b"%PDF"));
    assert_ne!(delivered[0].1, pdf);
    assert_eq!(
        part.output_sha256.as_deref(),
        Some(mukaika_sanitize::mail::mime::hex_sha256(&delivered[0].1).as_str())
    );
    assert_eq!(
        part.sha256,
        mukaika_sanitize::mail::mime::hex_sha256(&ole_doc())
    );
    let text = body(&out.message);
    assert!(
        text.contains("添付ファイル「見積書.pdf」はPDFに変換し、各ページを画像にして届けています"),
        "{text}"
    );
}

#[test]
fn a_failed_or_bogus_conversion_removes_the_part() {
    let raw = mail("見積書.rtf", &rtf());
    for pdf in [
        Err("soffice exited with status 1".to_owned()),
        Ok(b"MZ not a pdf".to_vec()),
    ] {
        let converted = [Converted {
            part: "2".into(),
            entry: None,
            pdf,
        }];
        let out = run(&raw, &Policy::default(), false, &converted);
        let part = &out.report.parts[1];
        assert_eq!(part.action, Action::Removed);
        assert_eq!(part.reason, "office-conversion-failed");
        assert!(attachments(&out.message).is_empty());
        let text = body(&out.message);
        assert!(
            text.contains("PDFへの変換に失敗したOfficeファイル"),
            "{text}"
        );
        assert!(text.contains("its conversion to PDF failed"), "{text}");
    }
}

#[test]
fn a_broken_converted_pdf_gets_the_pdf_reason() {
    let raw = mail("見積書.odt", &odt());
    let converted = [Converted {
        part: "2".into(),
        entry: None,
        pdf: Ok(b"%PDF-1.7\nbroken".to_vec()),
    }];
    let out = run(&raw, &Policy::default(), false, &converted);
    assert_eq!(out.report.parts[1].reason, "pdf-broken");
}

#[test]
fn the_remove_rule_removes_as_before() {
    let mut policy = Policy::default();
    policy.attachments.legacy_office = LegacyOfficeRule::Remove;
    let out = run(&mail("見積書.doc", &ole_doc()), &policy, true, &[]);
    assert!(out.to_convert.is_empty());
    assert_eq!(out.report.parts[1].reason, "attachment-type-not-allowed");
}

#[test]
fn documents_libreoffice_cannot_print_are_not_converted() {
    // An OLE2 file that is none of Word, Excel or PowerPoint.
    let mut other = ole_doc();
    other.truncate(512);
    other.resize(1024, 0);
    let out = run(&mail("一太郎.jtd", &other), &Policy::default(), true, &[]);
    assert!(out.to_convert.is_empty());
    assert_eq!(out.report.parts[1].reason, "attachment-type-not-allowed");
}

#[test]
fn threats_and_conversions_go_in_the_same_second_run() {
    let policy = Policy {
        on_infected: mukaika_sanitize::OnInfected::RemovePart,
        ..Policy::default()
    };
    let eicar_like = b"not really a virus, but the scanner says so";
    let raw = format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n\r\n{}\r\n--b\r\nContent-Type: application/rtf; name=\"memo.rtf\"\r\n\r\n{}\r\n--b--\r\n",
        String::from_utf8_lossy(eicar_like),
        String::from_utf8_lossy(&rtf())
    );
    let first = run(raw.as_bytes(), &policy, true, &[]);
    assert_eq!(first.to_convert.len(), 1);
    assert_eq!(first.to_convert[0].part, "3");
    let threats = [mukaika_sanitize::Threat {
        name: "Test-Signature".into(),
        part: Some("2".into()),
        entry: None,
        engine: "clamd".into(),
        database: None,
    }];
    let converted = [Converted {
        part: "3".into(),
        entry: None,
        pdf: Ok(pdfs::text_document(1)),
    }];
    let out = sanitize_with(
        raw.as_bytes(),
        &policy,
        &Scan {
            threats: &threats,
            converted: &converted,
            ..Scan::default()
        },
    );
    assert_eq!(out.report.verdict, Verdict::Sanitized);
    assert_eq!(out.report.parts[1].reason, "virus-found");
    assert_eq!(out.report.parts[2].reason, "office-converted-to-pdf");
    let names: Vec<String> = attachments(&out.message).into_iter().map(|a| a.0).collect();
    assert_eq!(names, ["memo.pdf"]);
}

#[test]
fn office_pdf_converts_a_cleaned_package_and_delivers_it_flattened() {
    let policy = Policy {
        attachments: mukaika_sanitize::attachment::Rules {
            office: mukaika_sanitize::attachment::OfficeRule::Pdf,
            ..Default::default()
        },
        ..Policy::default()
    };
    let docm = fixtures::docm();
    let raw = mail("マクロ.docm", &docm);
    let out = run(&raw, &policy, true, &[]);
    assert_eq!(out.to_convert.len(), 1);
    let job = &out.to_convert[0];
    // LibreOffice gets the cleaned package, as a docx: no macros at all.
    assert_eq!(job.extension, "docx");
    let mut package = zip::ZipArchive::new(std::io::Cursor::new(&job.bytes)).unwrap();
    let names: Vec<String> = package
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("vbaProject")), "{names:?}");
    assert!(package.by_name("word/document.xml").is_ok());
    let converted = [Converted {
        part: "2".into(),
        entry: None,
        pdf: Ok(pdfs::text_document(1)),
    }];
    let out = run(&raw, &policy, false, &converted);
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Flattened, "office-converted-to-pdf")
    );
    assert_eq!(attachments(&out.message)[0].0, "マクロ.pdf");
    // Without a converter the profile still never delivers it as Office.
    let out = mukaika_sanitize::sanitize(&raw, &policy);
    assert_eq!(out.report.parts[1].reason, "office-conversion-unavailable");
}

#[test]
fn a_password_protected_office_file_is_held_not_converted() {
    // An encrypted docx as Office writes it: OLE2 with an EncryptedPackage
    // stream (as far as detection and the check look).
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.resize(512, 0);
    ole.extend("EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes));
    ole.resize(640, 0);
    ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    ole.resize(1024, 0);
    let raw = mail("機密.docx", &ole);
    for convert in [true, false] {
        let out = run(&raw, &Policy::default(), convert, &[]);
        assert!(out.to_convert.is_empty());
        let part = &out.report.parts[1];
        assert_eq!(
            (part.action, part.reason.as_str()),
            (Action::Held, "office-password")
        );
        assert_eq!(out.report.verdict, Verdict::Sanitized);
        assert!(body(&out.message).contains("機密.docx"));
    }
    let remove = Policy {
        attachments: mukaika_sanitize::attachment::Rules {
            legacy_office: LegacyOfficeRule::Remove,
            ..Default::default()
        },
        ..Policy::default()
    };
    let out = mukaika_sanitize::sanitize(&raw, &remove);
    assert_eq!(out.report.parts[1].reason, "office-password");
}

/// A zip of a .doc and a text file, as a mail attachment.
fn mail_with_zipped_doc() -> Vec<u8> {
    let zip = support::zip_of(
        &[
            ("資料/見積書.doc", &ole_doc()),
            ("資料/readme.txt", b"README"),
        ],
        zip::CompressionMethod::Deflated,
    );
    mail("資料.zip", &zip)
}

#[test]
fn a_document_inside_a_zip_is_converted_like_an_attachment() {
    let raw = mail_with_zipped_doc();
    let first = run(&raw, &Policy::default(), true, &[]);
    assert_eq!(first.to_convert.len(), 1);
    let job = &first.to_convert[0];
    assert_eq!(
        (job.part.as_str(), job.entry.as_deref(), job.extension),
        ("2", Some("資料/見積書.doc"), "doc")
    );
    assert_eq!(job.bytes, ole_doc());
    let converted = [Converted {
        part: "2".into(),
        entry: Some("資料/見積書.doc".into()),
        pdf: Ok(pdfs::text_document(1)),
    }];
    let out = run(&raw, &Policy::default(), false, &converted);
    let part = &out.report.parts[1];
    assert_eq!(part.reason, "archive-rebuilt");
    let doc = &part.entries[0];
    assert_eq!(
        (doc.path.as_str(), doc.action, doc.reason.as_str()),
        (
            "資料/見積書.doc",
            Action::Flattened,
            "office-converted-to-pdf"
        )
    );
    let zip = &attachments(&out.message)[0].1;
    let mut rebuilt = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let names: Vec<String> = rebuilt
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    assert_eq!(names, ["資料/見積書.pdf", "資料/readme.txt"]);
    let mut pdf = Vec::new();
    std::io::Read::read_to_end(&mut rebuilt.by_name("資料/見積書.pdf").unwrap(), &mut pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF"));

    // Split into attachments, the PDF is one of them.
    let mut split = Policy::default();
    split.attachments.archives = mukaika_sanitize::attachment::ArchiveRule::Attachments;
    let out = run(&raw, &split, false, &converted);
    let names: Vec<String> = attachments(&out.message).into_iter().map(|a| a.0).collect();
    assert_eq!(names, ["見積書.pdf", "readme.txt"]);

    // No converter: removed, the rest still crosses.
    let out = mukaika_sanitize::sanitize(&raw, &Policy::default());
    assert_eq!(
        out.report.parts[1].entries[0].reason,
        "office-conversion-unavailable"
    );
}

#[test]
fn conversions_past_the_limit_are_removed() {
    let zip = support::zip_of(
        &[
            ("a.doc", &ole_doc()),
            ("b.doc", &ole_doc()),
            ("c.rtf", &rtf()),
        ],
        zip::CompressionMethod::Deflated,
    );
    let raw = mail("docs.zip", &zip);
    let mut policy = Policy::default();
    policy.limits.max_conversions = 2;
    let first = run(&raw, &policy, true, &[]);
    let listed: Vec<Option<&str>> = first
        .to_convert
        .iter()
        .map(|c| c.entry.as_deref())
        .collect();
    assert_eq!(listed, [Some("a.doc"), Some("b.doc")]);
    let converted: Vec<Converted> = ["a.doc", "b.doc"]
        .into_iter()
        .map(|entry| Converted {
            part: "2".into(),
            entry: Some(entry.into()),
            pdf: Ok(pdfs::text_document(1)),
        })
        .collect();
    let out = run(&raw, &policy, false, &converted);
    let reasons: Vec<&str> = out.report.parts[1]
        .entries
        .iter()
        .map(|e| e.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "office-converted-to-pdf",
            "office-converted-to-pdf",
            "office-conversion-limit"
        ]
    );
    assert!(body(&out.message).contains("docs.zip/c.rtf"));
}
