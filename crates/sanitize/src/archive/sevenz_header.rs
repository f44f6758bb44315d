//! What is checked of a 7z before the `sevenz-rust2` crate reads it.
//!
//! The crate reads the header whole, decompressing it first when it is
//! "encoded" (7-Zip compresses it by default), and its memory limit for
//! decoders is not reachable from its API. So the start header is checked
//! here, the header's size bounded, and an encoded header's coders and
//! sizes read from the bytes (7zFormat.txt, `StreamsInfo`) and refused when
//! they would decompress more than [`MAX_HEADER_BYTES`], declare too large
//! a dictionary, or need a password (encrypted names).

use super::Error;

/// The most header, raw or decoded, the crate may hold. Its per-file
/// records are bounded by the header's length (each takes a byte at
/// least), so this also bounds what the crate allocates for them. A 7z of
/// 1,000 files with long names needs well under half of it.
pub(super) const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Signature, version, start header CRC, then the start header itself.
const SIGNATURE_HEADER: usize = 32;

const K_END: u8 = 0x00;
const K_HEADER: u8 = 0x01;
const K_PACK_INFO: u8 = 0x06;
const K_UNPACK_INFO: u8 = 0x07;
const K_SIZE: u8 = 0x09;
const K_CRC: u8 = 0x0A;
const K_FOLDER: u8 = 0x0B;
const K_CODERS_UNPACK_SIZE: u8 = 0x0C;
const K_ENCODED_HEADER: u8 = 0x17;

/// Coder ids (7-Zip's `Methods.txt`).
const COPY: &[u8] = &[0x00];
const DELTA: &[u8] = &[0x03];
const LZMA: &[u8] = &[0x03, 0x01, 0x01];
const LZMA2: &[u8] = &[0x21];
const BZIP2: &[u8] = &[0x04, 0x02, 0x02];
const DEFLATE: &[u8] = &[0x04, 0x01, 0x08];
const AES: &[u8] = &[0x06, 0xF1, 0x07, 0x01];
/// Branch converters for executables: x86, PPC, IA64, ARM, ARMT, SPARC,
/// ARM64, RISC-V. (BCJ2, four streams in, is not among them.)
const BCJ: [&[u8]; 8] = [
    &[0x03, 0x03, 0x01, 0x03],
    &[0x03, 0x03, 0x02, 0x05],
    &[0x03, 0x03, 0x04, 0x01],
    &[0x03, 0x03, 0x05, 0x01],
    &[0x03, 0x03, 0x07, 0x01],
    &[0x03, 0x03, 0x08, 0x05],
    &[0x0A],
    &[0x0B],
];

/// What a coder means for the data behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coder {
    Supported,
    /// AES-256: no password is tried.
    Encrypted,
    /// Built without it (PPMd, zstd, BCJ2…) or unknown.
    Unsupported,
}

/// Classifies one coder; a dictionary over `max_dictionary` refuses the
/// archive before any decoder exists.
pub(super) fn coder(id: &[u8], props: &[u8], max_dictionary: u64) -> Result<Coder, Error> {
    let dictionary = match id {
        LZMA => match props {
            [_, a, b, c, d, ..] => u64::from(u32::from_le_bytes([*a, *b, *c, *d])),
            _ => return Err(corrupt("LZMA properties too short")),
        },
        LZMA2 => match props.first() {
            Some(&bits) if bits <= 40 => lzma2_dictionary(bits),
            _ => return Err(corrupt("bad LZMA2 properties")),
        },
        COPY | DELTA | BZIP2 | DEFLATE => 0,
        AES => return Ok(Coder::Encrypted),
        id if BCJ.contains(&id) => 0,
        _ => return Ok(Coder::Unsupported),
    };
    if dictionary > max_dictionary {
        return Err(Error::TooLarge);
    }
    Ok(Coder::Supported)
}

/// LZMA2's one-byte dictionary size: 2 or 3 times a power of two; 40 is
/// 4 GiB less one byte.
fn lzma2_dictionary(bits: u8) -> u64 {
    if bits == 40 {
        return u64::from(u32::MAX);
    }
    u64::from(2 | (bits & 1)) << (bits / 2 + 11)
}

/// What the crate will find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Header {
    /// Safe to give to the crate.
    Readable,
    /// The header itself is encrypted (`7z -mhe=on`): not even the names
    /// can be read.
    Encrypted,
}

