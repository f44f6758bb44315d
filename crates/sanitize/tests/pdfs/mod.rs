//! Inert input PDFs for the flatten tests, the fuzz seeds and the bench
//! corpus, written with pdf-writer so that every byte has a known origin.
#![allow(dead_code)] // Each test binary uses a different part.

use pdf_writer::types::{ActionType, AnnotationType, FieldType};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

pub const A4: (f32, f32) = (595.28, 841.89);
pub const LETTER_LANDSCAPE: (f32, f32) = (792.0, 612.0);

const FONT: Name<'static> = Name(b"F1");
const IMAGE: Name<'static> = Name(b"Im1");

/// One page to write: its MediaBox size, `/Rotate`, and what it shows.
pub struct PageSpec {
    pub size: (f32, f32),
    pub rotate: i32,
    pub body: Body,
}

pub enum Body {
    /// Lines of Helvetica text filling the page, varied by `seed`.
    Text { seed: usize },
    /// A synthetic photograph over the whole page, varied by `seed`.
    Photo { seed: usize },
    /// One bold line at the top left, to see where the top went.
    Heading,
}

impl PageSpec {
    pub fn text(size: (f32, f32), seed: usize) -> Self {
        Self {
            size,
            rotate: 0,
            body: Body::Text { seed },
        }
    }

    pub fn photo(size: (f32, f32), seed: usize) -> Self {
        Self {
            size,
            rotate: 0,
            body: Body::Photo { seed },
        }
    }
}

/// A PDF writer that hands out object numbers; the catalog and page tree
/// are 1 and 2.
pub struct Builder {
    pub pdf: Pdf,
    next: Ref,
    pub catalog: Ref,
    pub tree: Ref,
    pub pages: Vec<Ref>,
}

impl Builder {
    pub fn new() -> Self {
        Self {
            pdf: Pdf::new(),
            next: Ref::new(3),
            catalog: Ref::new(1),
            tree: Ref::new(2),
            pages: Vec::new(),
        }
    }

    pub fn alloc(&mut self) -> Ref {
        self.next.bump()
    }

    /// Writes a page and returns its reference; `extra` may add keys to
    /// the page dictionary (annotations, actions).
    pub fn page(
        &mut self,
        spec: &PageSpec,
        extra: impl FnOnce(&mut pdf_writer::writers::Page),
    ) -> Ref {
        let (page, content) = (self.alloc(), self.alloc());
        let (width, height) = spec.size;
        let mut image = None;
        let drawing = match spec.body {
            Body::Text { seed } => text_content(spec.size, seed),
            Body::Heading => {
                let mut c = Content::new();
                c.begin_text()
                    .set_font(FONT, 24.0)
                    .next_line(40.0, height - 60.0)
                    .show(Str(b"TOP LEFT"))
                    .end_text();
                c.finish().to_vec()
            }
            Body::Photo { seed } => {
                let id = self.alloc();
                let (w, h) = (800u16, 600u16);
                let jpeg = photo_jpeg(w, h, seed);
                let mut xobject = self.pdf.image_xobject(id, &jpeg);
                xobject.filter(Filter::DctDecode);
                xobject.width(i32::from(w)).height(i32::from(h));
                xobject.color_space().device_rgb();
                xobject.bits_per_component(8);
                xobject.finish();
                image = Some(id);
                let mut c = Content::new();
                c.save_state()
                    .transform([width, 0.0, 0.0, height, 0.0, 0.0])
                    .x_object(IMAGE)
                    .restore_state();
                c.finish().to_vec()
            }
        };
        self.pdf.stream(content, &drawing);
        let font = self.alloc();
        self.pdf.type1_font(font).base_font(Name(b"Helvetica"));
        let mut writer = self.pdf.page(page);
        writer
            .parent(self.tree)
            .media_box(Rect::new(0.0, 0.0, width, height))
            .contents(content);
        if spec.rotate != 0 {
            writer.rotate(spec.rotate);
        }
        {
            let mut resources = writer.resources();
            resources.fonts().pair(FONT, font);
            if let Some(id) = image {
                resources.x_objects().pair(IMAGE, id);
            }
        }
        extra(&mut writer);
        writer.finish();
        self.pages.push(page);
        page
    }

