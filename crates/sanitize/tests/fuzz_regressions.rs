//! Inputs the fuzzer found that once panicked, hung or blew up: each must
//! now give an output and a report, in both link modes and charsets.

use mukaika_sanitize::{LinkMode, OutputCharset, Policy, sanitize};

#[test]
fn every_fuzz_finding_gives_an_output() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the regression directory") {
        let path = entry.expect("a directory entry").path();
        let input = std::fs::read(&path).expect("a regression input");
        for (links, charset) in [
            (LinkMode::Defang, OutputCharset::Utf8),
            (LinkMode::Remove, OutputCharset::Iso2022Jp),
        ] {
            let policy = Policy {
                links,
                output_charset: charset,
                ..Policy::default()
            };
            let out = sanitize(&input, &policy);
            assert!(!out.message.is_empty(), "{}: no output", path.display());
            // The output is a mail too, and must sanitize in turn.
            assert!(
                !sanitize(&out.message, &Policy::default())
                    .message
                    .is_empty()
            );
        }
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}
