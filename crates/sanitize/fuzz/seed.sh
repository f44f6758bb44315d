#!/bin/sh
# Seeds the fuzz corpora: mails from the project's samples; a few zips;
# PDFs from the generator of the flatten tests (text, photo, active
# content, rotated and landscape pages, the encrypted test files), also
# seeding clean_pdf with the clean tests' actions and incremental-update
# files; Office files from the fixtures of tests/ooxml.rs; tar, tar.gz, gz
# and 7z files from tests/archive_kinds.rs; SVGs that use every construct
# the rasterizer bounds (use, markers, patterns, filters, clips, masks,
# text, images pointing outside).
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
# Worker replies: a hello, a sanitized result with an extracted piece, and
# a probe answer, framed as crates/worker/src/protocol.rs writes them.
mkdir -p "$here/corpus/worker_reply"
python3 - "$here/corpus/worker_reply" <<'PY'
import json, struct, sys

out = sys.argv[1]

def frame(kind, fields):
    body = b"".join(struct.pack(">I", len(f)) + f for f in fields)
    return b"MKW\x02" + bytes([kind]) + struct.pack(">I", len(body)) + body

report = {"verdict": "sanitized", "profile": "standard", "message_id": "a@b",
          "parts": [{"path": "1", "filename": None, "declared_type": "text/plain",
                     "detected_type": "text/plain", "action": "kept", "reason": "plain-text",
                     "sha256": "00" * 32, "size": 4}],
          "threats": [], "timings_us": {"parse": 1, "bodies": 1, "build": 1, "total": 3}}
done = json.dumps({"report": report, "cpu_ms": 12}).encode()
place = json.dumps({"part": "1", "entry": None}).encode()
hello = json.dumps({"pid": 7, "applied": {"rlimits": True, "no_new_privs": True,
        "landlock": {"Full": {"abi": 7}}, "seccomp": True, "uid": 65534, "gid": 65534,
        "errors": []}}).encode()
seeds = {
    "hello": frame(1, [hello]),
    "sanitized": frame(6, [done, b"Subject: x\r\n\r\nbody\r\n", place, b"body"]),
    "hold": frame(6, [done, b"Subject: held\r\n\r\nnotice\r\n"]),
    "two-frames": frame(1, [hello]) + frame(6, [done, b"m"]),
}
for name, data in seeds.items():
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)
PY
# TNEF: a winmail.dat as Japanese Outlook writes it (code page 932), with a
# text file, a script and a zip.
mkdir -p "$here/corpus/unpack_tnef"
python3 - "$here/corpus/unpack_tnef" <<'PY'
import io, struct, sys, zipfile

def attr(level, ident, data):
    return bytes([level]) + struct.pack("<II", ident, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)

def winmail(files):
    out = b"\x78\x9f\x3e\x22\x01\x00" + attr(1, 0x00089006, b"\0\0\1\0")
    out += attr(1, 0x00069007, struct.pack("<II", 932, 0))
    for name, data in files:
        out += attr(2, 0x00069002, struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0))
        out += attr(2, 0x00018010, name.encode("cp932") + b"\0")
        out += attr(2, 0x0006800F, data)
        out += attr(2, 0x00069005, b"\0\0\0\0")
    return out

buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("memo.html", "<p>memo</p>")
with open(sys.argv[1] + "/winmail.dat", "wb") as f:
    f.write(winmail([("見積書.txt", "見積".encode("cp932")), ("run.js", b"x"), ("資料.zip", buf.getvalue())]))
PY
cargo test --manifest-path "$here/../Cargo.toml" --test pdf_clean -- --ignored write_fuzz_seeds
cp "$here"/corpus/flatten_pdf/* "$here/corpus/clean_pdf/"
cargo test --manifest-path "$here/../Cargo.toml" --test archive_kinds -- --ignored write_fuzz_seeds
mkdir -p "$here/corpus/rasterize_svg"
svg() { printf '%s' "$2" > "$here/corpus/rasterize_svg/$1.svg"; }
svg shape '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100"><rect x="50" y="25" width="100" height="50" fill="#f00" stroke="blue" stroke-width="3"/><circle cx="20" cy="20" r="10" opacity="0.5"/></svg>'
svg use '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="50" height="50"><defs><g id="a"><rect width="5" height="5"/></g><g id="b"><use xlink:href="#a"/><use xlink:href="#a" x="6"/></g></defs><use href="#b"/><use href="#b" y="10"/></svg>'
svg marker '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><marker id="m" markerWidth="4" markerHeight="4"><path d="M0 0L4 2L0 4z"/></marker><polyline points="0,0 50,50 100,0" fill="none" stroke="black" marker-mid="url(#m)" marker-end="url(#m)"/></svg>'
svg pattern '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><pattern id="p" width="10" height="10" patternUnits="userSpaceOnUse" patternTransform="rotate(20)"><circle cx="5" cy="5" r="3" fill="green"/></pattern><rect width="100" height="100" fill="url(#p)"/></svg>'
svg filter '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><filter id="f" x="-1" y="-1" width="3" height="3"><feGaussianBlur stdDeviation="3"/><feMorphology radius="2" operator="dilate"/><feTurbulence baseFrequency="0.05" numOctaves="2"/><feConvolveMatrix order="3" kernelMatrix="0 1 0 1 -4 1 0 1 0"/><feDiffuseLighting><feDistantLight azimuth="45" elevation="45"/></feDiffuseLighting><feOffset dx="2" dy="2"/><feMerge><feMergeNode in="SourceGraphic"/></feMerge></filter><rect x="20" y="20" width="60" height="60" fill="red" filter="url(#f)"/></svg>'
svg clipmask '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><clipPath id="c"><circle cx="50" cy="50" r="40"/></clipPath><mask id="k"><rect width="100" height="100" fill="white"/><circle cx="50" cy="50" r="10"/></mask><linearGradient id="g"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/></linearGradient><g clip-path="url(#c)" mask="url(#k)"><rect width="100" height="100" fill="url(#g)"/></g></svg>'
svg text '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><style>text{font-family:serif}</style><text x="10" y="30" font-size="20">見積書 quote<tspan fill="red">!</tspan></text></svg>'
svg refs '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100"><image href="file:///etc/passwd" width="10" height="10"/><image xlink:href="http://127.0.0.1:9/a.png" width="10" height="10"/><image href="data:image/svg+xml;base64,PHN2Zy8+" width="10" height="10"/></svg>'
# Japanese tools' encodings: read by the XML declaration, or UTF-16 by its BOM.
printf '%s' '<?xml version="1.0" encoding="Shift_JIS"?><svg xmlns="http://www.w3.org/2000/svg" width="80" height="20"><text y="15">無害化</text></svg>' \
  | iconv -f UTF-8 -t SHIFT_JIS > "$here/corpus/rasterize_svg/sjis.svg"
{ printf '\377\376'; printf '%s' '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>' | iconv -f UTF-8 -t UTF-16LE; } \
  > "$here/corpus/rasterize_svg/utf16.svg"
