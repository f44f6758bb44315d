//! What an attachment really is: from its bytes (magic numbers, a look
//! inside zip containers), never from its name or declared type. The name
//! can only make things stricter: bytes nothing recognises but a name that
//! says `.exe` or `.js` are treated as what the name says.

use super::super::mail::filename;
use crate::archive::Kind;

/// The classes the profile decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// PNG, JPEG, GIF, BMP, TIFF, WebP.
    Image,
    Pdf,
    /// Office Open XML: docx, xlsx, pptx and their macro-enabled forms.
    Ooxml,
    /// Legacy OLE2 Office: doc, xls, ppt.
    LegacyOffice,
    Rtf,
    /// OpenDocument: odt, ods, odp.
    Odf,
    Zip,
    /// ustar, pax or GNU tar.
    Tar,
    /// gzip: a `.tar.gz`, or one compressed file.
    Gzip,
    SevenZ,
    /// Outlook's TNEF (`winmail.dat`): attachments in a wrapper.
    Tnef,
    /// Other archives and compressed files (rar, bzip2, xz, cab…).
    OtherArchive,
    /// HTML, XHTML or SVG: markup, never delivered as markup.
    Markup,
    /// Plain text (txt, csv, json, xml, ics, vcf…).
    Text,
    /// Always removed: executables, scripts, shortcuts, disk images,
    /// OneNote, CHM, MSI, Java archives.
    Dangerous(&'static str),
    /// Nothing here recognises it: removed.
    Unknown,
}

impl Class {
    /// The archives [`crate::archive::unpack`] opens, nested ones included
    /// (TNEF is unpacked only as an attachment).
    pub fn is_unpacked_archive(self) -> bool {
        matches!(self, Self::Zip | Self::Tar | Self::Gzip | Self::SevenZ)
    }

    /// What the profile's `archives` rule governs: those, and TNEF.
    pub fn is_archive(self) -> bool {
        self.is_unpacked_archive() || self == Self::Tnef
    }
}

/// A detection: the class and the MIME type reported as `detected_type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub class: Class,
    pub mime: String,
}

/// Extensions that name executable code, whatever the bytes look like.
const EXECUTABLE_EXTENSIONS: [&str; 12] = [
    "exe", "dll", "scr", "com", "pif", "cpl", "sys", "drv", "ocx", "msp", "msc", "gadget",
];
const SCRIPT_EXTENSIONS: [&str; 15] = [
    "js", "jse", "vbs", "vbe", "ps1", "psm1", "bat", "cmd", "hta", "wsf", "wsh", "sh", "reg",
    "scf", "inf",
];

pub fn detect(bytes: &[u8], declared: &str, name: Option<&str>) -> Detected {
    let ext = name.and_then(filename::extension);
    let ext = ext.as_deref().unwrap_or("");
    let by_bytes = by_magic(bytes);
    let (class, mime) = match by_bytes {
        Some(found) => found,
        None => by_name_or_text(bytes, declared, ext),
    };
    // A name naming code overrides bytes nothing could sanitize anyway,
    // and text that is a script. (Text named .exe is only text: it is
    // delivered as .txt.)
    let class = match class {
        Class::Unknown if EXECUTABLE_EXTENSIONS.contains(&ext) => {
            Class::Dangerous("executable-or-script")
        }
        Class::Unknown | Class::Text if SCRIPT_EXTENSIONS.contains(&ext) => {
            Class::Dangerous("executable-or-script")
        }
        other => other,
    };
    // For text, the declared text type says more (text/csv) than bytes can.
    let mime = match class {
        Class::Text if declared.starts_with("text/") => declared,
        _ => mime,
    };
    Detected {
        class,
        mime: mime.to_owned(),
    }
}

