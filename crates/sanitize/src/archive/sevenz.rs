//! The walk over one 7z, read by the `sevenz-rust2` crate once
//! `sevenz_header` has bounded its header.
//!
//! Before any data is decoded, every block's coders are sorted: AES makes
//! its files `encrypted`, a coder not built in makes them
//! `unsupported-method`, a dictionary over the budget refuses the archive.
//! The crate gives each file's data as a reader of exactly its declared
//! size (the next file of a solid block starts where it ends), so the
//! declared sizes of the blocks that are decoded bound what decoding
//! produces, and are checked against the budget first; what is read is
//! charged as it is read, what the crate skips through is charged at its
//! declared size.

use std::io::{Cursor, Read};

use sevenz_rust2::{Archive, ArchiveEntry, BlockDecoder, Password};

use super::budget::{Budget, Outcome, read_bounded};
use super::sevenz_header::{self, Coder, Header};
use super::walk::{Names, push_entry};
use super::{Error, SkipReason, Skipped, Unpacked, names};

/// Windows attribute bits; p7zip and 7-Zip put the Unix mode in the high
/// half when `UNIX_EXTENSION` is set.
const REPARSE_POINT: u32 = 0x400;
const UNIX_EXTENSION: u32 = 0x8000;
const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

/// Unpacks the 7z `bytes`, found at `parent` and at `level`, into `out`.
pub(super) fn unpack(
    bytes: &[u8],
    parent: &[String],
    level: usize,
    budget: &mut Budget<'_>,
    out: &mut Unpacked,
) -> Result<(), Error> {
    if sevenz_header::check(bytes, budget.max_dictionary())? == Header::Encrypted {
        let mut path = parent.to_vec();
        path.push("encrypted-names".into());
        out.skipped.push(Skipped {
            path,
            reason: SkipReason::Encrypted,
        });
        return Ok(());
    }
    let mut source = Cursor::new(bytes);
    let password = Password::empty();
    let archive = Archive::read(&mut source, &password).map_err(corrupt)?;
    budget.charge_entries(archive.files.len())?;
    let blocks = sort_blocks(&archive, budget)?;
    let mut walk = Walk {
        archive: &archive,
        parent,
        level,
        names: Names::default(),
    };
    let mut declared = 0u64;
    for (index, file) in archive.files.iter().enumerate() {
        match block_of(&archive, index).map(|b| blocks[b]) {
            Some(Coder::Supported) => declared = declared.saturating_add(file.size),
            Some(Coder::Encrypted) => walk.skip(index, SkipReason::Encrypted, out),
            Some(Coder::Unsupported) => walk.skip(index, SkipReason::UnsupportedMethod, out),
            None => {}
        }
    }
    budget.check_declared(declared)?;
    for (block, coder) in blocks.iter().enumerate() {
        if *coder == Coder::Supported {
            walk.block(block, &mut source, budget, out)?;
        }
    }
    // Files with no data belong to no block: empty files, directories.
    for index in 0..archive.files.len() {
        if block_of(&archive, index).is_none() {
            walk.file(index, &mut std::io::empty(), budget, out)?;
        }
    }
    Ok(())
}

/// Each block's coders, at their worst: encrypted over unsupported over
/// supported. A dictionary too large refuses the archive.
fn sort_blocks(archive: &Archive, budget: &Budget<'_>) -> Result<Vec<Coder>, Error> {
    let mut sorted = Vec::new();
    for block in &archive.blocks {
        let mut worst = Coder::Supported;
        for coder in &block.coders {
            let id = coder.encoder_method_id();
            match sevenz_header::coder(id, coder.properties(), budget.max_dictionary())? {
                Coder::Encrypted => worst = Coder::Encrypted,
                Coder::Unsupported if worst == Coder::Supported => worst = Coder::Unsupported,
                _ => {}
            }
        }
        sorted.push(worst);
    }
    Ok(sorted)
}

fn block_of(archive: &Archive, file: usize) -> Option<usize> {
    archive
        .stream_map
        .file_block_index
        .get(file)
        .copied()
        .flatten()
}

struct Walk<'a> {
    archive: &'a Archive,
    parent: &'a [String],
    level: usize,
    names: Names,
}

