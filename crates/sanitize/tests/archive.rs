//! The zip unpacker: what comes out of ordinary, nested, oddly named,
//! encrypted and broken archives. Bombs are in `archive_bombs.rs`.

mod support;

use mukaika_sanitize::archive::{Entry, Error, Limits, SkipReason, Unpacked};
use support::{Raw, crc32, extra_field, raw_zip, zip_of};
use zip::CompressionMethod::{Deflated, Stored};

/// The zips here go through the one entry point, as attachments do.
fn unpack_zip(bytes: &[u8], limits: &Limits) -> Result<Unpacked, Error> {
    mukaika_sanitize::archive::unpack(bytes, "test.zip", limits)
}

fn unpack(bytes: &[u8]) -> Unpacked {
    unpack_zip(bytes, &Limits::default()).expect("an unpacked archive")
}

fn paths(unpacked: &Unpacked) -> Vec<Vec<String>> {
    unpacked.entries.iter().map(|e| e.path.clone()).collect()
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

fn skips(unpacked: &Unpacked) -> Vec<(Vec<String>, &'static str)> {
    unpacked
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason.code()))
        .collect()
}

#[test]
fn two_files_come_out_stored_and_deflated_and_directories_do_not() {
    for method in [Stored, Deflated] {
        let zip = zip_of(
            &[
                ("a.txt", b"first"),
                ("dir/", b""),
                ("dir/b.txt", &b"second ".repeat(100)),
            ],
            method,
        );
        let out = unpack(&zip);
        assert_eq!(
            out.entries,
            vec![
                Entry {
                    path: path(&["a.txt"]),
                    bytes: b"first".to_vec()
                },
                Entry {
                    path: path(&["dir/b.txt"]),
                    bytes: b"second ".repeat(100)
                },
            ],
            "{method:?}"
        );
        assert!(out.skipped.is_empty());
    }
}

#[test]
fn a_zip_in_a_zip_in_a_zip_gives_the_chain_of_names() {
    let innermost = zip_of(&[("bottom/marker.com", b"MARKER")], Deflated);
    let middle = zip_of(&[("c.zip", &innermost)], Deflated);
    let outer = zip_of(&[("readme.txt", b"hi"), ("b.zip", &middle)], Stored);
    let out = unpack(&outer);
    assert_eq!(
        paths(&out),
        vec![
            path(&["readme.txt"]),
            path(&["b.zip"]),
            path(&["b.zip", "c.zip"]),
            path(&["b.zip", "c.zip", "bottom/marker.com"]),
        ]
    );
    // Each nested zip is an entry too, with its own bytes.
    assert_eq!(out.entries[1].bytes, middle);
    assert_eq!(out.entries[2].bytes, innermost);
    assert_eq!(out.entries[3].bytes, b"MARKER");
}

#[test]
fn nested_zips_are_found_by_magic_not_by_name() {
    let inner = zip_of(&[("x.txt", b"x")], Deflated);
    let outer = zip_of(&[("report.pdf", &inner), ("fake.zip", b"hello")], Deflated);
    let out = unpack(&outer);
    assert_eq!(
        paths(&out),
        vec![
            path(&["report.pdf"]),
            path(&["report.pdf", "x.txt"]),
            path(&["fake.zip"]),
        ]
    );
    assert!(out.skipped.is_empty());
}

#[test]
fn cp932_names_without_the_utf8_flag_decode_as_japanese() {
    let mitsumori = b"\x8c\xa9\x90\xcf\x8f\x91.pdf"; // 見積書.pdf
    // 予定表: both 予 and 表 end in 0x5C, a backslash in ASCII. Read as
    // bytes, the name would end in a separator and pass for a directory.
    let yoteihyo = b"\x97\x5c\x92\xe8\x95\x5c";
    let out = unpack(&raw_zip(&[
        Raw::stored(mitsumori, b"pdf"),
        Raw::stored(yoteihyo, b"schedule"),
    ]));
    assert_eq!(paths(&out), vec![path(&["見積書.pdf"]), path(&["予定表"])]);
    assert_eq!(out.entries[1].bytes, b"schedule");
}

