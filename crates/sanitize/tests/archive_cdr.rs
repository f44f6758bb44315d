//! Zip attachments through the whole core: rebuilt, held when encrypted,
//! removed when nothing in them may cross. Outputs read with the zip
//! crate's reader and mail-parser, not with the code under test.

mod support;

#[allow(dead_code)] // a docm is all this file needs of them
#[path = "ooxml/fixtures.rs"]
mod fixtures;
mod pdfs;

use base64::Engine;
use mail_parser::MimeHeaders;
use mukaika_sanitize::{Action, Policy, Verdict, sanitize};
use zip::CompressionMethod::Deflated;

fn mail_with_zip(name: &str, zip: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(zip);
    format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: zip\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBODY-TEXT\r\n\
         --z\r\nContent-Type: application/zip; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--z--\r\n"
    )
    .into_bytes()
}

fn body(message: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::new().parse(message).unwrap();
    parsed.body_text(0).unwrap().into_owned()
}

#[test]
fn an_encrypted_zip_is_held_and_the_rest_delivered() {
    let zip = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/archive_samples/infozip-zipcrypto.zip"),
    )
    .unwrap();
    let out = sanitize(&mail_with_zip("secret.zip", &zip), &Policy::default());
    assert_eq!(out.report.verdict, Verdict::Sanitized);
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Held, "archive-encrypted")
    );
    let text = body(&out.message);
    assert!(text.contains("BODY-TEXT"), "{text}");
    assert!(
        text.contains("添付ファイル「secret.zip」は中身を確認できないため保留しました（パスワード付きの圧縮ファイル）"),
        "{text}"
    );
    let parsed = mail_parser::MessageParser::new()
        .parse(&out.message)
        .unwrap();
    assert_eq!(parsed.attachment_count(), 0, "nothing of it is delivered");
}

#[test]
fn a_zip_of_only_executables_is_removed() {
    let zip = support::zip_of(
        &[("a.exe", b"MZ\x90\0stub"), ("b.js", b"WScript.Echo(1)")],
        Deflated,
    );
    let out = sanitize(&mail_with_zip("tools.zip", &zip), &Policy::default());
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Removed, "archive-nothing-deliverable")
    );
}

#[test]
fn a_rebuilt_zip_holds_only_sanitized_entries() {
    let inner = support::zip_of(
        &[("page.html", b"<script>x()</script><p>INNER</p>")],
        Deflated,
    );
    let zip = support::zip_of(
        &[
            ("docs/readme.txt", b"README-TEXT"),
            ("run.bat", b"del /q *"),
            ("inner.zip", &inner),
        ],
        Deflated,
    );
    let out = sanitize(&mail_with_zip("docs.zip", &zip), &Policy::default());
    assert_eq!(out.report.parts[1].reason, "archive-rebuilt");
    let parsed = mail_parser::MessageParser::new()
        .parse(&out.message)
        .unwrap();
    let attachment = parsed.attachment(0).expect("the rebuilt zip");
    let mut rebuilt = zip::ZipArchive::new(std::io::Cursor::new(attachment.contents())).unwrap();
    let names: Vec<String> = rebuilt
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    assert_eq!(names, ["docs/readme.txt", "inner.zip/page.txt"]);
    let mut page = String::new();
    std::io::Read::read_to_string(
        &mut rebuilt.by_name("inner.zip/page.txt").unwrap(),
        &mut page,
    )
    .unwrap();
    assert!(page.contains("INNER") && !page.contains("script"), "{page}");
    assert!(body(&out.message).contains("「docs.zip/run.bat」を削除しました"));
    // Every entry has its line in the report, hashes included.
    let entries: Vec<(&str, Action, &str)> = out.report.parts[1]
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.action, e.reason.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("docs/readme.txt", Action::Converted, "text-reencoded-utf8"),
            ("run.bat", Action::Removed, "executable-or-script"),
            ("inner.zip", Action::Cleaned, "archive-unpacked-to-folder"),
            ("inner.zip/page.html", Action::Converted, "html-to-text"),
        ]
    );
    let readme = &out.report.parts[1].entries[0];
    assert_eq!(readme.size, Some(11));
    assert!(readme.sha256.as_ref().is_some_and(|h| h.len() == 64));
    assert!(readme.output_sha256.is_some());
    assert!(out.report.parts[1].entries[1].output_sha256.is_none());
}