/// What to do with one file.
enum Plan {
    Read,
    /// A directory or an anti-item (a deletion in an update archive).
    Nothing,
    Skip(SkipReason),
}

impl Walk<'_> {
    fn path(&self, file: &ArchiveEntry) -> Vec<String> {
        let mut path = self.parent.to_vec();
        path.push(names::neutralize(file.name()));
        path
    }

    fn plan(file: &ArchiveEntry, budget: &Budget<'_>) -> Plan {
        let attributes = if file.has_windows_attributes {
            file.windows_attributes
        } else {
            0
        };
        let unix_link = attributes & UNIX_EXTENSION != 0 && (attributes >> 16) & S_IFMT == S_IFLNK;
        if file.is_directory() || file.is_anti_item() {
            Plan::Nothing
        } else if unix_link || attributes & REPARSE_POINT != 0 {
            Plan::Skip(SkipReason::Symlink)
        } else if file.size() > budget.max_entry_bytes() {
            Plan::Skip(SkipReason::EntryTooLarge)
        } else {
            Plan::Read
        }
    }

    /// A file whose block is not decoded: skipped, unless there is nothing
    /// to skip.
    fn skip(&self, index: usize, reason: SkipReason, out: &mut Unpacked) {
        let file = &self.archive.files[index];
        if !file.is_directory() && !file.is_anti_item() {
            out.skipped.push(Skipped {
                path: self.path(file),
                reason,
            });
        }
    }

    /// Decodes one block, file by file. A block that fails part way (a
    /// CRC, a corrupt stream) skips the files it did not reach.
    fn block(
        &mut self,
        block: usize,
        source: &mut Cursor<&[u8]>,
        budget: &mut Budget<'_>,
        out: &mut Unpacked,
    ) -> Result<(), Error> {
        let password = Password::empty();
        // One thread: a multithreaded LZMA2 decoder holds a dictionary per
        // thread.
        let decoder = BlockDecoder::new(1, block, self.archive, &password, source);
        let first = self
            .archive
            .stream_map
            .block_first_file_index
            .get(block)
            .copied()
            .unwrap_or_default();
        let count = decoder.entry_count();
        let mut visited = 0;
        let mut refusal = None;
        let decoded = decoder.for_each_entries(&mut |_, reader| {
            let index = first + visited;
            visited += 1;
            match self.file(index, reader, budget, out) {
                Ok(()) => Ok(true),
                Err(error) => {
                    refusal = Some(error);
                    Ok(false)
                }
            }
        });
        if let Some(error) = refusal {
            return Err(error);
        }
        if decoded.is_err() {
            for index in first + visited..first + count {
                self.skip(index, SkipReason::Corrupt, out);
            }
        }
        Ok(())
    }

    /// One file, its data from `reader`.
    fn file(
        &mut self,
        index: usize,
        reader: &mut dyn Read,
        budget: &mut Budget<'_>,
        out: &mut Unpacked,
    ) -> Result<(), Error> {
        let Some(file) = self.archive.files.get(index) else {
            return Ok(());
        };
        let path = self.path(file);
        let has_data = file.has_stream() && file.size() > 0;
        match Self::plan(file, budget) {
            Plan::Nothing => Ok(()),
            Plan::Skip(reason) => {
                // The crate decodes through it to reach the next file.
                if has_data {
                    budget.charge_bytes(file.size())?;
                }
                out.skipped.push(Skipped { path, reason });
                Ok(())
            }
            Plan::Read => match read_bounded(reader, file.size(), file.size()) {
                Outcome::Complete(bytes) if bytes.len() as u64 == file.size() => {
                    budget.charge_bytes(file.size())?;
                    self.names.insert(&path)?;
                    push_entry(path, bytes, self.level, budget, out)
                }
                // Short, or failing its CRC; the crate reads through what
                // is left of it.
                _ => {
                    budget.charge_bytes(file.size())?;
                    out.skipped.push(Skipped {
                        path,
                        reason: SkipReason::Corrupt,
                    });
                    Ok(())
                }
            },
        }
    }
}

fn corrupt(error: sevenz_rust2::Error) -> Error {
    Error::Corrupt(format!("7z: {error}"))
}
