//! tar, gzip and 7z through the one entry point: what comes out, under
//! which names, and what is skipped or refused. Inputs are built with the
//! tar, flate2 and sevenz-rust2 writers, or by hand (tests/support/kinds.rs).

mod support;

use encoding_rs::SHIFT_JIS;
use mukaika_sanitize::archive::{Error, Kind, Limits, SkipReason, Unpacked, unpack};
use support::kinds::{self, TarEntry};
use tar::EntryType;
use zip::CompressionMethod::Deflated;

fn open(bytes: &[u8], name: &str) -> Unpacked {
    unpack(bytes, name, &Limits::default()).expect("an unpacked archive")
}

fn paths(unpacked: &Unpacked) -> Vec<String> {
    unpacked
        .entries
        .iter()
        .map(|e| e.path.join(" > "))
        .collect()
}

fn skips(unpacked: &Unpacked) -> Vec<(String, &'static str)> {
    unpacked
        .skipped
        .iter()
        .map(|s| (s.path.join(" > "), s.reason.code()))
        .collect()
}

#[test]
fn kinds_are_told_by_their_bytes() {
    let tar = kinds::tar_of(&[("a.txt", b"a")]);
    assert_eq!(Kind::of(&tar), Some(Kind::Tar));
    assert_eq!(Kind::of(&kinds::gzip(&tar, None)), Some(Kind::Gzip));
    assert_eq!(
        Kind::of(&kinds::sevenz_of(&[("a", b"a")], false)),
        Some(Kind::SevenZ)
    );
    assert_eq!(
        Kind::of(&support::zip_of(&[("a", b"a")], Deflated)),
        Some(Kind::Zip)
    );
    assert_eq!(Kind::of(b"hello"), None);
}

#[test]
fn a_tar_gives_its_files_and_not_its_directories() {
    let tar = kinds::tar_of(&[
        ("docs/", b""),
        ("docs/readme.txt", b"README"),
        ("empty.txt", b""),
        ("data.bin", &[7; 3000]),
    ]);
    let out = open(&tar, "x.tar");
    assert_eq!(paths(&out), ["docs/readme.txt", "empty.txt", "data.bin"]);
    assert_eq!(out.entries[0].bytes, b"README");
    assert_eq!(out.entries[2].bytes, vec![7; 3000]);
    assert!(out.skipped.is_empty());
}

#[test]
fn a_tar_gz_is_one_level_and_a_bare_gz_one_named_file() {
    let tar = kinds::tar_of(&[("a.txt", b"A"), ("b/c.txt", b"C")]);
    let out = open(&kinds::gzip(&tar, Some(b"x.tar")), "x.tar.gz");
    assert_eq!(paths(&out), ["a.txt", "b/c.txt"]);
    // FNAME wins over the attachment's name.
    let out = open(&kinds::gzip(b"report", Some(b"report.txt")), "y.gz");
    assert_eq!(paths(&out), ["report.txt"]);
    assert_eq!(out.entries[0].bytes, b"report");
    // Without it, the attachment's name less `.gz`.
    let out = open(&kinds::gzip(b"report", None), "Report.CSV.GZ");
    assert_eq!(paths(&out), ["Report.CSV"]);
    let (cp932, _, _) = SHIFT_JIS.encode("見積書.txt");
    let out = open(&kinds::gzip(b"x", Some(&cp932)), "z.gz");
    assert_eq!(paths(&out), ["見積書.txt"]);
}

#[test]
fn tar_names_in_cp932_decode_as_japanese() {
    let (mitsumori, _, _) = SHIFT_JIS.encode("見積書/表.xlsx");
    let tar = kinds::tar_raw(&[TarEntry::file(&mitsumori, b"x")]);
    assert_eq!(paths(&open(&tar, "a.tar")), ["見積書/表.xlsx"]);
}

