//! SVG rasterized to a PNG (`attachments.markup = "image"`): what crosses
//! is pixels, never the markup, its scripts, links or references.
//!
//! resvg (usvg to parse and resolve, tiny-skia to draw; pure Rust) does the
//! drawing, and it is shut in:
//!
//! - **Nothing outside is loaded.** usvg's default `<image>` resolver reads
//!   any path it is given (`file:///etc/passwd`, `../../secret.png`); here
//!   both resolvers, for paths and for `data:` URLs, resolve nothing, and
//!   there is no resources directory. usvg makes no network requests. An
//!   `<image>` is therefore left out, whatever it points at.
//! - **No system fonts.** resvg is built without `system-fonts` (no
//!   fontconfig, no file reads); text is drawn with the CJK fonts the process
//!   gave the core ([`crate::pdf::set_cjk_fonts`]), or not drawn at all when
//!   there are none.
//! - **No DTD entities.** An entity declaration is refused
//!   (`svg-entity-declaration`), like in Office files: roxmltree bounds
//!   entity nesting, not the size of what they expand to.
//! - **Bounded before anything is allocated.** The input is at most
//!   [`MAX_SVG_BYTES`]; before usvg sees it, the document's size *with every
//!   `<use>`, `href` template, `url(#…)` reference (in attributes and style
//!   sheets) and marker expanded* is computed from the XML tree and bounded
//!   ([`MAX_EXPANDED_BYTES`]): a few bytes of nested `<use>` can otherwise
//!   stand for terabytes, and usvg copies a clip path or pattern in
//!   object-bounding-box units for each shape that uses it. usvg adds its own limits (1,000,000 elements,
//!   nesting 1,024, recursive `use`, patterns and filters cut).
//! - **Canvas and rendering bounded.** The canvas is scaled down to fit
//!   [`MAX_SIDE`] pixels a side and the profile's `image.max_pixels`; then
//!   the memory resvg would take (group layers, clip and mask buffers,
//!   pattern tiles, filter results: each layer up to 25 times the canvas)
//!   and the work of its filters (a morphology radius, turbulence octaves,
//!   a convolution kernel) are estimated from the parsed tree, and the
//!   canvas is scaled down further to fit [`MAX_RENDER_BYTES`] and
//!   [`MAX_RENDER_WORK`], or the SVG is removed (`svg-too-complex`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use ::image::{DynamicImage, RgbaImage};
use resvg::tiny_skia::{self, Transform};
use resvg::usvg::{self, fontdb, roxmltree};

/// Largest SVG read, in bytes.
pub const MAX_SVG_BYTES: usize = 8 * 1024 * 1024;
/// Largest document once every `<use>` and marker is expanded (bytes of
/// elements, attributes and text; an element counts 64).
pub const MAX_EXPANDED_BYTES: u64 = 32 * 1024 * 1024;
/// Longest side of the PNG, in pixels.
pub const MAX_SIDE: u32 = 4096;
/// Memory the drawing may take beside the canvas, by the estimate.
pub const MAX_RENDER_BYTES: u64 = 512 * 1024 * 1024;
/// Pixel operations the drawing may take, by the estimate (a few seconds).
pub const MAX_RENDER_WORK: u64 = 4_000_000_000;
/// XML nesting (usvg refuses deeper than 1,024).
const MAX_DEPTH: usize = 1_024;
/// Below this many pixels on its longer side a drawing is not worth
/// delivering: it is removed instead of shrunk further.
const MIN_SIDE: u32 = 16;

/// A rasterized SVG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rasterized {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Why an SVG was not rasterized; each has a stable reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Not well-formed XML, not an `<svg>`, or no usable size.
    Broken(String),
    /// A DTD that declares entities.
    EntityDeclaration,
    /// Over [`MAX_SVG_BYTES`], or over [`MAX_EXPANDED_BYTES`] expanded.
    TooLarge,
    /// Its drawing would take more memory or work than allowed, even shrunk.
    TooComplex,
    /// The profile's `image.max_pixels` leaves no room for even one pixel.
    TooManyPixels,
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Broken(_) => "svg-broken",
            Error::EntityDeclaration => "svg-entity-declaration",
            Error::TooLarge => "svg-too-large",
            Error::TooComplex => "svg-too-complex",
            Error::TooManyPixels => "image-too-large",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Broken(why) => write!(f, "broken SVG: {why}"),
            Error::EntityDeclaration => f.write_str("the SVG declares XML entities"),
            Error::TooLarge => f.write_str("the SVG is too large once expanded"),
            Error::TooComplex => f.write_str("the SVG would take too much to draw"),
            Error::TooManyPixels => f.write_str("no canvas fits the pixel limit"),
        }
    }
}