    /// Writes the page tree and catalog; `extra` may add catalog keys.
    pub fn finish(mut self, extra: impl FnOnce(&mut pdf_writer::writers::Catalog)) -> Vec<u8> {
        let count = self.pages.len() as i32;
        self.pdf
            .pages(self.tree)
            .kids(self.pages.iter().copied())
            .count(count);
        let mut catalog = self.pdf.catalog(self.catalog);
        catalog.pages(self.tree);
        extra(&mut catalog);
        catalog.finish();
        self.pdf.finish()
    }
}

/// A document of the given pages, with nothing else.
pub fn document(pages: &[PageSpec]) -> Vec<u8> {
    let mut builder = Builder::new();
    for spec in pages {
        builder.page(spec, |_| {});
    }
    builder.finish(|_| {})
}

/// `n` A4 pages of Helvetica text.
pub fn text_document(n: usize) -> Vec<u8> {
    let pages: Vec<_> = (0..n).map(|i| PageSpec::text(A4, i)).collect();
    document(&pages)
}

/// `n` A4 pages, each a different synthetic photograph.
pub fn photo_document(n: usize) -> Vec<u8> {
    let pages: Vec<_> = (0..n).map(|i| PageSpec::photo(A4, i)).collect();
    document(&pages)
}

/// A text page carrying everything that must not cross: a JavaScript
/// OpenAction, page and document additional actions, a Link annotation
/// with a URI, an embedded file, an AcroForm text field with its widget,
/// an outline, document info and XMP metadata.
pub fn active_content_document() -> Vec<u8> {
    let mut b = Builder::new();
    let (link, widget, field_ap) = (b.alloc(), b.alloc(), b.alloc());
    let (file, file_spec, outline, item, metadata, info) = (
        b.alloc(),
        b.alloc(),
        b.alloc(),
        b.alloc(),
        b.alloc(),
        b.alloc(),
    );
    let page = b.page(&PageSpec::text(A4, 0), |page| {
        page.annotations([link, widget]);
        page.insert(Name(b"AA"))
            .dict()
            .insert(Name(b"O"))
            .dict()
            .pair(Name(b"S"), Name(b"JavaScript"))
            .pair(Name(b"JS"), Str(b"app.alert('page open')"));
    });
    let mut annotation = b.pdf.annotation(link);
    annotation
        .subtype(AnnotationType::Link)
        .rect(Rect::new(72.0, 700.0, 300.0, 720.0));
    annotation
        .action()
        .action_type(ActionType::Uri)
        .uri(Str(b"https://evil.example/payload"));
    annotation.finish();
    // The field's appearance, so that its value is visible when rendered.
    let mut ap = Content::new();
    ap.begin_text()
        .set_font(FONT, 12.0)
        .next_line(2.0, 6.0)
        .show(Str(b"field value"))
        .end_text();
    let ap = ap.finish();
    let mut form = b.pdf.form_xobject(field_ap, &ap);
    form.bbox(Rect::new(0.0, 0.0, 200.0, 24.0));
    form.finish();
    let mut field = b.pdf.form_field(widget);
    field
        .partial_name(TextStr("name"))
        .field_type(FieldType::Text);
    field.insert(Name(b"V")).primitive(TextStr("field value"));
    field.insert(Name(b"Subtype")).primitive(Name(b"Widget"));
    field.insert(Name(b"Type")).primitive(Name(b"Annot"));
    field
        .insert(Name(b"Rect"))
        .primitive(Rect::new(72.0, 600.0, 272.0, 624.0));
    field.insert(Name(b"P")).primitive(page);
    field.insert(Name(b"AP")).dict().pair(Name(b"N"), field_ap);
    field
        .insert(Name(b"AA"))
        .dict()
        .insert(Name(b"K"))
        .dict()
        .pair(Name(b"S"), Name(b"JavaScript"))
        .pair(Name(b"JS"), Str(b"event.rc = true"));
    field.finish();
    b.pdf
        .embedded_file(file, b"MZ this is not really an executable")
        .subtype(Name(b"application/octet-stream"));
    let mut spec = b.pdf.file_spec(file_spec);
    spec.path(Str(b"invoice.exe"));
    spec.insert(Name(b"EF")).dict().pair(Name(b"F"), file);
    spec.finish();
    b.pdf.outline(outline).first(item).last(item).count(1);
    b.pdf
        .outline_item(item)
        .parent(outline)
        .title(TextStr("Chapter"));
    b.pdf.metadata(
        metadata,
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'></x:xmpmeta>",
    );
    b.pdf
        .document_info(info)
        .title(TextStr("Secret title"))
        .author(TextStr("Someone"));
    b.finish(|catalog| {
        catalog
            .insert(Name(b"OpenAction"))
            .dict()
            .pair(Name(b"S"), Name(b"JavaScript"))
            .pair(Name(b"JS"), Str(b"app.alert('opened')"));
        catalog
            .insert(Name(b"AA"))
            .dict()
            .insert(Name(b"WC"))
            .dict()
            .pair(Name(b"S"), Name(b"JavaScript"))
            .pair(Name(b"JS"), Str(b"app.alert('closing')"));
        catalog
            .names()
            .embedded_files()
            .names()
            .insert(Str(b"invoice.exe"), file_spec);
        catalog
            .form()
            .fields([widget])
            .pair(Name(b"NeedAppearances"), false);
        catalog.outlines(outline);
        catalog.metadata(metadata);
    })
}