/// One TNEF attribute: level, id, length, data, checksum.
fn tnef_attribute(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
    let mut out = vec![level];
    out.extend(id.to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(data);
    let sum = data.iter().fold(0u16, |s, &b| s.wrapping_add(b.into()));
    out.extend(sum.to_le_bytes());
    out
}

/// A winmail.dat as Japanese Outlook writes it (OEM code page 932), with
/// the given attachments (Shift_JIS titles).
fn winmail(attachments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = vec![0x78, 0x9F, 0x3E, 0x22, 0x01, 0x00];
    out.extend(tnef_attribute(1, 0x0008_9006, &[0, 0, 1, 0]));
    let mut page = 932u32.to_le_bytes().to_vec();
    page.extend(0u32.to_le_bytes());
    out.extend(tnef_attribute(1, 0x0006_9007, &page));
    for (title, data) in attachments {
        let mut rend = 1u16.to_le_bytes().to_vec();
        rend.extend([0xFF; 4]);
        rend.extend([0; 8]);
        out.extend(tnef_attribute(2, 0x0006_9002, &rend));
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(title);
        let mut name = sjis.into_owned();
        name.push(0);
        out.extend(tnef_attribute(2, 0x0001_8010, &name));
        out.extend(tnef_attribute(2, 0x0006_800F, data));
        out.extend(tnef_attribute(2, 0x0006_9005, &[0, 0, 0, 0]));
    }
    out
}

#[test]
fn a_winmail_dat_delivers_its_attachments_sanitized_in_a_new_zip() {
    let inner = support::zip_of(&[("memo.html", b"<p>MEMO</p>")], Deflated);
    let tnef = winmail(&[
        ("見積書.txt", "見積金額 100円".as_bytes()),
        ("run.js", b"WScript.Echo(1)"),
        ("資料.zip", &inner),
    ]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&tnef);
    let mail = format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: tnef\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBODY-TEXT\r\n\
         --z\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--z--\r\n"
    );
    let out = sanitize(mail.as_bytes(), &Policy::default());
    let part = &out.report.parts[1];
    assert_eq!(part.detected_type, "application/ms-tnef");
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Cleaned, "archive-rebuilt")
    );
    let entries: Vec<(&str, Action)> = part
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.action))
        .collect();
    assert_eq!(
        entries,
        [
            ("見積書.txt", Action::Converted),
            ("run.js", Action::Removed),
            ("資料.zip", Action::Cleaned),
            ("資料.zip/memo.html", Action::Converted),
        ]
    );
    let parsed = mail_parser::MessageParser::new()
        .parse(&out.message)
        .unwrap();
    let attachment = parsed.attachment(0).expect("the rebuilt zip");
    assert_eq!(attachment.attachment_name(), Some("winmail.zip"));
    let mut rebuilt = zip::ZipArchive::new(std::io::Cursor::new(attachment.contents())).unwrap();
    let names: Vec<String> = rebuilt
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    assert_eq!(names, ["見積書.txt", "資料.zip/memo.txt"]);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut rebuilt.by_name("見積書.txt").unwrap(), &mut text).unwrap();
    assert_eq!(text.trim(), "見積金額 100円");
    assert!(body(&out.message).contains("run.js"));
}

#[test]
fn a_broken_winmail_dat_is_removed_with_its_reason() {
    let mut tnef = winmail(&[("a.txt", b"hello")]);
    let last = tnef.len() - 1;
    tnef[last] ^= 0xFF; // a bad checksum
    let b64 = base64::engine::general_purpose::STANDARD.encode(&tnef);
    let mail = format!(
        "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain\r\n\r\nx\r\n\
         --z\r\nContent-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--z--\r\n"
    );
    let out = sanitize(mail.as_bytes(), &Policy::default());
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Removed, "archive-corrupt")
    );
}

fn split_policy() -> Policy {
    let mut policy = Policy::default();
    policy.attachments.archives = mukaika_sanitize::attachment::ArchiveRule::Attachments;
    policy
}

/// (name, content type, bytes) of every attachment, read with mail-parser.
fn attachments(message: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let parsed = mail_parser::MessageParser::new().parse(message).unwrap();
    parsed
        .attachments()
        .map(|a| {
            let ct = a.content_type().unwrap();
            (
                a.attachment_name().unwrap_or_default().to_owned(),
                format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()),
                a.contents().to_vec(),
            )
        })
        .collect()
}

