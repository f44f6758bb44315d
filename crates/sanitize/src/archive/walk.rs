//! The kinds of archive, found by their first bytes, and the walk that
//! dispatches on them: every kind's entries go through [`push_entry`],
//! which opens an entry that is itself an archive of any kind.

use super::budget::Budget;
use super::{Entry, Error, SkipReason, Skipped, Unpacked};
use super::{gzip, sevenz, tar, zip};

/// An archive format this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `PK\x03\x04`: a zip (or a document packaged as one).
    Zip,
    /// `ustar` at offset 257: POSIX ustar, pax and GNU tar. (Pre-POSIX V7
    /// tars have no magic and are not recognised.)
    Tar,
    /// `1F 8B 08`: a gzip (deflate) stream, a `.tar.gz` or one file.
    Gzip,
    /// `7z\xBC\xAF\x27\x1C`.
    SevenZ,
}

const SEVEN_Z: &[u8] = b"7z\xBC\xAF\x27\x1C";

impl Kind {
    /// The kind `bytes` start as, if any.
    pub fn of(bytes: &[u8]) -> Option<Self> {
        if zip::is_zip(bytes) {
            Some(Self::Zip)
        } else if bytes.starts_with(&[0x1F, 0x8B, 0x08]) {
            Some(Self::Gzip)
        } else if bytes.starts_with(SEVEN_Z) {
            Some(Self::SevenZ)
        } else if tar::is_tar(bytes) {
            Some(Self::Tar)
        } else {
            None
        }
    }
}

/// Unpacks the archive `bytes`, named `name` (its attachment's name, or its
/// entry path's last component), found at `parent` and at nesting `level`
/// (the outermost is 1), into `out`.
pub(super) fn walk(
    bytes: &[u8],
    name: &str,
    parent: &[String],
    level: usize,
    budget: &mut Budget<'_>,
    out: &mut Unpacked,
) -> Result<(), Error> {
    if level > budget.max_depth() {
        return Err(Error::TooDeep);
    }
    match Kind::of(bytes) {
        Some(Kind::Zip) => zip::unpack(bytes, parent, level, budget, out),
        Some(Kind::Tar) => tar::unpack(bytes, parent, level, budget, out),
        Some(Kind::Gzip) => gzip::unpack(bytes, name, parent, level, budget, out),
        Some(Kind::SevenZ) => sevenz::unpack(bytes, parent, level, budget, out),
        None => Err(Error::UnknownFormat),
    }
}

/// Adds an entry read at `level`; if it is an archive, its entries follow
/// it (one level deeper). An inner archive that does not open stays an
/// entry (a scanner sees its bytes), with a `corrupt` skip saying that
/// what is inside was not seen; a bomb or a shape refusal inside refuses
/// the whole.
pub(super) fn push_entry(
    path: Vec<String>,
    bytes: Vec<u8>,
    level: usize,
    budget: &mut Budget<'_>,
    out: &mut Unpacked,
) -> Result<(), Error> {
    let slot = out.entries.len();
    out.entries.push(Entry {
        path: path.clone(),
        bytes: Vec::new(),
    });
    if Kind::of(&bytes).is_some() {
        let name = path
            .last()
            .and_then(|last| last.rsplit('/').next())
            .unwrap_or_default();
        match walk(&bytes, name, &path, level + 1, budget, out) {
            Ok(()) => {}
            Err(error) if error.is_structural() => return Err(error),
            Err(_) => out.skipped.push(Skipped {
                path,
                reason: SkipReason::Corrupt,
            }),
        }
    }
    out.entries[slot].bytes = bytes;
    Ok(())
}

/// Refuses a second entry under one neutralized name: unpacked on disk,
/// one would replace the other, and the rebuilt zip cannot hold both.
#[derive(Default)]
pub(super) struct Names(std::collections::HashSet<String>);

impl Names {
    pub(super) fn insert(&mut self, path: &[String]) -> Result<(), Error> {
        let name = path.last().map(String::as_str).unwrap_or_default();
        if self.0.insert(name.to_owned()) {
            Ok(())
        } else {
            Err(Error::Inconsistent(format!("duplicate name {name:?}")))
        }
    }
}
