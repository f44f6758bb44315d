//! The per-message report: one JSON object whose field names are a stable
//! interface (documented in docs/REPORT.md).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub verdict: Verdict,
    pub profile: String,
    /// The original's Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// The original's Subject, decoded (what the console lists and searches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The original's From mailboxes as one line, `名前 <a@example.jp>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Why the whole message was rejected or held, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Header fields the original lacked and the relay supplied (`from`,
    /// `date`), so the delivered message is valid RFC 5322.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supplied_headers: Vec<String>,
    pub parts: Vec<PartReport>,
    pub threats: Vec<Threat>,
    pub timings_us: Timings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Sanitized,
    Held,
    Rejected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Sanitized => "sanitized",
            Verdict::Held => "held",
            Verdict::Rejected => "rejected",
        }
    }
}

/// One leaf part of the original, nested ones included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartReport {
    /// IMAP-style section number: "1", "1.2", "2.1.1"…
    pub path: String,
    pub filename: Option<String>,
    pub declared_type: String,
    pub detected_type: String,
    pub action: Action,
    /// A stable reason code (see docs/REPORT.md).
    pub reason: String,
    /// SHA-256 of the part's content after transfer decoding.
    pub sha256: String,
    pub size: usize,
    /// SHA-256 of what was delivered for this part, when something was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_sha256: Option<String>,
    /// Charset the text was read as (text parts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// Undecodable byte sequences replaced by U+FFFD (text parts only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replaced_chars: usize,
    /// An archive's entries, each with what became of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<EntryReport>,
}

/// One entry of an archive part (entries of nested archives included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryReport {
    /// The path inside the archive; a nested archive's entries follow its
    /// own path, e.g. `docs/inner.zip/見積書.pdf`.
    pub path: String,
    /// What the bytes are; none for an entry that was not unpacked.
    pub detected_type: Option<String>,
    pub action: Action,
    /// A stable reason code, as for parts.
    pub reason: String,
    /// SHA-256 and size of the unpacked entry, when it was unpacked.
    pub sha256: Option<String>,
    pub size: Option<usize>,
    /// SHA-256 of what the new archive holds for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_sha256: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Kept,
    Converted,
    Flattened,
    Cleaned,
    Removed,
    Held,
}

/// What a virus scanner found, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threat {
    /// The signature name, e.g. `Eicar-Test-Signature`.
    pub name: String,
    /// The leaf part it was found in (IMAP path), or none when only the
    /// message as a whole matched.
    pub part: Option<String>,
    /// Inside an archive part: the entry, nested archives joined by " > ",
    /// e.g. `inner.zip > eicar.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// The scanning engine, e.g. `ClamAV 1.4.6`.
    pub engine: String,
    /// The signature database version and date, when the engine says.
    pub database: Option<String>,
}

/// Microseconds spent per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    pub parse: u64,
    pub bodies: u64,
    pub build: u64,
    pub total: u64,
}
