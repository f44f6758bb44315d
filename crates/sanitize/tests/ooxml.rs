//! `ooxml::clean` on inert docx/docm, xlsm and pptm files built in code
//! (`ooxml/fixtures.rs`). Outputs are checked with an independent reader
//! (the zip crate and quick-xml, never the module's own functions), and
//! the cleaned files must open in LibreOffice.

#[path = "ooxml/fixtures.rs"]
mod fixtures;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mukaika_sanitize::ooxml::{self, Detected, Error, Kind, Limits};

use fixtures::{Pkg, docx_with, field, run};

/// Every entry of a zip, by name (an independent reader).
fn entries(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.insert(entry.name().unwrap().into_owned(), data);
    }
    out
}

fn text(entries: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    let data = entries
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", entries.keys()));
    String::from_utf8(data.clone()).unwrap()
}

/// Parses with quick-xml: well-formed, one root, no DTD.
fn assert_well_formed(name: &str, xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut depth, mut roots) = (0usize, 0);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => {
                roots += usize::from(depth == 0);
                depth += 1;
            }
            Ok(quick_xml::events::Event::Empty(_)) => roots += usize::from(depth == 0),
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::DocType(_)) => panic!("{name}: DTD"),
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{name}: {e}\n{xml}"),
        }
    }
    assert_eq!((depth, roots), (0, 1), "{name}");
}

/// The checks every cleaned package must pass.
fn assert_clean(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let entries = entries(zip);
    for (name, data) in &entries {
        let lower = name.to_ascii_lowercase();
        for bad in [
            "vbaproject",
            "vbadata",
            "activex/",
            "embeddings/",
            "customui/",
            "macrosheets/",
            "externallinks/",
            "connections.xml",
            "custom.xml",
        ] {
            assert!(!lower.contains(bad), "{name} is still there");
        }
        if lower.ends_with(".xml") || lower.ends_with(".rels") {
            let xml = String::from_utf8(data.clone()).unwrap();
            assert_well_formed(name, &xml);
            assert!(!xml.contains("TargetMode=\"External\""), "{name}: {xml}");
            assert!(!xml.contains("attacker.invalid"), "{name}: {xml}");
        }
    }
    let types = text(&entries, "[Content_Types].xml");
    assert!(
        !types.contains("macroEnabled") && !types.contains("vbaProject"),
        "{types}"
    );
    assert!(!types.contains("Extension=\"bin\""), "{types}");
    entries
}

fn reasons(cleaned: &ooxml::Cleaned) -> Vec<&'static str> {
    cleaned.removed.iter().map(|r| r.reason).collect()
}