/// Checks the start header and the header it points to.
pub(super) fn check(bytes: &[u8], max_dictionary: u64) -> Result<Header, Error> {
    let start = bytes
        .get(..SIGNATURE_HEADER)
        .ok_or_else(|| corrupt("truncated signature header"))?;
    // The crate would search the file for a header when this CRC is zero
    // and the start header blank (an unfinished archive): refused instead.
    if crc32fast::hash(&start[12..32]) != u32_at(start, 8) {
        return Err(corrupt("start header CRC mismatch"));
    }
    let offset = u64_at(start, 12);
    let size = u64_at(start, 20);
    if size > MAX_HEADER_BYTES {
        return Err(Error::TooManyEntries);
    }
    let header = usize::try_from(offset)
        .ok()
        .and_then(|offset| SIGNATURE_HEADER.checked_add(offset))
        .and_then(|at| bytes.get(at..)?.get(..usize::try_from(size).ok()?))
        .ok_or_else(|| corrupt("header out of bounds"))?;
    if crc32fast::hash(header) != u32_at(start, 28) {
        return Err(corrupt("header CRC mismatch"));
    }
    match header.split_first() {
        None => Ok(Header::Readable),
        Some((&K_HEADER, _)) => Ok(Header::Readable),
        Some((&K_ENCODED_HEADER, rest)) => encoded(&mut Cursor(rest), max_dictionary),
        Some(_) => Err(corrupt("unknown header kind")),
    }
}

/// An encoded header's `StreamsInfo`: pack info, then the folders that
/// decode the header. Sub-streams info, which follows, is not needed.
fn encoded(r: &mut Cursor<'_>, max_dictionary: u64) -> Result<Header, Error> {
    let mut id = r.byte()?;
    if id == K_PACK_INFO {
        pack_info(r)?;
        id = r.byte()?;
    }
    if id != K_UNPACK_INFO {
        return Err(corrupt("encoded header without coders"));
    }
    let folders = unpack_info(r)?;
    let mut encrypted = false;
    for folder in &folders {
        for (id, props) in &folder.coders {
            encrypted |= coder(id, props, max_dictionary)? == Coder::Encrypted;
        }
        if folder.unpack_sizes.iter().any(|&s| s > MAX_HEADER_BYTES) {
            return Err(Error::TooManyEntries);
        }
    }
    Ok(if encrypted {
        Header::Encrypted
    } else {
        Header::Readable
    })
}

fn pack_info(r: &mut Cursor<'_>) -> Result<(), Error> {
    r.number()?; // pack position
    let streams = r.count()?;
    loop {
        match r.byte()? {
            K_END => return Ok(()),
            K_SIZE => {
                for _ in 0..streams {
                    r.number()?;
                }
            }
            K_CRC => digests(r, streams)?,
            _ => return Err(corrupt("bad pack info")),
        }
    }
}

struct Folder<'a> {
    coders: Vec<(&'a [u8], &'a [u8])>,
    unpack_sizes: Vec<u64>,
}

fn unpack_info<'a>(r: &mut Cursor<'a>) -> Result<Vec<Folder<'a>>, Error> {
    if r.byte()? != K_FOLDER {
        return Err(corrupt("bad unpack info"));
    }
    let count = r.count()?;
    if r.byte()? != 0 {
        return Err(corrupt("external folders"));
    }
    let mut folders = Vec::new();
    let mut outputs = Vec::new();
    for _ in 0..count {
        let (folder, out_streams) = folder(r)?;
        folders.push(folder);
        outputs.push(out_streams);
    }
    if r.byte()? != K_CODERS_UNPACK_SIZE {
        return Err(corrupt("no unpack sizes"));
    }
    for (folder, out_streams) in folders.iter_mut().zip(outputs) {
        for _ in 0..out_streams {
            folder.unpack_sizes.push(r.number()?);
        }
    }
    loop {
        match r.byte()? {
            K_END => return Ok(folders),
            K_CRC => digests(r, count)?,
            _ => return Err(corrupt("bad unpack info")),
        }
    }
}

