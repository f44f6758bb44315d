#!/usr/bin/env python3
"""Writes the hand-made hostile PDFs of this directory (python3, no
dependencies): python3 make.py. Each is a minimal PDF with a correct xref
table and one trap for the renderer."""
import zlib


def pdf(objs, name):
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    open(name, "wb").write(out)


def stream(d, data):
    return d.replace(b">>", b" /Length %d >>" % len(data), 1) + b"\nstream\n" + data + b"\nendstream"


cat = b"<< /Type /Catalog /Pages 2 0 R >>"
tree = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R"
        b" /Resources << /XObject << /Fm0 5 0 R /Im0 5 0 R >> >> >>")

# A form XObject that draws itself: unbounded recursion unless the
# renderer stops it (a stack overflow would abort, not panic).
pdf([cat, tree, page, stream(b"<< >>", b"/Fm0 Do"),
     stream(b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 200]"
            b" /Resources << /XObject << /Fm0 5 0 R >> >> >>", b"0 0 10 10 re f /Fm0 Do")],
    "handmade-recursive-form.pdf")
# A page tree whose Kids include the tree itself.
pdf([cat, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", page,
     stream(b"<< >>", b"0 0 10 10 re f"), b"<< >>"],
    "handmade-cyclic-page-tree.pdf")
# 200,000 nested graphics states (q), Flate-compressed to under 1 KB.
pdf([cat, tree, page,
     stream(b"<< /Filter /FlateDecode >>", zlib.compress(b"q " * 200000 + b"0 0 10 10 re f", 9)),
     b"<< >>"],
    "handmade-deep-q.pdf")
# An image that declares 100,000 x 100,000 RGB pixels (30 GB) over 1 KB of
# data: refused by max_image_pixels before anything is decoded.
pdf([cat, tree, page, stream(b"<< >>", b"q 200 0 0 200 0 0 cm /Im0 Do Q"),
     stream(b"<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000"
            b" /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode >>",
            zlib.compress(b"\x00" * 1000))],
    "handmade-huge-image.pdf")
