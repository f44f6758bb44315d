//! A gzip: a `.tar.gz` (`.tgz`), whose tar is walked straight from the
//! decompressor, or one compressed file, which becomes one entry named by
//! the gzip's FNAME header or, without one, by the attachment's name less
//! `.gz`. Concatenated members (pigz, bgzip) are read as one stream.
//!
//! Every byte the decompressor produces is counted on a [`Meter`], so a
//! gzip bomb stops one byte past the budget, however its tar is laid out;
//! the trailer's ISIZE (the last member's size, modulo 2^32) is a declared
//! size, used only to refuse early.

use std::io::Read;

use flate2::read::MultiGzDecoder;

use super::budget::{Budget, Meter, Metered, Outcome, read_bounded};
use super::walk::push_entry;
use super::{Error, SkipReason, Skipped, Unpacked, names, tar};

/// Enough of the output to see a tar header's magic.
const HEAD: usize = 512;

/// Unpacks the gzip `bytes`, named `name`, found at `parent` and at
/// `level`, into `out`.
pub(super) fn unpack(
    bytes: &[u8],
    name: &str,
    parent: &[String],
    level: usize,
    budget: &mut Budget<'_>,
    out: &mut Unpacked,
) -> Result<(), Error> {
    let declared = trailer_size(bytes);
    budget.check_declared(declared)?;
    let meter = Meter::new(budget);
    let mut decoder = MultiGzDecoder::new(bytes);
    let mut head = [0u8; HEAD];
    let filled = fill(
        &mut Metered {
            inner: &mut decoder,
            meter: &meter,
        },
        &mut head,
    )
    .map_err(|e| meter.failure(budget, "gzip", &e))?;
    let head = &head[..filled];
    let stream = Metered {
        inner: &mut decoder,
        meter: &meter,
    };
    if tar::is_tar(head) {
        // The tar's entries sit where the gzip does: one level, not two.
        return tar::read(head.chain(stream), &meter, parent, level, budget, out);
    }
    let mut path = parent.to_vec();
    path.push(entry_name(&*stream.inner, name));
    budget.charge_entries(1)?;
    let outcome = read_bounded(head.chain(stream), budget.entry_read_limit(), declared);
    meter.settle(budget)?;
    match outcome {
        Outcome::Complete(bytes) => push_entry(path, bytes, level, budget, out),
        Outcome::TooLong(_) => {
            out.skipped.push(Skipped {
                path,
                reason: SkipReason::EntryTooLarge,
            });
            Ok(())
        }
        // The gzip is its one entry: a stream that fails is a corrupt gzip.
        Outcome::Failed(_) => Err(Error::Corrupt("gzip: the stream does not inflate".into())),
    }
}

/// The one file's name: FNAME (Latin-1 by the RFC, but UTF-8 or CP932 in
/// practice, decoded as zip names are), else the gzip's own name less
/// `.gz`.
fn entry_name(decoder: &MultiGzDecoder<&[u8]>, name: &str) -> String {
    if let Some(raw) = decoder.header().and_then(|h| h.filename()) {
        return names::neutralize(&names::decode(raw, false));
    }
    let lower = name.to_ascii_lowercase();
    let stem = [".gz", ".gzip", ".z"]
        .iter()
        .find_map(|ext| {
            lower
                .ends_with(ext)
                .then(|| &name[..name.len() - ext.len()])
        })
        .unwrap_or(name);
    names::neutralize(stem)
}

/// ISIZE, the last four bytes: the last member's length modulo 2^32.
fn trailer_size(bytes: &[u8]) -> u64 {
    match bytes.len().checked_sub(4).and_then(|at| bytes.get(at..)) {
        Some(&[a, b, c, d]) if bytes.len() >= 18 => u64::from(u32::from_le_bytes([a, b, c, d])),
        _ => 0,
    }
}

/// Reads until `buf` is full or the stream ends.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
