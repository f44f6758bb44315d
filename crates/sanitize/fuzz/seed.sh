#!/bin/sh
# Seeds the fuzz corpora: mails from the project's samples; a few zips;
# PDFs from the generator of the flatten tests (text, photo, active
# content, rotated and landscape pages, the encrypted test files), also
# seeding clean_pdf with the clean tests' actions and incremental-update
# files; Office files from the fixtures of tests/ooxml.rs.
set -eu
here=$(dirname "$0")
mkdir -p "$here/corpus/sanitize_mail" "$here/corpus/unpack_zip"
cp "$here"/../../../samples/*.eml "$here/corpus/sanitize_mail/"
python3 - "$here/corpus/unpack_zip" <<'PY'
import io, sys, zipfile

out = sys.argv[1]

def zip_of(files, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()

def save(name, data):
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)

save("stored.zip", zip_of([("a.txt", b"hello"), ("dir/", b""), ("dir/b.txt", b"x" * 50)], zipfile.ZIP_STORED))
save("deflated.zip", zip_of([("a.txt", b"hello " * 40), ("../up.txt", b"up")]))
save("bzip2.zip", zip_of([("b.txt", b"bzip " * 40)], zipfile.ZIP_BZIP2))
save("lzma.zip", zip_of([("l.txt", b"lzma")], zipfile.ZIP_LZMA))
inner = zip_of([("bottom/x.com", b"marker")])
save("nested.zip", zip_of([("readme.txt", b"hi"), ("in.zip", zip_of([("in2.zip", inner)]))]))
# A CP932 name without the UTF-8 flag: zipfile writes cp437-range names
# raw, so write an ASCII placeholder and patch the bytes in.
cp932 = "見積書.pdf".encode("cp932")
raw = zip_of([("x" * len(cp932), b"pdf")], zipfile.ZIP_STORED)
save("cp932.zip", raw.replace(b"x" * len(cp932), cp932))
# ZipCrypto flag set on a stored entry (no real encryption needed).
enc = bytearray(zip_of([("secret.txt", b"0123456789abcdef")], zipfile.ZIP_STORED))
enc[6] |= 1
enc[enc.find(b"PK\x01\x02") + 8] |= 1
save("encrypted.zip", bytes(enc))
PY
cargo test --manifest-path "$here/../Cargo.toml" --test pdf_flatten -- --ignored write_generated_pdfs
cargo test --manifest-path "$here/../Cargo.toml" --test ooxml -- --ignored write_fuzz_seeds
cargo test --manifest-path "$here/../Cargo.toml" --test pdf_clean -- --ignored write_fuzz_seeds
cp "$here"/corpus/flatten_pdf/* "$here/corpus/clean_pdf/"
