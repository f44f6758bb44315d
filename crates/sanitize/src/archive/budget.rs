//! One budget for an archive and every archive inside it, and reading an
//! entry so that its buffer never outgrows what is left of that budget.

use std::cell::Cell;
use std::io::{self, Read};

use super::{Error, Limits};

/// Deeper nesting than this is refused whatever the configuration says:
/// each level is a stack frame, and workers run on 2 MiB thread stacks.
const HARD_MAX_DEPTH: usize = 16;

/// Below this many decompressed bytes the ratio is not applied.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// How much one `read` call may fill; also the most a buffer can hold
/// beyond the budget at any time.
const CHUNK: usize = 64 * 1024;

/// What is left for the rest of the walk.
#[derive(Debug)]
pub(super) struct Budget<'l> {
    limits: &'l Limits,
    entries: usize,
    expanded: u64,
    ratio_allowance: u64,
}

impl<'l> Budget<'l> {
    /// `outer_len` is the size of the outermost archive, the denominator
    /// of the ratio for every level.
    pub(super) fn new(limits: &'l Limits, outer_len: usize) -> Self {
        let outer = u64::try_from(outer_len).unwrap_or(u64::MAX);
        Self {
            limits,
            entries: 0,
            expanded: 0,
            ratio_allowance: outer.saturating_mul(limits.max_ratio).max(RATIO_FLOOR),
        }
    }

    pub(super) fn max_depth(&self) -> usize {
        self.limits.max_depth.min(HARD_MAX_DEPTH)
    }

    pub(super) fn entries_left(&self) -> usize {
        self.limits.max_entries.saturating_sub(self.entries)
    }

    pub(super) fn charge_entries(&mut self, count: usize) -> Result<(), Error> {
        if count > self.entries_left() {
            return Err(Error::TooManyEntries);
        }
        self.entries += count;
        Ok(())
    }

    /// Refuses early when what an archive declares would not fit.
    pub(super) fn check_declared(&self, declared: u64) -> Result<(), Error> {
        self.check(self.expanded.saturating_add(declared))
    }

    /// Counts bytes that were decompressed, kept or not.
    pub(super) fn charge_bytes(&mut self, bytes: u64) -> Result<(), Error> {
        let expanded = self.expanded.saturating_add(bytes);
        self.check(expanded)?;
        self.expanded = expanded;
        Ok(())
    }

    /// The most one entry may produce now: its own limit, or what is left.
    pub(super) fn entry_read_limit(&self) -> u64 {
        let left = self.limits.max_total_bytes.saturating_sub(self.expanded);
        self.limits.max_entry_bytes.min(left)
    }

    /// How many more bytes may be charged before the budget refuses.
    pub(super) fn bytes_left(&self) -> u64 {
        self.ratio_allowance
            .min(self.limits.max_total_bytes)
            .saturating_sub(self.expanded)
    }

    /// The 7z dictionary a decoder may declare: none is larger than all the
    /// bytes the archive may expand to, since honest archivers shrink it to
    /// the data.
    pub(super) fn max_dictionary(&self) -> u64 {
        self.limits.max_total_bytes
    }

    pub(super) fn max_entry_bytes(&self) -> u64 {
        self.limits.max_entry_bytes
    }

    fn check(&self, expanded: u64) -> Result<(), Error> {
        // The ratio first: when both are crossed, it says more.
        if expanded > self.ratio_allowance {
            return Err(Error::RatioExceeded);
        }
        if expanded > self.limits.max_total_bytes {
            return Err(Error::TooLarge);
        }
        Ok(())
    }
}

/// The bytes a stream decoder (gzip, or the tar stream itself) has produced,
/// headers, padding and skipped entries included, and how many it may
/// produce before it is stopped. Shared by reference with [`Metered`], which
/// the tar reader owns while the walk charges the budget between entries.
#[derive(Debug, Default)]
pub(super) struct Meter {
    produced: Cell<u64>,
    charged: Cell<u64>,
    allowed: Cell<u64>,
}

impl Meter {
    pub(super) fn new(budget: &Budget<'_>) -> Self {
        let meter = Self::default();
        meter.allowed.set(budget.bytes_left());
        meter
    }

    /// Charges what was produced since the last call; then lets the stream
    /// run to the end of what is left. Past that, the stream has produced
    /// one byte too many, and this refuses with the budget's own reason.
    pub(super) fn settle(&self, budget: &mut Budget<'_>) -> Result<(), Error> {
        let produced = self.produced.get();
        budget.charge_bytes(produced - self.charged.get())?;
        self.charged.set(produced);
        self.allowed
            .set(produced.saturating_add(budget.bytes_left()));
        Ok(())
    }

    /// Whether the stream was stopped for the budget.
    fn tripped(&self) -> bool {
        self.produced.get() > self.allowed.get()
    }

    /// What a read error of the metered stream means: the budget's refusal
    /// when the meter stopped it, else a corrupt `kind` archive.
    pub(super) fn failure(&self, budget: &mut Budget<'_>, kind: &str, error: &io::Error) -> Error {
        if self.tripped()
            && let Err(refusal) = self.settle(budget)
        {
            return refusal;
        }
        Error::Corrupt(format!("{kind}: {error}"))
    }
}

