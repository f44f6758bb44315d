//! Arbitrary bytes as an Office Open XML file: detect, then clean. A
//! cleaned package must clean again, with nothing more to remove. Must
//! never panic, hang or blow up.
//!
//! An odd first byte makes the rest the main part of a fixed package with
//! relationships to keep and to cut: mutated zips rarely reach the XML
//! rewriter (their CRCs stop matching), this does.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use mukaika_sanitize::ooxml::{self, Limits};
use zip::write::SimpleFileOptions;

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((&selector, xml)) if selector & 1 == 1 => check(&package(selector, xml)),
        _ => check(data),
    }
});

fn check(data: &[u8]) {
    let _ = ooxml::detect(data);
    // Smaller than the defaults, so a bomb costs the fuzzer little.
    let limits = Limits {
        max_total_bytes: 64 << 20,
        max_part_bytes: 16 << 20,
        ..Limits::default()
    };
    if let Ok(cleaned) = ooxml::clean(data, &limits) {
        let again = match ooxml::clean(&cleaned.bytes, &limits) {
            Ok(again) => again,
            Err(e) => panic!("a cleaned package does not clean again: {e}"),
        };
        assert_eq!(again.removed, [], "cleaning twice removed more");
        assert_eq!(again.kind, cleaned.kind);
    }
}

const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const OD: &str = "application/vnd.openxmlformats-officedocument";

/// A package whose main part is `xml`. Relationship ids: rId1 (styles)
/// and rId5 (image) are kept; rId2 (external hyperlink), rId3 (VBA) and
/// rId4 (OLE object) are cut.
fn package(selector: u8, xml: &[u8]) -> Vec<u8> {
    let (dir, main, ct) = match (selector >> 1) % 3 {
        0 => (
            "word",
            "document.xml",
            "application/vnd.ms-word.document.macroEnabled.main+xml",
        ),
        1 => (
            "xl",
            "workbook.xml",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ),
        _ => (
            "ppt",
            "presentation.xml",
            "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
        ),
    };
    let types = format!(
        r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="png" ContentType="image/png"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/{dir}/{main}" ContentType="{ct}"/><Override PartName="/{dir}/styles.xml" ContentType="{OD}.wordprocessingml.styles+xml"/></Types>"#
    );
    let root = format!(
        r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{R}/officeDocument" Target="{dir}/{main}"/></Relationships>"#
    );
    let rels = format!(
        r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{R}/styles" Target="styles.xml"/><Relationship Id="rId2" Type="{R}/hyperlink" Target="https://example.invalid/" TargetMode="External"/><Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/><Relationship Id="rId4" Type="{R}/oleObject" Target="embeddings/o.bin"/><Relationship Id="rId5" Type="{R}/image" Target="media/i.png"/></Relationships>"#
    );
    let entries: [(String, &[u8]); 8] = [
        ("[Content_Types].xml".into(), types.as_bytes()),
        ("_rels/.rels".into(), root.as_bytes()),
        (format!("{dir}/{main}"), xml),
        (format!("{dir}/_rels/{main}.rels"), rels.as_bytes()),
        (format!("{dir}/styles.xml"), b"<s/>"),
        (format!("{dir}/vbaProject.bin"), b"vba"),
        (format!("{dir}/embeddings/o.bin"), b"ole"),
        (format!("{dir}/media/i.png"), b"png"),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        zip.start_file(name, options).expect("a fixed name");
        zip.write_all(data).expect("in memory");
    }
    zip.finish().expect("in memory").into_inner()
}