#[test]
fn by_profile_an_archive_crosses_as_its_entries_each_an_attachment() {
    let inner = support::zip_of(
        &[
            ("page.html", b"<script>x()</script><p>INNER</p>"),
            ("readme.txt", b"SECOND README"),
        ],
        Deflated,
    );
    let zip = support::zip_of(
        &[
            ("docs/readme.txt", "最初の README".as_bytes()),
            ("run.bat", b"del /q *"),
            ("inner.zip", &inner),
        ],
        Deflated,
    );
    let out = sanitize(&mail_with_zip("資料.zip", &zip), &split_policy());
    assert_eq!(out.report.verdict, Verdict::Sanitized);
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Converted, "archive-split-into-attachments")
    );
    assert!(part.output_sha256.is_none(), "no one output stands for it");
    assert_eq!(part.entries.len(), 5, "{:?}", part.entries);

    let delivered = attachments(&out.message);
    let names: Vec<&str> = delivered.iter().map(|(n, _, _)| n.as_str()).collect();
    // Folders and the nested zip are flattened; the second readme.txt gets
    // a name of its own; nothing is an archive any more.
    assert_eq!(names, ["readme.txt", "page.txt", "readme (2).txt"]);
    assert!(delivered.iter().all(|(_, ct, _)| ct == "text/plain"));
    assert_eq!(
        String::from_utf8_lossy(&delivered[0].2).trim(),
        "最初の README"
    );
    let page = String::from_utf8_lossy(&delivered[1].2);
    assert!(page.contains("INNER") && !page.contains("script"), "{page}");
    // Each delivered entry's report hash is the attachment's.
    let reported: Vec<&str> = part
        .entries
        .iter()
        .filter_map(|e| e.output_sha256.as_deref())
        .collect();
    let hashes: Vec<String> = delivered.iter().map(|(_, _, b)| sha256_hex(b)).collect();
    assert_eq!(reported, hashes);

    let text = body(&out.message);
    assert!(text.contains("添付ファイル「資料.zip」は展開し"), "{text}");
    assert!(
        text.contains("「資料.zip/run.bat」を削除しました"),
        "{text}"
    );
    assert!(
        text.contains("添付ファイル「page.txt」はHTMLからテキストに変換"),
        "{text}"
    );
}

#[test]
fn split_or_not_an_encrypted_or_empty_archive_is_held_or_removed() {
    let encrypted = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/archive_samples/infozip-zipcrypto.zip"),
    )
    .unwrap();
    let out = sanitize(&mail_with_zip("secret.zip", &encrypted), &split_policy());
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Held, "archive-encrypted")
    );
    assert!(attachments(&out.message).is_empty());

    let tools = support::zip_of(&[("a.exe", b"MZ\x90\0stub")], Deflated);
    let out = sanitize(&mail_with_zip("tools.zip", &tools), &split_policy());
    assert_eq!(out.report.parts[1].reason, "archive-nothing-deliverable");
    assert!(attachments(&out.message).is_empty());
}

