//! Attachment names as they may be shown and saved inside: decoded (by
//! mail-parser, RFC 2047 and RFC 2231), stripped of what can disguise them.

use super::charset;
use super::headers::is_bidi_control;

/// Longest delivered name, in characters (Windows paths stay usable).
const MAX_CHARS: usize = 120;

/// A name safe to deliver: no control or bidi characters (RTLO), no path
/// separators, no trailing dots or spaces, never empty.
pub fn clean(name: &str) -> String {
    let mut out: String = name
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = out
        .trim_end_matches(['.', ' '])
        .trim_start_matches([' ', '.']);
    out = trimmed.to_owned();
    if out.chars().count() > MAX_CHARS {
        // Keep the extension visible when cutting a long name.
        let ext = extension(&out).map(|e| format!(".{e}")).unwrap_or_default();
        let stem: String = out
            .chars()
            .take(MAX_CHARS - ext.chars().count().min(20))
            .collect();
        out = format!("{stem}{ext}");
    }
    if out.is_empty() {
        "attachment".into()
    } else {
        out
    }
}

/// Re-reads an RFC 2231 parameter (`filename*0*=UTF-8''%E4%BC; filename*1*=%9A…`)
/// from a raw header value, joining the sections as bytes before decoding
/// them. mail-parser decodes each section alone, which breaks a character
/// split across two sections; this is only called when that happened.
pub fn rfc2231_joined(raw_value: &str, param: &str) -> Option<String> {
    let mut sections: Vec<(usize, bool, &str)> = Vec::new();
    for item in raw_value.split(';').skip(1) {
        let (key, value) = item.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let Some(rest) = key.strip_prefix(param).and_then(|r| r.strip_prefix('*')) else {
            continue;
        };
        let (number, encoded) = match rest.strip_suffix('*') {
            Some(n) => (n, true),
            None if rest.is_empty() => ("0", true),
            None => (rest, false),
        };
        let number = if number.is_empty() {
            0
        } else {
            number.parse().ok()?
        };
        sections.push((number, encoded, value.trim().trim_matches('"')));
    }
    sections.sort_by_key(|&(n, _, _)| n);
    let (_, first_encoded, first) = *sections.first()?;
    let (label, first) = if first_encoded {
        let mut fields = first.splitn(3, '\'');
        let label = fields.next()?;
        let _language = fields.next()?;
        (Some(label), fields.next()?)
    } else {
        (None, first)
    };
    let mut bytes = Vec::new();
    for (i, &(_, encoded, value)) in sections.iter().enumerate() {
        let value = if i == 0 { first } else { value };
        if encoded {
            percent_decode(value, &mut bytes)
        } else {
            bytes.extend_from_slice(value.as_bytes())
        }
    }
    Some(charset::decode(&bytes, label.filter(|l| !l.is_empty())).text)
}

fn percent_decode(value: &str, out: &mut Vec<u8>) {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
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

/// `name` with its extension replaced by `ext` when it is one of `same_kind`
/// (`photo.jpeg` → `photo.jpg`), else with `ext` added (`photo.exe.png`).
pub fn converted_extension(name: &str, ext: &str, same_kind: &[&str]) -> String {
    match extension(name) {
        Some(current) if same_kind.contains(&current.as_str()) => {
            let stem = &name[..name.len() - current.len() - 1];
            format!("{stem}.{ext}")
        }
        _ => with_extension(name, ext),
    }
}

/// The name of the zip rebuilt from an archive: its archive extension
/// replaced (`winmail.dat` → `winmail.zip`, `foo.7z` → `foo.zip`), a
/// compressed tar's two at once (`foo.tar.gz` → `foo.zip`).
pub fn archive_as_zip(name: &str) -> String {
    const ARCHIVES: [&str; 9] = [
        "zip", "dat", "tnef", "tar", "gz", "tgz", "taz", "gzip", "7z",
    ];
    let zip = converted_extension(name, "zip", &ARCHIVES);
    let stem_len = zip.len() - ".zip".len();
    match zip.get(..stem_len).and_then(|stem| stem.rsplit_once('.')) {
        Some((stem, "tar" | "TAR" | "Tar")) if !stem.is_empty() => format!("{stem}.zip"),
        _ => zip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_become_zips() {
        assert_eq!(archive_as_zip("winmail.dat"), "winmail.zip");
        assert_eq!(archive_as_zip("資料.7z"), "資料.zip");
        assert_eq!(archive_as_zip("foo.tar.gz"), "foo.zip");
        assert_eq!(archive_as_zip("FOO.TAR.GZ"), "FOO.zip");
        assert_eq!(archive_as_zip("foo.tgz"), "foo.zip");
        assert_eq!(archive_as_zip("foo.tar"), "foo.zip");
        assert_eq!(archive_as_zip("report.pdf.gz"), "report.pdf.zip");
        assert_eq!(archive_as_zip("x.zip"), "x.zip");
        assert_eq!(archive_as_zip(".tar.gz"), ".tar.zip");
    }

    #[test]
    fn disguises_are_removed() {
        assert_eq!(clean("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(clean("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(clean("report.txt. . "), "report.txt");
        assert_eq!(clean("\u{0}"), "attachment");
        assert_eq!(clean("見積書.pdf"), "見積書.pdf");
    }

    #[test]
    fn rfc2231_sections_are_joined_before_decoding() {
        let raw =
            " attachment;\r\n filename*0*=UTF-8''%E4%BC%9A%E8;\r\n filename*1*=%AD%B0.txt\r\n";
        assert_eq!(rfc2231_joined(raw, "filename").as_deref(), Some("会議.txt"));
        let raw = " text/plain; name*=ISO-2022-JP''%1B%24B%3BqNA%1B%28B.txt";
        assert_eq!(rfc2231_joined(raw, "name").as_deref(), Some("資料.txt"));
        assert_eq!(
            rfc2231_joined(" attachment; filename=\"a.txt\"", "filename"),
            None
        );
    }

    #[test]
    fn extensions_match_delivery() {
        assert_eq!(with_extension("data.csv", "csv"), "data.csv");
        assert_eq!(with_extension("readme", "txt"), "readme.txt");
        assert_eq!(
            with_extension("invoice.pdf.exe", "txt"),
            "invoice.pdf.exe.txt"
        );
        let images = ["png", "jpg", "jpeg", "bmp"];
        assert_eq!(converted_extension("写真.JPEG", "jpg", &images), "写真.jpg");
        assert_eq!(converted_extension("図.bmp", "png", &images), "図.png");
        assert_eq!(converted_extension("x.exe", "png", &images), "x.exe.png");
        assert_eq!(converted_extension("noext", "png", &images), "noext.png");
    }
}
