//! Attachment names as they may be shown and saved inside: decoded (by
//! mail-parser, RFC 2047 and RFC 2231), stripped of what can disguise them.

use super::headers::is_bidi_control;

/// Longest delivered name, in characters (Windows paths stay usable).
const MAX_CHARS: usize = 120;

/// A name safe to deliver: no control or bidi characters (RTLO), no path
/// separators, no trailing dots or spaces, never empty.
pub fn clean(name: &str) -> String {
    let mut out: String = name
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .map(|c| if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let trimmed = out.trim_end_matches(['.', ' ']).trim_start_matches([' ', '.']);
    out = trimmed.to_owned();
    if out.chars().count() > MAX_CHARS {
        // Keep the extension visible when cutting a long name.
        let ext = extension(&out).map(|e| format!(".{e}")).unwrap_or_default();
        let stem: String = out.chars().take(MAX_CHARS - ext.chars().count().min(20)).collect();
        out = format!("{stem}{ext}");
    }
    if out.is_empty() { "attachment".into() } else { out }
}

/// The last extension, lowercased, if it is a plausible one.
pub fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 10 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| ext.to_ascii_lowercase())
}

/// `name` with its extension replaced (or added) so it says what is delivered.
pub fn with_extension(name: &str, ext: &str) -> String {
    match extension(name) {
        Some(current) if current == ext => name.to_owned(),
        _ => format!("{name}.{ext}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disguises_are_removed() {
        assert_eq!(clean("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(clean("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(clean("report.txt. . "), "report.txt");
        assert_eq!(clean("\u{0}"), "attachment");
        assert_eq!(clean("見積書.pdf"), "見積書.pdf");
    }

    #[test]
    fn extensions_match_delivery() {
        assert_eq!(with_extension("data.csv", "csv"), "data.csv");
        assert_eq!(with_extension("readme", "txt"), "readme.txt");
        assert_eq!(with_extension("invoice.pdf.exe", "txt"), "invoice.pdf.exe.txt");
    }
}
