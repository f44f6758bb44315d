//! Archives unpacked in memory, within bounds, nested archives included:
//! zip, tar (ustar, pax, GNU), gzip (a `.tar.gz`, or one compressed file)
//! and 7z, each found by its first bytes, never by its name.
//!
//! Two callers: the virus scan sends every extracted entry to clamd one by
//! one (so an EICAR inside a zip inside a tar.gz is found), and attachment
//! CDR sanitizes each entry and builds a new zip from what it kept. Both
//! need the same thing: every entry's bytes under a harmless name, and a
//! list of what could not be looked at and why.
//!
//! Fail closed. An archive that is a bomb, ambiguous (overlapping entries,
//! duplicate names, local headers that disagree with the central directory)
//! or too deep is refused whole, with an [`Error`]. An entry that cannot be
//! read (encrypted, a link, a device, too large, an unsupported method,
//! corrupt) is listed in [`Unpacked::skipped`]: the caller has not seen its
//! content and must hold or remove the attachment, never pass it on as
//! clean.
//!
//! Every limit is enforced on the bytes actually produced, never on the
//! sizes the archive declares; declared sizes only allow an early refusal.
//! One [`Limits`] budget covers an archive and every archive inside it,
//! whatever their kinds.
//!
//! ```
//! use mukaika_sanitize::archive::{Limits, unpack};
//! let err = unpack(b"not an archive", "x.zip", &Limits::default()).unwrap_err();
//! assert_eq!(err.reason(), "archive-unknown-format");
//! ```
//!
//! - `walk.rs`: the kinds, the dispatch on them, nested archives.
//! - `zip.rs`, `tar.rs`, `gzip.rs`, `sevenz.rs` (with `sevenz_header.rs`,
//!   what is checked before the 7z crate reads a byte of it): one walk per
//!   kind.
//! - `budget.rs`: the shared budget, and reading an entry within it.
//! - `names.rs`: raw entry names to text, then to harmless paths.
//! - `tnef.rs`: Outlook's `winmail.dat`, whose attachments are entries too.

mod budget;
mod gzip;
mod names;
mod sevenz;
mod sevenz_header;
mod tar;
mod tnef;
mod walk;
mod zip;

pub use tnef::unpack_tnef;
pub use walk::Kind;

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
    /// Entries (a zip's central directory records, a tar's headers, a 7z's
    /// files; directories included), all levels together.
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
    /// A symlink (zip, tar, 7z): its target is a path, never followed.
    Symlink,
    /// A tar hard link: a name for another entry's data, never followed.
    Hardlink,
    /// A tar device node or FIFO: no content to look at.
    SpecialFile,
    /// Larger than [`Limits::max_entry_bytes`], declared or actual.
    EntryTooLarge,
    /// A compression method other than those built in (zip: stored,
    /// deflate, deflate64, bzip2; 7z: copy, LZMA, LZMA2, bzip2, deflate and
    /// the BCJ and delta filters), or a tar entry kind that holds no plain
    /// file (GNU sparse files, volume labels…).
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
            Self::Hardlink => "hardlink",
            Self::SpecialFile => "special-file",
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

/// What an archive held, in its own order (a zip's central directory, a
/// tar's stream, a 7z's file list), nested entries right after the archive
/// that holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unpacked {
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
}

/// Why a whole archive is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Bytes of no supported kind (zip, tar, gzip, 7z).
    UnknownFormat,
    /// Starts like a zip but has no end of central directory.
    NotAnArchive,
    /// An archive of a known kind whose structure cannot be read.
    Corrupt(String),
    /// Nested deeper than [`Limits::max_depth`].
    TooDeep,
    /// More than [`Limits::max_entries`].
    TooManyEntries,
    /// More than [`Limits::max_total_bytes`], declared or actual; or a 7z
    /// whose decoder would need a dictionary larger than that.
    TooLarge,
    /// More than [`Limits::max_ratio`], declared or actual.
    RatioExceeded,
    /// Entries share compressed data or headers: the overlapping kind of
    /// zip bomb (David Fifield's), which no archiver writes.
    Overlapping,
    /// Duplicate names, or local headers that disagree with the central
    /// directory: another unpacker would see other files than we do (or,
    /// in a tar or 7z, one would overwrite the other).
    Inconsistent(String),
}

impl Error {
    /// The stable reason code, for the report.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownFormat => "archive-unknown-format",
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
        !matches!(
            self,
            Self::UnknownFormat | Self::NotAnArchive | Self::Corrupt(_)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownFormat => f.write_str("not an archive of a supported kind"),
            Self::NotAnArchive => f.write_str("not a zip archive"),
            Self::Corrupt(why) => write!(f, "corrupt archive: {why}"),
            Self::TooDeep => f.write_str("archives nested too deep"),
            Self::TooManyEntries => f.write_str("too many archive entries"),
            Self::TooLarge => f.write_str("archive expands beyond the size limit"),
            Self::RatioExceeded => f.write_str("archive expands beyond the ratio limit"),
            Self::Overlapping => f.write_str("archive entries overlap"),
            Self::Inconsistent(why) => write!(f, "ambiguous archive: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// Unpacks an archive of any supported kind, and every archive inside it
/// of any supported kind, within `limits`. `name` is the attachment's name:
/// a bare gzip's one file is named after it when the gzip does not say.
/// Never panics on any input.
pub fn unpack(bytes: &[u8], name: &str, limits: &Limits) -> Result<Unpacked, Error> {
    let mut budget = budget::Budget::new(limits, bytes.len());
    let mut out = Unpacked::default();
    walk::walk(bytes, name, &[], 1, &mut budget, &mut out)?;
    Ok(out)
}
