//! A decompression bomb of every format class, through real sandboxed
//! workers with a 512 MiB memory limit: each is refused within its limits
//! (the part removed with its reason, or the message held when the worker
//! reached its memory limit first), in bounded time, and the pool goes on.

#[path = "../crates/sanitize/tests/support/mod.rs"]
mod zips;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use mukaika_sanitize::{Action, Policy, Sanitized, Scan, Verdict};
use mukaika_worker::{Config, Failure, Pool, Program};
use zips::{Raw, crc32, deflate_zeros, overlap_bomb, raw_zip, zip_of};

const MIB: usize = 1024 * 1024;

fn mail_with(name: &str, bytes: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: {name}\r\n\
         Date: Sun, 22 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nbody\r\n\
         --b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

/// zlib around a raw deflate stream of `size` zeros.
fn zlib_zeros(size: usize) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    out.extend(deflate_zeros(size));
    // Adler-32 of zeros: a stays 1, b adds 1 per byte.
    let b = (size % 65521) as u32;
    out.extend(((b << 16) | 1).to_be_bytes());
    out
}

/// A one-page PDF whose content stream inflates to `size` bytes.
fn pdf_bomb(size: usize) -> Vec<u8> {
    let stream = zlib_zeros(size);
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>".to_vec(),
    ];
    let mut content = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        stream.len()
    )
    .into_bytes();
    content.extend(&stream);
    content.extend(b"\nendstream");
    objects.push(content);
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    out
}

/// A PNG that declares 100,000 × 100,000 pixels over a few bytes of data.
fn png_bomb() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &zlib_zeros(64 * MIB));
    chunk(b"IEND", b"");
    out
}

/// A docx whose document is a billion-laughs entity bomb.
fn docx_bomb() -> Vec<u8> {
    let mut dtd = String::from("<!DOCTYPE w [<!ENTITY l0 \"ha\">");
    for i in 1..10 {
        let p = i - 1;
        dtd.push_str(&format!(
            "<!ENTITY l{i} \"&l{p};&l{p};&l{p};&l{p};&l{p};&l{p};&l{p};&l{p};&l{p};&l{p};\">"
        ));
    }
    dtd.push_str("]>");
    let document = format!(
        "<?xml version=\"1.0\"?>{dtd}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body><w:p><w:r><w:t>&l9;</w:t></w:r></w:p></w:body></w:document>"
    );
    let types = "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
        <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
        <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
        <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";
    let rels = "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
        <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";
    zip_of(
        &[
            ("[Content_Types].xml", types.as_bytes()),
            ("_rels/.rels", rels.as_bytes()),
            ("word/document.xml", document.as_bytes()),
        ],
        zip::CompressionMethod::Deflated,
    )
}

/// One entry of 1 GiB of zeros in about 7 MB.
fn zip_ratio_bomb() -> Vec<u8> {
    let size = 1 << 30;
    let data = deflate_zeros(size);
    let crc = {
        // CRC of zeros, computed in chunks.
        let mut hasher = crc32fast::Hasher::new();
        let zeros = vec![0; MIB];
        for _ in 0..size / MIB {
            hasher.update(&zeros);
        }
        hasher.finalize()
    };
    raw_zip(&[Raw {
        method: 8,
        crc,
        size: size as u32,
        data,
        ..Raw::stored(b"zeros.bin", b"")
    }])
}

/// HTML nested 100,000 elements deep.
fn html_bomb() -> Vec<u8> {
    let mut html = "<div>".repeat(100_000);
    html.push_str("deep");
    html.into_bytes()
}

/// The part's action and reason, or `None`: the worker must die.
type Expected = Option<(Action, &'static str)>;

fn part_reason(sanitized: &Sanitized, name: &str) -> Option<(Action, String)> {
    sanitized
        .report
        .parts
        .iter()
        .find(|p| p.filename.as_deref() == Some(name))
        .map(|p| (p.action, p.reason.clone()))
}

#[test]
fn a_bomb_of_every_class_is_refused_within_the_workers_limits() {
    let config = Config {
        memory_mb: 512,
        timeout_secs: 60,
        ..Config::default()
    };
    let program = Program {
        path: PathBuf::from(env!("CARGO_BIN_EXE_mukaika")),
        args: vec!["worker".into()],
    };
    let policy = Policy::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // What each must come to: the part removed for its reason, or (hayro
    // 0.9 does not bound a decoded content stream) the worker ended by its
    // memory limit, which holds the message.
    let removed = |reason: &'static str| Some((Action::Removed, reason));
    let bombs: Vec<(&str, Vec<u8>, Expected)> = vec![
        (
            "overlap.zip",
            overlap_bomb(200, MIB),
            removed("archive-bomb-overlap"),
        ),
        // Its one entry is dropped for its ratio, leaving nothing.
        (
            "ratio.zip",
            zip_ratio_bomb(),
            removed("archive-nothing-deliverable"),
        ),
        ("pixels.png", png_bomb(), removed("image-too-large")),
        (
            "laughs.docx",
            docx_bomb(),
            removed("office-entity-declaration"),
        ),
        ("page.pdf", pdf_bomb(1 << 30), None),
        // Not a bomb but a depth attack on the HTML converter.
        (
            "deep.html",
            html_bomb(),
            Some((Action::Converted, "html-to-text")),
        ),
    ];
    runtime.block_on(async {
        let (pool, _) = Pool::start(program, &config, 1, &policy, 1 << 30)
            .await
            .unwrap();
        for (name, bomb, expected) in &bombs {
            let started = Instant::now();
            let outcome = pool
                .sanitize(&mail_with(name, bomb), &Scan::default())
                .await;
            let took = started.elapsed();
            assert!(took < Duration::from_secs(30), "{name} took {took:?}");
            match (outcome, expected) {
                (Ok(sanitized), Some((action, reason))) => {
                    let got = part_reason(&sanitized, name);
                    assert_eq!(got, Some((*action, (*reason).to_owned())), "{name}");
                    assert_eq!(sanitized.report.verdict, Verdict::Sanitized, "{name}");
                }
                (Err(Failure::Crashed(how)), None) => {
                    assert!(how.contains("SIGABRT"), "{name}: {how}")
                }
                (outcome, _) => panic!("{name}: {:?}", outcome.map(|s| s.report)),
            }
        }
        // The pool still works.
        let ok = pool
            .sanitize(&mail_with("fine.txt", b"fine"), &Scan::default())
            .await
            .unwrap();
        assert_eq!(ok.report.verdict, Verdict::Sanitized);
    });
}
