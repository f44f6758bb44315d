//! What a sanitization profile may decide. Parsed from the `[profiles.NAME]`
//! tables of the config; every field has a safe default.

use serde::{Deserialize, Serialize};

pub use crate::text::links::LinkMode;

/// One named profile's settings, as the sanitizer core sees them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Filled in by the config from the table's name; reported as `profile`.
    #[serde(skip)]
    pub name: String,
    pub links: LinkMode,
    pub output_charset: OutputCharset,
    /// Text-like attachments (text/plain, text/csv…): delivered as UTF-8
    /// text, or removed.
    pub text_attachments: TextAttachments,
    /// What a virus found by the scanner does to the message.
    pub on_infected: OnInfected,
    /// What each class of attachment becomes.
    pub attachments: crate::attachment::Rules,
    /// How images are re-encoded.
    pub image: crate::image::ImageOptions,
    /// How PDFs are flattened.
    pub pdf: crate::pdf::FlattenOptions,
    pub limits: Limits,
    pub notice: NoticeText,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            name: "standard".into(),
            links: LinkMode::Defang,
            output_charset: OutputCharset::Utf8,
            text_attachments: TextAttachments::Convert,
            on_infected: OnInfected::Hold,
            attachments: crate::attachment::Rules::default(),
            image: crate::image::ImageOptions::default(),
            pdf: crate::pdf::FlattenOptions::default(),
            limits: Limits::default(),
            notice: NoticeText::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputCharset {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "iso-2022-jp")]
    Iso2022Jp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextAttachments {
    Convert,
    Remove,
}

/// What to do with a message in which the scanner found a virus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnInfected {
    /// Deliver nothing of it: the recipients get a notice naming the
    /// sender, the subject and the threat; the original stays in quarantine.
    Hold,
    /// Remove the infected parts and deliver the rest, sanitized. A threat
    /// the scanner found only in the message as a whole (no single part to
    /// blame) still holds the message.
    RemovePart,
}

/// Bounds on untrusted input. Exceeding a message-level limit rejects the
/// message; exceeding a part-level one removes what lies beyond it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_message_bytes: usize,
    /// Bytes of the top-level header section (Postfix: header_size_limit).
    pub max_header_bytes: usize,
    /// Header fields in the top-level header section.
    pub max_headers: usize,
    /// Multipart and message/rfc822 nesting below the top level.
    pub max_depth: usize,
    /// Leaf parts, nested messages included.
    pub max_parts: usize,
    /// Documents of one message converted by LibreOffice (attachments and
    /// archive entries together): each takes seconds, so a zip of a
    /// hundred .doc files must not occupy the converter for minutes.
    /// Those beyond are removed (`office-conversion-limit`).
    pub max_conversions: usize,
    /// Archives unpacked (to scan their entries, and to sanitize them).
    pub archive: crate::archive::Limits,
    /// Office Open XML packages read to clean them.
    pub office: crate::ooxml::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 50 * 1024 * 1024,
            max_header_bytes: 256 * 1024,
            max_headers: 1_000,
            max_depth: 20,
            max_parts: 500,
            max_conversions: 20,
            archive: crate::archive::Limits::default(),
            office: crate::ooxml::Limits::default(),
        }
    }
}

/// The fixed paragraphs of the notice that opens every delivered body.
/// The per-change lines between them are generated, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoticeText {
    pub ja_intro: String,
    pub ja_footer: String,
    pub en_intro: String,
    pub en_footer: String,
}

impl Default for NoticeText {
    fn default() -> Self {
        Self {
            ja_intro: "【無害化処理のお知らせ】このメールはインターネットから受信したため、無害化処理を行いました。".into(),
            ja_footer: "原本は隔離保管されています。必要な場合はシステム管理者にお問い合わせください。".into(),
            en_intro: "[Sanitization notice] This message came from the Internet and has been sanitized.".into(),
            en_footer: "The original is kept in quarantine; ask your administrator if you need it.".into(),
        }
    }
}
