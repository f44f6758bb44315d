//! tar, gzip and 7z inputs: through the crates' writers when they write
//! what is wanted, by hand when they refuse to (names that climb, links,
//! devices, coders they do not write).

use std::io::{Cursor, Write};

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use sevenz_rust2::{ArchiveEntry, ArchiveWriter, EncoderConfiguration, EncoderMethod};
use tar::{EntryType, Header};

/// One tar entry: its raw name bytes as written in the header, its kind.
pub struct TarEntry<'a> {
    pub name: &'a [u8],
    pub kind: EntryType,
    pub data: &'a [u8],
}

impl<'a> TarEntry<'a> {
    pub fn file(name: &'a [u8], data: &'a [u8]) -> Self {
        Self {
            name,
            kind: EntryType::Regular,
            data,
        }
    }

    pub fn of(name: &'a [u8], kind: EntryType) -> Self {
        Self {
            name,
            kind,
            data: b"",
        }
    }
}

/// A GNU tar, each header written by hand so that any name goes in as
/// bytes (the tar crate's writer refuses `..` and absolute paths).
pub fn tar_raw(entries: &[TarEntry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        let mut header = Header::new_gnu();
        header.as_mut_bytes()[..entry.name.len()].copy_from_slice(entry.name);
        header.set_mode(0o644);
        header.set_size(entry.data.len() as u64);
        header.set_entry_type(entry.kind);
        if entry.kind == EntryType::Symlink || entry.kind == EntryType::Link {
            header.set_link_name("target").expect("a link name");
        }
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(entry.data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A ustar tar written by the tar crate (directories for names ending in
/// `/`; long names as the crate writes them).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        if name.ends_with('/') {
            header.set_entry_type(EntryType::Directory);
        }
        builder
            .append_data(&mut header, name, *data)
            .expect("an entry");
    }
    builder.into_inner().expect("a tar")
}

/// A pax tar whose one file's name (longer than ustar's 100 bytes) is in a
/// pax `path` record; its ustar name says something else.
pub fn tar_pax(long_name: &str, data: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_pax_extensions([("path", long_name.as_bytes())])
        .expect("pax");
    let mut header = Header::new_ustar();
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    builder
        .append_data(&mut header, "short-ustar-name.txt", data)
        .expect("an entry");
    builder.into_inner().expect("a tar")
}

/// A gzip of `data`, with FNAME when given.
pub fn gzip(data: &[u8], fname: Option<&[u8]>) -> Vec<u8> {
    let builder = match fname {
        Some(name) => GzBuilder::new().filename(name),
        None => GzBuilder::new(),
    };
    let mut encoder = builder.write(Vec::new(), Compression::best());
    encoder.write_all(data).expect("compressed");
    encoder.finish().expect("a gzip")
}

/// `members` gzip members of `size` zeros each, one after the other: read
/// as one stream, `members × size` zeros, at about 1:1000, while the
/// trailer declares only the last member's size.
pub fn gzip_members_of_zeros(members: usize, size: usize) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&vec![0; size]).expect("compressed");
    let member = encoder.finish().expect("a gzip");
    member.repeat(members)
}

/// A 7z written by sevenz-rust2 (LZMA2, encoded header), one block per
/// file, or one solid block.
pub fn sevenz_of(files: &[(&str, &[u8])], solid: bool) -> Vec<u8> {
    let mut writer = ArchiveWriter::new(Cursor::new(Vec::new())).expect("a writer");
    if solid {
        let entries = files
            .iter()
            .map(|(name, _)| ArchiveEntry::new_file(name))
            .collect();
        let readers = files.iter().map(|(_, data)| (*data).into()).collect();
        writer
            .push_archive_entries(entries, readers)
            .expect("a solid block");
    } else {
        for (name, data) in files {
            let entry = if name.ends_with('/') {
                ArchiveEntry::new_directory(name.trim_end_matches('/'))
            } else {
                ArchiveEntry::new_file(name)
            };
            writer
                .push_archive_entry(entry, Some(*data))
                .expect("an entry");
        }
    }
    writer.finish().expect("a 7z").into_inner()
}

