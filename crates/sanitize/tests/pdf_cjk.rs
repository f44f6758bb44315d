//! Japanese text in a font the PDF does not embed (`MS-Mincho`, as older
//! Japanese software writes it) survives flattening when the process has
//! given the core a CJK font, and vanishes without one. The flattened page
//! is rendered by poppler's pdftoppm, not by the code under test.
//!
//! One test in its own binary: the fonts are set once per process.

use std::process::Command;

use mukaika_sanitize::pdf::{CjkFonts, FlattenOptions, flatten, set_cjk_fonts};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

/// Debian's IPAex fonts, which `scripts/test` installs.
const MINCHO: &str = "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf";
const GOTHIC: &str = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf";

/// One A4 page saying 無害化 in 72 pt MS-Mincho, not embedded: a Type0
/// font with the predefined UniJIS-UCS2-H encoding and an Adobe-Japan1
/// CIDFont.
fn unembedded_japanese() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let [catalog, tree, page, content, font, cid, descriptor] = [1, 2, 3, 4, 5, 6, 7].map(Ref::new);
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut writer = pdf.page(page);
    writer
        .parent(tree)
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .contents(content);
    writer.resources().fonts().pair(Name(b"F1"), font);
    writer.finish();
    let mut text = Content::new();
    text.begin_text()
        .set_font(Name(b"F1"), 72.0)
        .next_line(60.0, 700.0)
        .show(Str(&[0x71, 0x21, 0x5B, 0xB3, 0x53, 0x16]))
        .end_text();
    pdf.stream(content, &text.finish());
    pdf.type0_font(font)
        .base_font(Name(b"MS-Mincho"))
        .encoding_predefined(Name(b"UniJIS-UCS2-H"))
        .descendant_font(cid);
    pdf.cid_font(cid)
        .subtype(CidFontType::Type0)
        .base_font(Name(b"MS-Mincho"))
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Japan1"),
            supplement: 6,
        })
        .font_descriptor(descriptor)
        .default_width(1000.0);
    pdf.font_descriptor(descriptor)
        .name(Name(b"MS-Mincho"))
        .flags(FontFlags::SERIF | FontFlags::SYMBOLIC)
        .bbox(Rect::new(0.0, -141.0, 1000.0, 859.0))
        .italic_angle(0.0)
        .ascent(859.0)
        .descent(-141.0)
        .cap_height(700.0)
        .stem_v(80.0);
    pdf.finish()
}

/// The share of dark pixels on the first page of `pdf`, as pdftoppm
/// renders it in grey at 30 DPI.
fn ink(pdf: &[u8]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("flat.pdf");
    std::fs::write(&input, pdf).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-r", "30", "-gray", "-singlefile"])
        .arg(&input)
        .arg(dir.path().join("page"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let pgm = std::fs::read(dir.path().join("page.pgm")).unwrap();
    // P5, width, height, maxval, each followed by whitespace, then samples.
    let mut fields = 0;
    let mut start = 0;
    for (i, window) in pgm.windows(1).enumerate() {
        if window[0].is_ascii_whitespace() {
            fields += 1;
            if fields == 4 {
                start = i + 1;
                break;
            }
        }
    }
    let samples = &pgm[start..];
    samples.iter().filter(|&&v| v < 128).count() as f64 / samples.len() as f64
}

#[test]
fn japanese_in_an_unembedded_font_is_drawn_with_the_cjk_font_given() {
    let pdf = unembedded_japanese();
    let options = FlattenOptions::default();

    let without = ink(&flatten(&pdf, &options).unwrap().pdf);
    assert!(
        without < 0.0005,
        "nothing to draw it with, yet ink {without}"
    );

    assert!(set_cjk_fonts(CjkFonts {
        serif: Some(std::fs::read(MINCHO).unwrap()),
        sans: Some(std::fs::read(GOTHIC).unwrap()),
    }));
    let with = ink(&flatten(&pdf, &options).unwrap().pdf);
    // Three 72 pt kanji on an A4 page: about 1 % of it.
    assert!(with > 0.003, "the kanji are missing: ink {with}");
}