#[test]
fn pax_and_gnu_long_names_are_honoured() {
    let long = format!("{}/長い名前.txt", "d".repeat(150));
    let out = open(&kinds::tar_pax(&long, b"pax"), "a.tar");
    assert_eq!(paths(&out), [long.as_str()]);
    // The tar crate writes a GNU long-name entry for a GNU header.
    let out = open(&kinds::tar_of(&[(&long, b"gnu")]), "a.tar");
    assert_eq!(paths(&out), [long]);
    assert_eq!(out.entries[0].bytes, b"gnu");
}

#[test]
fn tar_names_cannot_climb_or_root() {
    let tar = kinds::tar_raw(&[
        TarEntry::file(b"../../etc/passwd", b"1"),
        TarEntry::file(b"/abs/x.txt", b"2"),
        TarEntry::file(b"C:\\Windows\\y.txt", b"3"),
    ]);
    assert_eq!(
        paths(&open(&tar, "a.tar")),
        ["etc/passwd", "abs/x.txt", "Windows/y.txt"]
    );
}

#[test]
fn links_devices_and_fifos_are_skipped_with_their_reasons() {
    let tar = kinds::tar_raw(&[
        TarEntry::of(b"link", EntryType::Symlink),
        TarEntry::of(b"hard", EntryType::Link),
        TarEntry::of(b"tty", EntryType::Char),
        TarEntry::of(b"sda", EntryType::Block),
        TarEntry::of(b"pipe", EntryType::Fifo),
        TarEntry::of(b"dir/", EntryType::Directory),
        TarEntry::file(b"kept.txt", b"kept"),
    ]);
    let out = open(&tar, "a.tar");
    assert_eq!(paths(&out), ["kept.txt"]);
    assert_eq!(
        skips(&out),
        [
            ("link".into(), "symlink"),
            ("hard".into(), "hardlink"),
            ("tty".into(), "special-file"),
            ("sda".into(), "special-file"),
            ("pipe".into(), "special-file"),
        ]
    );
}

#[test]
fn duplicate_names_in_a_tar_are_refused() {
    let tar = kinds::tar_raw(&[
        TarEntry::file(b"a.txt", b"1"),
        TarEntry::file(b"./a.txt", b"2"),
    ]);
    let error = unpack(&tar, "a.tar", &Limits::default()).expect_err("refused");
    assert_eq!(error.reason(), "archive-inconsistent", "{error}");
}

#[test]
fn a_tar_entry_over_its_own_limit_is_skipped_and_the_rest_kept() {
    let limits = Limits {
        max_entry_bytes: 1000,
        ..Limits::default()
    };
    let tar = kinds::tar_of(&[("big.bin", &[1; 5000]), ("small.txt", b"s")]);
    let out = unpack(&kinds::gzip(&tar, None), "a.tgz", &limits).expect("unpacked");
    assert_eq!(paths(&out), ["small.txt"]);
    assert_eq!(skips(&out), [("big.bin".into(), "entry-too-large")]);
}

#[test]
fn a_7z_gives_its_files_solid_or_not() {
    let files: [(&str, &[u8]); 3] = [
        ("docs/readme.txt", b"README"),
        ("見積書.txt", "見積".as_bytes()),
        ("zeros.bin", &[0; 100_000]),
    ];
    for solid in [false, true] {
        let out = open(&kinds::sevenz_of(&files, solid), "a.7z");
        assert_eq!(
            paths(&out),
            ["docs/readme.txt", "見積書.txt", "zeros.bin"],
            "solid: {solid}"
        );
        assert_eq!(out.entries[0].bytes, b"README");
        assert_eq!(out.entries[2].bytes, vec![0; 100_000]);
        assert!(out.skipped.is_empty());
    }
}

#[test]
fn a_7z_symlink_is_skipped_not_followed() {
    let out = open(&kinds::sevenz_symlink("link", "/etc/passwd"), "a.7z");
    assert_eq!(paths(&out), ["plain.txt"]);
    assert_eq!(skips(&out), [("link".into(), "symlink")]);
}

