//! The LibreOffice converter against a real soffice (Debian's
//! libreoffice-writer-nogui, -calc-nogui, -impress-nogui, which
//! `scripts/test` installs), run as `mukaika convert` under its sandbox:
//! documents become PDFs, garbage fails cleanly, a conversion past its
//! timeout is killed with its whole process group, nothing is left behind,
//! and the sandbox keeps the network and the rest of the filesystem out.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mukaika_worker::convert::Converter;
use mukaika_worker::{Config, Program};

/// Generous for LibreOffice's first start in a debug build, but bounded.
const LIMIT: Duration = Duration::from_secs(120);

fn program() -> Program {
    Program {
        path: PathBuf::from(env!("CARGO_BIN_EXE_mukaika")),
        args: vec!["convert".into()],
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A directory for the conversions of one test, which the converter's user
/// (nobody, when the tests run as root) can reach.
fn convert_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("mukaika-convert-test-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn config(dir: &Path) -> Config {
    Config {
        convert_dir: dir.to_path_buf(),
        convert_timeout_secs: LIMIT.as_secs(),
        ..Config::default()
    }
}

/// "Hello 無害化" in RTF: the kanji as \uN escapes.
fn rtf() -> Vec<u8> {
    let kanji: String = "無害化"
        .chars()
        .map(|c| format!("\\u{}?", c as u32))
        .collect();
    format!(r"{{\rtf1\ansi\deff0 {{\fonttbl{{\f0 Times;}}}} \f0 Hello {kanji} \par}}").into_bytes()
}

/// An RTF LibreOffice needs well over a second for: 200,000 lines.
fn big_rtf() -> String {
    let mut big = String::from(r"{\rtf1\ansi ");
    for i in 0..200_000 {
        big.push_str(&format!("line {i} \\par "));
    }
    big.push('}');
    big
}

/// `input` converted to `to` by plain soffice, outside any sandbox: test
/// fixtures only.
fn convert_plainly(input: &[u8], from: &str, to: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("fixture.{from}"));
    std::fs::write(&path, input).unwrap();
    let status = Command::new("soffice")
        .arg("--headless")
        .arg(format!(
            "-env:UserInstallation=file://{}/profile",
            dir.path().display()
        ))
        .args(["--convert-to", to, "--outdir"])
        .arg(dir.path())
        .arg(&path)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    std::fs::read(dir.path().join(format!("fixture.{to}"))).unwrap()
}

fn assert_pdf(pdf: &[u8]) -> lopdf::Document {
    assert!(pdf.starts_with(b"%PDF"), "{:?}", &pdf[..pdf.len().min(16)]);
    let doc = lopdf::Document::load_mem(pdf).expect("lopdf opens it");
    assert!(!doc.get_pages().is_empty());
    doc
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn rtf_and_doc_become_pdfs_in_the_sandbox() {
    let dir = convert_dir();
    runtime().block_on(async {
        let (converter, probe) = Converter::start(program(), &config(dir.path()))
            .await
            .unwrap();
        assert!(probe.shortfalls().is_empty(), "{:?}", probe.shortfalls());
        let started = Instant::now();
        let pdf = converter.convert(&rtf(), "rtf").await.unwrap();
        eprintln!("rtf converted in {:?}", started.elapsed());
        let doc = assert_pdf(&pdf);
        let text = doc.extract_text(&[1]).unwrap_or_default();
        assert!(text.contains("Hello"), "{text:?}");

        let doc_file = convert_plainly(&rtf(), "rtf", "doc");
        assert!(doc_file.starts_with(b"\xD0\xCF\x11\xE0"));
        let started = Instant::now();
        let pdf = converter.convert(&doc_file, "doc").await.unwrap();
        eprintln!("doc converted in {:?}", started.elapsed());
        assert_pdf(&pdf);
    });
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn odt_and_xls_become_pdfs() {
    let dir = convert_dir();
    let odt = convert_plainly(&rtf(), "rtf", "odt");
    let csv = "品名,数量\nりんご,3\n".as_bytes();
    let xls = convert_plainly(csv, "csv", "xls");
    runtime().block_on(async {
        let (converter, _) = Converter::start(program(), &config(dir.path()))
            .await
            .unwrap();
        for (bytes, ext) in [(odt, "odt"), (xls, "xls")] {
            let pdf = converter.convert(&bytes, ext).await;
            assert_pdf(&pdf.unwrap_or_else(|e| panic!("{ext}: {e}")));
        }
    });
    assert!(entries(dir.path()).is_empty());
}

/// One slide with Japanese text, as flat OpenDocument XML: the fixture
/// from which plain soffice makes the .ppt and .odp.
const SLIDE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation"><office:body><office:presentation><draw:page draw:name="p1"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>会議資料 SLIDE</text:p></draw:text-box></draw:frame></draw:page></office:presentation></office:body></office:document>"#;

/// The fonts a PDF embeds, as poppler's `pdffonts` lists them.
fn pdf_fonts(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdffonts").arg(&path).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Presentations convert too, and Japanese text is drawn with a Japanese
/// font (IPAex, which `scripts/test` installs as a deployment should), not
/// as the empty boxes of a Latin fallback.
#[test]
fn ppt_and_odp_become_pdfs_with_japanese_drawn_in_a_japanese_font() {
    let fonts = mukaika_worker::convert::japanese_fonts().unwrap();
    assert!(fonts.iter().any(|f| f.starts_with("IPAex")), "{fonts:?}");
    let dir = convert_dir();
    let ppt = convert_plainly(SLIDE.as_bytes(), "fodp", "ppt");
    let odp = convert_plainly(SLIDE.as_bytes(), "fodp", "odp");
    assert!(ppt.starts_with(b"\xD0\xCF\x11\xE0"));
    runtime().block_on(async {
        let (converter, _) = Converter::start(program(), &config(dir.path()))
            .await
            .unwrap();
        for (bytes, ext) in [(ppt, "ppt"), (odp, "odp"), (rtf(), "rtf")] {
            let pdf = converter
                .convert(&bytes, ext)
                .await
                .unwrap_or_else(|e| panic!("{ext}: {e}"));
            assert_pdf(&pdf);
            let fonts = pdf_fonts(&pdf);
            assert!(fonts.contains("+IPAex"), "{ext}: {fonts}");
        }
    });
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn garbage_fails_cleanly() {
    let dir = convert_dir();
    runtime().block_on(async {
        let (converter, _) = Converter::start(program(), &config(dir.path()))
            .await
            .unwrap();
        // LibreOffice reads most garbage as text (and prints that, which
        // is harmless: the PDF is flattened); a block of zeros it refuses.
        let error = converter.convert(&[0; 4096], "doc").await.unwrap_err();
        assert!(error.contains("no PDF"), "{error}");
        let error = converter.convert(b"x", "exe").await.unwrap_err();
        assert!(error.contains("no conversion"), "{error}");
    });
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn a_conversion_past_its_timeout_is_killed_with_its_group() {
    let dir = convert_dir();
    let config = Config {
        convert_timeout_secs: 1,
        ..config(dir.path())
    };
    runtime().block_on(async {
        let (converter, _) = Converter::start(program(), &config).await.unwrap();
        let big = big_rtf();
        let started = Instant::now();
        let error = converter.convert(big.as_bytes(), "rtf").await.unwrap_err();
        assert!(error.contains("killed after 1 s"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    });
    // Nothing of it runs on, and nothing of it is left on disk.
    std::thread::sleep(Duration::from_millis(200));
    let pattern = dir.path().display().to_string();
    let left = Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "still running: {}",
        String::from_utf8_lossy(&left.stdout)
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn the_converter_sandbox_allows_only_what_libreoffice_needs() {
    let dir = convert_dir();
    runtime().block_on(async {
        let (converter, _) = Converter::start(program(), &config(dir.path()))
            .await
            .unwrap();
        let probe = converter.probe().await.unwrap();
        for (name, attempt) in probe.forbidden() {
            assert!(attempt.is_err(), "the converter could {name}");
        }
        for (name, attempt) in probe.needed() {
            assert!(
                attempt.is_ok(),
                "the converter could not {name}: {attempt:?}"
            );
        }
        assert!(probe.shortfalls().is_empty(), "{:?}", probe.shortfalls());
        if nix::unistd::geteuid().is_root() {
            assert_eq!(probe.applied.uid, 65534, "runs as nobody");
        }
    });
    assert!(entries(dir.path()).is_empty());
}

/// `mukaika sanitize --profile strict` on `mail`: the report and the
/// delivered message.
fn sanitize_strict(mail: &[u8]) -> (serde_json::Value, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.eml");
    std::fs::write(&input, mail).unwrap();
    let report = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mukaika"))
        .args(["sanitize", "--profile", "strict", "--out"])
        .arg(dir.path().join("out.eml"))
        .arg("--report")
        .arg(&report)
        .arg(&input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (report, std::fs::read(dir.path().join("out.eml")).unwrap())
}

/// An archive's documents go through the converter too (the place of each
/// travels to the worker and back), and by the strict profile its entries
/// cross as attachments of their own: a zip of an RTF arrives as its PDF.
#[test]
fn the_strict_profile_delivers_a_zipped_document_as_its_own_pdf() {
    use base64::Engine;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("議事録/議事録.rtf", options).unwrap();
    std::io::Write::write_all(&mut zip, &rtf()).unwrap();
    zip.start_file("run.bat", options).unwrap();
    std::io::Write::write_all(&mut zip, b"del /q *").unwrap();
    let zip = zip.finish().unwrap().into_inner();
    let mail = format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: zip\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBODY\r\n\
         --z\r\nContent-Type: application/zip; name=\"docs.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--z--\r\n",
        base64::engine::general_purpose::STANDARD.encode(&zip)
    );
    let (report, message) = sanitize_strict(mail.as_bytes());
    assert_eq!(report["verdict"], "sanitized", "{report}");
    let part = &report["parts"][1];
    assert_eq!(part["reason"], "archive-split-into-attachments", "{report}");
    assert_eq!(
        part["entries"][0]["reason"], "office-converted-to-pdf",
        "{report}"
    );
    assert_eq!(
        part["entries"][1]["reason"], "executable-or-script",
        "{report}"
    );
    let parsed = mail_parser::MessageParser::new().parse(&message).unwrap();
    let names: Vec<&str> = parsed
        .attachments()
        .filter_map(mail_parser::MimeHeaders::attachment_name)
        .collect();
    assert_eq!(names, ["議事録.pdf"]);
    assert!(
        parsed
            .attachment(0)
            .unwrap()
            .contents()
            .starts_with(b"%PDF")
    );
}

/// The strict profile (`office = "pdf"`) end to end in `mukaika sanitize`,
/// through its worker and the converter: the macro-enabled docm of the
/// samples crosses as a PDF of page images.
#[test]
fn the_strict_profile_delivers_a_docm_as_a_flattened_pdf() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/315-docm-macro.eml");
    let (report, message) = sanitize_strict(&std::fs::read(sample).unwrap());
    assert_eq!(report["verdict"], "sanitized", "{report}");
    let converted: Vec<&serde_json::Value> = report["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["reason"] == "office-converted-to-pdf")
        .collect();
    assert_eq!(converted.len(), 1, "{report}");
    assert_eq!(converted[0]["action"], "flattened");
    let parsed = mail_parser::MessageParser::new().parse(&message).unwrap();
    let pdf = parsed.attachment(0).expect("the PDF");
    assert!(
        mail_parser::MimeHeaders::attachment_name(pdf).is_some_and(|n| n.ends_with(".pdf")),
        "{:?}",
        mail_parser::MimeHeaders::attachment_name(pdf)
    );
    assert!(pdf.contents().starts_with(b"%PDF"));
}

/// The strict profile draws an SVG (`markup = "image"`) in the sandboxed
/// worker, its Japanese text with the CJK font the worker read before its
/// sandbox closed: the text has ink, the script and link do not cross.
#[test]
fn the_strict_profile_delivers_an_svg_as_a_picture_with_its_japanese_text() {
    use base64::Engine;
    let svg = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n\
        <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"200\">\
        <script>alert(1)</script>\
        <a href=\"https://evil.example/\"><rect width=\"100\" height=\"100\" fill=\"red\"/></a>\
        <text x=\"0\" y=\"180\" font-family=\"Meiryo\" font-size=\"60\">無害化処理</text></svg>";
    let (svg, _, _) = encoding_rs::SHIFT_JIS.encode(svg);
    let mail = format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: svg\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBODY\r\n\
         --z\r\nContent-Type: image/svg+xml; name=\"=?UTF-8?B?{}?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--z--\r\n",
        base64::engine::general_purpose::STANDARD.encode("図面.svg"),
        base64::engine::general_purpose::STANDARD.encode(&svg)
    );
    let (report, message) = sanitize_strict(mail.as_bytes());
    assert_eq!(report["parts"][1]["reason"], "svg-rasterized", "{report}");
    let parsed = mail_parser::MessageParser::new().parse(&message).unwrap();
    let part = parsed.attachment(0).unwrap();
    assert_eq!(
        mail_parser::MimeHeaders::attachment_name(part),
        Some("図面.png")
    );
    let img = image::load_from_memory_with_format(part.contents(), image::ImageFormat::Png)
        .unwrap()
        .to_rgb8();
    assert_eq!(img.dimensions(), (400, 200));
    assert_eq!(img.get_pixel(50, 50).0, [255, 0, 0]);
    // Five 60 px kanji in the band under the square: well over 5 % ink.
    let band = (0..400).flat_map(|x| (125..195).map(move |y| (x, y)));
    let dark = band
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 128))
        .count();
    assert!(
        dark > 400 * 70 / 20,
        "the text is missing: {dark} dark pixels"
    );
    let text = String::from_utf8_lossy(&message);
    assert!(!text.contains("evil.example") && !text.contains("alert"));
}

/// A daemon killed outright mid-conversion takes LibreOffice with it:
/// `soffice.bin` (a child of LibreOffice's launcher, which no parent-death
/// signal reaches) ends within a second, not at its CPU limit.
#[test]
fn a_daemon_killed_mid_conversion_takes_libreoffice_with_it() {
    use base64::Engine;
    let dir = convert_dir();
    let config = dir.path().join("mukaika.toml");
    std::fs::write(
        &config,
        format!(
            "[workers]\nconvert_dir = \"{}\"\nconvert_timeout_secs = 600\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let big = big_rtf();
    let mail = format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: rtf\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain\r\n\r\nBODY\r\n\
         --z\r\nContent-Type: application/rtf; name=\"big.rtf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--z--\r\n",
        base64::engine::general_purpose::STANDARD.encode(&big)
    );
    let input = dir.path().join("in.eml");
    std::fs::write(&input, mail).unwrap();
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_mukaika"))
        .arg("sanitize")
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("out.eml"))
        .arg(&input)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pattern = dir.path().join("mukaika-convert-").display().to_string();
    let running = |name: &str| {
        let out = Command::new("pgrep")
            .args(["-a", "-f", &pattern])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(name))
            .count()
    };
    let started = Instant::now();
    while running("soffice.bin") == 0 {
        assert!(started.elapsed() < LIMIT, "soffice.bin never started");
        assert!(daemon.try_wait().unwrap().is_none(), "sanitize ended first");
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let killed = Instant::now();
    while running("") > 0 {
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "still running after the daemon died: {}",
            String::from_utf8_lossy(
                &Command::new("pgrep")
                    .args(["-a", "-f", &pattern])
                    .output()
                    .unwrap()
                    .stdout
            )
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Its directory, with the attachment in it, is left: the next start
    // removes it once it is older than any conversion can last, and
    // nothing else (another name, a link to elsewhere).
    let workspaces = || {
        entries(dir.path())
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("mukaika-convert-")
            })
            .count()
    };
    assert_eq!(workspaces(), 1);
    let elsewhere = convert_dir();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("mukaika-convert-link")).unwrap();
    use mukaika_worker::convert::remove_stale_workspaces;
    assert_eq!(
        remove_stale_workspaces(dir.path(), Duration::from_secs(3600)),
        0
    );
    assert_eq!(remove_stale_workspaces(dir.path(), Duration::ZERO), 1);
    assert!(elsewhere.path().is_dir() && dir.path().join("mukaika-convert-link").exists());
    assert_eq!(workspaces(), 1, "the link only");
    assert!(config.exists() && input.exists());
}