#[test]
fn utf8_names_decode_with_and_without_the_flag() {
    let name = "報告書.docx";
    let flagged = Raw {
        flags: 1 << 11,
        ..Raw::stored(name.as_bytes(), b"a")
    };
    let unflagged = Raw::stored("ファイル.txt".as_bytes(), b"b");
    let out = unpack(&raw_zip(&[flagged, unflagged]));
    assert_eq!(paths(&out), vec![path(&[name]), path(&["ファイル.txt"])]);
    // The zip crate's writer sets the flag itself.
    let written = unpack(&zip_of(&[("議事録.txt", b"c")], Deflated));
    assert_eq!(paths(&written), vec![path(&["議事録.txt"])]);
}

#[test]
fn names_that_are_neither_utf8_nor_cp932_fall_back_to_cp437() {
    // 0x82 starts a CP932 pair, but '.' cannot end one; CP437 says é.
    let out = unpack(&raw_zip(&[Raw::stored(b"caf\x82.txt", b"x")]));
    assert_eq!(paths(&out), vec![path(&["café.txt"])]);
}

#[test]
fn the_info_zip_unicode_path_field_wins_over_the_header_name() {
    let mut field = vec![1]; // version
    field.extend_from_slice(&crc32(b"file.txt").to_le_bytes());
    field.extend_from_slice("ファイル.txt".as_bytes());
    let entry = Raw {
        extra: extra_field(0x7075, &field),
        ..Raw::stored(b"file.txt", b"x")
    };
    let out = unpack(&raw_zip(&[entry]));
    assert_eq!(paths(&out), vec![path(&["ファイル.txt"])]);
}

#[test]
fn names_are_neutralized() {
    let names: [&[u8]; 5] = [
        b"../../etc/passwd",
        b"/etc/x",
        b"C:\\Windows\\x",
        "invoice\u{202E}fdp.exe".as_bytes(),
        b"./../",
    ];
    let entries: Vec<Raw> = names
        .iter()
        .map(|name| Raw {
            flags: 1 << 11,
            ..Raw::stored(name, b"data")
        })
        .collect();
    let out = unpack(&raw_zip(&entries));
    assert_eq!(
        paths(&out),
        vec![
            path(&["etc/passwd"]),
            path(&["etc/x"]),
            path(&["Windows/x"]),
            path(&["invoicefdp.exe"]),
            // Named like a directory but holding data: still an entry.
            path(&["unnamed"]),
        ]
    );
}

#[test]
fn a_symlink_is_skipped_not_followed() {
    let link = Raw {
        made_by: (3 << 8) | 20,
        external: 0o120_777 << 16,
        ..Raw::stored(b"link", b"/etc/passwd")
    };
    let out = unpack(&raw_zip(&[link, Raw::stored(b"file.txt", b"x")]));
    assert_eq!(paths(&out), vec![path(&["file.txt"])]);
    assert_eq!(skips(&out), vec![(path(&["link"]), "symlink")]);
}

#[test]
fn encrypted_entries_are_skipped_and_their_neighbours_kept() {
    // ZipCrypto: flag bit 0, a 12-byte encryption header before the data.
    let zipcrypto = Raw {
        flags: 1,
        data: support::noise(40, 7),
        ..Raw::stored(b"secret.docx", b"")
    };
    // WinZip AES: method 99 and its extra field (AE-2, AES-256, deflate).
    let aes = Raw {
        flags: 1,
        method: 99,
        extra: extra_field(0x9901, &[2, 0, b'A', b'E', 3, 8, 0]),
        data: support::noise(60, 9),
        ..Raw::stored(b"secret.xlsx", b"")
    };
    // The AES field without the flag or the method still means encrypted.
    let aes_unflagged = Raw {
        extra: extra_field(0x9901, &[2, 0, b'A', b'E', 3, 0, 0]),
        ..Raw::stored(b"sneaky.bin", b"ciphertext")
    };
    let out = unpack(&raw_zip(&[
        zipcrypto,
        Raw::stored(b"plain.txt", b"plain"),
        aes,
        aes_unflagged,
    ]));
    assert_eq!(paths(&out), vec![path(&["plain.txt"])]);
    assert_eq!(
        skips(&out),
        vec![
            (path(&["secret.docx"]), "encrypted"),
            (path(&["secret.xlsx"]), "encrypted"),
            (path(&["sneaky.bin"]), "encrypted"),
        ]
    );
}

