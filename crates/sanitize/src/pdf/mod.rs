//! PDF flattening: every page of an untrusted PDF rendered to pixels and
//! rebuilt as a brand-new PDF that holds nothing but one image per page;
//! or cleaning ([`clean`]): the document kept, its active and hidden parts
//! taken out (`clean.rs` says what and how).
//!
//! What crosses is what a person would have seen on paper: no text objects,
//! fonts, actions, JavaScript, forms, annotations, links, outlines,
//! embedded files or metadata survive, because none of the original objects
//! are copied. The new file has a catalog, a page tree, and per page one
//! image XObject drawn over the whole page, the page keeping the original's
//! size and orientation (its crop box, with `/Rotate` applied).
//!
//! - [`flatten`]: the entry point, bytes in, bytes out.
//! - `flatten.rs`: opening with hayro, the size checks, rendering.
//! - `encode.rs`: pixels to an image stream (greyscale or colour, Flate or
//!   JPEG); its module comment says how the encoding is chosen and why.
//! - `write.rs`: the new PDF, written with pdf-writer.
//! - `clean.rs`: structural CDR with lopdf, for `attachments.pdf = "clean"`.
//!
//! Like the rest of the core this is pure: it reads no file and no clock.
//! It bounds pages, page pixels and declared image pixels before it
//! renders, and turns a panic inside the renderer into [`Error::Broken`].
//! It does not bound rendering time, nor the memory that decompressing a
//! content stream or an inline image may take (hayro 0.9 has no limit on
//! decoded stream sizes: a 200 KB Flate bomb of a content stream peaked at
//! 616 MB in the fuzz build): the caller runs it where time and memory
//! limits can be enforced (the worker).

mod clean;
mod encode;
mod flatten;
mod fonts;
mod write;

pub(crate) use fonts::cjk_font_data;
pub use fonts::{CjkFonts, has_cjk_fonts, set_cjk_fonts};

use std::fmt;

use serde::{Deserialize, Serialize};

/// How pages are rendered, and what is refused. Meant to become a table of a
/// sanitization profile; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlattenOptions {
    /// Resolution of the page images, in pixels per inch (default 150).
    pub dpi: u32,
    /// Documents with more pages are refused whole (default 200).
    pub max_pages: usize,
    /// A page whose image at `dpi` would have more pixels is refused,
    /// before anything is rendered (default 40 million: an A4 page at
    /// 600 DPI is 34.8 million).
    pub max_page_pixels: u64,
    /// A document that declares an image XObject with more pixels is
    /// refused before anything is decoded (default 100 million: an A3 scan
    /// at 600 DPI is 70 million). A few hundred kilobytes of Flate can
    /// declare gigabytes of pixels, which the renderer would allocate.
    pub max_image_pixels: u64,
    /// Cleaning only: a document with more objects is refused (default
    /// 200,000; a 500-page report has a few tens of thousands). Checked
    /// after loading, so memory is still the worker's to bound.
    pub max_objects: usize,
}

impl Default for FlattenOptions {
    fn default() -> Self {
        Self {
            dpi: 150,
            max_pages: 200,
            max_page_pixels: 40_000_000,
            max_image_pixels: 100_000_000,
            max_objects: 200_000,
        }
    }
}

/// A flattened document.
#[derive(Debug, Clone)]
pub struct Flattened {
    /// The new PDF.
    pub pdf: Vec<u8>,
    /// How many pages it has (as many as the original).
    pub pages: usize,
}

/// A cleaned document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The new PDF.
    pub pdf: Vec<u8>,
    /// How many pages it has (as many as the original).
    pub pages: usize,
    /// What was taken out, one entry per place and reason.
    pub removed: Vec<Removal>,
}

/// Something taken out of a cleaned PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// `page N` (1-based) for what a page reaches first (its actions,
    /// annotations, resources), `document` for the rest.
    pub place: String,
    /// A stable reason code: `pdf-javascript`, `pdf-auto-action`
    /// (`/OpenAction`, `/AA`), `pdf-launch`, `pdf-link` (URI, GoToR, GoToE
    /// actions), `pdf-form` (AcroForm, XFA, form actions),
    /// `pdf-embedded-file`, `pdf-multimedia`, `pdf-action` (any other
    /// action but page navigation).
    pub reason: &'static str,
    /// How many, at this place.
    pub count: usize,
}

/// Why a PDF was not flattened or cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The PDF needs a password to open (an empty user password is tried).
    PasswordProtected,
    /// The PDF has this many pages, more than `max_pages`.
    TooManyPages(usize),
    /// Page `page` (1-based) would render to `pixels` pixels, more than
    /// `max_page_pixels` (or more than 65,535 on one side).
    PageTooLarge { page: usize, pixels: u64 },
    /// An image XObject declares `pixels` pixels, more than
    /// `max_image_pixels`.
    ImageTooLarge { pixels: u64 },
    /// Cleaning: the PDF has this many objects, more than `max_objects`.
    TooManyObjects(usize),
    /// The PDF could not be read, rendered or rewritten; the text says
    /// where.
    Broken(String),
}

impl Error {
    /// A stable code for reports and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::PasswordProtected => "pdf-password",
            Error::TooManyPages(_) => "pdf-too-many-pages",
            Error::PageTooLarge { .. } => "pdf-page-too-large",
            Error::ImageTooLarge { .. } => "pdf-image-too-large",
            Error::TooManyObjects(_) => "pdf-too-many-objects",
            Error::Broken(_) => "pdf-broken",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::PasswordProtected => f.write_str("the PDF is password-protected"),
            Error::TooManyPages(n) => write!(f, "the PDF has too many pages ({n})"),
            Error::PageTooLarge { page, pixels } => {
                write!(f, "page {page} is too large to render ({pixels} pixels)")
            }
            Error::ImageTooLarge { pixels } => {
                write!(
                    f,
                    "the PDF has an image too large to decode ({pixels} pixels)"
                )
            }
            Error::TooManyObjects(n) => write!(f, "the PDF has too many objects ({n})"),
            Error::Broken(why) => write!(f, "the PDF cannot be read or rendered: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// Renders every page of `bytes` at `options.dpi` and writes a new PDF with
/// one full-page image per page. Never panics on any input.
///
/// ```
/// use mukaika_sanitize::pdf::{Error, FlattenOptions, flatten};
/// let err = flatten(b"not a PDF", &FlattenOptions::default()).unwrap_err();
/// assert_eq!(err.reason(), "pdf-broken");
/// # let _ = Error::PasswordProtected;
/// ```
pub fn flatten(bytes: &[u8], options: &FlattenOptions) -> Result<Flattened, Error> {
    flatten::flatten(bytes, options)
}

/// Rewrites `bytes` as a new PDF of the objects its catalog reaches,
/// without actions (but page navigation), JavaScript, forms, embedded files,
/// multimedia, metadata or earlier revisions; text, fonts and images stay.
/// Uses `max_pages` and `max_objects` of `options`. Never panics on any
/// input.
///
/// ```
/// use mukaika_sanitize::pdf::{FlattenOptions, clean};
/// let err = clean(b"not a PDF", &FlattenOptions::default()).unwrap_err();
/// assert_eq!(err.reason(), "pdf-broken");
/// ```
pub fn clean(bytes: &[u8], options: &FlattenOptions) -> Result<Cleaned, Error> {
    clean::clean(bytes, options)
}