/// A 7z whose one file is a symlink as p7zip stores it: the Unix mode in
/// the high half of the attributes, the target as data.
pub fn sevenz_symlink(name: &str, target: &str) -> Vec<u8> {
    let mut writer = ArchiveWriter::new(Cursor::new(Vec::new())).expect("a writer");
    writer.set_content_methods(vec![EncoderConfiguration::new(EncoderMethod::COPY)]);
    let mut entry = ArchiveEntry::new_file(name);
    entry.has_windows_attributes = true;
    entry.windows_attributes = 0x8000 | (0o120_777 << 16);
    writer
        .push_archive_entry(entry, Some(target.as_bytes()))
        .expect("an entry");
    writer
        .push_archive_entry(ArchiveEntry::new_file("plain.txt"), Some(&b"plain"[..]))
        .expect("an entry");
    writer.finish().expect("a 7z").into_inner()
}

pub const AES: &[u8] = &[0x06, 0xF1, 0x07, 0x01];
pub const LZMA2: &[u8] = &[0x21];
pub const LZMA: &[u8] = &[0x03, 0x01, 0x01];

/// A 7z by hand: one file in one block of one coder (`coder`, `props`),
/// `packed` as its data, a plain header.
pub fn sevenz_raw(coder: &[u8], props: &[u8], packed: &[u8], size: u64, name: &str) -> Vec<u8> {
    let mut header = vec![0x01, 0x04]; // header, main streams info
    streams_info(&mut header, coder, props, packed.len() as u64, size);
    header.extend_from_slice(&[0x05, 0x01, 0x11]); // files info: 1 file, names
    let utf16: Vec<u8> = name
        .encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect();
    number(&mut header, 1 + utf16.len() as u64);
    header.push(0); // not external
    header.extend_from_slice(&utf16);
    header.extend_from_slice(&[0x00, 0x00]); // end of files info, of header
    signature(packed, &header)
}

/// A 7z whose header is encoded by `coder` (AES: 7z -mhe=on): its
/// `packed` bytes would decode to a header of `size` bytes.
pub fn sevenz_encoded_header(coder: &[u8], props: &[u8], packed: &[u8], size: u64) -> Vec<u8> {
    let mut header = vec![0x17]; // encoded header
    streams_info(&mut header, coder, props, packed.len() as u64, size);
    signature(packed, &header)
}

/// Pack info (one stream at 0), unpack info (one folder, one coder),
/// sub-streams info.
fn streams_info(out: &mut Vec<u8>, coder: &[u8], props: &[u8], packed: u64, size: u64) {
    out.extend_from_slice(&[0x06, 0x00, 0x01, 0x09]);
    number(out, packed);
    out.push(0x00);
    out.extend_from_slice(&[0x07, 0x0B, 0x01, 0x00, 0x01]);
    let attributes = if props.is_empty() { 0 } else { 0x20 };
    out.push(u8::try_from(coder.len()).expect("a short id") | attributes);
    out.extend_from_slice(coder);
    if !props.is_empty() {
        number(out, props.len() as u64);
        out.extend_from_slice(props);
    }
    out.push(0x0C);
    number(out, size);
    // End of unpack info; sub-streams info (one file per folder); end.
    out.extend_from_slice(&[0x00, 0x08, 0x00, 0x00]);
}

/// Signature header, packed streams, then the header.
fn signature(packed: &[u8], header: &[u8]) -> Vec<u8> {
    let mut start = Vec::new();
    start.extend_from_slice(&(packed.len() as u64).to_le_bytes());
    start.extend_from_slice(&(header.len() as u64).to_le_bytes());
    start.extend_from_slice(&crc32fast::hash(header).to_le_bytes());
    let mut out = b"7z\xBC\xAF\x27\x1C\x00\x04".to_vec();
    out.extend_from_slice(&crc32fast::hash(&start).to_le_bytes());
    out.extend_from_slice(&start);
    out.extend_from_slice(packed);
    out.extend_from_slice(header);
    out
}

/// 7z's variable-length number, in its one-, two- or nine-byte forms.
fn number(out: &mut Vec<u8>, value: u64) {
    if value < 0x80 {
        out.push(value as u8);
    } else if value < 0x4000 {
        out.push(0x80 | (value >> 8) as u8);
        out.push(value as u8);
    } else {
        out.push(0xFF);
        out.extend_from_slice(&value.to_le_bytes());
    }
}
