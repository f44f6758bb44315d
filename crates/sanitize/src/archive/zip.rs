//! The walk over one zip: check its shape, plan its entries from the
//! central directory, then read them within the budget, opening the zips
//! found inside.

use std::io::Cursor;

use ::zip::result::ZipError;
use ::zip::{CompressionMethod, ExtraField, ZipArchive};
use memchr::memmem;

use super::budget::{Budget, Outcome, read_bounded};
use super::names;
use super::walk::push_entry;
use super::{Error, SkipReason, Skipped, Unpacked};

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

const LOCAL_HEADER: &[u8] = b"PK\x03\x04";
const CENTRAL_HEADER: &[u8] = b"PK\x01\x02";
const END_OF_CENTRAL_DIRECTORY: &[u8] = b"PK\x05\x06";

/// General purpose flag bits (APPNOTE 4.4.4).
const FLAG_ENCRYPTED: u16 = 1 << 0;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
const FLAG_UTF8: u16 = 1 << 11;
/// WinZip AES: method 99 (`CompressionMethod::AES`) and extra field 0x9901.
const EXTRA_AES: u16 = 0x9901;
/// Unix file type bits in the high half of the external attributes.
const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

/// Nested archives are found by their first bytes, not by their names.
pub(super) fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(LOCAL_HEADER)
}

/// Unpacks the zip `bytes`, found at `parent` and at nesting `level` (the
/// outermost is 1), into `out`.
pub(super) fn unpack(
    bytes: &[u8],
    parent: &[String],
    level: usize,
    budget: &mut Budget<'_>,
    out: &mut Unpacked,
) -> Result<(), Error> {
    let mut archive = open(bytes, budget)?;
    let plans = plan(&mut archive, parent, budget, out)?;
    for plan in plans {
        extract(&mut archive, plan, level, budget, out)?;
    }
    Ok(())
}

