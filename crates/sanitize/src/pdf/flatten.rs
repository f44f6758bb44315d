//! Opening with hayro, the checks made before rendering, and rendering each
//! page to RGBA pixels on white.

use std::panic::{AssertUnwindSafe, catch_unwind};

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_syntax::object::Name;
use hayro::hayro_syntax::page::Page;
use hayro::hayro_syntax::{DecryptionError, LoadPdfError, Pdf};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings, render_into};

use super::write::Writer;
use super::{Error, FlattenOptions, Flattened, encode};

pub(super) fn flatten(bytes: &[u8], options: &FlattenOptions) -> Result<Flattened, Error> {
    // hayro is young and reads hostile input: a panic inside it (an index
    // out of bounds, an overflow in a debug build) must refuse this one PDF,
    // not take the worker down with the whole mail.
    catch_unwind(AssertUnwindSafe(|| flatten_unguarded(bytes, options)))
        .unwrap_or_else(|_| Err(Error::Broken("the renderer failed on this file".into())))
}

fn flatten_unguarded(bytes: &[u8], options: &FlattenOptions) -> Result<Flattened, Error> {
    let pdf = open(bytes)?;
    let pages = pdf.pages();
    if pages.is_empty() {
        return Err(Error::Broken("no pages".into()));
    }
    if pages.len() > options.max_pages {
        return Err(Error::TooManyPages(pages.len()));
    }
    check_images(&pdf, options)?;
    // Every page is measured before any is rendered, so a refusal costs
    // no rendering time.
    let sizes = pages
        .iter()
        .enumerate()
        .map(|(index, page)| PageSize::of(page, index + 1, options))
        .collect::<Result<Vec<_>, _>>()?;
    let mut renderer = Renderer::new();
    let mut writer = Writer::new();
    for (page, size) in pages.iter().zip(&sizes) {
        let pixmap = renderer.render(page, size);
        let image = encode::encode(pixmap.data_as_u8_slice(), size.width_px, size.height_px);
        writer.add_page(size.width_pt, size.height_pt, &image);
    }
    Ok(Flattened {
        pdf: writer.finish(),
        pages: sizes.len(),
    })
}

/// Opens the document; an empty user password is tried, as viewers do.
fn open(bytes: &[u8]) -> Result<Pdf, Error> {
    Pdf::new(bytes.to_vec()).map_err(|error| match error {
        LoadPdfError::Decryption(DecryptionError::PasswordProtected) => Error::PasswordProtected,
        LoadPdfError::Decryption(DecryptionError::UnsupportedAlgorithm) => {
            Error::Broken("unsupported encryption".into())
        }
        LoadPdfError::Decryption(_) => Error::Broken("invalid encryption".into()),
        LoadPdfError::Invalid => Error::Broken("not a readable PDF".into()),
    })
}

/// Refuses the document if any image XObject in it, used or not, declares
/// more than `max_image_pixels`. Reads dictionaries only: nothing is
/// decoded.
fn check_images(pdf: &Pdf, options: &FlattenOptions) -> Result<(), Error> {
    for object in pdf.objects() {
        let Some(stream) = object.into_stream() else {
            continue;
        };
        let dict = stream.dict();
        if dict.get::<Name<'_>>(b"Subtype").as_deref() != Some(b"Image".as_slice()) {
            continue;
        }
        // As reals, so that "20000.0" counts too; NaN and negatives as 0.
        let side = |key: &[u8]| dict.get::<f64>(key).unwrap_or(0.0).max(0.0);
        let pixels = side(b"Width") * side(b"Height");
        if pixels > options.max_image_pixels as f64 {
            return Err(Error::ImageTooLarge {
                // Saturates for an infinite image.
                pixels: pixels as u64,
            });
        }
    }
    Ok(())
}

/// A page's size as displayed (crop box, rotation applied) in points, and
/// the size of its image in pixels.
pub(super) struct PageSize {
    pub width_pt: f32,
    pub height_pt: f32,
    pub width_px: u16,
    pub height_px: u16,
}

impl PageSize {
    /// Measures page `number` (1-based) and refuses it if its image would be
    /// too large. Sides are rounded, not truncated (`hayro::render`
    /// truncates, losing a pixel), and the renderer's sides are `u16`.
    fn of(page: &Page<'_>, number: usize, options: &FlattenOptions) -> Result<Self, Error> {
        let (width_pt, height_pt) = page.render_dimensions();
        let scale = f64::from(options.dpi) / 72.0;
        // NaN and infinity come out as 1 and +inf: no page is NaN-sized.
        let side = |points: f32| (f64::from(points) * scale).round().max(1.0);
        let (width, height) = (side(width_pt), side(height_pt));
        let pixels = width * height;
        let max_side = f64::from(u16::MAX);
        if pixels > options.max_page_pixels as f64 || width > max_side || height > max_side {
            return Err(Error::PageTooLarge {
                page: number,
                // Saturates for an infinite page.
                pixels: pixels as u64,
            });
        }
        Ok(Self {
            width_pt,
            height_pt,
            width_px: width as u16,
            height_px: height as u16,
        })
    }
}

/// Renders pages one after the other, reusing the render buffers and the
/// font and glyph caches of the document.
struct Renderer<'a> {
    cache: RenderCache<'a>,
    interpreter: InterpreterSettings,
    settings: RenderSettings,
    context: RenderContext,
    pixmap: Pixmap,
    resources: Resources,
}

impl<'a> Renderer<'a> {
    fn new() -> Self {
        Self {
            cache: RenderCache::new(),
            // The embedded standard fonts and CMaps, and the CJK fonts the
            // process gave: nothing is looked up on the machine.
            // Annotations with an appearance (filled-in form fields,
            // stamps) are drawn, as when printed; they cross as pixels only.
            interpreter: InterpreterSettings {
                font_resolver: super::fonts::resolver(),
                ..InterpreterSettings::default()
            },
            settings: RenderSettings::default(),
            context: RenderContext::new(0, 0),
            pixmap: Pixmap::new(0, 0),
            resources: Resources::default(),
        }
    }

    /// Renders `page` to exactly `size` pixels on white; transparent content
    /// is composited over white as on paper.
    fn render(&mut self, page: &'a Page<'a>, size: &PageSize) -> &Pixmap {
        let (width, height) = (size.width_px, size.height_px);
        self.context.reset_and_resize(width, height);
        self.pixmap.resize(width, height);
        let transform = Affine::scale_non_uniform(
            f64::from(width) / f64::from(size.width_pt),
            f64::from(height) / f64::from(size.height_pt),
        ) * page.initial_transform(true).to_kurbo();
        render_into(
            page,
            &self.cache,
            &self.interpreter,
            &self.settings,
            &mut self.context,
            transform,
        );
        self.context.flush();
        self.context.render_with(
            &mut self.pixmap,
            &mut self.resources,
            RasterizerSettings {
                target_init: TargetInit::Clear(WHITE),
                ..Default::default()
            },
        );
        &self.pixmap
    }
}
