#!/bin/sh
# Seeds the fuzz corpora: mails from the project's samples, Office files
# from the fixtures of tests/ooxml.rs.
set -eu
here=$(dirname "$0")
mkdir -p "$here/corpus/sanitize_mail"
cp "$here"/../../../samples/*.eml "$here/corpus/sanitize_mail/"
cargo test --manifest-path "$here/../Cargo.toml" --test ooxml -- --ignored write_fuzz_seeds