/// Formats with a signature at a fixed place.
fn by_magic(bytes: &[u8]) -> Option<(Class, &'static str)> {
    const ONENOTE: [u8; 16] = [
        0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96,
        0xD3,
    ];
    const LNK: [u8; 8] = [0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0x00];
    if bytes.starts_with(&ONENOTE) {
        return Some((Class::Dangerous("onenote"), "application/onenote"));
    }
    if bytes.starts_with(&LNK) {
        return Some((Class::Dangerous("shortcut"), "application/x-ms-shortcut"));
    }
    if bytes.starts_with(&[0x78, 0x9F, 0x3E, 0x22]) {
        return Some((Class::Tnef, "application/ms-tnef"));
    }
    if bytes.starts_with(b"ITSF") {
        return Some((Class::Dangerous("chm"), "application/vnd.ms-htmlhelp"));
    }
    // A dynamic VHD also starts with a copy of its footer.
    if bytes.starts_with(b"vhdxfile") || bytes.starts_with(b"conectix") || has_vhd_footer(bytes) {
        return Some((Class::Dangerous("disk-image"), "application/x-vhd"));
    }
    // The archive module's own test, so that the two always agree (zips
    // go on to be told from the documents packaged as zips).
    match Kind::of(bytes) {
        Some(Kind::Tar) => return Some((Class::Tar, "application/x-tar")),
        Some(Kind::Gzip) => return Some((Class::Gzip, "application/gzip")),
        Some(Kind::SevenZ) => return Some((Class::SevenZ, "application/x-7z-compressed")),
        Some(Kind::Zip) | None => {}
    }
    if let Some(mime) = optical_disc_image(bytes) {
        return Some((Class::Dangerous("disk-image"), mime));
    }
    let kind = infer::get(bytes)?;
    let mime = kind.mime_type();
    let class = match mime {
        "image/png" | "image/jpeg" | "image/gif" | "image/bmp" | "image/tiff" | "image/webp" => {
            Class::Image
        }
        "application/pdf" => Class::Pdf,
        "application/rtf" => Class::Rtf,
        "application/zip"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/vnd.oasis.opendocument.text"
        | "application/vnd.oasis.opendocument.spreadsheet"
        | "application/vnd.oasis.opendocument.presentation"
        | "application/epub+zip"
        | "application/java" => return Some(zip_family(bytes)),
        "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/x-ole-storage" => return Some(ole2(bytes, mime)),
        "application/x-7z-compressed"
        | "application/gzip"
        | "application/x-tar"
        | "application/vnd.rar"
        | "application/x-bzip2"
        | "application/x-xz"
        | "application/zstd"
        | "application/vnd.ms-cab-compressed"
        | "application/x-cpio"
        | "application/x-unix-archive"
        | "application/x-rpm"
        | "application/vnd.debian.binary-package" => Class::OtherArchive,
        "application/vnd.microsoft.portable-executable"
        | "application/x-executable"
        | "application/x-mach-binary"
        | "application/vnd.android.dex"
        | "application/vnd.android.dey"
        | "application/wasm"
        | "application/x-shockwave-flash"
        | "application/x-google-chrome-extension"
        | "text/x-shellscript" => Class::Dangerous("executable-or-script"),
        "application/x-qemu-disk" => Class::Dangerous("disk-image"),
        "text/html" => Class::Markup,
        // XML is text, unless it is SVG or XHTML: the text checks decide.
        "text/xml" => return None,
        _ => Class::Unknown,
    };
    Some((class, mime))
}

/// A zip is an archive, or a document or program packaged as one.
fn zip_family(bytes: &[u8]) -> (Class, &'static str) {
    let has = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    if has(b"[Content_Types].xml") {
        (
            Class::Ooxml,
            "application/vnd.openxmlformats-officedocument",
        )
    } else if bytes.get(30..38) == Some(b"mimetype") && has(b"application/vnd.oasis.opendocument") {
        (Class::Odf, "application/vnd.oasis.opendocument")
    } else if has(b"META-INF/MANIFEST.MF") || has(b".class") {
        (Class::Dangerous("java-archive"), "application/java-archive")
    } else {
        (Class::Zip, "application/zip")
    }
}

