//! The new PDF: a catalog, a page tree, and per page a content stream that
//! draws one image XObject over the whole page. Nothing else is written
//! but a Producer.

use pdf_writer::{Content, Filter, Name, Pdf, Rect, Ref};

use super::encode::{Codec, Colors, PageImage};

/// The name of the page image in each page's resources.
const IMAGE: Name<'static> = Name(b"Im0");

/// Writes each page as it comes, so that only one page's pixels are held
/// at a time; the page tree and catalog, which list the pages, come last.
pub(super) struct Writer {
    pdf: Pdf,
    catalog: Ref,
    tree: Ref,
    info: Ref,
    next: Ref,
    pages: Vec<Ref>,
}

impl Writer {
    pub(super) fn new() -> Self {
        Self {
            pdf: Pdf::new(),
            catalog: Ref::new(1),
            tree: Ref::new(2),
            info: Ref::new(3),
            next: Ref::new(4),
            pages: Vec::new(),
        }
    }

    /// Adds a page of `width` × `height` points covered by `image`.
    pub(super) fn add_page(&mut self, width: f32, height: f32, image: &PageImage) {
        let (page, content, xobject) = (self.alloc(), self.alloc(), self.alloc());
        self.write_image(xobject, image);
        let mut draw = Content::new();
        draw.save_state()
            .transform([width, 0.0, 0.0, height, 0.0, 0.0])
            .x_object(IMAGE)
            .restore_state();
        self.pdf.stream(content, &draw.finish());
        let mut writer = self.pdf.page(page);
        writer
            .parent(self.tree)
            .media_box(Rect::new(0.0, 0.0, width, height))
            .contents(content);
        writer.resources().x_objects().pair(IMAGE, xobject);
        self.pages.push(page);
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
        let count = i32::try_from(self.pages.len()).unwrap_or(i32::MAX);
        self.pdf
            .pages(self.tree)
            .kids(self.pages.iter().copied())
            .count(count);
        self.pdf.catalog(self.catalog).pages(self.tree);
        self.pdf
            .document_info(self.info)
            .producer(pdf_writer::TextStr("Mukaika"));
        self.pdf.finish()
    }

    fn alloc(&mut self) -> Ref {
        self.next.bump()
    }

    fn write_image(&mut self, id: Ref, image: &PageImage) {
        let mut xobject = self.pdf.image_xobject(id, &image.data);
        xobject.filter(match image.codec {
            Codec::Flate => Filter::FlateDecode,
            Codec::Jpeg => Filter::DctDecode,
        });
        xobject.width(i32::from(image.width));
        xobject.height(i32::from(image.height));
        match image.colors {
            Colors::Gray => xobject.color_space().device_gray(),
            Colors::Rgb => xobject.color_space().device_rgb(),
        };
        xobject.bits_per_component(8);
    }
}