#[test]
fn a_docm_becomes_a_docx_without_macros_objects_or_links() {
    let input = fixtures::docm();
    assert_eq!(
        ooxml::detect(&input),
        Some(Detected {
            kind: Kind::Docx,
            macro_enabled: true
        })
    );
    let cleaned = ooxml::clean(&input, &Limits::default()).unwrap();
    assert_eq!(cleaned.kind, Kind::Docx);
    assert!(cleaned.was_macro_enabled);
    let entries = assert_clean(&cleaned.bytes);
    let types = text(&entries, "[Content_Types].xml");
    assert!(types.contains(r#"PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml""#), "{types}");
    let doc = text(&entries, "word/document.xml");
    for kept in [
        "Hello 日本語 world",
        "link text",
        "dde result",
        "simple result",
        "The end.",
    ] {
        assert!(doc.contains(kept), "{kept} lost: {doc}");
    }
    for gone in [
        "DDE",
        "instrText",
        "fldSimple",
        "w:object",
        "w:control",
        "OLEObject",
        "r:id=\"rId3\"",
    ] {
        assert!(!doc.contains(gone), "{gone} kept: {doc}");
    }
    let settings = text(&entries, "word/settings.xml");
    assert!(!settings.contains("attachedTemplate"), "{settings}");
    assert!(!entries.contains_key("word/_rels/settings.xml.rels"));
    let rels = text(&entries, "word/_rels/document.xml.rels");
    assert!(
        !rels.contains("vbaProject") && !rels.contains("oleObject") && !rels.contains("/control\""),
        "{rels}"
    );
    assert!(entries.contains_key("docProps/core.xml"));
    let reasons = reasons(&cleaned);
    for reason in [
        "vba",
        "activex",
        "ole-object",
        "custom-ui",
        "custom-properties",
        "external-relationship",
        "dde-field",
        "unknown-part",
    ] {
        assert!(
            reasons.contains(&reason),
            "{reason} not in {:?}",
            cleaned.removed
        );
    }
    assert_eq!(count(&cleaned, "word/document.xml", "dde-field"), 2);
}

fn count(cleaned: &ooxml::Cleaned, part: &str, reason: &str) -> usize {
    cleaned
        .removed
        .iter()
        .filter(|r| r.part == part && r.reason == reason)
        .map(|r| r.count)
        .sum()
}

#[test]
fn parts_that_need_nothing_go_out_as_they_came() {
    let input = fixtures::docx();
    let cleaned = ooxml::clean(&input, &Limits::default()).unwrap();
    assert_eq!(cleaned.removed, []);
    let (before, after) = (entries(&input), assert_clean(&cleaned.bytes));
    assert_eq!(before["word/document.xml"], after["word/document.xml"]);
    assert_eq!(before["docProps/core.xml"], after["docProps/core.xml"]);
}

/// An edit in the middle of a large part: everything around it goes out
/// byte for byte as it came, and the result parses with another parser.
#[test]
fn an_edit_in_a_large_part_leaves_the_rest_byte_identical() {
    let paragraph = |i: usize| {
        format!(
            "<w:p w:rsidR=\"{i:08X}\">\n  <w:r><w:t xml:space='preserve'>段落 {i} &amp; &#x41; &lt;x&gt;</w:t ></w:r><w:r><w:t><![CDATA[<raw> & ]]></w:t></w:r></w:p>"
        )
    };
    let before: String = (0..3000).map(paragraph).collect();
    let after: String = (3000..6000).map(paragraph).collect();
    let link = r#"<w:p><w:hyperlink r:id="rId9" w:history="1">"#;
    let body = format!("{before}{link}{}</w:hyperlink></w:p>{after}", run("link"));
    let input = docx_with(&body)
        .rel(
            "word/document.xml",
            "rId9",
            "hyperlink",
            "https://example.invalid/",
            true,
        )
        .build();
    let original = text(&entries(&input), "word/document.xml");
    assert!(original.len() > 700_000, "{}", original.len());
    let cleaned = ooxml::clean(&input, &Limits::default()).unwrap();
    let out = text(&assert_clean(&cleaned.bytes), "word/document.xml");
    let (decl, rest) = original.split_at(original.find("?>").unwrap() + 2);
    assert!(decl.starts_with("<?xml"));
    // The attribute goes; an end tag is written without the blanks
    // before its `>` (as the rewriter always did); nothing else changes.
    let expected = rest
        .replacen(r#"<w:hyperlink r:id="rId9" "#, "<w:hyperlink ", 1)
        .replace("</w:t >", "</w:t>");
    assert_eq!(expected.len() + 12 + 6000, rest.len());
    let (out_decl, out_rest) = out.split_at(out.find("?>").unwrap() + 2);
    assert!(out_decl.contains("UTF-8"), "{out_decl}");
    let out_rest = out_rest.trim_start();
    let differs = out_rest
        .bytes()
        .zip(expected.bytes())
        .position(|(a, b)| a != b);
    assert!(
        differs.is_none() && out_rest.len() == expected.len(),
        "output differs from the input at byte {differs:?} ({} vs {} bytes)",
        out_rest.len(),
        expected.len()
    );
    assert_parses_with_python(&out);
}

/// An independent parser: python3's expat, through xml.dom.minidom.
fn assert_parses_with_python(xml: &str) {
    let python = which("python3").expect("python3, to parse the output independently");
    let mut child = Command::new(python)
        .args([
            "-c",
            "import sys, xml.dom.minidom as m; d = m.parseString(sys.stdin.buffer.read()); print(len(d.getElementsByTagName('w:p')))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(xml.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python3 could not parse the output"
    );
    let count: usize = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        count,
        xml.matches("<w:p>").count() + xml.matches("<w:p ").count()
    );
}

/// A namespace name spelled with a character reference means the same to
/// Word as the plain one; the rewriter would not see it as such, so the
/// part is refused rather than half understood.
#[test]
fn a_namespace_spelled_with_references_is_refused() {
    let dde = field(r#"DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc""#, "x");
    let body = format!(
        r#"<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/m&#97;in">{dde}</w:p>"#
    );
    let input = docx_with(&body).build();
    let result = ooxml::clean(&input, &Limits::default());
    assert!(matches!(result, Err(Error::Corrupt(_))), "{result:?}");
}

#[test]
fn a_remote_template_is_cut() {
    let cleaned = ooxml::clean(&fixtures::docx_remote_template(), &Limits::default()).unwrap();
    assert!(!cleaned.was_macro_enabled);
    let entries = assert_clean(&cleaned.bytes);
    let settings = text(&entries, "word/settings.xml");
    assert!(
        !settings.contains("attachedTemplate") && settings.contains("defaultTabStop"),
        "{settings}"
    );
    assert_eq!(
        count(
            &cleaned,
            "word/_rels/settings.xml.rels",
            "external-relationship"
        ),
        1
    );
    assert!(text(&entries, "word/document.xml").contains("Template test"));
}

#[test]
fn dde_fields_keep_only_their_displayed_result() {
    let body = format!(
        "<w:p>{}{}{}</w:p><w:p>{}</w:p>",
        run("before "),
        field(
            r#" DDEAUTO "C:\\Programs\\Microsoft\\Office\\MSWord.exe\\..\\..\\..\\..\\windows\\system32\\cmd.exe" "/c echo inert" "#,
            "shown result"
        ),
        run(" after"),
        field(" PAGE ", "1"),
    );
    let cleaned = ooxml::clean(&docx_with(&body).build(), &Limits::default()).unwrap();
    let doc = text(&assert_clean(&cleaned.bytes), "word/document.xml");
    assert!(!doc.to_uppercase().contains("DDE"), "{doc}");
    assert!(doc.contains("before ") && doc.contains("shown result") && doc.contains(" after"));
    // A harmless field stays a field.
    assert!(
        doc.contains(" PAGE ") && doc.matches("<w:fldChar").count() == 3,
        "{doc}"
    );
    assert_eq!(reasons(&cleaned), ["dde-field"]);
}

#[test]
fn a_utf16_part_is_read_as_utf16() {
    // No BOM: Office detects UTF-16 from "<\0"; a byte scan for UTF-8
    // words would see nothing in it.
    let xml = fixtures::word_document(&format!(
        "<w:p>{}</w:p>",
        field(" DDEAUTO cmd \"/c echo inert\" ", "kept")
    ));
    let utf16: Vec<u8> = xml
        .replace("UTF-8", "UTF-16")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let input = Pkg::new()
        .part(
            "word/document.xml",
            Some(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            ),
            utf16,
        )
        .rel("", "rId1", "officeDocument", "word/document.xml", false)
        .build();
    let cleaned = ooxml::clean(&input, &Limits::default()).unwrap();
    let doc = text(&assert_clean(&cleaned.bytes), "word/document.xml");
    assert!(
        doc.contains("encoding=\"UTF-8\"") && doc.contains("kept") && !doc.contains("DDE"),
        "{doc}"
    );
    assert_eq!(reasons(&cleaned), ["dde-field"]);
}

#[test]
fn an_xlsm_loses_its_macro_sheet_links_and_connections() {
    let input = fixtures::xlsm();
    assert_eq!(
        ooxml::detect(&input),
        Some(Detected {
            kind: Kind::Xlsx,
            macro_enabled: true
        })
    );
    let cleaned = ooxml::clean(&input, &Limits::default()).unwrap();
    assert_eq!(cleaned.kind, Kind::Xlsx);
    let entries = assert_clean(&cleaned.bytes);
    let types = text(&entries, "[Content_Types].xml");
    assert!(types.contains("spreadsheetml.sheet.main+xml"), "{types}");
    let workbook = text(&entries, "xl/workbook.xml");
    for gone in ["Macro1", "Auto_Open", "externalReference", "Gone"] {
        assert!(!workbook.contains(gone), "{gone} kept: {workbook}");
    }
    assert!(
        workbook.contains(r#"<definedName name="Kept">Data!$A$1</definedName>"#),
        "{workbook}"
    );
    let sheet = text(&entries, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains("Kept cell 日本語") && !sheet.contains("hyperlink"),
        "{sheet}"
    );
    let reasons = reasons(&cleaned);
    for reason in [
        "xlm-macro-sheet",
        "vba",
        "dde-link",
        "external-data",
        "external-relationship",
        "macro-reference",
    ] {
        assert!(
            reasons.contains(&reason),
            "{reason} not in {:?}",
            cleaned.removed
        );
    }
}

#[test]
fn a_pptm_loses_its_activex_control_and_ole_object() {
    let input = fixtures::pptm();
    let cleaned = ooxml::clean(&input, &Limits::default()).unwrap();
    assert_eq!(
        (cleaned.kind, cleaned.was_macro_enabled),
        (Kind::Pptx, true)
    );
    let entries = assert_clean(&cleaned.bytes);
    let slide = text(&entries, "ppt/slides/slide1.xml");
    assert!(slide.contains("Slide text 日本語"), "{slide}");
    for gone in [
        "p:controls",
        "p:control ",
        "oleObj",
        "graphicFrame",
        "ppaction://macro",
    ] {
        assert!(!slide.contains(gone), "{gone} kept: {slide}");
    }
    assert!(text(&entries, "[Content_Types].xml").contains("presentationml.presentation.main+xml"));
    let reasons = reasons(&cleaned);
    for reason in ["activex", "ole-object", "vba", "macro-reference"] {
        assert!(
            reasons.contains(&reason),
            "{reason} not in {:?}",
            cleaned.removed
        );
    }
}

#[test]
fn a_billion_laughs_part_is_refused_not_expanded() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"#;
    let input = Pkg::new()
        .part(
            "word/document.xml",
            Some(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            ),
            laughs,
        )
        .rel("", "rId1", "officeDocument", "word/document.xml", false)
        .build();
    assert_eq!(
        ooxml::clean(&input, &Limits::default()),
        Err(Error::EntityDeclaration)
    );
    // In the package's own XML too: [Content_Types].xml is read first.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "[Content_Types].xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let types = r#"<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "application/xml">]><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="&a;"/></Types>"#;
    std::io::Write::write_all(&mut zip, types.as_bytes()).unwrap();
    let input = zip.finish().unwrap().into_inner();
    assert_eq!(
        ooxml::clean(&input, &Limits::default()),
        Err(Error::EntityDeclaration)
    );
    assert_eq!(ooxml::detect(&input), None);
    assert_eq!(Error::EntityDeclaration.reason(), "entity-declaration");
}

#[test]
fn a_zip_bomb_entry_is_refused_on_actual_bytes() {
    let bomb = vec![0u8; 16 << 20];
    let input = docx_with(r#"<w:p><w:r><w:drawing/></w:r></w:p>"#)
        .part("word/media/image1.png", None, bomb)
        .rel(
            "word/document.xml",
            "rId9",
            "image",
            "media/image1.png",
            false,
        )
        .build();
    assert!(input.len() < 200_000, "{}", input.len());
    let started = Instant::now();
    assert_eq!(ooxml::clean(&input, &Limits::default()), Err(Error::Bomb));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(Error::Bomb.reason(), "zip-bomb");
}

#[test]
fn limits_are_enforced() {
    let input = fixtures::docm();
    let tight = Limits {
        max_part_bytes: 200,
        ..Limits::default()
    };
    assert_eq!(ooxml::clean(&input, &tight), Err(Error::TooLarge));
    let few = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    assert_eq!(ooxml::clean(&input, &few), Err(Error::TooLarge));
    let total = Limits {
        max_total_bytes: 1000,
        ..Limits::default()
    };
    assert_eq!(ooxml::clean(&input, &total), Err(Error::TooLarge));
    // Stored entries lie about nothing; the limits hold for them too.
    let stored = docx_with(&format!("<w:p>{}</w:p>", run(&"x".repeat(5000))))
        .stored()
        .build();
    assert_eq!(
        ooxml::clean(
            &stored,
            &Limits {
                max_part_bytes: 1000,
                ..Limits::default()
            }
        ),
        Err(Error::TooLarge)
    );
}

#[test]
fn limits_deserialize_with_defaults() {
    let limits: Limits = toml::from_str("max_entries = 10").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        limits,
        Limits {
            max_entries: 10,
            ..Limits::default()
        }
    );
    assert!(toml::from_str::<Limits>("max_entrys = 10").is_err());
}

#[test]
fn path_traversal_names_are_corrupt() {
    let input = fixtures::docx_with("<w:p/>")
        .part("../../evil.xml", None, "<x/>")
        .build();
    assert!(matches!(
        ooxml::clean(&input, &Limits::default()),
        Err(Error::Corrupt(_))
    ));
}

#[test]
fn not_ooxml_and_encrypted_inputs() {
    let limits = Limits::default();
    assert_eq!(ooxml::clean(b"", &limits), Err(Error::NotOoxml));
    assert_eq!(
        ooxml::clean(b"%PDF-1.7 not a zip", &limits),
        Err(Error::NotOoxml)
    );
    assert_eq!(ooxml::detect(b"%PDF-1.7"), None);
    // A zip, but no package.
    let plain = Pkg::new().part("readme.txt", None, "hi").build();
    assert_eq!(ooxml::clean(&plain, &limits), Err(Error::NotOoxml));
    // An ODF-like or unknown main type.
    let odd = Pkg::new()
        .part(
            "content.xml",
            Some("application/vnd.oasis.opendocument.text"),
            "<x/>",
        )
        .rel("", "rId1", "officeDocument", "content.xml", false)
        .build();
    assert_eq!(ooxml::clean(&odd, &limits), Err(Error::NotOoxml));
    // An OLE2 compound file holding an EncryptedPackage stream.
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.resize(512, 0);
    ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(ooxml::clean(&ole, &limits), Err(Error::Encrypted));
    // A legacy .doc is an OLE2 file without it.
    assert_eq!(ooxml::clean(&ole[..512], &limits), Err(Error::NotOoxml));
}

#[test]
fn output_is_deterministic_and_cleaning_again_changes_nothing() {
    for input in [fixtures::docm(), fixtures::xlsm(), fixtures::pptm()] {
        let once = ooxml::clean(&input, &Limits::default()).unwrap();
        assert_eq!(once, ooxml::clean(&input, &Limits::default()).unwrap());
        let twice = ooxml::clean(&once.bytes, &Limits::default()).unwrap();
        assert_eq!(twice.removed, [], "second pass removed something");
        assert!(!twice.was_macro_enabled);
        assert_eq!(entries(&twice.bytes), entries(&once.bytes));
    }
}

#[test]
fn errors_have_stable_reasons_and_messages() {
    let all = [
        (Error::NotOoxml, "not-ooxml"),
        (Error::Encrypted, "encrypted"),
        (Error::TooLarge, "too-large"),
        (Error::Bomb, "zip-bomb"),
        (Error::Corrupt("x".into()), "corrupt"),
        (Error::EntityDeclaration, "entity-declaration"),
    ];
    for (error, reason) in all {
        assert_eq!(error.reason(), reason);
        assert!(!error.to_string().is_empty());
    }
}

/// Writes the fixtures as fuzz seeds: `cargo test -p mukaika-sanitize
/// --test ooxml -- --ignored write_fuzz_seeds` (run by fuzz/seed.sh).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/clean_ooxml");
    std::fs::create_dir_all(&dir).unwrap();
    let cleaned = ooxml::clean(&fixtures::docm(), &Limits::default()).unwrap();
    for (name, data) in [
        ("docx", fixtures::docx()),
        ("docm", fixtures::docm()),
        ("docx-remote-template", fixtures::docx_remote_template()),
        ("xlsm", fixtures::xlsm()),
        ("pptm", fixtures::pptm()),
        ("docm-cleaned", cleaned.bytes),
    ] {
        std::fs::write(dir.join(name), data).unwrap();
    }
    // An odd first byte: the rest is the main part of the fuzz target's
    // own package (see fuzz_targets/clean_ooxml.rs).
    for (selector, zip, part) in [
        (1u8, fixtures::docm(), "word/document.xml"),
        (3, fixtures::xlsm(), "xl/workbook.xml"),
        (3, fixtures::xlsm(), "xl/worksheets/sheet1.xml"),
        (5, fixtures::pptm(), "ppt/slides/slide1.xml"),
    ] {
        let mut seed = vec![selector];
        seed.extend(&entries(&zip)[part]);
        std::fs::write(dir.join(format!("xml-{}", part.replace('/', "-"))), seed).unwrap();
    }
}

const LIBREOFFICE_PACKAGES: &str =
    "libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui";

/// The cleaned docx, xlsx and pptx open in LibreOffice: each converts to a
/// non-empty PDF. A missing soffice fails the test.
#[test]
fn cleaned_files_open_in_libreoffice() {
    let soffice = which("soffice").unwrap_or_else(|| {
        panic!("soffice not found: install LibreOffice (apt-get install -y --no-install-recommends {LIBREOFFICE_PACKAGES}), as scripts/test does")
    });
    let work = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, input) in [
        ("doc.docx", fixtures::docm()),
        ("book.xlsx", fixtures::xlsm()),
        ("slides.pptx", fixtures::pptm()),
    ] {
        let cleaned = ooxml::clean(&input, &Limits::default()).unwrap();
        let path = work.path().join(name);
        std::fs::write(&path, cleaned.bytes).unwrap();
        files.push(path);
    }
    let out = work.path().join("pdf");
    let profile = format!(
        "-env:UserInstallation=file://{}",
        work.path().join("profile").display()
    );
    let mut command = Command::new(soffice);
    command
        .arg(profile)
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(&out)
        .args(&files);
    let status = run_with_timeout(command, Duration::from_secs(120));
    for file in &files {
        let pdf = out.join(file.file_stem().unwrap()).with_extension("pdf");
        let size = std::fs::metadata(&pdf).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 0,
            "{} did not convert ({status}): no {}",
            file.display(),
            pdf.display()
        );
        let head = std::fs::read(&pdf).unwrap();
        assert!(head.starts_with(b"%PDF-"), "{}", pdf.display());
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Runs a command in its own process group; kills the group on timeout.
fn run_with_timeout(mut command: Command, limit: Duration) -> String {
    use std::os::unix::process::CommandExt;
    let mut child = command.process_group(0).spawn().expect("soffice starts");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return format!("{status} after {:.1?}", started.elapsed());
        }
        if started.elapsed() > limit {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            panic!("soffice did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
