//! The seam between the core and what runs outside it: a virus scanner,
//! and the LibreOffice converter. The core stays pure: it hands out the
//! decoded pieces worth scanning and the documents to convert, and takes
//! back what the scanner found and what the converter made, in a second
//! run.

use crate::context::Context;
use crate::report::{PartReport, Threat};

/// A decoded piece of the original for the scanner: a leaf part after
/// transfer decoding (so an odd base64 layout hides nothing), or later an
/// archive entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The leaf part's IMAP path.
    pub part: String,
    /// The entry inside an archive part, nested archives joined by " > ".
    pub entry: Option<String>,
    pub bytes: Vec<u8>,
}

/// A legacy Office, RTF or ODF attachment for the caller to convert to
/// PDF (see [`Scan::convert`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToConvert {
    /// The leaf part's IMAP path.
    pub part: String,
    /// Inside an archive part: the entry, nested archives joined by " > ",
    /// as in [`Extracted::entry`].
    pub entry: Option<String>,
    /// The attachment's name as sent, for the log.
    pub filename: Option<String>,
    /// What to name the file for the converter: `doc`, `xls`, `ppt`, `rtf`,
    /// `odt`, `ods`, `odp`, `odg`, or (cleaned Office Open XML) `docx`,
    /// `xlsx`, `pptx`.
    pub extension: &'static str,
    /// The part after transfer decoding.
    pub bytes: Vec<u8>,
}

/// Every [`ToConvert::extension`] the core asks for: what the daemon's
/// reply parser and the converter accept, and nothing else.
pub const CONVERT_EXTENSIONS: [&str; 11] = [
    "doc", "xls", "ppt", "rtf", "odt", "ods", "odp", "odg", "docx", "xlsx", "pptx",
];

/// What the converter made of one [`ToConvert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The part it was for.
    pub part: String,
    /// And the entry of that part, as in [`ToConvert::entry`].
    pub entry: Option<String>,
    /// The PDF, or why there is none (for the log: the report and notice
    /// say only that the conversion failed).
    pub pdf: Result<Vec<u8>, String>,
}

/// What a caller that scans or converts adds to one run of the core.
#[derive(Debug, Clone, Default)]
pub struct Scan<'a> {
    /// Return every decoded leaf part in
    /// [`Sanitized::extracted`](crate::Sanitized::extracted).
    pub extract: bool,
    /// What the scanner found, applied per
    /// [`Policy::on_infected`](crate::Policy::on_infected).
    pub threats: &'a [Threat],
    /// The caller can convert documents: list the legacy Office, RTF and
    /// ODF attachments the profile converts in
    /// [`Sanitized::to_convert`](crate::Sanitized::to_convert) (reported
    /// as removed, `office-conversion-pending`, until a second run gets
    /// their PDFs). Without it, and without a result in `converted`, they
    /// are removed as `office-conversion-unavailable`.
    pub convert: bool,
    /// The converter's results, by part: applied in this run.
    pub converted: &'a [Converted],
    /// What the caller knows that the message does not say: its queue id
    /// (written into the output), envelope sender and arrival (for a
    /// missing From and Date).
    pub context: Context,
}

impl Scan<'_> {
    /// The converter's result for the leaf part at `path`, or for the
    /// `entry` of that archive part.
    pub(crate) fn converted_for(&self, path: &str, entry: Option<&str>) -> Option<&Converted> {
        self.converted
            .iter()
            .find(|c| c.part == path && c.entry.as_deref() == entry)
    }

    /// The threats found in the leaf part at `path`.
    pub(crate) fn threats_in(&self, path: &str) -> impl Iterator<Item = &Threat> {
        self.threats
            .iter()
            .filter(move |t| t.part.as_deref() == Some(path))
    }

    /// Whether `threat` is pinned on a reported part: found in it, or found
    /// in the whole message under a name also found in a part (clamd
    /// unpacks the raw message itself, so it finds what the parts hold).
    pub(crate) fn is_pinned(&self, threat: &Threat, parts: &[PartReport]) -> bool {
        match &threat.part {
            Some(path) => parts.iter().any(|p| &p.path == path),
            None => self.threats.iter().any(|other| {
                other.name == threat.name && other.part.is_some() && self.is_pinned(other, parts)
            }),
        }
    }
}

/// Where a threat was found, for the notice: `"見積.zip" > eicar.com`,
/// `part 2`, or the message as a whole.
pub(crate) fn location(threat: &Threat, part_name: Option<&str>) -> String {
    let mut out = match (&threat.part, part_name) {
        (None, _) => return "message".into(),
        (Some(_), Some(name)) => format!("\"{name}\""),
        (Some(path), None) => format!("part {path}"),
    };
    if let Some(entry) = &threat.entry {
        out.push_str(" > ");
        out.push_str(entry);
    }
    out
}
