//! Zip bombs: each is refused (or its entry dropped) quickly, and the
//! memory held meanwhile stays within the limits. A counting allocator
//! measures the peak; the tests take turns so that they measure alone.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use mukaika_sanitize::archive::{Error, Limits, Unpacked, unpack};
use support::{Raw, crc32, deflate_zeros, overlap_bomb, raw_zip, zip_of};
use zip::CompressionMethod::{Deflated, Stored};

/// The zips here go through the one entry point, as attachments do.
fn unpack_zip(bytes: &[u8], limits: &Limits) -> Result<Unpacked, Error> {
    unpack(bytes, "test.zip", limits)
}

const MIB: usize = 1024 * 1024;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALONE: Mutex<()> = Mutex::new(());

/// Held for a whole test: the counter sees every thread's allocations, so
/// no other test may build its bomb while one measures.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(PoisonError::into_inner)
}

// SAFETY: every call goes straight to `System`; the counters only watch.
// `realloc` is left to the default (alloc, copy, dealloc), so the moment
// when both buffers exist is counted too.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// What one unpack cost: its result, its time, and the most memory it held
/// at once beyond what was held before it started.
struct Cost {
    result: Result<Unpacked, Error>,
    time: Duration,
    peak: usize,
}

fn unpack_measured(zip: &[u8], limits: &Limits) -> Cost {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let result = unpack_zip(zip, limits);
    let time = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    Cost { result, time, peak }
}

fn reason(cost: &Cost) -> &'static str {
    cost.result
        .as_ref()
        .map_or_else(Error::reason, |_| "accepted")
}

#[test]
fn an_entry_that_lies_about_its_size_is_dropped_after_one_chunk() {
    let _alone = alone();
    // Declares 10 bytes; its deflate stream holds 100 MB of zeros.
    let liar = Raw {
        method: 8,
        size: 10,
        crc: crc32(&[0; 10]),
        data: deflate_zeros(100_000_000),
        ..Raw::stored(b"small.txt", b"")
    };
    let zip = raw_zip(&[liar, Raw::stored(b"next.txt", b"kept")]);
    let cost = unpack_measured(&zip, &Limits::default());
    let out = cost.result.expect("the archive, less the liar");
    assert_eq!(out.entries.len(), 1);
    assert_eq!(out.entries[0].bytes, b"kept");
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].reason.code(), "corrupt");
    assert!(cost.time < Duration::from_secs(1), "{:?}", cost.time);
    assert!(cost.peak < MIB, "peak {} bytes", cost.peak);
}

#[test]
fn more_entries_than_the_limit_are_refused_across_levels() {
    let _alone = alone();
    let tiny = |i: usize| Raw::stored(format!("f{i}").as_bytes(), b"x");
    let exactly: Vec<Raw> = (0..1000).map(tiny).collect();
    let cost = unpack_measured(&raw_zip(&exactly), &Limits::default());
    assert_eq!(cost.result.expect("1000 entries pass").entries.len(), 1000);

    let over: Vec<Raw> = (0..1001).map(tiny).collect();
    let cost = unpack_measured(&raw_zip(&over), &Limits::default());
    assert_eq!(reason(&cost), "archive-too-many-entries");

    // 600 here and 500 in a deflated zip inside: hidden from a byte scan,
    // counted when opened.
    let inner = raw_zip(&(0..500).map(tiny).collect::<Vec<_>>());
    let inner = zip_of(&[("inner.zip", &inner)], Deflated);
    let mut outer: Vec<Raw> = (0..599).map(tiny).collect();
    outer.push(Raw::stored(b"wrapper.zip", &inner));
    let cost = unpack_measured(&raw_zip(&outer), &Limits::default());
    assert_eq!(reason(&cost), "archive-too-many-entries");
}

#[test]
fn the_ratio_is_applied_to_what_the_archive_declares() {
    let _alone = alone();
    // Eight MiB of zeros at about 1:160.
    let zeros: Vec<Raw> = (0..8)
        .map(|i| Raw::zeros(format!("z{i}").as_bytes(), MIB))
        .collect();
    let zip = raw_zip(&zeros);
    let strict = Limits {
        max_ratio: 100,
        ..Limits::default()
    };
    let cost = unpack_measured(&zip, &strict);
    assert_eq!(reason(&cost), "archive-bomb-ratio");
    assert!(cost.peak < MIB, "refused before inflating: {}", cost.peak);
    let cost = unpack_measured(&zip, &Limits::default());
    assert_eq!(cost.result.expect("1:160 is under 1:200").entries.len(), 8);
}