/// A reader that counts what it yields on a [`Meter`] and fails one byte
/// past what the meter allows: decompression stops there, whether an entry
/// keeps the bytes or the tar reader skips over them.
pub(super) struct Metered<'m, R> {
    pub(super) inner: R,
    pub(super) meter: &'m Meter,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let produced = self.meter.produced.get();
        let room = self.meter.allowed.get().saturating_sub(produced);
        if room == 0 && produced > self.meter.allowed.get() {
            return Err(io::Error::other("archive budget exhausted"));
        }
        // One byte past the allowance shows the budget was crossed.
        let want = usize::try_from(room.saturating_add(1))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        self.meter.produced.set(produced + n as u64);
        if self.meter.tripped() {
            return Err(io::Error::other("archive budget exhausted"));
        }
        Ok(n)
    }
}

/// How reading one entry ended. Each case carries the bytes produced, so
/// that they are charged to the budget whether they are kept or not.
#[derive(Debug)]
pub(super) enum Outcome {
    Complete(Vec<u8>),
    /// More than the limit: only `limit + 1` bytes were produced.
    TooLong(u64),
    /// The decompressor or the CRC check failed after this many bytes.
    Failed(u64),
}

/// Reads at most `limit + 1` bytes, to tell a full entry from a larger one.
/// The buffer is reserved from `declared` (capped at `limit`), so an honest
/// entry is read without reallocating; an entry that yields more than it
/// declared grows it by doubling, never past `limit + 1`.
pub(super) fn read_bounded(reader: impl Read, limit: u64, declared: u64) -> Outcome {
    let mut reader = reader.take(limit.saturating_add(1));
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut buf = Vec::new();
    let first = usize::try_from(declared.min(limit)).unwrap_or(cap);
    if buf.try_reserve_exact(first).is_err() {
        return Outcome::Failed(0);
    }
    loop {
        let read = if buf.len() == buf.capacity() {
            probe_and_grow(&mut reader, &mut buf, cap)
        } else {
            fill(&mut reader, &mut buf)
        };
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(()) => return Outcome::Failed(len_u64(&buf)),
        }
    }
    if len_u64(&buf) > limit {
        return Outcome::TooLong(len_u64(&buf));
    }
    buf.shrink_to_fit();
    Outcome::Complete(buf)
}

/// Reads into the spare capacity, at most one chunk.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>) -> Result<usize, ()> {
    let start = buf.len();
    let room = (buf.capacity() - start).min(CHUNK);
    buf.resize(start + room, 0);
    let read = reader.read(&mut buf[start..]);
    let n = *read.as_ref().unwrap_or(&0);
    buf.truncate(start + n);
    read.map_err(drop)
}

/// The buffer is full: look for more before allocating for it.
fn probe_and_grow(reader: &mut impl Read, buf: &mut Vec<u8>, cap: usize) -> Result<usize, ()> {
    let mut probe = [0u8; 4096];
    let n = reader.read(&mut probe).map_err(drop)?;
    if n == 0 {
        return Ok(0);
    }
    // `take` keeps len + n within cap; doubling keeps growth amortized.
    let target = buf
        .capacity()
        .saturating_mul(2)
        .max(CHUNK)
        .max(buf.len() + n)
        .min(cap);
    buf.try_reserve_exact(target - buf.len()).map_err(drop)?;
    buf.extend_from_slice(&probe[..n]);
    Ok(n)
}

fn len_u64(buf: &[u8]) -> u64 {
    u64::try_from(buf.len()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that yields `len` zeros in odd-sized pieces.
    struct Zeros(u64);
    impl Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf
                .len()
                .min(777)
                .min(usize::try_from(self.0).unwrap_or(usize::MAX));
            buf[..n].fill(0);
            self.0 -= n as u64;
            Ok(n)
        }
    }

    #[test]
    fn an_honest_entry_is_read_into_its_declared_size() {
        let Outcome::Complete(bytes) = read_bounded(Zeros(100_000), 1_000_000, 100_000) else {
            panic!("not complete");
        };
        assert_eq!(bytes.len(), 100_000);
        assert_eq!(bytes.capacity(), 100_000);
    }

    #[test]
    fn a_lying_entry_grows_but_stops_one_past_the_limit() {
        assert!(matches!(
            read_bounded(Zeros(10_000_000), 200_000, 10),
            Outcome::TooLong(200_001)
        ));
        let Outcome::Complete(bytes) = read_bounded(Zeros(150_000), 200_000, 10) else {
            panic!("not complete");
        };
        assert_eq!(bytes.len(), 150_000);
        assert!(matches!(read_bounded(Zeros(1), 0, 0), Outcome::TooLong(1)));
    }

    #[test]
    fn the_ratio_is_not_applied_below_its_floor() {
        let limits = Limits::default();
        let mut budget = Budget::new(&limits, 10);
        assert_eq!(budget.charge_bytes(RATIO_FLOOR), Ok(()));
        assert_eq!(budget.charge_bytes(1), Err(Error::RatioExceeded));
    }
}
