//! Office Open XML: no part that carries code or reaches outside, no
//! relationship to an external target, no macro-enabled content type.
//! Read with the zip crate's reader and plain text search, not with the
//! cleaner that wrote the package.

use std::io::Read;

/// Part name fragments that must not be in a cleaned package.
const FORBIDDEN_PARTS: [&str; 11] = [
    "vbaproject",
    "vbadata",
    "activex/",
    "embeddings/",
    "customui",
    "macrosheets/",
    "dialogsheets/",
    "externallinks/",
    "oleobject",
    "connections.xml",
    "attachedtoolbars",
];

/// Most bytes read out of one package.
const MAX_TOTAL: u64 = 1 << 30;

pub fn cleaned(bytes: &[u8], complain: &mut impl FnMut(String)) {
    let mut archive = match ::zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(e) => return complain(format!("not a zip: {e}")),
    };
    let mut budget = MAX_TOTAL;
    let mut has_types = false;
    for i in 0..archive.len() {
        let Ok(file) = archive.by_index(i) else {
            complain(format!("entry {i} unreadable"));
            continue;
        };
        let name = file.name().map(|n| n.into_owned()).unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        if let Some(part) = FORBIDDEN_PARTS.iter().find(|p| lower.contains(*p)) {
            complain(format!("part {name} ({part})"));
        }
        if name.split('/').any(|c| c == ".." || c.is_empty()) || name.starts_with('/') {
            complain(format!("part name {name:?}"));
        }
        let is_rels = lower.ends_with(".rels");
        let is_types = name == "[Content_Types].xml";
        if !(is_rels || is_types || lower.ends_with(".xml")) {
            continue;
        }
        let mut content = Vec::new();
        if file.take(budget + 1).read_to_end(&mut content).is_err() || content.len() as u64 > budget
        {
            return complain(format!("part {name} unreadable or too large"));
        }
        budget -= content.len() as u64;
        let text = String::from_utf8_lossy(&content);
        if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
            complain(format!("part {name} declares a DTD or entities"));
        }
        if is_rels && text.contains("TargetMode=\"External\"") {
            complain(format!("{name}: a relationship to an external target"));
        }
        if is_types {
            has_types = true;
            let lower = text.to_ascii_lowercase();
            if lower.contains("macroenabled") || lower.contains("vbaproject") {
                complain("[Content_Types].xml names macro content".into());
            }
        }
    }
    if !has_types {
        complain("no [Content_Types].xml".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn package(files: &[(&str, &str)]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = ::zip::ZipWriter::new(&mut out);
        for (name, text) in files {
            zip.start_file(*name, ::zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn macros_and_external_targets_are_refused() {
        let bad = package(&[
            (
                "[Content_Types].xml",
                "<Types><Override ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/></Types>",
            ),
            ("word/vbaProject.bin", "x"),
            (
                "word/_rels/settings.xml.rels",
                "<Relationship TargetMode=\"External\" Target=\"https://x/\"/>",
            ),
        ]);
        let mut found = Vec::new();
        cleaned(&bad, &mut |w| found.push(w));
        assert_eq!(found.len(), 3, "{found:?}");
        let good = package(&[
            ("[Content_Types].xml", "<Types/>"),
            ("word/document.xml", "<w:document/>"),
        ]);
        let mut found = Vec::new();
        cleaned(&good, &mut |w| found.push(w));
        assert!(found.is_empty(), "{found:?}");
    }
}
