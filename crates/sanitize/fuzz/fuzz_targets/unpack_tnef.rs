//! Arbitrary bytes as a TNEF stream (winmail.dat): its attachments
//! gathered with the default limits. Must never panic, hang or blow up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mukaika_sanitize::archive::{Limits, unpack_tnef};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(out) = unpack_tnef(data, &limits) else {
        return;
    };
    let total: u64 = out.entries.iter().map(|e| e.bytes.len() as u64).sum();
    // Entries of nested zips count against their own unpacking's budget.
    assert!(total <= 2 * limits.max_total_bytes);
    for entry in &out.entries {
        assert!(!entry.path.is_empty());
        assert!(
            entry
                .path
                .iter()
                .all(|p| !p.is_empty() && !p.starts_with('/'))
        );
    }
});