#[test]
fn a_7z_made_by_hand_reads() {
    let out = open(&kinds::sevenz_raw(&[0], &[], b"stored", 6, "s.txt"), "a.7z");
    assert_eq!(paths(&out), ["s.txt"]);
    assert_eq!(out.entries[0].bytes, b"stored");
}

#[test]
fn encrypted_7z_entries_and_names_are_skipped_as_encrypted() {
    // AES-256 over the data (7z -p): the file is listed, its data unread.
    let aes = kinds::sevenz_raw(kinds::AES, &[0x01], &[0x55; 32], 20, "secret.docx");
    let out = open(&aes, "a.7z");
    assert!(out.entries.is_empty());
    assert_eq!(skips(&out), [("secret.docx".into(), "encrypted")]);
    // AES over the header too (7z -mhe=on): not even the names.
    let hidden = kinds::sevenz_encoded_header(kinds::AES, &[0x01], &[0x55; 64], 60);
    let out = open(&hidden, "a.7z");
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].reason, SkipReason::Encrypted);
}

#[test]
fn a_7z_declaring_a_huge_dictionary_is_refused_before_decoding() {
    // LZMA2 property 40: a 4 GiB dictionary.
    let lzma2 = kinds::sevenz_raw(kinds::LZMA2, &[40], &[0; 16], 10, "a.txt");
    assert_eq!(
        unpack(&lzma2, "a.7z", &Limits::default()),
        Err(Error::TooLarge)
    );
    // LZMA's four-byte dictionary size, 0xFFFFFFFF.
    let lzma = kinds::sevenz_raw(
        kinds::LZMA,
        &[0x5D, 0xFF, 0xFF, 0xFF, 0xFF],
        &[0; 16],
        10,
        "a",
    );
    assert_eq!(
        unpack(&lzma, "a.7z", &Limits::default()),
        Err(Error::TooLarge)
    );
    // In the encoded header as well, where the crate decodes on opening.
    let header = kinds::sevenz_encoded_header(kinds::LZMA2, &[40], &[0; 16], 100);
    assert_eq!(
        unpack(&header, "a.7z", &Limits::default()),
        Err(Error::TooLarge)
    );
    // An encoded header that would decode to more than 1 MiB.
    let header = kinds::sevenz_encoded_header(kinds::LZMA2, &[16], &[0; 16], 1 << 30);
    assert_eq!(
        unpack(&header, "a.7z", &Limits::default()),
        Err(Error::TooManyEntries)
    );
}

#[test]
fn an_unsupported_7z_coder_skips_its_files() {
    // PPMd is not built in.
    let ppmd = kinds::sevenz_raw(&[0x03, 0x04, 0x01], &[6, 0, 0, 0, 1], &[0; 16], 10, "p.txt");
    let out = open(&ppmd, "a.7z");
    assert_eq!(skips(&out), [("p.txt".into(), "unsupported-method")]);
}

#[test]
fn a_zip_in_a_tar_gz_in_a_7z_gives_the_chain_of_names() {
    let zip = support::zip_of(&[("secret.txt", b"deep")], Deflated);
    let tgz = kinds::gzip(&kinds::tar_of(&[("docs/inner.zip", &zip)]), None);
    let sevenz = kinds::sevenz_of(&[("inner.tar.gz", &tgz)], false);
    let out = open(&sevenz, "outer.7z");
    assert_eq!(
        paths(&out),
        [
            "inner.tar.gz",
            "inner.tar.gz > docs/inner.zip",
            "inner.tar.gz > docs/inner.zip > secret.txt",
        ]
    );
    assert_eq!(out.entries[2].bytes, b"deep");
    // A bare gz inside is named by its entry's name less `.gz`.
    let tar = kinds::tar_of(&[("logs/app.log.gz", &kinds::gzip(b"log", None))]);
    assert_eq!(
        paths(&open(&tar, "a.tar")),
        ["logs/app.log.gz", "logs/app.log.gz > app.log"]
    );
}