#[test]
fn more_bytes_than_the_limit_are_refused() {
    let _alone = alone();
    let limits = Limits {
        max_total_bytes: 3 * MIB as u64,
        ..Limits::default()
    };
    let files: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| (format!("n{i}.bin"), support::noise(MIB, i)))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let cost = unpack_measured(&zip_of(&refs, Stored), &limits);
    assert_eq!(reason(&cost), "archive-too-large");
    assert!(cost.peak < MIB, "refused before reading: {}", cost.peak);
}

/// `levels` zips, each holding the next; the innermost holds a text file.
fn nested(levels: usize) -> Vec<u8> {
    let mut zip = zip_of(&[("bottom.txt", b"found")], Deflated);
    for level in (1..levels).rev() {
        zip = zip_of(&[(&format!("level{}.zip", level + 1), &zip)], Deflated);
    }
    zip
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let _alone = alone();
    let out = unpack_zip(&nested(5), &Limits::default()).expect("five levels pass");
    let deepest = out.entries.last().expect("the bottom file");
    assert_eq!(deepest.path.len(), 5);
    assert_eq!(deepest.path[4], "bottom.txt");
    assert_eq!(deepest.bytes, b"found");
    let cost = unpack_measured(&nested(6), &Limits::default());
    assert_eq!(reason(&cost), "archive-too-deep");
}

/// 42.zip in small: 16 zips of 16 zips of 16 files of 1 MiB of zeros
/// (256 MiB in all, more than the 200 MiB default), each level built once.
fn forty_two() -> Vec<u8> {
    let leaf = Raw::zeros(b"", MIB);
    let bottom = raw_zip(
        &(0..16)
            .map(|i| Raw {
                name: format!("{i:x}.bin").into_bytes(),
                ..leaf.clone()
            })
            .collect::<Vec<_>>(),
    );
    let names: Vec<String> = (0..16).map(|i| format!("{i:x}.zip")).collect();
    let middle = zip_of(
        &names
            .iter()
            .map(|n| (n.as_str(), bottom.as_slice()))
            .collect::<Vec<_>>(),
        Deflated,
    );
    zip_of(
        &names
            .iter()
            .map(|n| (n.as_str(), middle.as_slice()))
            .collect::<Vec<_>>(),
        Deflated,
    )
}

#[test]
fn a_recursive_bomb_is_refused_with_bounded_memory() {
    let _alone = alone();
    let zip = forty_two();
    // By default the ratio trips first: a few MiB for a small archive.
    let cost = unpack_measured(&zip, &Limits::default());
    assert_eq!(reason(&cost), "archive-bomb-ratio");
    assert!(cost.time < Duration::from_secs(3), "{:?}", cost.time);
    assert!(cost.peak < 16 * MIB, "peak {} bytes", cost.peak);
    // Without the ratio, the total does, and the memory stays under it.
    let limits = Limits {
        max_ratio: u64::MAX,
        max_total_bytes: 64 * MIB as u64,
        ..Limits::default()
    };
    let cost = unpack_measured(&zip, &limits);
    assert_eq!(reason(&cost), "archive-too-large");
    assert!(cost.time < Duration::from_secs(5), "{:?}", cost.time);
    assert!(cost.peak <= 64 * MIB + MIB, "peak {} bytes", cost.peak);
}

#[test]
fn overlapping_entries_are_refused_before_inflating() {
    let _alone = alone();
    // 200 MiB from 7 KB.
    let cost = unpack_measured(&overlap_bomb(200, MIB), &Limits::default());
    assert_eq!(reason(&cost), "archive-bomb-overlap");
    assert!(cost.peak < MIB, "peak {} bytes", cost.peak);
    assert!(cost.time < Duration::from_secs(1), "{:?}", cost.time);
}

/// A gzip of 1 GiB of zeros in 1,024 members of 1 MiB (about 1 MB),
/// its trailer patched to declare `declared` bytes.
fn gzip_bomb(declared: u32) -> Vec<u8> {
    let mut gz = support::kinds::gzip_members_of_zeros(1024, MIB);
    let at = gz.len() - 4;
    gz[at..].copy_from_slice(&declared.to_le_bytes());
    gz
}

