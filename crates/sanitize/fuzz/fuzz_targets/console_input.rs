//! Arbitrary bytes as what a client sends the operator console: a request
//! link's token, the list's query string, form and JSON bodies, a cookie
//! header. Must never panic or hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mukaika_console::fuzzing::untrusted(data));