#[test]
fn an_encrypted_entry_inside_a_nested_zip_names_its_whole_path() {
    let inner = raw_zip(&[Raw {
        flags: 1,
        data: support::noise(20, 3),
        ..Raw::stored(b"locked.pdf", b"")
    }]);
    let out = unpack(&zip_of(&[("inner.zip", &inner)], Deflated));
    assert_eq!(
        skips(&out),
        vec![(path(&["inner.zip", "locked.pdf"]), "encrypted")]
    );
}

#[test]
fn unsupported_methods_and_bad_crcs_are_skipped() {
    let lzma = Raw {
        method: 14,
        ..Raw::stored(b"a.lzma", b"not really lzma")
    };
    let bad_crc = Raw {
        crc: 0xDEAD_BEEF,
        ..Raw::stored(b"b.txt", b"payload")
    };
    let out = unpack(&raw_zip(&[lzma, bad_crc, Raw::stored(b"c.txt", b"ok")]));
    assert_eq!(paths(&out), vec![path(&["c.txt"])]);
    assert_eq!(
        skips(&out),
        vec![
            (path(&["a.lzma"]), "unsupported-method"),
            (path(&["b.txt"]), "corrupt"),
        ]
    );
}

#[test]
fn an_entry_over_its_own_limit_is_skipped_and_the_rest_kept() {
    let limits = Limits {
        max_entry_bytes: 1000,
        ..Limits::default()
    };
    let zip = zip_of(
        &[("big.bin", &[7; 1001]), ("small.bin", &[7; 1000])],
        Stored,
    );
    let out = unpack_zip(&zip, &limits).expect("unpacked");
    assert_eq!(paths(&out), vec![path(&["small.bin"])]);
    assert_eq!(skips(&out), vec![(path(&["big.bin"]), "entry-too-large")]);
}

#[test]
fn a_nested_zip_that_cannot_be_opened_stays_an_entry_and_is_reported() {
    let mut broken = zip_of(&[("x.txt", b"x")], Stored);
    broken.truncate(broken.len() - 30);
    let out = unpack(&zip_of(&[("broken.zip", &broken)], Deflated));
    assert_eq!(paths(&out), vec![path(&["broken.zip"])]);
    assert_eq!(skips(&out), vec![(path(&["broken.zip"]), "corrupt")]);
}

#[test]
fn duplicate_names_and_disagreeing_headers_are_refused() {
    let duplicate = raw_zip(&[Raw::stored(b"a.txt", b"1"), Raw::stored(b"a.txt", b"2")]);
    let disagreeing = raw_zip(&[Raw {
        local_name: Some(b"evil.exe".to_vec()),
        ..Raw::stored(b"nice.txt", b"MZ")
    }]);
    for zip in [duplicate, disagreeing] {
        let error = unpack_zip(&zip, &Limits::default()).expect_err("refused");
        assert_eq!(error.reason(), "archive-inconsistent", "{error}");
    }
}

#[test]
fn an_entry_the_central_directory_does_not_list_is_refused() {
    let hidden = Raw {
        listed: false,
        ..Raw::stored(b"hidden.exe", b"MZ")
    };
    let zip = raw_zip(&[hidden, Raw::stored(b"listed.txt", b"a")]);
    let error = unpack_zip(&zip, &Limits::default()).expect_err("refused");
    assert_eq!(error.reason(), "archive-inconsistent", "{error}");
}

#[test]
fn garbage_is_not_an_archive_and_never_panics() {
    assert_eq!(
        unpack_zip(b"", &Limits::default()),
        Err(Error::UnknownFormat)
    );
    assert_eq!(
        unpack_zip(b"hello world", &Limits::default()),
        Err(Error::UnknownFormat)
    );
    let mut junk = b"PK\x03\x04".to_vec();
    junk.extend_from_slice(&support::noise(5000, 11));
    assert_eq!(
        unpack_zip(&junk, &Limits::default()),
        Err(Error::NotAnArchive)
    );
    junk.extend_from_slice(b"PK\x05\x06");
    assert!(unpack_zip(&junk, &Limits::default()).is_err());
}

