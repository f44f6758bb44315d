//! A zip attachment rebuilt from its sanitized entries: unpacked within
//! `limits.archive`, every entry sanitized by the same rules as a mail
//! attachment, and what may cross written into a new zip (nested zips
//! become folders). Nothing of the original archive structure survives:
//! no comment, extra field, timestamp or entry that was not rebuilt.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::{Delivered, Input, Outcome, delivered, detect, sanitize};
use crate::archive::{self, SkipReason};
use crate::mail::filename;
use crate::mail::mime::hex_sha256;
use crate::policy::Policy;
use crate::report::{Action, EntryReport};

/// An archive's entries, each sanitized by the same rules as a mail
/// attachment, before anything is written.
#[derive(Debug)]
pub struct Entries {
    /// What may cross, each with its path in a rebuilt zip (folders kept,
    /// nested archives as folders), in the archive's order.
    pub files: Vec<(String, Delivered)>,
    /// What was left out: (path inside the archive, reason code).
    pub removed: Vec<(String, &'static str)>,
    /// Every entry and what became of it, for the report.
    pub report: Vec<EntryReport>,
}

/// The archive's entries (a zip's, or a TNEF's attachments) sanitized,
/// as a new zip.
pub fn repack(input: &Input<'_>, policy: &Policy) -> Outcome {
    match sanitize_entries(input, policy, &mut |_, _| None) {
        Ok(entries) => rebuild(input.name, entries),
        Err(refused) => refused.into(),
    }
}

/// A new zip of the sanitized `entries` of the archive `name`.
pub fn rebuild(name: &str, entries: Entries) -> Outcome {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    for (path, file) in &entries.files {
        if writer.start_file(path.as_str(), options).is_err()
            || writer.write_all(file.body.as_bytes()).is_err()
        {
            return Outcome::Remove("archive-rebuild-failed");
        }
    }
    let Ok(cursor) = writer.finish() else {
        return Outcome::Remove("archive-rebuild-failed");
    };
    Outcome::Deliver(Delivered {
        // `winmail.dat` arrives as `winmail.zip`, `foo.tar.gz` as `foo.zip`.
        filename: filename::archive_as_zip(name),
        content_type: "application/zip",
        body: super::Body::Binary(cursor.into_inner()),
        removed_inside: entries.removed,
        entries: entries.report,
        ..delivered(Action::Cleaned, "archive-rebuilt")
    })
}

/// What becomes of an archive none of which crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Refused whole (a bomb, corrupt), or nothing in it may cross.
    Remove(&'static str),
    /// Something in it is encrypted: nothing of it was seen.
    Hold(&'static str),
}

impl From<Refused> for Outcome {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Remove(why) => Outcome::Remove(why),
            Refused::Hold(why) => Outcome::Hold(why),
        }
    }
}

/// Unpacks the archive within `limits.archive` and sanitizes every entry.
/// `convert` may decide an entry's fate first (the walk of the message
/// converts documents there); given the entry and its place (nested
/// archives joined by " > "), `None` leaves it to the rules.
pub fn sanitize_entries(
    input: &Input<'_>,
    policy: &Policy,
    convert: &mut dyn FnMut(&Input<'_>, &str) -> Option<Outcome>,
) -> Result<Entries, Refused> {
    let unpacked = match input.detected.class {
        super::Class::Tnef => archive::unpack_tnef(input.bytes, &policy.limits.archive),
        _ => archive::unpack(input.bytes, input.name, &policy.limits.archive),
    };
    let unpacked = unpacked.map_err(|e| Refused::Remove(e.reason()))?;
    // Encrypted content was not seen: hold the archive for release with
    // its password (a seam for later), never deliver part of it as clean.
    if unpacked
        .skipped
        .iter()
        .any(|s| s.reason == SkipReason::Encrypted)
    {
        return Err(Refused::Hold("archive-encrypted"));
    }
    // A document packaged as a zip (a docx) is unpacked too, for the
    // scanner: its parts follow it, and go with it, sanitized whole.
    let mut whole: Option<&[String]> = None;
    let mut out = Entries {
        files: Vec::new(),
        removed: unpacked
            .skipped
            .iter()
            .map(|s| (s.path.join("/"), s.reason.code()))
            .collect(),
        report: unpacked
            .skipped
            .iter()
            .map(|s| EntryReport {
                path: s.path.join("/"),
                detected_type: None,
                action: Action::Removed,
                reason: s.reason.code().into(),
                sha256: None,
                size: None,
                output_sha256: None,
            })
            .collect(),
    };
    for entry in &unpacked.entries {
        if whole.is_some_and(|doc| entry.path.len() > doc.len() && entry.path.starts_with(doc)) {
            continue;
        }
        let name = entry.path.last().map_or("unnamed", String::as_str);
        let detected = detect(&entry.bytes, "application/octet-stream", Some(name));
        let shown = entry.path.join("/");
        let mut report = EntryReport {
            path: shown.clone(),
            detected_type: Some(detected.mime.clone()),
            action: Action::Removed,
            reason: String::new(),
            sha256: Some(hex_sha256(&entry.bytes)),
            size: Some(entry.bytes.len()),
            output_sha256: None,
        };
        // A nested archive's entries follow it in the list: it becomes a folder.
        if detected.class.is_unpacked_archive() {
            report.action = Action::Cleaned;
            report.reason = "archive-unpacked-to-folder".into();
            out.report.push(report);
            continue;
        }
        whole = Some(&entry.path);
        let entry_input = Input {
            bytes: &entry.bytes,
            name: &filename::clean(leaf_name(name)),
            declared_type: "application/octet-stream",
            charset: None,
            detected: &detected,
        };
        let outcome = convert(&entry_input, &entry.path.join(" > "))
            .unwrap_or_else(|| sanitize(&entry_input, policy));
        match outcome {
            Outcome::Deliver(mut file) => {
                report.action = file.action;
                report.reason = file.reason.into();
                report.output_sha256 = Some(hex_sha256(file.body.as_bytes()));
                out.removed.extend(
                    std::mem::take(&mut file.removed_inside)
                        .into_iter()
                        .map(|(inner, why)| (format!("{shown}/{inner}"), why)),
                );
                out.files
                    .push((output_path(&entry.path, &file.filename), file));
            }
            Outcome::Remove(why) | Outcome::Hold(why) => {
                report.reason = why.into();
                out.removed.push((shown, why));
            }
        }
        out.report.push(report);
    }
    if out.files.is_empty() {
        return Err(Refused::Remove("archive-nothing-deliverable"));
    }
    Ok(out)
}

/// The last component of an entry name (`dir/file.txt` → `file.txt`).
fn leaf_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Where a delivered entry goes in the new zip: its folders (nested zips
/// included, as folders), then the name of what is delivered.
fn output_path(path: &[String], delivered_name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for (i, component) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let mut dirs: Vec<&str> = component.split('/').collect();
        if last {
            dirs.pop();
        }
        parts.extend(dirs);
    }
    parts.push(delivered_name);
    parts.join("/")
}
