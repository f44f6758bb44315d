//! Arbitrary bytes as a mail: parse + sanitize under both built-in link
//! modes and both output charsets. Must never panic, hang or blow up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mukaika_sanitize::{LinkMode, OutputCharset, Policy, sanitize};

fuzz_target!(|data: &[u8]| {
    let mut policy = Policy::default();
    let first = sanitize(data, &policy);
    assert!(!first.message.is_empty());
    policy.links = LinkMode::Remove;
    policy.output_charset = OutputCharset::Iso2022Jp;
    let _ = sanitize(data, &policy);
    // The output is itself a mail; sanitizing it again must work too.
    let _ = sanitize(&first.message, &Policy::default());
});