/// OLE2 compound files: Office documents, or an MSI installer.
fn ole2(bytes: &[u8], mime: &'static str) -> (Class, &'static str) {
    // MSI databases name their tables in UTF-16 stream names; the root
    // CLSID 000C1084-… marks them, and is at a fixed offset of the root
    // directory entry only after parsing, so look for the marker bytes.
    const MSI_CLSID: [u8; 16] = [
        0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x46,
    ];
    if memchr::memmem::find(bytes, &MSI_CLSID).is_some() {
        (Class::Dangerous("msi"), "application/x-msi")
    } else {
        (Class::LegacyOffice, mime)
    }
}

/// No signature: text, markup, or unknown bytes.
fn by_name_or_text(bytes: &[u8], declared: &str, ext: &str) -> (Class, &'static str) {
    let sample = &bytes[..bytes.len().min(4096)];
    let textual = !sample.is_empty()
        && !sample.contains(&0)
        && (std::str::from_utf8(sample).is_ok() || sample.is_ascii() || mostly_text(sample));
    if !textual {
        return (Class::Unknown, "application/octet-stream");
    }
    if ext == "url" || ext == "website" {
        return (Class::Dangerous("shortcut"), "application/x-url");
    }
    let head = String::from_utf8_lossy(&sample[..sample.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    let markup = matches!(ext, "html" | "htm" | "xhtml" | "svg" | "mht" | "mhtml")
        || matches!(
            declared,
            "text/html" | "application/xhtml+xml" | "image/svg+xml"
        )
        || head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.contains("<svg");
    if markup {
        let mime = if ext == "svg" || head.contains("<svg") {
            "image/svg+xml"
        } else {
            "text/html"
        };
        return (Class::Markup, mime);
    }
    (Class::Text, "text/plain")
}

/// Legacy 8-bit text (Shift_JIS, EUC-JP…) is not UTF-8 but is text: no
/// control characters beyond whitespace and escape (ISO-2022-JP).
fn mostly_text(sample: &[u8]) -> bool {
    sample
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x1b | 0x0e | 0x0f | 0x0c))
}

/// An ISO 9660 or UDF image: the volume recognition sequence starts at
/// sector 16 (2048-byte sectors), one descriptor a sector, each with its
/// identifier at byte 1. A UDF-only image has no `CD001` at all, only
/// `BEA01`, `NSR02`/`NSR03` and `TEA01` (ECMA-167 2/9.1), so every
/// descriptor of the sequence is looked at.
fn optical_disc_image(bytes: &[u8]) -> Option<&'static str> {
    (0..8).find_map(|n| {
        let at = 0x8001 + n * 0x800;
        match bytes.get(at..at + 5)? {
            b"CD001" => Some("application/x-iso9660-image"),
            b"BEA01" | b"NSR02" | b"NSR03" | b"TEA01" | b"BOOT2" => Some("application/x-udf-image"),
            _ => None,
        }
    })
}

