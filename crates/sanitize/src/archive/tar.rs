//! The walk over one tar (ustar, pax, GNU), read as a stream: from the
//! attachment's bytes, or from a gzip's decompressor for a `.tar.gz`.
//!
//! The `tar` crate parses headers (checksums, pax `path` and `size`, GNU
//! long names) and gives each entry's data as a reader of exactly its
//! declared size. Everything it reads goes through a [`Metered`] reader, so
//! headers, padding and the entries it skips are charged like the entries
//! kept: a tar holds no more than the budget, however it is laid out.
//! Links, devices and FIFOs are skipped, never followed or created.

use std::io::Read;

use tar::{Archive, EntryType};

use super::budget::{Budget, Meter, Metered, Outcome, read_bounded};
use super::names;
use super::walk::{Names, push_entry};
use super::{Error, SkipReason, Skipped, Unpacked};

/// POSIX ustar (`ustar\0`) and GNU (`ustar  \0`) both start so at 257.
pub(super) fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// Unpacks the tar `bytes`, found at `parent` and at `level`, into `out`.
pub(super) fn unpack(
    bytes: &[u8],
    parent: &[String],
    level: usize,
    budget: &mut Budget<'_>,
    out: &mut Unpacked,
) -> Result<(), Error> {
    let meter = Meter::new(budget);
    let reader = Metered {
        inner: bytes,
        meter: &meter,
    };
    read(reader, &meter, parent, level, budget, out)
}

/// Walks the tar that `reader` yields: a [`Metered`] reader (or one over
/// bytes it already counted) on `meter`.
pub(super) fn read(
    reader: impl Read,
    meter: &Meter,
    parent: &[String],
    level: usize,
    budget: &mut Budget<'_>,
    out: &mut Unpacked,
) -> Result<(), Error> {
    let mut archive = Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| meter.failure(budget, "tar", &e))?;
    let mut seen = Names::default();
    for entry in entries {
        let mut entry = entry.map_err(|e| meter.failure(budget, "tar", &e))?;
        budget.charge_entries(1)?;
        meter.settle(budget)?;
        let mut path = parent.to_vec();
        path.push(names::neutralize(&names::decode(
            &entry.path_bytes(),
            false,
        )));
        let size = entry.size();
        // Its data is exactly `size` bytes of the stream, read or skipped
        // over: refuse now rather than after decompressing them.
        budget.check_declared(size)?;
        match what(entry.header().entry_type(), size, budget) {
            What::Nothing => continue,
            What::Skip(reason) => {
                out.skipped.push(Skipped { path, reason });
                continue;
            }
            What::Read => {}
        }
        let outcome = read_bounded(&mut entry, size, size);
        meter.settle(budget)?;
        match outcome {
            Outcome::Complete(bytes) => {
                seen.insert(&path)?;
                push_entry(path, bytes, level, budget, out)?;
                meter.settle(budget)?;
            }
            Outcome::TooLong(_) => out.skipped.push(Skipped {
                path,
                reason: SkipReason::EntryTooLarge,
            }),
            Outcome::Failed(_) => out.skipped.push(Skipped {
                path,
                reason: SkipReason::Corrupt,
            }),
        }
    }
    meter.settle(budget)
}

enum What {
    Read,
    /// A directory or a pax global header: nothing to deliver or skip.
    Nothing,
    Skip(SkipReason),
}

fn what(kind: EntryType, size: u64, budget: &Budget<'_>) -> What {
    match kind {
        EntryType::Regular | EntryType::Continuous if size > budget.max_entry_bytes() => {
            What::Skip(SkipReason::EntryTooLarge)
        }
        EntryType::Regular | EntryType::Continuous => What::Read,
        EntryType::Directory | EntryType::XGlobalHeader => What::Nothing,
        EntryType::Symlink => What::Skip(SkipReason::Symlink),
        EntryType::Link => What::Skip(SkipReason::Hardlink),
        EntryType::Char | EntryType::Block | EntryType::Fifo => What::Skip(SkipReason::SpecialFile),
        // GNU sparse files (their holes would be produced from nothing),
        // volume labels and other kinds no archiver writes for a file.
        _ => What::Skip(SkipReason::UnsupportedMethod),
    }
}
