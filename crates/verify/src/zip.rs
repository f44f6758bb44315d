//! Zips: every entry of an allowed type (by its extension, checked by
//! content), under a relative name with no `..`. Entries are read within
//! a budget: a zip the sanitizer wrote is never a bomb, but this checker
//! does not trust that.

use std::io::Read;

/// Most bytes read out of one zip.
const MAX_TOTAL: u64 = 1 << 30;

pub fn entries(
    bytes: &[u8],
    place: &str,
    allow: &crate::Allow,
    violation: &mut impl FnMut(String, String),
) {
    let mut archive = match ::zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(e) => return violation(place.to_owned(), format!("not a zip: {e}")),
    };
    let mut budget = MAX_TOTAL;
    for i in 0..archive.len() {
        let Ok(file) = archive.by_index(i) else {
            violation(place.to_owned(), format!("zip entry {i} unreadable"));
            continue;
        };
        let name = file.name().map(|n| n.into_owned()).unwrap_or_default();
        let entry_place = format!("{place} > {name}");
        let harmless = !name.is_empty()
            && !name.starts_with('/')
            && !name.contains('\\')
            && name
                .split('/')
                .all(|c| !c.is_empty() && c != ".." && c != "." && !c.contains(':'));
        if !harmless {
            violation(entry_place.clone(), "entry name not harmless".into());
        }
        let mut content = Vec::new();
        let read = file.take(budget + 1).read_to_end(&mut content);
        if read.is_err() || content.len() as u64 > budget {
            return violation(entry_place, "unreadable or too large".into());
        }
        budget -= content.len() as u64;
        let content_type = match name.rsplit('.').next().unwrap_or_default() {
            "txt" => "text/plain",
            "csv" => "text/csv",
            "png" => "image/png",
            "jpg" => "image/jpeg",
            "pdf" => "application/pdf",
            "docx" => crate::DOCX,
            "xlsx" => crate::XLSX,
            "pptx" => crate::PPTX,
            _ => {
                violation(entry_place, "an entry type a mail may not carry".into());
                continue;
            }
        };
        crate::content(content_type, &content, &entry_place, allow, violation);
    }
}