/// A VHD image ends with a 512-byte footer starting with its cookie.
fn has_vhd_footer(bytes: &[u8]) -> bool {
    bytes.len() >= 512 && bytes[bytes.len() - 512..].starts_with(b"conectix")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(bytes: &[u8], name: &str) -> Class {
        detect(bytes, "application/octet-stream", Some(name)).class
    }

    #[test]
    fn bytes_decide_not_names() {
        assert_eq!(class(b"%PDF-1.7\n", "invoice.exe"), Class::Pdf);
        assert_eq!(
            class(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a.txt"),
            Class::Image
        );
        assert_eq!(
            class(b"MZ\x90\0", "photo.jpg"),
            Class::Dangerous("executable-or-script")
        );
        assert_eq!(class(b"{\\rtf1\\ansi", "x.doc"), Class::Rtf);
    }

    #[test]
    fn names_only_make_it_stricter() {
        let script = Class::Dangerous("executable-or-script");
        assert_eq!(class(b"WScript.Echo 1", "run.vbs"), script);
        assert_eq!(class(b"\x01\x02\x03garbage\xff", "setup.exe"), script);
        // Text named .exe is only text (delivered as .txt).
        assert_eq!(class(b"just text", "memo.exe"), Class::Text);
        assert_eq!(
            class(b"[InternetShortcut]\r\nURL=http://x/", "a.url"),
            Class::Dangerous("shortcut")
        );
    }

    #[test]
    fn containers_are_looked_into() {
        let mut ooxml = b"PK\x03\x04".to_vec();
        ooxml.extend_from_slice(&[0; 26]);
        ooxml.extend_from_slice(b"[Content_Types].xml");
        assert_eq!(class(&ooxml, "a.zip"), Class::Ooxml);
        let mut jar = b"PK\x03\x04".to_vec();
        jar.extend_from_slice(&[0; 26]);
        jar.extend_from_slice(b"META-INF/MANIFEST.MF");
        assert_eq!(class(&jar, "a.zip"), Class::Dangerous("java-archive"));
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&[0; 26]);
        zip.extend_from_slice(b"readme.txt");
        assert_eq!(class(&zip, "a.docx"), Class::Zip);
    }

    /// Issue 16 item 8: each of the always-removed container kinds, by its
    /// bytes, whatever its name says.
    #[test]
    fn issue_16_dangerous_containers_are_recognised() {
        let lnk = [
            &[
                0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
            ][..],
            &[0; 56],
        ]
        .concat();
        assert_eq!(class(&lnk, "x.pdf"), Class::Dangerous("shortcut"));
        let sector = |id: &[u8]| {
            let mut s = vec![0u8; 0x800];
            s[1..6].copy_from_slice(id);
            s
        };
        let iso = [vec![0; 0x8000], sector(b"CD001"), sector(b"CD001")].concat();
        let udf = [
            vec![0; 0x8000],
            sector(b"BEA01"),
            sector(b"NSR03"),
            sector(b"TEA01"),
        ]
        .concat();
        for (image, mime) in [
            (&iso, "application/x-iso9660-image"),
            (&udf, "application/x-udf-image"),
        ] {
            let found = detect(image, "application/octet-stream", Some("a.txt"));
            assert_eq!(
                (found.class, found.mime.as_str()),
                (Class::Dangerous("disk-image"), mime)
            );
        }
        // Nothing at sector 16: not an image.
        assert_eq!(class(&vec![0; 0x9000], "a.iso"), Class::Unknown);
        let mut vhd = vec![0u8; 1024];
        vhd.extend_from_slice(b"conectix");
        vhd.resize(1024 + 512, 0);
        assert_eq!(class(&vhd, "a.bin"), Class::Dangerous("disk-image"));
        let dynamic = [&b"conectix"[..], &[0; 600]].concat();
        assert_eq!(class(&dynamic, "a.bin"), Class::Dangerous("disk-image"));
        let vhdx = [&b"vhdxfile"[..], &[0; 64]].concat();
        assert_eq!(class(&vhdx, "a.bin"), Class::Dangerous("disk-image"));
        let onenote = [
            &[
                0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29,
                0x96, 0xD3,
            ][..],
            &[0; 64],
        ]
        .concat();
        assert_eq!(class(&onenote, "a.pdf"), Class::Dangerous("onenote"));
        let chm = [&b"ITSF\x03\0\0\0\x60\0\0\0"[..], &[0; 64]].concat();
        assert_eq!(class(&chm, "a.txt"), Class::Dangerous("chm"));
        // An OLE2 file whose root CLSID is MSI's.
        let mut msi = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        msi.resize(512, 0);
        msi.extend_from_slice(&[
            0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x46,
        ]);
        msi.resize(2048, 0);
        assert_eq!(class(&msi, "a.doc"), Class::Dangerous("msi"));
    }

    #[test]
    fn markup_and_legacy_text() {
        assert_eq!(class(b"<!DOCTYPE html><p>x", "a.txt"), Class::Markup);
        assert_eq!(class(b"<?xml version='1.0'?><svg>", "a.svg"), Class::Markup);
        assert_eq!(class("名簿".as_bytes(), "a.csv"), Class::Text);
        // Shift_JIS bytes are text, not unknown.
        assert_eq!(
            class(b"\x96\xbc\x95\xeb,\x8f\x8a\x91\xae", "a.csv"),
            Class::Text
        );
        assert_eq!(class(b"\0\0\0\x01\x02", "a.bin"), Class::Unknown);
    }
}