#[test]
fn split_a_winmail_dat_crosses_as_its_attachments() {
    let tnef = winmail(&[
        ("見積書.txt", "見積金額 100円".as_bytes()),
        ("run.js", b"x"),
    ]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&tnef);
    let mail = format!(
        "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain\r\n\r\nx\r\n\
         --z\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--z--\r\n"
    );
    let out = sanitize(mail.as_bytes(), &split_policy());
    let names: Vec<String> = attachments(&out.message)
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    assert_eq!(names, ["見積書.txt"]);
    assert!(body(&out.message).contains("「winmail.dat/run.js」を削除しました"));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The names and bytes of a rebuilt zip, read with the zip crate.
fn rebuilt(message: &[u8]) -> Vec<(String, Vec<u8>)> {
    let parsed = mail_parser::MessageParser::new().parse(message).unwrap();
    let attachment = parsed.attachment(0).expect("the rebuilt zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(attachment.contents())).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
            (file.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

fn attachment_name(message: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::new().parse(message).unwrap();
    parsed
        .attachment(0)
        .unwrap()
        .attachment_name()
        .unwrap()
        .to_owned()
}

#[test]
fn a_tar_gz_is_rebuilt_as_a_zip_of_its_sanitized_entries() {
    let pdf = pdfs::text_document(1);
    let docm = fixtures::docm();
    let tar = support::kinds::tar_of(&[
        ("資料/readme.txt", b"README-TEXT"),
        ("資料/install.sh", b"#!/bin/sh\nrm -rf /\n"),
        ("資料/run.js", b"WScript.Echo(1)"),
        ("資料/report.pdf", &pdf),
        ("資料/macro.docm", &docm),
    ]);
    let tgz = support::kinds::gzip(&tar, Some(b"archive.tar"));
    let out = sanitize(&mail_with_zip("資料.tar.gz", &tgz), &Policy::default());
    let part = &out.report.parts[1];
    assert_eq!(part.reason, "archive-rebuilt", "{part:?}");
    assert_eq!(part.detected_type, "application/gzip");
    assert_eq!(attachment_name(&out.message), "資料.zip");
    let files = rebuilt(&out.message);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["資料/readme.txt", "資料/report.pdf", "資料/macro.docx"],
        "the scripts are removed, the rest sanitized"
    );
    // The PDF is flattened: page images, no text operators left.
    let flat = lopdf::Document::load_mem(&files[1].1).expect("a PDF");
    assert_eq!(flat.get_pages().len(), 1);
    assert!(files[1].1 != pdf);
    // The docm lost its macros.
    let docx = zip::ZipArchive::new(std::io::Cursor::new(files[2].1.clone())).unwrap();
    let parts: Vec<String> = docx.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(parts.iter().all(|n| !n.contains("vba")), "{parts:?}");
    let text = body(&out.message);
    assert!(
        text.contains("「資料.zip/資料/install.sh」を削除しました"),
        "{text}"
    );
    assert!(
        text.contains("「資料.zip/資料/run.js」を削除しました"),
        "{text}"
    );
}

#[test]
fn a_7z_is_rebuilt_as_a_zip_and_an_encrypted_7z_held() {
    let sevenz = support::kinds::sevenz_of(
        &[("メモ.txt", "メモ".as_bytes()), ("a.exe", b"MZ\x90\0")],
        true,
    );
    let out = sanitize(&mail_with_zip("書類.7z", &sevenz), &Policy::default());
    assert_eq!(out.report.parts[1].reason, "archive-rebuilt");
    assert_eq!(
        out.report.parts[1].detected_type,
        "application/x-7z-compressed"
    );
    assert_eq!(attachment_name(&out.message), "書類.zip");
    let files = rebuilt(&out.message);
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0],
        ("メモ.txt".to_owned(), "メモ".as_bytes().to_vec())
    );

    let aes = support::kinds::sevenz_raw(support::kinds::AES, &[1], &[0x55; 32], 20, "x.txt");
    let out = sanitize(&mail_with_zip("secret.7z", &aes), &Policy::default());
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Held, "archive-encrypted")
    );
    let hidden = support::kinds::sevenz_encoded_header(support::kinds::AES, &[1], &[0x55; 64], 60);
    let out = sanitize(&mail_with_zip("names.7z", &hidden), &Policy::default());
    assert_eq!(out.report.parts[1].reason, "archive-encrypted");
}

#[test]
fn a_zip_in_a_tar_gz_becomes_a_folder_and_bombs_are_removed() {
    let inner = support::zip_of(&[("page.html", b"<p>INNER</p>")], Deflated);
    let tgz = support::kinds::gzip(&support::kinds::tar_of(&[("in.zip", &inner)]), None);
    let out = sanitize(&mail_with_zip("x.tgz", &tgz), &Policy::default());
    let names: Vec<String> = rebuilt(&out.message).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["in.zip/page.txt"]);
    let entries: Vec<(&str, &str)> = out.report.parts[1]
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("in.zip", "archive-unpacked-to-folder"),
            ("in.zip/page.html", "html-to-text"),
        ]
    );
    // 1 GiB of zeros declared by its trailer.
    let mut bomb = support::kinds::gzip_members_of_zeros(1024, 1 << 20);
    let at = bomb.len() - 4;
    bomb[at..].copy_from_slice(&(1u32 << 30).to_le_bytes());
    let out = sanitize(&mail_with_zip("zeros.gz", &bomb), &Policy::default());
    assert_eq!(out.report.parts[1].reason, "archive-bomb-ratio");
    // Bytes that only start like a gzip.
    let out = sanitize(
        &mail_with_zip("x.gz", b"\x1f\x8b\x08junk"),
        &Policy::default(),
    );
    assert_eq!(out.report.parts[1].reason, "archive-corrupt");
}

#[test]
fn a_docm_in_a_zip_is_cleaned_whole_and_its_parts_not_delivered_apart() {
    let zip = support::zip_of(&[("macro.docm", &fixtures::docm())], Deflated);
    let out = sanitize(&mail_with_zip("docs.zip", &zip), &Policy::default());
    let names: Vec<String> = rebuilt(&out.message).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["macro.docx"]);
    let reported: Vec<&str> = out.report.parts[1]
        .entries
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(reported, ["macro.docm"]);
}
