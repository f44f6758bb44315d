//! Arbitrary bytes as an archive of any kind (seeded with tar, tar.gz,
//! gz and 7z files, nested in each other): unpacked through the one entry
//! point with the default limits. Must never panic, hang or blow up, and
//! what comes out must keep the promises the limits and the name
//! neutralization make.
#![no_main]

mod archive_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| archive_checks::check(data, "fuzz.tar.gz"));
