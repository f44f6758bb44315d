//! What every archive fuzz target asserts: the promises the limits and
//! the name neutralization make, whatever the bytes.

use mukaika_sanitize::archive::{Limits, unpack};

/// Unpacks `data` (named `name`, which only hints) with the default
/// limits and checks what comes out.
pub fn check(data: &[u8], name: &str) {
    let limits = Limits::default();
    let Ok(out) = unpack(data, name, &limits) else {
        return;
    };
    let total: u64 = out.entries.iter().map(|e| e.bytes.len() as u64).sum();
    assert!(total <= limits.max_total_bytes);
    assert!(out.entries.len() + out.skipped.len() <= limits.max_entries);
    for entry in &out.entries {
        assert!(entry.bytes.len() as u64 <= limits.max_entry_bytes);
        check_path(&entry.path, &limits);
    }
    for skipped in &out.skipped {
        check_path(&skipped.path, &limits);
    }
}

fn check_path(path: &[String], limits: &Limits) {
    assert!(!path.is_empty() && path.len() <= limits.max_depth);
    for name in path {
        assert!(!name.is_empty() && !name.starts_with('/') && !name.contains('\\'));
        assert!(!name.chars().any(is_hidden), "{name:?}");
        for part in name.split('/') {
            assert!(!part.is_empty() && part != "." && part != "..", "{name:?}");
        }
    }
}

/// What neutralization removes: controls, and the bidi marks, embeddings,
/// overrides and isolates that reorder how a name is shown.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
