//! Zip attachments through the whole core: rebuilt, held when encrypted,
//! removed when nothing in them may cross. Outputs read with the zip
//! crate's reader and mail-parser, not with the code under test.

mod support;

use base64::Engine;
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