/// Lines of text in Helvetica 10 pt from the top margin down.
fn text_content((width, height): (f32, f32), seed: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "sanitization",
        "boundary",
        "mail",
        "the",
        "of",
        "relay",
        "LGWAN",
        "attachment",
        "page",
        "render",
        "and",
        "zone",
        "image",
        "a",
        "quarantine",
        "report",
    ];
    let mut c = Content::new();
    c.begin_text()
        .set_font(FONT, 10.0)
        .next_line(56.0, height - 72.0);
    let lines = ((height - 144.0) / 13.0) as usize;
    let per_line = ((width - 112.0) / 62.0) as usize;
    for line in 0..lines {
        let text: Vec<&str> = (0..per_line)
            .map(|w| WORDS[(seed * 7 + line * 5 + w * 3 + w * line) % WORDS.len()])
            .collect();
        c.show(Str(text.join(" ").as_bytes()));
        c.next_line(0.0, -13.0);
    }
    c.end_text();
    c.finish().to_vec()
}

/// A deterministic photograph-like picture: smooth colour fields, a few
/// soft blobs, and sensor-like noise, so that codecs meet what they meet
/// in real photographs. JPEG, as cameras and scanners write them.
fn photo_jpeg(width: u16, height: u16, seed: usize) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ seed as u64;
    // Integer arithmetic only, so that the bytes are the same everywhere.
    let triangle = |t: u32| -> i32 { (t % 512).abs_diff(256) as i32 };
    for y in 0..u32::from(height) {
        for x in 0..u32::from(width) {
            let seed = seed as u32;
            let blob = triangle(x * 3 + seed * 40) * triangle(y * 2 + 128) / 256;
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 13) as i32 - 6;
            let channel = |base: i32| (base + noise).clamp(0, 255) as u8;
            rgb.push(channel(
                40 + (x * 160 / u32::from(width)) as i32 * blob / 256,
            ));
            rgb.push(channel(70 + (y * 120 / u32::from(height)) as i32));
            rgb.push(channel(200 - blob * 150 / 256));
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("a JPEG in memory");
    out
}
