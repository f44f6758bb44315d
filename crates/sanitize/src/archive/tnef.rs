//! TNEF (`winmail.dat`, `application/ms-tnef`): Outlook's wrapper around a
//! message's attachments when it sends "Rich Text". Its attachments become
//! entries, as a zip's would, so they are sanitized by the same rules and
//! delivered in a new zip; an archive among them is unpacked in turn. The RTF
//! body and the MAPI properties are not delivered.
//!
//! The `tnef` crate reads the attribute stream (bounds and checksums); its
//! own `read_attachments` drops an attachment that lacks a date or a
//! property block without a word, so the attachments are gathered here,
//! from each attachment's data and title alone.

use encoding_rs::{Encoding, SHIFT_JIS, UTF_8, WINDOWS_1252};
use tnef::{AttachAttrId, AttributeId, TnefReader};

use super::{Entry, Error, Kind, Limits, Unpacked, names, unpack};

/// The attachments of a TNEF stream, within `limits`.
pub fn unpack_tnef(bytes: &[u8], limits: &Limits) -> Result<Unpacked, Error> {
    let reader = TnefReader::new(bytes).map_err(|e| Error::Corrupt(format!("TNEF: {e}")))?;
    let encoding = code_page(reader.get_code_page());
    let mut found: Vec<(Option<String>, &[u8])> = Vec::new();
    let mut title = None;
    let mut data = None;
    for attribute in reader {
        let (id, value) = attribute.map_err(|e| Error::Corrupt(format!("TNEF: {e}")))?;
        match id {
            // Each attachment starts with its rendering data.
            AttributeId::Attachment(AttachAttrId::AttachRendData) => {
                if let Some(data) = data.take() {
                    found.push((title.take(), data));
                }
                title = None;
            }
            AttributeId::Attachment(AttachAttrId::Title) => {
                let raw = value.strip_suffix(b"\0").unwrap_or(value);
                title = Some(encoding.decode_without_bom_handling(raw).0.into_owned());
            }
            AttributeId::Attachment(AttachAttrId::Data) => data = Some(value),
            _ => {}
        }
    }
    if let Some(data) = data {
        found.push((title, data));
    }
    if found.len() > limits.max_entries {
        return Err(Error::TooManyEntries);
    }
    let mut unpacked = Unpacked::default();
    let mut total = 0u64;
    for (i, (title, data)) in found.into_iter().enumerate() {
        let name = names::neutralize(&title.unwrap_or_else(|| format!("attachment-{}", i + 1)));
        total += data.len() as u64;
        if total > limits.max_total_bytes {
            return Err(Error::TooLarge);
        }
        if data.len() as u64 > limits.max_entry_bytes {
            unpacked.skipped.push(super::Skipped {
                path: vec![name],
                reason: super::SkipReason::EntryTooLarge,
            });
            continue;
        }
        unpacked.entries.push(Entry {
            path: vec![name.clone()],
            bytes: data.to_vec(),
        });
        if Kind::of(data).is_some() {
            nested(&name, data, limits, &mut unpacked)?;
        }
    }
    Ok(unpacked)
}

/// An archive attachment's entries, after it: as [`unpack`] lists nested
/// archives. One that does not open is left to the archive rules (removed
/// with its reason when the entry itself is sanitized).
fn nested(name: &str, data: &[u8], limits: &Limits, out: &mut Unpacked) -> Result<(), Error> {
    let inner = Limits {
        max_depth: limits.max_depth.saturating_sub(1),
        ..limits.clone()
    };
    if limits.max_depth == 0 {
        return Err(Error::TooDeep);
    }
    match unpack(data, name, &inner) {
        Ok(unpacked) => {
            let under = |path: Vec<String>| std::iter::once(name.to_owned()).chain(path).collect();
            out.entries
                .extend(unpacked.entries.into_iter().map(|e| Entry {
                    path: under(e.path),
                    bytes: e.bytes,
                }));
            out.skipped
                .extend(unpacked.skipped.into_iter().map(|s| super::Skipped {
                    path: under(s.path),
                    reason: s.reason,
                }));
            Ok(())
        }
        Err(Error::UnknownFormat | Error::NotAnArchive | Error::Corrupt(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The encoding of the OEM code page the stream declares: Shift_JIS from
/// Japanese Outlook, Windows-1252 from most others.
fn code_page(page: u32) -> &'static Encoding {
    match page {
        932 => SHIFT_JIS,
        65001 => UTF_8,
        page => Encoding::for_label(format!("cp{page}").as_bytes()).unwrap_or(WINDOWS_1252),
    }
}
