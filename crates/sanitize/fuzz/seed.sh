#!/bin/sh
# Seeds the fuzz corpora: mails from the project's samples; PDFs from the
# generator of the flatten tests (text, photo, active content, rotated and
# landscape pages, the encrypted test files).
set -eu
here=$(dirname "$0")
mkdir -p "$here/corpus/sanitize_mail"
cp "$here"/../../../samples/*.eml "$here/corpus/sanitize_mail/"
cargo test --manifest-path "$here/../Cargo.toml" --test pdf_flatten -- --ignored write_generated_pdfs