/// Draws `bytes` (an SVG document, UTF-8) onto a white canvas of at most
/// `max_pixels` pixels and encodes it as a PNG.
pub fn rasterize(bytes: &[u8], max_pixels: u64) -> Result<Rasterized, Error> {
    if bytes.len() > MAX_SVG_BYTES {
        return Err(Error::TooLarge);
    }
    let text = decode(bytes)?;
    if text.contains("<!ENTITY") {
        return Err(Error::EntityDeclaration);
    }
    let xml_options = roxmltree::ParsingOptions {
        allow_dtd: true,
        // Far above what MAX_SVG_BYTES can hold below the expansion bound.
        nodes_limit: 2_000_000,
        // No resolver: an external entity (SYSTEM) loads nothing.
        ..roxmltree::ParsingOptions::default()
    };
    let xml = roxmltree::Document::parse_with_options(&text, xml_options)
        .map_err(|e| Error::Broken(e.to_string()))?;
    if !xml.root_element().has_tag_name((SVG_NS, "svg")) {
        return Err(Error::Broken("the root element is not <svg>".into()));
    }
    if expanded_size(&xml)? > MAX_EXPANDED_BYTES {
        return Err(Error::TooLarge);
    }
    refuse_large_kernels(&xml)?;
    let options = usvg::Options {
        resources_dir: None,
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        fontdb: font_database(),
        ..usvg::Options::default()
    };
    let tree =
        usvg::Tree::from_xmltree(&xml, &options).map_err(|e| Error::Broken(e.to_string()))?;
    drop(xml);

    let size = tree.size();
    let (width, height) = (f64::from(size.width()), f64::from(size.height()));
    let mut scale = 1f64
        .min(f64::from(MAX_SIDE) / width)
        .min(f64::from(MAX_SIDE) / height)
        .min((max_pixels as f64 / (width * height)).sqrt());
    for _ in 0..4 {
        let (w, h) = canvas(width, height, scale);
        if u64::from(w) * u64::from(h) > max_pixels {
            return Err(Error::TooManyPixels);
        }
        let cost = group_cost(
            tree.root(),
            Transform::from_scale(scale as f32, scale as f32),
            (w, h),
            0,
        );
        if cost.bytes <= MAX_RENDER_BYTES && cost.work <= MAX_RENDER_WORK {
            return draw(&tree, scale, w, h);
        }
        // Memory and work grow with the square of the scale (a
        // morphology's with its fourth power: the next round sees to it).
        let shrink = (MAX_RENDER_BYTES as f64 / cost.bytes as f64)
            .min(MAX_RENDER_WORK as f64 / cost.work as f64)
            .sqrt();
        scale *= shrink * 0.9;
        if w.max(h) as f64 * shrink * 0.9 < f64::from(MIN_SIDE) {
            break;
        }
    }
    Err(Error::TooComplex)
}

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// The document as text: by its BOM (UTF-8, UTF-16), else by the encoding
/// its XML declaration names (Japanese tools still write Shift_JIS or
/// EUC-JP), else UTF-8. Malformed bytes are refused, not replaced.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, Error> {
    let (encoding, body) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom)) => (encoding, &bytes[bom..]),
        None => (declared_encoding(bytes), bytes),
    };
    encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .ok_or_else(|| Error::Broken(format!("not valid {}", encoding.name())))
}

/// The `encoding` of an XML declaration (read as ASCII); UTF-8 when there is
/// none, or when it names UTF-16 without a BOM.
fn declared_encoding(bytes: &[u8]) -> &'static encoding_rs::Encoding {
    let head = &bytes[..bytes.len().min(200)];
    let declared = head
        .strip_prefix(b"<?xml")
        .and_then(|rest| rest.split(|&b| b == b'>').next())
        .and_then(|decl| {
            let at = memchr::memmem::find(decl, b"encoding")?;
            let value = decl[at + 8..].trim_ascii_start().strip_prefix(b"=")?;
            let value = value.trim_ascii_start();
            let quote = *value.first()?;
            let value = &value[1..];
            Some(&value[..memchr::memchr(quote, value)?])
        })
        .and_then(encoding_rs::Encoding::for_label);
    declared
        .filter(|&e| e != encoding_rs::UTF_16LE && e != encoding_rs::UTF_16BE)
        .unwrap_or(encoding_rs::UTF_8)
}

