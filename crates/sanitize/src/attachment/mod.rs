//! Attachments: what the bytes are ([`detect`]), and what may cross for
//! them, by the profile's rules for the class: text re-encoded as UTF-8,
//! markup turned into text, images re-encoded, zips rebuilt from their
//! sanitized entries, or removed (or held) with a stable reason code.
//!
//! The same rules apply to a mail attachment and to an entry of a zip, so
//! both come through [`sanitize`].

pub mod detect;
pub mod legacy_crypto;
mod repack;

use serde::{Deserialize, Serialize};

pub use detect::{Class, Detected, detect};
pub use repack::{Entries, Refused, rebuild, sanitize_entries};

use crate::image;
use crate::mail::{charset, filename, mime};
use crate::ooxml;
use crate::pdf;
use crate::policy::{Policy, TextAttachments};
use crate::report::{Action, EntryReport};
use crate::text::{html, links};

/// What the profile does with each class of attachment
/// (`[profiles.NAME.attachments]`). Classes not listed here (executables,
/// scripts, shortcuts, disk images, unknown bytes…) are always removed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    pub images: ImageRule,
    pub pdf: PdfRule,
    pub office: OfficeRule,
    pub archives: ArchiveRule,
    /// Legacy OLE2 Office (doc, xls, ppt), RTF and OpenDocument.
    pub legacy_office: LegacyOfficeRule,
    /// HTML, XHTML and SVG.
    pub markup: MarkupRule,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            images: ImageRule::Reencode,
            pdf: PdfRule::Flatten,
            office: OfficeRule::Clean,
            archives: ArchiveRule::Extract,
            legacy_office: LegacyOfficeRule::Pdf,
            markup: MarkupRule::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PdfRule {
    /// Every page rendered and rebuilt as a PDF of page images
    /// (`[profiles.NAME.pdf]`).
    Flatten,
    /// The document kept, its active and hidden content taken out (lopdf
    /// CDR, `pdf::clean`): text stays searchable.
    Clean,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageRule {
    /// Decode and encode the pixels afresh (`[profiles.NAME.image]`).
    Reencode,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OfficeRule {
    /// Office Open XML rebuilt from its known-safe parts: no macros,
    /// ActiveX, OLE objects, external links or DDE; a macro-enabled file
    /// becomes its macro-free type (`.docm` → `.docx`).
    Clean,
    /// Cleaned as above, then converted to a PDF by the caller's
    /// converter (LibreOffice) and put through the `pdf` rule, like legacy
    /// Office, inside archives too. Without the walk of a message (which
    /// holds the converter's results), it is cleaned.
    Pdf,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchiveRule {
    /// Unpack (zip, tar, gzip, 7z, TNEF; within `limits.archive`),
    /// sanitize every entry by these same rules, and deliver a new zip of
    /// what may cross.
    Extract,
    /// As `extract`, but each entry that may cross is delivered as an
    /// attachment of its own (folders and nested archives flattened), so
    /// that nothing arrives packed. The walk of the message does the
    /// splitting ([`sanitize_entries`]); an archive met anywhere else is
    /// rebuilt as a zip.
    Attachments,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegacyOfficeRule {
    /// Converted to PDF by LibreOffice outside the core (the caller runs
    /// it: see [`Scan::convert`](crate::Scan::convert)), then flattened by
    /// the PDF rule like any PDF: never delivered as-is.
    Pdf,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkupRule {
    /// Its text, never its markup (`html-to-text`).
    Text,
    /// SVG drawn to a PNG ([`crate::svg`], `svg-rasterized`). HTML and
    /// XHTML still become text: no HTML renderer is safe enough to run
    /// here (docs/CONFIG.md says why).
    Image,
    Remove,
}

/// One attachment (or archive entry) to sanitize.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub bytes: &'a [u8],
    /// The cleaned name ([`filename::clean`]).
    pub name: &'a str,
    /// The declared Content-Type, lowercased; `application/octet-stream`
    /// for an archive entry.
    pub declared_type: &'a str,
    /// The MIME `charset` label, if any.
    pub charset: Option<&'a str>,
    pub detected: &'a Detected,
}

/// What is delivered for an attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    Binary(Vec<u8>),
}

impl Body {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
        }
    }
}

/// An attachment that may cross, and what was done to make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Cleaned, with the extension of what is delivered.
    pub filename: String,
    pub content_type: &'static str,
    pub body: Body,
    pub action: Action,
    pub reason: &'static str,
    /// Text only: the charset it was read as, and the characters replaced.
    pub charset: Option<&'static str>,
    pub replaced_chars: usize,
    /// Links found in converted markup.
    pub links: links::LinkStats,
    /// What was left out inside: (path inside, reason code), for the
    /// notice.
    pub removed_inside: Vec<(String, &'static str)>,
    /// An archive's entries, each with what became of it, for the report.
    pub entries: Vec<EntryReport>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Deliver(Delivered),
    /// Removed, with the reason code.
    Remove(&'static str),
    /// Kept in quarantine with the original, with the reason code (an
    /// encrypted archive: nothing in it could be looked at). The rest of
    /// the message is still delivered.
    Hold(&'static str),
}

/// Extensions a re-encoded image may replace.
const IMAGE_EXTENSIONS: [&str; 10] = [
    "png", "jpg", "jpeg", "jpe", "jfif", "gif", "bmp", "tif", "tiff", "webp",
];

/// Sanitizes one attachment or archive entry.
pub fn sanitize(input: &Input<'_>, policy: &Policy) -> Outcome {
    match input.detected.class {
        Class::Text => text(input, policy),
        Class::Markup => match policy.attachments.markup {
            MarkupRule::Remove => Outcome::Remove("removed-by-profile"),
            MarkupRule::Image if is_svg(input) => svg(input, policy),
            MarkupRule::Text | MarkupRule::Image => markup(input, policy),
        },
        Class::Image => match policy.attachments.images {
            ImageRule::Remove => Outcome::Remove("removed-by-profile"),
            ImageRule::Reencode => match image::reencode(input.bytes, &policy.image) {
                Ok(image) => Outcome::Deliver(Delivered {
                    filename: filename::converted_extension(
                        input.name,
                        image.extension,
                        &IMAGE_EXTENSIONS,
                    ),
                    content_type: image.content_type,
                    body: Body::Binary(image.bytes),
                    ..delivered(Action::Converted, "image-reencoded")
                }),
                Err(e) => Outcome::Remove(e.reason()),
            },
        },
        Class::Pdf => match policy.attachments.pdf {
            PdfRule::Remove => Outcome::Remove("removed-by-profile"),
            PdfRule::Flatten | PdfRule::Clean => {
                match by_pdf_rule(input.bytes, input.name, &["pdf"], policy) {
                    Ok(delivered) => Outcome::Deliver(delivered),
                    // A password: nothing could be seen; the original waits.
                    Err(pdf::Error::PasswordProtected) => Outcome::Hold("pdf-password"),
                    Err(e) => Outcome::Remove(e.reason()),
                }
            }
        },
        Class::Ooxml => match policy.attachments.office {
            OfficeRule::Remove => Outcome::Remove("removed-by-profile"),
            OfficeRule::Clean | OfficeRule::Pdf => office(input, policy),
        },
        class if class.is_archive() => match policy.attachments.archives {
            ArchiveRule::Remove => Outcome::Remove("removed-by-profile"),
            ArchiveRule::Extract | ArchiveRule::Attachments => repack::repack(input, policy),
        },
        Class::Dangerous(reason) => Outcome::Remove(reason),
        Class::Unknown => Outcome::Remove("unrecognised-type"),
        Class::LegacyOffice if is_encrypted_package(input.bytes) => {
            Outcome::Hold("office-password")
        }
        Class::LegacyOffice if legacy_crypto::is_encrypted(input.bytes) => {
            Outcome::Hold("office-legacy-password")
        }
        // Legacy Office, RTF and ODF reach here with the `remove` rule, or
        // without the walk of a message, which alone converts (it holds the
        // caller's converter's results): never delivered as they came.
        _ => Outcome::Remove("attachment-type-not-allowed"),
    }
}

/// Extensions a converted document's name may lose to `.pdf`
/// (`見積書.xls` → `見積書.pdf`).
const CONVERTED_EXTENSIONS: [&str; 28] = [
    "doc", "dot", "xls", "xlt", "ppt", "pps", "pot", "rtf", "odt", "ott", "ods", "ots", "odp",
    "otp", "odg", "otg", "docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "xltm", "pptx",
    "pptm", "ppsx", "ppsm",
];

/// The extension a converter should give a legacy Office, RTF or ODF file
/// (LibreOffice detects by content, but a right name spares it guessing),
/// or `None` when it is not a document LibreOffice can make a PDF of (an
/// ODF database or formula, an OLE2 file that is none of Word, Excel or
/// PowerPoint).
pub fn conversion_extension(bytes: &[u8], class: Class) -> Option<&'static str> {
    match class {
        Class::Rtf => Some("rtf"),
        Class::LegacyOffice => {
            // The main stream's name, UTF-16LE in an OLE2 directory entry:
            // a byte search is enough to choose a name.
            let has = |name: &str| {
                let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
                memchr::memmem::find(bytes, &utf16).is_some()
            };
            if has("WordDocument") {
                Some("doc")
            } else if has("Workbook") || has("Book") {
                Some("xls")
            } else if has("PowerPoint Document") {
                Some("ppt")
            } else {
                None
            }
        }
        Class::Odf => {
            // The stored `mimetype` entry, first in the zip (detect checked
            // its name at offset 30): its content follows the name and the
            // extra field, whose length is at offset 28.
            let extra = usize::from(u16::from_le_bytes([*bytes.get(28)?, *bytes.get(29)?]));
            let start = 38 + extra;
            let mime = bytes.get(start..bytes.len().min(start + 80))?;
            let kind = mime.strip_prefix(b"application/vnd.oasis.opendocument.")?;
            [
                (&b"text"[..], "odt"),
                (b"spreadsheet", "ods"),
                (b"presentation", "odp"),
                (b"graphics", "odg"),
            ]
            .into_iter()
            .find(|(prefix, _)| kind.starts_with(prefix))
            .map(|(_, ext)| ext)
        }
        _ => None,
    }
}

/// A password-protected Office Open XML file: Office wraps the encrypted
/// package in an OLE2 file with an `EncryptedPackage` stream (MS-OFFCRYPTO).
/// Nothing in it can be checked, so it is held like an encrypted zip.
pub fn is_encrypted_package(bytes: &[u8]) -> bool {
    let name: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes.starts_with(&OLE2_MAGIC) && memchr::memmem::find(bytes, &name).is_some()
}

const OLE2_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// What crosses for a legacy Office, RTF or ODF attachment that the caller
/// converted to `pdf`. The converter's output is untrusted like any PDF
/// from outside: it gets the profile's PDF rule, so by default it is
/// flattened to page images, within the same limits.
pub fn converted_pdf(input: &Input<'_>, pdf: &[u8], policy: &Policy) -> Outcome {
    if detect(pdf, "application/pdf", None).class != Class::Pdf {
        return Outcome::Remove("office-conversion-failed");
    }
    match policy.attachments.pdf {
        PdfRule::Remove => Outcome::Remove("removed-by-profile"),
        PdfRule::Flatten | PdfRule::Clean => {
            match by_pdf_rule(pdf, input.name, &CONVERTED_EXTENSIONS, policy) {
                Ok(delivered) => Outcome::Deliver(Delivered {
                    reason: "office-converted-to-pdf",
                    ..delivered
                }),
                // LibreOffice writes no password without being asked: not ours.
                Err(pdf::Error::PasswordProtected) => Outcome::Remove("office-conversion-failed"),
                Err(e) => Outcome::Remove(e.reason()),
            }
        }
    }
}

/// A PDF flattened or cleaned, by the profile's rule (its callers have
/// removed it already when the rule is `remove`), and named `name` with
/// the extension `.pdf` (replacing one of `same_kind`).
fn by_pdf_rule(
    bytes: &[u8],
    name: &str,
    same_kind: &[&str],
    policy: &Policy,
) -> Result<Delivered, pdf::Error> {
    let (pdf, removed_inside, action, reason) = match policy.attachments.pdf {
        PdfRule::Clean => {
            let cleaned = pdf::clean(bytes, &policy.pdf)?;
            let removed = cleaned.removed.into_iter().map(|r| (r.place, r.reason));
            (
                cleaned.pdf,
                removed.collect(),
                Action::Cleaned,
                "pdf-cleaned",
            )
        }
        PdfRule::Flatten | PdfRule::Remove => {
            let flat = pdf::flatten(bytes, &policy.pdf)?;
            (flat.pdf, Vec::new(), Action::Flattened, "pdf-flattened")
        }
    };
    Ok(Delivered {
        filename: filename::converted_extension(name, "pdf", same_kind),
        content_type: "application/pdf",
        body: Body::Binary(pdf),
        removed_inside,
        ..delivered(action, reason)
    })
}

/// Extensions a cleaned Office file may replace (`マクロ.docm` →
/// `マクロ.docx`).
const OFFICE_EXTENSIONS: [&str; 12] = [
    "docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "xltm", "pptx", "pptm", "ppsx", "ppsm",
];

/// Office Open XML cleaned; an encrypted one is held.
fn office(input: &Input<'_>, policy: &Policy) -> Outcome {
    match ooxml::clean(input.bytes, &policy.limits.office) {
        Ok(cleaned) => Outcome::Deliver(Delivered {
            filename: filename::converted_extension(
                input.name,
                cleaned.kind.extension(),
                &OFFICE_EXTENSIONS,
            ),
            content_type: cleaned.kind.mime_type(),
            body: Body::Binary(cleaned.bytes),
            removed_inside: cleaned
                .removed
                .into_iter()
                .map(|r| (r.part, r.reason))
                .collect(),
            ..delivered(Action::Cleaned, "office-cleaned")
        }),
        Err(e) => office_refused(e),
    }
}

/// What becomes of an Office Open XML file that cannot be cleaned: held
/// when it has a password, else removed with its reason.
pub(crate) fn office_refused(e: ooxml::Error) -> Outcome {
    match e {
        ooxml::Error::Encrypted => Outcome::Hold("office-password"),
        e => Outcome::Remove(match e.reason() {
            "not-ooxml" => "office-not-ooxml",
            "too-large" | "zip-bomb" => "office-too-large",
            "entity-declaration" => "office-entity-declaration",
            _ => "office-corrupt",
        }),
    }
}

/// A delivery with no body yet: the fields every kind shares.
fn delivered(action: Action, reason: &'static str) -> Delivered {
    Delivered {
        filename: String::new(),
        content_type: "application/octet-stream",
        body: Body::Binary(Vec::new()),
        action,
        reason,
        charset: None,
        replaced_chars: 0,
        links: links::LinkStats::default(),
        removed_inside: Vec::new(),
        entries: Vec::new(),
    }
}

/// Text-like (txt, csv, json, xml, ics, vcf…): delivered as UTF-8 text.
fn text(input: &Input<'_>, policy: &Policy) -> Outcome {
    if policy.text_attachments == TextAttachments::Remove {
        return Outcome::Remove("text-attachment-removed-by-profile");
    }
    let decoded = charset::decode(input.bytes, input.charset);
    let csv = input.declared_type == "text/csv"
        || filename::extension(input.name).as_deref() == Some("csv");
    let (ext, content_type) = if csv {
        ("csv", "text/csv")
    } else {
        ("txt", "text/plain")
    };
    let (text, controls) = mime::clean_control_chars(&decoded.text);
    Outcome::Deliver(Delivered {
        filename: filename::with_extension(input.name, ext),
        content_type,
        body: Body::Text(text),
        charset: Some(decoded.charset),
        replaced_chars: decoded.replaced + controls,
        ..delivered(Action::Converted, "text-reencoded-utf8")
    })
}

/// An SVG document, not HTML that draws an inline `<svg>` near its top
/// (detection calls both `image/svg+xml`).
fn is_svg(input: &Input<'_>) -> bool {
    if input.detected.mime != "image/svg+xml" {
        return false;
    }
    let html_name = matches!(
        filename::extension(input.name).as_deref(),
        Some("html" | "htm" | "xhtml" | "mht" | "mhtml")
    );
    let head = &input.bytes[..input.bytes.len().min(512)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    !html_name && !head.starts_with("<!doctype html") && !head.starts_with("<html")
}

/// An SVG drawn to a PNG; removed with its reason when it cannot be.
fn svg(input: &Input<'_>, policy: &Policy) -> Outcome {
    match crate::svg::rasterize(input.bytes, policy.image.max_pixels) {
        Ok(drawn) => Outcome::Deliver(Delivered {
            filename: filename::converted_extension(input.name, "png", &["svg"]),
            content_type: "image/png",
            body: Body::Binary(drawn.png),
            ..delivered(Action::Converted, "svg-rasterized")
        }),
        Err(e) => Outcome::Remove(e.reason()),
    }
}

/// HTML, XHTML or SVG: its text, never its markup.
fn markup(input: &Input<'_>, policy: &Policy) -> Outcome {
    let label = input
        .charset
        .or_else(|| charset::html_meta_charset(input.bytes));
    let decoded = charset::decode(input.bytes, label);
    let converted = html::html_to_text(&decoded.text, policy.links);
    let (text, controls) = mime::clean_control_chars(&converted.text);
    Outcome::Deliver(Delivered {
        filename: filename::converted_extension(
            input.name,
            "txt",
            &["html", "htm", "xhtml", "svg"],
        ),
        content_type: "text/plain",
        body: Body::Text(text),
        charset: Some(decoded.charset),
        replaced_chars: decoded.replaced + controls,
        links: converted.stats.links,
        ..delivered(Action::Converted, "html-to-text")
    })
}