#[test]
fn every_truncation_of_a_zip_is_refused_without_panicking() {
    let inner = zip_of(&[("x.txt", b"x")], Deflated);
    let zip = zip_of(
        &[("a.txt", &b"abc".repeat(50)), ("in.zip", &inner)],
        Deflated,
    );
    for len in 0..zip.len() {
        let result = unpack_zip(&zip[..len], &Limits::default());
        assert!(result.is_err(), "a prefix of {len} bytes was accepted");
    }
    assert_eq!(unpack(&zip).entries.len(), 3);
}

#[test]
fn every_single_byte_flip_is_handled_without_panicking() {
    let inner = zip_of(&[("x.txt", b"x")], Deflated);
    let zip = zip_of(
        &[("a.txt", &b"abc".repeat(50)), ("in.zip", &inner)],
        Deflated,
    );
    for at in 0..zip.len() {
        let mut flipped = zip.clone();
        flipped[at] ^= 0xFF;
        // Any outcome but a panic; what comes out is still bounded.
        if let Ok(out) = unpack_zip(&flipped, &Limits::default()) {
            assert!(out.entries.len() + out.skipped.len() <= 4);
        }
    }
}

#[test]
fn error_reasons_are_stable() {
    let codes: Vec<&str> = [
        Error::UnknownFormat,
        Error::NotAnArchive,
        Error::Corrupt(String::new()),
        Error::TooDeep,
        Error::TooManyEntries,
        Error::TooLarge,
        Error::RatioExceeded,
        Error::Overlapping,
        Error::Inconsistent(String::new()),
    ]
    .iter()
    .map(Error::reason)
    .collect();
    assert_eq!(
        codes,
        [
            "archive-unknown-format",
            "archive-not-zip",
            "archive-corrupt",
            "archive-too-deep",
            "archive-too-many-entries",
            "archive-too-large",
            "archive-bomb-ratio",
            "archive-bomb-overlap",
            "archive-inconsistent",
        ]
    );
    assert_eq!(SkipReason::EntryTooLarge.to_string(), "entry-too-large");
    assert_eq!(SkipReason::Hardlink.code(), "hardlink");
    assert_eq!(SkipReason::SpecialFile.code(), "special-file");
}

#[test]
fn limits_deserialize_with_defaults_and_refuse_unknown_keys() {
    use serde::Deserialize;
    use serde::de::value::{Error as DeError, MapDeserializer};
    let table = |key: &'static str| MapDeserializer::<_, DeError>::new([(key, 3usize)].into_iter());
    assert_eq!(
        Limits::deserialize(table("max_depth")).expect("a known key"),
        Limits {
            max_depth: 3,
            ..Limits::default()
        }
    );
    assert!(Limits::deserialize(table("max_dpeth")).is_err());
}

/// Zips written by Info-ZIP's `zip` 3.0 (see `tests/archive_samples/`).
fn sample(name: &str) -> Unpacked {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/archive_samples")
        .join(name);
    unpack(&std::fs::read(path).expect("a sample zip"))
}

#[test]
fn real_zips_from_info_zip_come_out_as_written() {
    // `zip -ry`: a directory, a symlink stored as such, a file.
    let symlink = sample("infozip-symlink.zip");
    assert_eq!(paths(&symlink), vec![path(&["d/a.txt"])]);
    assert_eq!(symlink.entries[0].bytes, b"hello\n");
    assert_eq!(skips(&symlink), vec![(path(&["d/link"]), "symlink")]);
    // Written to a pipe: a data descriptor after the data, sizes zero in
    // the local header.
    let streamed = sample("infozip-streamed.zip");
    assert_eq!(paths(&streamed), vec![path(&["-"])]);
    assert_eq!(streamed.entries[0].bytes, b"hello streamed\n");
    // `zip -P`: real ZipCrypto, skipped without trying a password.
    let encrypted = sample("infozip-zipcrypto.zip");
    assert!(encrypted.entries.is_empty());
    assert_eq!(skips(&encrypted), vec![(path(&["d/a.txt"]), "encrypted")]);
}