/// The canvas for a drawing of `width` × `height` at `scale`: at least one
/// pixel a side.
fn canvas(width: f64, height: f64, scale: f64) -> (u32, u32) {
    let side = |v: f64| ((v * scale).floor() as u32).clamp(1, MAX_SIDE);
    (side(width), side(height))
}

fn draw(tree: &usvg::Tree, scale: f64, width: u32, height: u32) -> Result<Rasterized, Error> {
    let mut pixmap =
        tiny_skia::Pixmap::new(width, height).ok_or_else(|| Error::Broken("no canvas".into()))?;
    let transform = Transform::from_scale(scale as f32, scale as f32);
    resvg::render(tree, transform, &mut pixmap.as_mut());
    // tiny-skia keeps premultiplied RGBA.
    let mut rgba = Vec::with_capacity(pixmap.data().len());
    for pixel in pixmap.pixels() {
        let c = pixel.demultiply();
        rgba.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    drop(pixmap);
    let image = RgbaImage::from_raw(width, height, rgba)
        .ok_or_else(|| Error::Broken("pixel buffer size".into()))?;
    // On white, like a viewer shows it: a transparent background would
    // turn black text invisible on a dark screen.
    let flat = crate::image::on_white(&DynamicImage::ImageRgba8(image));
    let png = crate::image::png(&flat).map_err(|e| Error::Broken(e.to_string()))?;
    Ok(Rasterized { png, width, height })
}

/// The CJK fonts the process set, in a font database built once; empty
/// (text not drawn) when there are none. Fonts set after the first SVG
/// are not seen: the worker sets them at start.
fn font_database() -> Arc<fontdb::Database> {
    static DATABASE: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DATABASE
        .get_or_init(|| {
            let mut db = fontdb::Database::new();
            if let Some((serif, sans)) = crate::pdf::cjk_font_data() {
                let mut family = |data: Option<Arc<dyn AsRef<[u8]> + Send + Sync>>| {
                    let ids = db.load_font_source(fontdb::Source::Binary(data?));
                    let id = ids.first()?;
                    let face = db.face(*id)?;
                    face.families.first().map(|(name, _)| name.clone())
                };
                let serif = family(serif);
                let sans = family(sans);
                if let Some(name) = serif.clone().or(sans.clone()) {
                    db.set_serif_family(name.clone());
                    db.set_monospace_family(name.clone());
                    db.set_cursive_family(name.clone());
                    db.set_fantasy_family(name);
                }
                if let Some(name) = sans.or(serif) {
                    db.set_sans_serif_family(name);
                }
            }
            Arc::new(db)
        })
        .clone()
}

/// The largest `feConvolveMatrix` order read (real ones are 3 to 5).
const MAX_KERNEL_ORDER: u64 = 32;

/// A convolution kernel whose order is over [`MAX_KERNEL_ORDER`] is
/// refused before usvg multiplies the two sides in `u32` (found by
/// fuzzing: an overflow panic, or in a release build a kernel of
/// 65,536 × 65,536 with no values). Judged on every run of digits in the
/// attribute, an exponent counting as too large: stricter than usvg's
/// number parser, never looser.
fn refuse_large_kernels(xml: &roxmltree::Document<'_>) -> Result<(), Error> {
    let too_large = |order: &str| {
        order.contains(['e', 'E'])
            || order
                .split(|c: char| !c.is_ascii_digit())
                .filter(|run| !run.is_empty())
                .any(|run| {
                    run.len() > 3 || run.parse::<u64>().unwrap_or(u64::MAX) > MAX_KERNEL_ORDER
                })
    };
    let refused = xml
        .descendants()
        .filter(|n| n.has_tag_name((SVG_NS, "feConvolveMatrix")))
        .filter_map(|n| n.attribute("order"))
        .any(too_large);
    if refused {
        Err(Error::TooComplex)
    } else {
        Ok(())
    }
}

// --- Expansion bound, on the XML tree, before usvg. ---

/// The document's size with every `<use>` replaced by what it points at
/// and every marker drawn at every vertex of every shape.
fn expanded_size(xml: &roxmltree::Document<'_>) -> Result<u64, Error> {
    let mut ids = HashMap::new();
    for node in xml.descendants().filter(|n| n.is_element()) {
        if let Some(id) = node.attribute("id") {
            ids.entry(id).or_insert(node);
        }
    }
    let mut sizer = Sizer {
        ids,
        memo: vec![None; xml.descendants().count() + 1],
        marker: 0,
        style: 0,
    };
    // A style sheet's `url(#…)` can apply to every element.
    let sheets: Vec<&str> = xml
        .descendants()
        .filter(|n| n.has_tag_name((SVG_NS, "style")))
        .flat_map(|n| n.children().filter_map(|c| c.text()))
        .collect();
    let mut style = 0u64;
    for sheet in sheets {
        for id in url_references(sheet) {
            if let Some(target) = sizer.ids.get(id).copied() {
                style = style.saturating_add(sizer.size(target, 0)?);
            }
        }
    }
    // Markers first (markers inside markers are not drawn by usvg).
    let mut marker = 0u64;
    for node in xml
        .descendants()
        .filter(|n| n.has_tag_name((SVG_NS, "marker")))
    {
        marker = marker.max(sizer.size(node, 0)?);
    }
    sizer.memo.iter_mut().for_each(|m| *m = None);
    sizer.marker = marker;
    sizer.style = style;
    sizer.size(xml.root_element(), 0)
}

struct Sizer<'a, 'input> {
    ids: HashMap<&'a str, roxmltree::Node<'a, 'input>>,
    /// Sizes computed; `Some(0)` while one is being computed, which is
    /// what a recursive reference counts (usvg skips those).
    memo: Vec<Option<u64>>,
    /// The largest marker's size.
    marker: u64,
    /// What the style sheets' references add to every element.
    style: u64,
}

impl<'a, 'input> Sizer<'a, 'input> {
    fn size(&mut self, node: roxmltree::Node<'a, 'input>, depth: usize) -> Result<u64, Error> {
        if depth > MAX_DEPTH {
            return Err(Error::TooComplex);
        }
        if node.is_text() {
            return Ok(node.text().map_or(0, |t| t.len() as u64));
        }
        if !node.is_element() {
            return Ok(0);
        }
        let index = node.id().get_usize();
        if let Some(Some(known)) = self.memo.get(index) {
            return Ok(*known);
        }
        if let Some(slot) = self.memo.get_mut(index) {
            *slot = Some(0);
        }
        let mut size = 64u64.saturating_add(self.style);
        for attribute in node.attributes() {
            size = size.saturating_add((attribute.name().len() + attribute.value().len()) as u64);
            // usvg copies what a reference points at, for each element
            // that makes it: `<use href>`, a gradient or pattern's
            // template (`href`), and `url(#…)` paints, clip paths, masks,
            // filters and markers (those in object-bounding-box units are
            // converted once per user).
            let value = attribute.value();
            let mut targets: Vec<&str> = url_references(value).collect();
            if attribute.name() == "href" {
                targets.extend(value.trim().strip_prefix('#'));
            }
            for id in targets {
                if let Some(target) = self.ids.get(id).copied() {
                    size = size.saturating_add(self.size(target, depth + 1)?);
                }
            }
        }
        for child in node.children() {
            size = size.saturating_add(self.size(child, depth + 1)?);
        }
        let name = node.tag_name().name();
        if self.marker > 0 && matches!(name, "path" | "line" | "polyline" | "polygon") {
            // A vertex takes at least two numbers: one per two bytes of
            // coordinates is an upper bound.
            let coordinates = ["d", "points"]
                .iter()
                .filter_map(|a| node.attribute(*a))
                .map(|v| v.len() as u64 / 2 + 2)
                .sum::<u64>()
                .max(2);
            size = size.saturating_add(coordinates.saturating_mul(self.marker));
        }
        if size > MAX_EXPANDED_BYTES {
            return Err(Error::TooLarge);
        }
        if let Some(slot) = self.memo.get_mut(index) {
            *slot = Some(size);
        }
        Ok(size)
    }
}

/// The ids of the `url(#id)` references in an attribute or style sheet.
fn url_references(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("url(").filter_map(move |(at, _)| {
        let rest = text[at + 4..].trim_start_matches([' ', '\'', '"']);
        let rest = rest.strip_prefix('#')?;
        let end = rest.find([')', '\'', '"', ' ']).unwrap_or(rest.len());
        Some(&rest[..end])
    })
}

// --- Rendering cost, on the usvg tree, before resvg. ---

/// Peak bytes of the buffers resvg allocates beside the canvas, and pixel
/// operations.
#[derive(Debug, Default, Clone, Copy)]
struct Cost {
    bytes: u64,
    work: u64,
}

impl Cost {
    /// A clip path or mask nested in this one: drawn on a buffer of its
    /// own, beside this one's.
    fn nest(mut self, nested: Cost, canvas: (u32, u32)) -> Cost {
        self.bytes = self
            .bytes
            .max(nested.bytes)
            .saturating_add(canvas_bytes(canvas));
        self.work = self.work.saturating_add(nested.work);
        self
    }
}

/// Mirrors `resvg::render`: an isolated group (opacity, clip, mask,
/// filter, blend) is drawn on a layer of its bounding box, cut to 25 times
/// the canvas; its clip path and mask on buffers of the same size; each
/// filter primitive keeps a result of that size. Layers nest, so the peak
/// is a group's own buffers plus its costliest child's.
fn group_cost(group: &usvg::Group, parent: Transform, canvas: (u32, u32), depth: usize) -> Cost {
    if depth > 4 * MAX_DEPTH {
        return Cost {
            bytes: u64::MAX,
            work: u64::MAX,
        };
    }
    let transform = parent.pre_concat(group.transform());
    let mut own = Cost::default();
    let mut inner: Vec<Cost> = Vec::new();
    if group.should_isolate() {
        let pixels = layer_pixels(group.layer_bounding_box(), transform, canvas);
        let mut buffers = 1u64;
        if let Some(clip) = group.clip_path() {
            buffers += 1;
            inner.push(clip_cost(clip, transform, canvas, depth));
        }
        if let Some(mask) = group.mask() {
            buffers += 1;
            inner.push(mask_cost(mask, transform, canvas, depth));
        }
        for filter in group.filters() {
            buffers += 2 + filter.primitives().len() as u64;
            for primitive in filter.primitives() {
                own.work = own
                    .work
                    .saturating_add(pixels.saturating_mul(primitive_work(primitive, transform)));
                if let usvg::filter::Kind::Image(image) = primitive.kind() {
                    inner.push(group_cost(image.root(), transform, canvas, depth + 1));
                }
            }
        }
        own.bytes = pixels.saturating_mul(4).saturating_mul(buffers);
        own.work = own.work.saturating_add(pixels.saturating_mul(buffers));
    }
    for child in group.children() {
        inner.push(node_cost(child, transform, canvas, depth + 1));
    }
    let mut cost = own;
    let mut peak = 0u64;
    for c in inner {
        peak = peak.max(c.bytes);
        cost.work = cost.work.saturating_add(c.work);
    }
    cost.bytes = cost.bytes.saturating_add(peak);
    cost
}

fn clip_cost(clip: &usvg::ClipPath, parent: Transform, canvas: (u32, u32), depth: usize) -> Cost {
    let transform = parent.pre_concat(clip.transform());
    let cost = group_cost(clip.root(), transform, canvas, depth + 1);
    match clip.clip_path() {
        Some(nested) => cost.nest(clip_cost(nested, parent, canvas, depth + 1), canvas),
        None => cost,
    }
}

fn mask_cost(mask: &usvg::Mask, parent: Transform, canvas: (u32, u32), depth: usize) -> Cost {
    let cost = group_cost(mask.root(), parent, canvas, depth + 1);
    match mask.mask() {
        Some(nested) => cost.nest(mask_cost(nested, parent, canvas, depth + 1), canvas),
        None => cost,
    }
}

fn node_cost(node: &usvg::Node, transform: Transform, canvas: (u32, u32), depth: usize) -> Cost {
    match node {
        usvg::Node::Group(group) => group_cost(group, transform, canvas, depth),
        usvg::Node::Text(text) => group_cost(text.flattened(), transform, canvas, depth),
        usvg::Node::Path(path) => {
            if beyond_reliable_math(path.stroke_bounding_box(), transform) {
                return Cost {
                    bytes: u64::MAX,
                    work: u64::MAX,
                };
            }
            let area = layer_pixels_rect(path.stroke_bounding_box(), transform, canvas);
            let mut cost = Cost {
                bytes: 0,
                work: area.saturating_add(path.data().len() as u64),
            };
            let paints = [
                path.fill().map(|f| f.paint()),
                path.stroke().map(|s| s.paint()),
            ];
            for paint in paints.into_iter().flatten() {
                if let usvg::Paint::Pattern(pattern) = paint {
                    let c = pattern_cost(pattern, transform, canvas, depth);
                    cost.bytes = cost.bytes.max(c.bytes);
                    cost.work = cost.work.saturating_add(c.work).saturating_add(area);
                }
            }
            cost
        }
        // Images are never resolved (see the module docs): none reach here.
        usvg::Node::Image(_) => Cost::default(),
    }
}

/// tiny-skia's own limit for reliable float math on device coordinates
/// (its `edge_clipper.rs`): beyond it, clipping loses precision and the
/// edge walker trips (found by fuzzing: a stroke 4 × 10^21 wide).
const MAX_DEVICE_COORD: f32 = (1 << 22) as f32;

/// Whether `rect` reaches past [`MAX_DEVICE_COORD`] in device space (or
/// is not a number). Such a path makes the whole drawing too complex.
fn beyond_reliable_math(rect: usvg::Rect, transform: Transform) -> bool {
    let Some(r) = rect.transform(transform) else {
        return false;
    };
    let m = MAX_DEVICE_COORD;
    !(r.left() >= -m && r.top() >= -m && r.right() <= m && r.bottom() <= m)
}

/// A pattern is drawn on a tile of its own size in device pixels, with no
/// cut to the canvas.
fn pattern_cost(
    pattern: &usvg::Pattern,
    transform: Transform,
    canvas: (u32, u32),
    depth: usize,
) -> Cost {
    let (sx, sy) = transform.pre_concat(pattern.transform()).get_scale();
    let rect = pattern.rect();
    let w = (f64::from(rect.width()) * f64::from(sx)).round().max(0.0);
    let h = (f64::from(rect.height()) * f64::from(sy)).round().max(0.0);
    let pixels = (w * h).min(u64::MAX as f64 / 8.0) as u64;
    let inner = group_cost(
        pattern.root(),
        Transform::from_scale(sx, sy),
        canvas,
        depth + 1,
    );
    Cost {
        bytes: pixels.saturating_mul(4).saturating_add(inner.bytes),
        work: pixels.saturating_add(inner.work),
    }
}

/// Operations per pixel of a filter primitive.
fn primitive_work(primitive: &usvg::filter::Primitive, transform: Transform) -> u64 {
    use usvg::filter::Kind;
    let (sx, sy) = transform.get_scale();
    match primitive.kind() {
        Kind::Morphology(m) => {
            let rx = (f64::from(m.radius_x().get()) * f64::from(sx)).min(1e6);
            let ry = (f64::from(m.radius_y().get()) * f64::from(sy)).min(1e6);
            ((2.0 * rx + 1.0) * (2.0 * ry + 1.0)) as u64
        }
        Kind::Turbulence(t) => 16u64.saturating_mul(u64::from(t.num_octaves()).max(1)),
        Kind::ConvolveMatrix(c) => {
            u64::from(c.matrix().columns()).saturating_mul(u64::from(c.matrix().rows()))
        }
        Kind::DiffuseLighting(_) | Kind::SpecularLighting(_) => 32,
        _ => 8,
    }
}

fn canvas_bytes(canvas: (u32, u32)) -> u64 {
    u64::from(canvas.0) * u64::from(canvas.1) * 4
}

fn layer_pixels(bbox: usvg::NonZeroRect, transform: Transform, canvas: (u32, u32)) -> u64 {
    layer_pixels_rect(bbox.to_rect(), transform, canvas)
}

/// Pixels of `rect` in device space, cut to the 5 × 5 canvases resvg
/// allows a layer.
fn layer_pixels_rect(rect: usvg::Rect, transform: Transform, canvas: (u32, u32)) -> u64 {
    let Some(device) = rect.transform(transform) else {
        // A degenerate transform: count the largest layer.
        return 25 * u64::from(canvas.0) * u64::from(canvas.1);
    };
    let w = f64::from(device.width()).clamp(1.0, 5.0 * f64::from(canvas.0)) + 4.0;
    let h = f64::from(device.height()).clamp(1.0, 5.0 * f64::from(canvas.1)) + 4.0;
    (w * h) as u64
}