/// Opens a zip and refuses it if its shape is a bomb or ambiguous.
fn open<'a>(bytes: &'a [u8], budget: &mut Budget<'_>) -> Result<Archive<'a>, Error> {
    // The zip crate allocates a record per central directory header it
    // parses, and each needs its own signature in the input: counting them
    // bounds that memory before any of it is spent. Signatures inside a
    // stored nested zip count here too, as its entries would later; a
    // stored file that is not a zip but holds that many is refused as well,
    // the price of the bound.
    if memmem::find_iter(bytes, CENTRAL_HEADER).count() > budget.entries_left() {
        return Err(Error::TooManyEntries);
    }
    if memmem::find(bytes, END_OF_CENTRAL_DIRECTORY).is_none() {
        return Err(Error::NotAnArchive);
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    budget.charge_entries(archive.len())?;
    // Overlapping entries are refused by the next check too; asking first
    // gives the bomb its own reason.
    if archive.has_overlapping_entries().map_err(corrupt)? {
        return Err(Error::Overlapping);
    }
    // Duplicate names (the zip crate keeps one of them), local headers that
    // disagree with the central directory, local headers it does not list:
    // all ways to show a scanner one file and a person another.
    archive
        .validate_header_consistency()
        .map_err(|e| Error::Inconsistent(e.to_string()))?;
    Ok(archive)
}

fn corrupt(error: ZipError) -> Error {
    Error::Corrupt(format!("zip: {error}"))
}

/// An entry to read, as the central directory describes it.
struct Plan {
    index: usize,
    path: Vec<String>,
    declared: u64,
    /// Named like a directory: not an entry if it turns out empty.
    dir_named: bool,
}

/// Sorts the entries into those to read and those skipped, and refuses the
/// archive early when what it declares would not fit the budget.
fn plan(
    archive: &mut Archive<'_>,
    parent: &[String],
    budget: &Budget<'_>,
    out: &mut Unpacked,
) -> Result<Vec<Plan>, Error> {
    let mut plans = Vec::new();
    let mut skipped = Vec::new();
    let mut declared_total = 0u64;
    for index in 0..archive.len() {
        let header = Header::read(archive, index)?;
        let mut path = parent.to_vec();
        path.push(names::neutralize(&header.name));
        if let Some(reason) = header.skip_reason(budget.max_entry_bytes()) {
            skipped.push(Skipped { path, reason });
            continue;
        }
        declared_total = declared_total.saturating_add(header.size);
        plans.push(Plan {
            index,
            path,
            declared: header.size,
            dir_named: header.name.ends_with(['/', '\\']),
        });
    }
    budget.check_declared(declared_total)?;
    out.skipped.append(&mut skipped);
    Ok(plans)
}

/// What the central directory says about one entry.
struct Header {
    /// Decoded, not yet neutralized.
    name: String,
    flags: u16,
    method: CompressionMethod,
    external_attributes: u32,
    aes_extra: bool,
    size: u64,
}

impl Header {
    fn read(archive: &mut Archive<'_>, index: usize) -> Result<Self, Error> {
        // The raw reader decompresses nothing; it gives the extra fields.
        let file = archive.by_index_raw(index).map_err(corrupt)?;
        let flags = file.flags().as_u16();
        // With a valid Info-ZIP Unicode Path field (0x7075), the zip crate
        // has already put it in `name_raw` and set the UTF-8 flag.
        let name = names::decode(file.name_raw(), flags & FLAG_UTF8 != 0);
        let aes_extra = file.extra_data_fields().any(
            |field| matches!(field, ExtraField::Custom(custom) if custom.header_id == EXTRA_AES),
        );
        Ok(Self {
            name,
            flags,
            method: file.compression(),
            external_attributes: file.external_attributes(),
            aes_extra,
            size: file.size(),
        })
    }

    fn skip_reason(&self, max_entry_bytes: u64) -> Option<SkipReason> {
        if (self.external_attributes >> 16) & S_IFMT == S_IFLNK {
            Some(SkipReason::Symlink)
        } else if self.is_encrypted() {
            Some(SkipReason::Encrypted)
        } else if !is_supported(self.method) {
            Some(SkipReason::UnsupportedMethod)
        } else if self.size > max_entry_bytes {
            // Declared: no need to decompress it to know.
            Some(SkipReason::EntryTooLarge)
        } else {
            None
        }
    }

    fn is_encrypted(&self) -> bool {
        self.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0
            || self.method == CompressionMethod::AES
            || self.aes_extra
    }
}

/// The pure-Rust decoders built in; lzma and ppmd are left out because
/// they allocate a dictionary of the size the archive declares.
fn is_supported(method: CompressionMethod) -> bool {
    matches!(
        method,
        CompressionMethod::Stored
            | CompressionMethod::Deflated
            | CompressionMethod::Deflate64
            | CompressionMethod::Bzip2
    )
}

/// Reads one planned entry, charges what it produced, and opens it in turn
/// if it is an archive.
fn extract(
    archive: &mut Archive<'_>,
    plan: Plan,
    level: usize,
    budget: &mut Budget<'_>,
    out: &mut Unpacked,
) -> Result<(), Error> {
    let bytes = match read_entry(archive, &plan, budget)? {
        Ok(bytes) => bytes,
        Err(reason) => {
            out.skipped.push(Skipped {
                path: plan.path,
                reason,
            });
            return Ok(());
        }
    };
    if plan.dir_named && bytes.is_empty() {
        return Ok(());
    }
    push_entry(plan.path, bytes, level, budget, out)
}

/// The entry's bytes, or why it is skipped; an error refuses the archive.
fn read_entry(
    archive: &mut Archive<'_>,
    plan: &Plan,
    budget: &mut Budget<'_>,
) -> Result<Result<Vec<u8>, SkipReason>, Error> {
    let limit = budget.entry_read_limit();
    let file = match archive.by_index(plan.index) {
        Ok(file) => file,
        Err(error) => return Ok(Err(open_failure(&error))),
    };
    match read_bounded(file, limit, plan.declared) {
        Outcome::Complete(bytes) => {
            budget.charge_bytes(bytes.len() as u64)?;
            Ok(Ok(bytes))
        }
        // Past what is left of the whole budget, charging refuses the
        // archive; past the entry's own limit, only the entry goes.
        Outcome::TooLong(produced) => {
            budget.charge_bytes(produced)?;
            Ok(Err(SkipReason::EntryTooLarge))
        }
        Outcome::Failed(produced) => {
            budget.charge_bytes(produced)?;
            Ok(Err(SkipReason::Corrupt))
        }
    }
}

/// Why the zip crate would not start reading an entry that was planned.
fn open_failure(error: &ZipError) -> SkipReason {
    match error {
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => SkipReason::Encrypted,
        ZipError::UnsupportedArchive(_) => SkipReason::UnsupportedMethod,
        _ => SkipReason::Corrupt,
    }
}