/// One folder, and how many output streams its coders have.
fn folder<'a>(r: &mut Cursor<'a>) -> Result<(Folder<'a>, u64), Error> {
    let count = r.count()?;
    if count == 0 || count > 64 {
        return Err(corrupt("bad coder count"));
    }
    let (mut inputs, mut outputs) = (0u64, 0u64);
    let mut coders = Vec::new();
    for _ in 0..count {
        let flags = r.byte()?;
        // 0x80: alternative methods, which no archiver writes.
        if flags & 0xC0 != 0 {
            return Err(corrupt("bad coder flags"));
        }
        let id = r.take(usize::from(flags & 0x0F))?;
        let (ins, outs) = if flags & 0x10 != 0 {
            (r.count()?, r.count()?)
        } else {
            (1, 1)
        };
        let props = if flags & 0x20 != 0 {
            let len = r.count()?;
            r.take(usize::try_from(len).map_err(|_| corrupt("bad properties"))?)?
        } else {
            &[]
        };
        inputs = inputs.saturating_add(ins);
        outputs = outputs.saturating_add(outs);
        coders.push((id, props));
    }
    let bind_pairs = outputs
        .checked_sub(1)
        .ok_or_else(|| corrupt("a folder without output"))?;
    for _ in 0..bind_pairs {
        r.number()?;
        r.number()?;
    }
    let packed = inputs
        .checked_sub(bind_pairs)
        .ok_or_else(|| corrupt("bad bind pairs"))?;
    if packed > 1 {
        for _ in 0..packed {
            r.number()?;
        }
    }
    let folder = Folder {
        coders,
        unpack_sizes: Vec::new(),
    };
    Ok((folder, outputs))
}

/// A digest list: all-defined flag or a bit field, then the CRCs.
fn digests(r: &mut Cursor<'_>, count: u64) -> Result<(), Error> {
    let defined = if r.byte()? != 0 {
        count
    } else {
        let bits = r.take(usize::try_from(count.div_ceil(8)).unwrap_or(usize::MAX))?;
        bits.iter().map(|b| u64::from(b.count_ones())).sum()
    };
    r.take(usize::try_from(defined.saturating_mul(4)).unwrap_or(usize::MAX))?;
    Ok(())
}

/// The header bytes still to read.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        if len > self.0.len() {
            return Err(corrupt("truncated header"));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }

    /// 7z's variable-length number: the first byte's leading one bits
    /// count the bytes that follow (little-endian).
    fn number(&mut self) -> Result<u64, Error> {
        let first = self.byte()?;
        let mut value = 0u64;
        for i in 0..8 {
            let mask = 0x80u8 >> i;
            if first & mask == 0 {
                let high = u64::from(first & mask.wrapping_sub(1));
                return Ok(value | (high << (8 * i)));
            }
            value |= u64::from(self.byte()?) << (8 * i);
        }
        Ok(value)
    }

    /// A count of things that each take a byte at least: never more than
    /// the bytes left, so that loops over it stay short.
    fn count(&mut self) -> Result<u64, Error> {
        let count = self.number()?;
        if count > self.0.len() as u64 {
            return Err(corrupt("count beyond the header"));
        }
        Ok(count)
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut le = [0u8; 4];
    le.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(le)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut le = [0u8; 8];
    le.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(le)
}

fn corrupt(why: &str) -> Error {
    Error::Corrupt(format!("7z: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_7zip_writes_them() {
        let read = |bytes: &[u8]| Cursor(bytes).number().ok();
        assert_eq!(read(&[0x7F]), Some(0x7F));
        assert_eq!(read(&[0x80, 0x80]), Some(0x80));
        assert_eq!(read(&[0xC1, 0x02, 0x03]), Some(0x01_0302));
        assert_eq!(read(&[0xFF, 1, 0, 0, 0, 0, 0, 0, 0]), Some(1));
        assert_eq!(read(&[0x80]), None);
    }

    #[test]
    fn lzma2_dictionary_sizes() {
        assert_eq!(lzma2_dictionary(0), 4 << 10);
        assert_eq!(lzma2_dictionary(1), 6 << 10);
        assert_eq!(lzma2_dictionary(18), 2 << 20);
        assert_eq!(lzma2_dictionary(40), u64::from(u32::MAX));
        let max = 200 << 20;
        assert_eq!(coder(LZMA2, &[24], max), Ok(Coder::Supported));
        assert_eq!(coder(LZMA2, &[40], max), Err(Error::TooLarge));
        assert_eq!(
            coder(LZMA, &[0x5D, 0, 0, 0, 0x80], max),
            Err(Error::TooLarge)
        );
        assert_eq!(coder(AES, &[], max), Ok(Coder::Encrypted));
        assert_eq!(coder(&[0x03, 0x04, 0x01], &[], max), Ok(Coder::Unsupported));
    }
}