#[test]
fn nesting_counts_every_kind_against_the_depth() {
    let limits = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let zip = support::zip_of(&[("x.txt", b"x")], Deflated);
    let one = kinds::tar_of(&[("in.zip", &zip)]);
    assert!(unpack(&one, "a.tar", &limits).is_ok());
    let two = kinds::sevenz_of(&[("in.tar", &one)], false);
    let error = unpack(&two, "a.7z", &limits).expect_err("three levels");
    assert_eq!(error.reason(), "archive-too-deep");
}

#[test]
fn garbage_of_each_kind_never_panics() {
    let tgz = kinds::gzip(
        &kinds::tar_of(&[
            ("a.txt", b"hello"),
            ("b.zip", &support::zip_of(&[("c", b"c")], Deflated)),
        ]),
        None,
    );
    let sevenz = kinds::sevenz_of(&[("a.txt", b"hello"), ("b.txt", b"world")], true);
    let tar = kinds::tar_of(&[("a.txt", b"hello")]);
    for sample in [&tgz, &sevenz, &tar] {
        for len in 0..sample.len() {
            let _ = unpack(&sample[..len], "t.gz", &Limits::default());
        }
        for i in 0..sample.len() {
            let mut flipped = sample.clone();
            flipped[i] ^= 0x5A;
            let _ = unpack(&flipped, "t.gz", &Limits::default());
        }
    }
    assert_eq!(
        unpack(b"\x1f\x8b\x08garbage", "x.gz", &Limits::default())
            .expect_err("refused")
            .reason(),
        "archive-corrupt"
    );
}

/// Writes the `unpack_archive` fuzz target's seeds (fuzz/seed.sh runs it).
#[test]
#[ignore = "writes files: run by crates/sanitize/fuzz/seed.sh"]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/unpack_archive");
    std::fs::create_dir_all(&dir).unwrap();
    let (cp932, _, _) = SHIFT_JIS.encode("見積書.txt");
    let zip = support::zip_of(&[("in.txt", b"zip")], Deflated);
    let tar = kinds::tar_raw(&[
        TarEntry::file(&cp932, b"cp932"),
        TarEntry::file(b"../up.txt", b"up"),
        TarEntry::of(b"link", EntryType::Symlink),
        TarEntry::of(b"pipe", EntryType::Fifo),
        TarEntry::file(b"in.zip", &zip),
    ]);
    let tgz = kinds::gzip(&tar, Some(b"x.tar"));
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("plain.tar", tar.clone()),
        ("pax.tar", kinds::tar_pax(&"p".repeat(150), b"pax")),
        (
            "gnu-long.tar",
            kinds::tar_of(&[
                (&"g/".repeat(80), b""),
                (&format!("{}x", "g/".repeat(80)), b"g"),
            ]),
        ),
        ("x.tar.gz", tgz.clone()),
        ("one.gz", kinds::gzip(b"one file", Some(b"one.txt"))),
        ("members.gz", kinds::gzip_members_of_zeros(3, 1000)),
        (
            "plain.7z",
            kinds::sevenz_of(&[("a.txt", b"a"), ("d/", b""), ("in.tgz", &tgz)], false),
        ),
        (
            "solid.7z",
            kinds::sevenz_of(&[("a.txt", b"a"), ("b.txt", b"bb")], true),
        ),
        (
            "copy.7z",
            kinds::sevenz_raw(&[0], &[], b"stored", 6, "s.txt"),
        ),
        (
            "aes.7z",
            kinds::sevenz_raw(kinds::AES, &[1], &[0x55; 32], 20, "x"),
        ),
        (
            "aes-header.7z",
            kinds::sevenz_encoded_header(kinds::AES, &[1], &[0x55; 64], 60),
        ),
        ("symlink.7z", kinds::sevenz_symlink("l", "/etc/passwd")),
    ];
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
