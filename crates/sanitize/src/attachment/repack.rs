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

/// The archive's entries (a zip's, or a TNEF's attachments) sanitized,
/// as a new zip.
pub fn repack(input: &Input<'_>, policy: &Policy) -> Outcome {
    let unpacked = match input.detected.class {
        super::Class::Tnef => archive::unpack_tnef(input.bytes, &policy.limits.archive),
        _ => archive::unpack(input.bytes, input.name, &policy.limits.archive),
    };
    let unpacked = match unpacked {
        Ok(unpacked) => unpacked,
        Err(e) => return Outcome::Remove(e.reason()),
    };
    // Encrypted content was not seen: hold the archive for release with
    // its password (a seam for later), never deliver part of it as clean.
    if unpacked
        .skipped
        .iter()
        .any(|s| s.reason == SkipReason::Encrypted)
    {
        return Outcome::Hold("archive-encrypted");
    }
    let mut removed: Vec<(String, &'static str)> = unpacked
        .skipped
        .iter()
        .map(|s| (s.path.join("/"), s.reason.code()))
        .collect();
    let mut entries: Vec<EntryReport> = unpacked
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
        .collect();
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut written = 0;
    // A document packaged as a zip (a docx) is unpacked too, for the
    // scanner: its parts follow it, and go with it, sanitized whole.
    let mut whole: Option<&[String]> = None;
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
            entries.push(report);
            continue;
        }
        whole = Some(&entry.path);
        let outcome = sanitize(
            &Input {
                bytes: &entry.bytes,
                name: &filename::clean(leaf_name(name)),
                declared_type: "application/octet-stream",
                charset: None,
                detected: &detected,
            },
            policy,
        );
        match outcome {
            Outcome::Deliver(d) => {
                let path = output_path(&entry.path, &d.filename);
                if writer.start_file(path, options).is_err()
                    || writer.write_all(d.body.as_bytes()).is_err()
                {
                    return Outcome::Remove("archive-rebuild-failed");
                }
                written += 1;
                report.action = d.action;
                report.reason = d.reason.into();
                report.output_sha256 = Some(hex_sha256(d.body.as_bytes()));
                removed.extend(
                    d.removed_inside
                        .into_iter()
                        .map(|(inner, why)| (format!("{shown}/{inner}"), why)),
                );
            }
            Outcome::Remove(why) | Outcome::Hold(why) => {
                report.reason = why.into();
                removed.push((shown, why));
            }
        }
        entries.push(report);
    }
    if written == 0 {
        return Outcome::Remove("archive-nothing-deliverable");
    }
    let Ok(cursor) = writer.finish() else {
        return Outcome::Remove("archive-rebuild-failed");
    };
    Outcome::Deliver(Delivered {
        // `winmail.dat` arrives as `winmail.zip`, `foo.tar.gz` as `foo.zip`.
        filename: filename::archive_as_zip(input.name),
        content_type: "application/zip",
        body: super::Body::Binary(cursor.into_inner()),
        removed_inside: removed,
        entries,
        ..delivered(Action::Cleaned, "archive-rebuilt")
    })
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
