//! Archives unpacked in memory, within bounds, nested archives included.
//!
//! Two callers: the virus scan sends every extracted entry to clamd one by
//! one (so an EICAR inside a zip inside a zip is found), and attachment CDR
//! sanitizes each entry and builds a new archive from what it kept. Both
//! need the same thing: every entry's bytes under a harmless name, and a
//! list of what could not be looked at and why.
//!
//! Fail closed. An archive that is a bomb, ambiguous (overlapping entries,
//! duplicate names, local headers that disagree with the central directory)
//! or too deep is refused whole, with an [`Error`]. An entry that cannot be
//! read (encrypted, a symlink, too large, an unsupported method, corrupt)
//! is listed in [`Unpacked::skipped`]: the caller has not seen its content
//! and must hold or remove the attachment, never pass it on as clean.
//!
//! Every limit is enforced on the bytes actually produced, never on the
//! sizes the archive declares; declared sizes only allow an early refusal.
//!
//! ```
//! use mukaika_sanitize::archive::{Limits, unpack_zip};
//! let err = unpack_zip(b"not a zip", &Limits::default()).unwrap_err();
//! assert_eq!(err.reason(), "archive-not-zip");
//! ```
//!
//! - `zip.rs`: the walk over one zip and its nested zips.
//! - `budget.rs`: the shared budget, and reading an entry within it.
//! - `names.rs`: raw entry names to text, then to harmless paths.
//! - `tnef.rs`: Outlook's `winmail.dat`, whose attachments are entries too.

mod budget;
mod names;
mod tnef;
mod zip;

pub use tnef::unpack_tnef;

use std::fmt;

use serde::{Deserialize, Serialize};

/// Bounds on one archive, nested archives included. Deserializable, so
/// that it can become a `[profiles.NAME.limits.archive]` table; every
/// field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Archive levels, the outermost counting as 1: with 5, a zip may hold
    /// zips four deep. Values above 16 count as 16, so that the recursion
    /// stays far from the end of a thread's stack.
    pub max_depth: usize,
    /// Central directory records (directories included), all levels
    /// together.
    pub max_entries: usize,
    /// Bytes decompressed, all levels together, including entries that are
    /// then skipped: this bounds memory and time.
    pub max_total_bytes: u64,
    /// Bytes of one entry; a larger one is skipped as `entry-too-large`.
    pub max_entry_bytes: u64,
    /// Bytes decompressed (all levels) per byte of the outermost archive.
    /// Below 1 MiB decompressed it is not applied: a small zip of a text
    /// file can compress 300:1 and is no bomb.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 5,
            max_entries: 1_000,
            max_total_bytes: 200 * 1024 * 1024,
            max_entry_bytes: 50 * 1024 * 1024,
            max_ratio: 200,
        }
    }
}

/// One file found in the archive or in an archive inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Chain of neutralized names from the outermost archive:
    /// `["docs.zip", "inner/eicar.com"]` for an entry of a nested zip.
    /// A nested zip is an entry itself, and its entries follow it.
    pub path: Vec<String>,
    pub bytes: Vec<u8>,
}

/// An entry whose content was not looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Same chain as [`Entry::path`].
    pub path: Vec<String>,
    pub reason: SkipReason,
}

/// Why an entry was skipped; [`SkipReason::code`] is the stable string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// ZipCrypto, AES or PKWARE strong encryption. No password is tried.
    Encrypted,
    /// A Unix symlink: its target is a path, never followed.
    Symlink,
    /// Larger than [`Limits::max_entry_bytes`], declared or actual.
    EntryTooLarge,
    /// A compression method other than stored, deflate, deflate64, bzip2.
    UnsupportedMethod,
    /// The entry's data does not decompress or fails its CRC; for a nested
    /// archive (which is also an [`Entry`]), it could not be opened.
    Corrupt,
}

impl SkipReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::Encrypted => "encrypted",
            Self::Symlink => "symlink",
            Self::EntryTooLarge => "entry-too-large",
            Self::UnsupportedMethod => "unsupported-method",
            Self::Corrupt => "corrupt",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What an archive held, in central directory order, nested entries right
/// after the archive that holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unpacked {
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
}

/// Why a whole archive is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No end of central directory: not a zip at all.
    NotAnArchive,
    /// A zip, but its structure cannot be read.
    Corrupt(String),
    /// Nested deeper than [`Limits::max_depth`].
    TooDeep,
    /// More than [`Limits::max_entries`].
    TooManyEntries,
    /// More than [`Limits::max_total_bytes`], declared or actual.
    TooLarge,
    /// More than [`Limits::max_ratio`], declared or actual.
    RatioExceeded,
    /// Entries share compressed data or headers: the overlapping kind of
    /// zip bomb (David Fifield's), which no archiver writes.
    Overlapping,
    /// Duplicate names, or local headers that disagree with the central
    /// directory: another unpacker would see other files than we do.
    Inconsistent(String),
}

impl Error {
    /// The stable reason code, for the report.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotAnArchive => "archive-not-zip",
            Self::Corrupt(_) => "archive-corrupt",
            Self::TooDeep => "archive-too-deep",
            Self::TooManyEntries => "archive-too-many-entries",
            Self::TooLarge => "archive-too-large",
            Self::RatioExceeded => "archive-bomb-ratio",
            Self::Overlapping => "archive-bomb-overlap",
            Self::Inconsistent(_) => "archive-inconsistent",
        }
    }

    /// Refusals for size or shape: never softened into a skip when they
    /// happen inside a nested archive.
    fn is_structural(&self) -> bool {
        !matches!(self, Self::NotAnArchive | Self::Corrupt(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAnArchive => f.write_str("not a zip archive"),
            Self::Corrupt(why) => write!(f, "corrupt zip archive: {why}"),
            Self::TooDeep => f.write_str("archives nested too deep"),
            Self::TooManyEntries => f.write_str("too many archive entries"),
            Self::TooLarge => f.write_str("archive expands beyond the size limit"),
            Self::RatioExceeded => f.write_str("archive expands beyond the ratio limit"),
            Self::Overlapping => f.write_str("archive entries overlap"),
            Self::Inconsistent(why) => write!(f, "ambiguous zip archive: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// Unpacks a zip and every zip inside it (found by its `PK\x03\x04` magic,
/// not its name), within `limits`. Never panics on any input.
pub fn unpack_zip(bytes: &[u8], limits: &Limits) -> Result<Unpacked, Error> {
    let mut budget = budget::Budget::new(limits, bytes.len());
    let mut out = Unpacked::default();
    zip::unpack(bytes, &[], 1, &mut budget, &mut out)?;
    Ok(out)
}