#[test]
fn a_gzip_bomb_is_refused_by_what_it_declares_before_inflating() {
    let _alone = alone();
    let cost = unpack_measured(&gzip_bomb(1 << 30), &Limits::default());
    assert_eq!(reason(&cost), "archive-bomb-ratio");
    assert!(cost.time < Duration::from_millis(50), "{:?}", cost.time);
    assert!(cost.peak < MIB, "peak {} bytes", cost.peak);
}

#[test]
fn a_gzip_bomb_that_lies_stops_at_the_entry_limit() {
    let _alone = alone();
    let limits = Limits {
        max_entry_bytes: 4 * MIB as u64,
        ..Limits::default()
    };
    // Its trailer declares 1 MiB: the one file is inflated until it is
    // past its limit, then dropped.
    let cost = unpack_measured(&gzip_bomb(MIB as u32), &limits);
    let out = cost.result.expect("the gzip, less its one file");
    assert!(out.entries.is_empty());
    assert_eq!(out.skipped[0].reason.code(), "entry-too-large");
    // The entry's buffer doubles up to its limit: what was there and what
    // is copied to are counted together for a moment.
    assert!(cost.peak < 3 * 4 * MIB, "peak {} bytes", cost.peak);
    assert!(cost.time < Duration::from_secs(2), "{:?}", cost.time);
    // With no entry limit to stop it, the ratio does, in a stream.
    let limits = Limits {
        max_entry_bytes: u64::MAX,
        max_total_bytes: 16 * MIB as u64,
        ..Limits::default()
    };
    let cost = unpack_measured(&gzip_bomb(MIB as u32), &limits);
    assert_eq!(reason(&cost), "archive-too-large");
    assert!(cost.peak < 40 * MIB, "peak {} bytes", cost.peak);
}

#[test]
fn a_tar_gz_bomb_is_refused_by_its_entry_header_before_inflating() {
    let _alone = alone();
    // A tar header declaring 1 GiB, then 1 GiB of zeros, as one stream.
    let mut header = tar::Header::new_gnu();
    header.set_path("zeros.bin").expect("a name");
    header.set_size(1 << 30);
    header.set_cksum();
    let mut tgz = support::kinds::gzip(header.as_bytes(), None);
    tgz.extend_from_slice(&gzip_bomb(1 << 30));
    let cost = unpack_measured(&tgz, &Limits::default());
    assert_eq!(reason(&cost), "archive-bomb-ratio");
    assert!(cost.time < Duration::from_millis(50), "{:?}", cost.time);
    assert!(cost.peak < MIB, "peak {} bytes", cost.peak);
}

#[test]
fn a_tar_of_100k_entries_is_refused_at_the_limit() {
    let _alone = alone();
    let names: Vec<String> = (0..100_000).map(|i| format!("f{i}")).collect();
    let entries: Vec<support::kinds::TarEntry<'_>> = names
        .iter()
        .map(|n| support::kinds::TarEntry::file(n.as_bytes(), b""))
        .collect();
    let tar = support::kinds::tar_raw(&entries);
    let cost = unpack_measured(&tar, &Limits::default());
    assert_eq!(reason(&cost), "archive-too-many-entries");
    assert!(cost.time < Duration::from_millis(500), "{:?}", cost.time);
    assert!(cost.peak < 2 * MIB, "peak {} bytes", cost.peak);
    // Gzipped (5,000 of them, to build it fast): read as a stream,
    // stopped as early.
    let tgz = support::kinds::gzip(&tar[..5000 * 512], None);
    let cost = unpack_measured(&tgz, &Limits::default());
    assert_eq!(reason(&cost), "archive-too-many-entries");
    assert!(cost.time < Duration::from_millis(500), "{:?}", cost.time);
    assert!(cost.peak < 2 * MIB, "peak {} bytes", cost.peak);
}

#[test]
fn a_7z_declaring_a_4_gib_dictionary_is_refused_before_allocating() {
    let _alone = alone();
    let kinds = [
        support::kinds::sevenz_raw(support::kinds::LZMA2, &[40], &[0xFF; 64], 1 << 30, "a"),
        support::kinds::sevenz_encoded_header(support::kinds::LZMA2, &[40], &[0xFF; 64], 1000),
    ];
    for sevenz in kinds {
        let cost = unpack_measured(&sevenz, &Limits::default());
        assert_eq!(reason(&cost), "archive-too-large");
        assert!(cost.time < Duration::from_millis(50), "{:?}", cost.time);
        assert!(cost.peak < 64 * 1024, "peak {} bytes", cost.peak);
    }
}
