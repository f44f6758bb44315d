//! Zips for the archive tests: through the zip crate's writer when it can
//! write what is wanted, by hand when it cannot (names without the UTF-8
//! flag, encryption flags, symlinks, lies about sizes, overlaps).
#![allow(dead_code)] // each test file uses its own share

pub mod kinds;

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A zip written by the zip crate; names ending in `/` are directories.
pub fn zip_of(files: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let options = SimpleFileOptions::default().compression_method(method);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        if name.ends_with('/') {
            writer.add_directory(*name, options).expect("a directory");
        } else {
            writer.start_file(*name, options).expect("a file");
            writer.write_all(data).expect("file data");
        }
    }
    writer.finish().expect("a finished zip").into_inner()
}

/// One entry of a hand-written zip, with every field the tests twist.
#[derive(Clone)]
pub struct Raw {
    pub name: Vec<u8>,
    /// The local header's name when it differs from the central one.
    pub local_name: Option<Vec<u8>>,
    pub flags: u16,
    pub method: u16,
    /// High byte: the host system (3 = Unix).
    pub made_by: u16,
    pub external: u32,
    pub crc: u32,
    /// Declared uncompressed size.
    pub size: u32,
    /// Compressed data as written.
    pub data: Vec<u8>,
    pub extra: Vec<u8>,
    /// Where the central record points; `None` = at its own local header.
    pub offset: Option<u32>,
    /// `false`: a local header and data that the central directory omits.
    pub listed: bool,
    /// `false`: a central record alone, pointing at another's local header.
    pub local: bool,
}

impl Raw {
    pub fn stored(name: &[u8], data: &[u8]) -> Self {
        Self {
            name: name.to_vec(),
            local_name: None,
            flags: 0,
            method: 0,
            made_by: 20,
            external: 0,
            crc: crc32(data),
            size: len32(data.len()),
            data: data.to_vec(),
            extra: Vec::new(),
            offset: None,
            listed: true,
            local: true,
        }
    }

    /// A deflated entry of `size` zeros, as small as fixed Huffman allows.
    pub fn zeros(name: &[u8], size: usize) -> Self {
        Self {
            method: 8,
            crc: crc32(&vec![0; size]),
            size: len32(size),
            data: deflate_zeros(size),
            ..Self::stored(name, b"")
        }
    }
}

/// Local headers, central directory, end record: the minimum of the format.
pub fn raw_zip(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for entry in entries {
        offsets.push(len32(out.len()));
        if !entry.local {
            continue;
        }
        let name = entry.local_name.as_ref().unwrap_or(&entry.name);
        out.extend_from_slice(b"PK\x03\x04");
        put16(&mut out, 20);
        fields(&mut out, entry, name);
        out.extend_from_slice(name);
        out.extend_from_slice(&entry.extra);
        out.extend_from_slice(&entry.data);
    }
    let directory_start = len32(out.len());
    for (entry, own) in entries.iter().zip(&offsets).filter(|(e, _)| e.listed) {
        out.extend_from_slice(b"PK\x01\x02");
        put16(&mut out, entry.made_by);
        put16(&mut out, 20);
        fields(&mut out, entry, &entry.name);
        put16(&mut out, 0); // comment length
        put16(&mut out, 0); // disk
        put16(&mut out, 0); // internal attributes
        put32(&mut out, entry.external);
        put32(&mut out, entry.offset.unwrap_or(*own));
        out.extend_from_slice(&entry.name);
        out.extend_from_slice(&entry.extra);
    }
    let directory_size = len32(out.len()) - directory_start;
    let listed = entries.iter().filter(|e| e.listed).count();
    let count = u16::try_from(listed).expect("at most 65535 entries");
    out.extend_from_slice(b"PK\x05\x06");
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, directory_size);
    put32(&mut out, directory_start);
    put16(&mut out, 0);
    out
}

/// The fields local and central headers share, from the flags on.
fn fields(out: &mut Vec<u8>, entry: &Raw, name: &[u8]) {
    put16(out, entry.flags);
    put16(out, entry.method);
    put16(out, 0); // 00:00:00
    put16(out, (44 << 9) | (1 << 5) | 1); // 2024-01-01
    put32(out, entry.crc);
    put32(out, len32(entry.data.len()));
    put32(out, entry.size);
    put16(out, u16::try_from(name.len()).expect("a short name"));
    put16(
        out,
        u16::try_from(entry.extra.len()).expect("a short extra"),
    );
}

/// An extra field record: id, length, data.
pub fn extra_field(id: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put16(&mut out, id);
    put16(&mut out, u16::try_from(data.len()).expect("a short field"));
    out.extend_from_slice(data);
    out
}

/// A raw deflate stream of `size` zeros: one literal, then matches of 258
/// at distance 1, in one fixed-Huffman block. About 1:160, built at once.
pub fn deflate_zeros(size: usize) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.put(1, 1); // final block
    bits.put(1, 2); // fixed Huffman
    if size > 0 {
        bits.code(0x30, 8); // literal 0
    }
    let mut left = size.saturating_sub(1);
    while left >= 258 {
        bits.code(0xC5, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    bits.bytes
}

#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    /// Header fields go least significant bit first.
    fn put(&mut self, value: u32, count: u32) {
        for i in 0..count {
            self.bit((value >> i) & 1);
        }
    }

    /// Huffman codes go most significant bit first.
    fn code(&mut self, value: u32, count: u32) {
        for i in (0..count).rev() {
            self.bit((value >> i) & 1);
        }
    }

    fn bit(&mut self, bit: u32) {
        if self.used.is_multiple_of(8) {
            self.bytes.push(0);
        }
        let last = self.bytes.last_mut().expect("a byte");
        *last |= u8::try_from(bit << (self.used % 8)).expect("one bit");
        self.used += 1;
    }
}

/// One local header and `size` zeros, which `records` central records all
/// point at: `records × size` bytes from a few KB, the way David Fifield's
/// bomb overlaps.
pub fn overlap_bomb(records: usize, size: usize) -> Vec<u8> {
    let kernel = Raw::zeros(b"f0", size);
    let mut all = vec![kernel.clone()];
    all.extend((1..records).map(|i| Raw {
        name: format!("f{i}").into_bytes(),
        local: false,
        offset: Some(0),
        ..kernel.clone()
    }));
    raw_zip(&all)
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Deterministic bytes that do not compress.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn len32(len: usize) -> u32 {
    u32::try_from(len).expect("under 4 GiB")
}
