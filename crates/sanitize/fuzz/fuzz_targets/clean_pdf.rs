//! Arbitrary bytes as a PDF through the structural clean. Must never
//! panic, hang or blow up; what comes out must clean again to as many
//! pages with nothing more to remove (cleaning is idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mukaika_sanitize::pdf::{FlattenOptions, clean};

fuzz_target!(|data: &[u8]| {
    let options = FlattenOptions {
        max_pages: 20,
        max_objects: 20_000,
        ..FlattenOptions::default()
    };
    if let Ok(out) = clean(data, &options) {
        assert!(out.pages > 0);
        let again = clean(&out.pdf, &options).expect("a cleaned PDF cleans again");
        assert_eq!(again.pages, out.pages);
        assert_eq!(
            again.removed,
            [],
            "a cleaned PDF has nothing left to remove"
        );
    }
});
