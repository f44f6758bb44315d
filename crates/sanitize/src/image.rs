//! Images re-encoded from their pixels: whatever came with them (EXIF and
//! GPS, comments, ICC profiles, a payload after the image end, the other
//! frames of an animation) is left behind. The pixel count is checked from
//! the header before any pixel buffer is allocated.

use std::io::Cursor;

use ::image::codecs::png::{CompressionType, FilterType, PngEncoder};
use ::image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use serde::{Deserialize, Serialize};

/// How images are re-encoded (`[profiles.NAME.images]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageOptions {
    /// The output format.
    pub format: OutputFormat,
    /// JPEG quality, 1–100.
    pub jpeg_quality: u8,
    /// Largest image, in pixels (width × height), decoded; larger ones are
    /// removed. 40 MP holds any camera photo of today.
    pub max_pixels: u64,
}

impl Default for ImageOptions {
    fn default() -> Self {
        Self {
            format: OutputFormat::Auto,
            jpeg_quality: 85,
            max_pixels: 40_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// JPEG for photographs (what came as JPEG or WebP), PNG for the rest
    /// (screenshots, diagrams: lossless and small).
    Auto,
    Png,
    Jpeg,
}

/// A re-encoded image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reencoded {
    pub bytes: Vec<u8>,
    /// `png` or `jpg`: the extension the delivered name takes.
    pub extension: &'static str,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Why an image could not be re-encoded; each has a stable reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Not a format read here (PNG, JPEG, GIF, BMP, TIFF, WebP).
    Unsupported,
    TooManyPixels {
        width: u32,
        height: u32,
    },
    Broken(String),
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Unsupported => "image-format-not-supported",
            Error::TooManyPixels { .. } => "image-too-large",
            Error::Broken(_) => "image-broken",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unsupported => f.write_str("not a supported image format"),
            Error::TooManyPixels { width, height } => {
                write!(f, "{width}×{height} pixels is over the limit")
            }
            Error::Broken(why) => write!(f, "broken image: {why}"),
        }
    }
}

/// Decodes `bytes` (format from its magic number) and encodes the pixels
/// afresh. EXIF orientation is applied first, so a photo keeps looking the
/// way it did once its metadata is gone.
pub fn reencode(bytes: &[u8], options: &ImageOptions) -> Result<Reencoded, Error> {
    let format = ::image::guess_format(bytes).map_err(|_| Error::Unsupported)?;
    if !matches!(
        format,
        ImageFormat::Png
            | ImageFormat::Jpeg
            | ImageFormat::Gif
            | ImageFormat::Bmp
            | ImageFormat::Tiff
            | ImageFormat::WebP
    ) {
        return Err(Error::Unsupported);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = ::image::Limits::default();
    // 8 bytes per pixel covers 16-bit RGBA; decoders check it as they
    // allocate, the pixel count below is checked before they do.
    limits.max_alloc = Some(options.max_pixels.saturating_mul(8));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(broken)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > options.max_pixels {
        return Err(Error::TooManyPixels { width, height });
    }
    let orientation = decoder.orientation().map_err(broken)?;
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(broken)?;
    pixels.apply_orientation(orientation);
    let photo = match options.format {
        OutputFormat::Auto => matches!(format, ImageFormat::Jpeg | ImageFormat::WebP),
        OutputFormat::Png => false,
        OutputFormat::Jpeg => true,
    };
    let (width, height) = (pixels.width(), pixels.height());
    // jpeg-encoder takes sides up to 65,535 pixels; a wider "photo" goes
    // out as PNG.
    let sides = u16::try_from(width).ok().zip(u16::try_from(height).ok());
    if photo && let Some((w, h)) = sides {
        // JPEG has no alpha: flatten on white first.
        let rgb = on_white(&pixels);
        let quality = options.jpeg_quality.clamp(1, 100);
        let bytes = jpeg(rgb.as_bytes(), w, h, false, quality)
            .ok_or_else(|| Error::Broken("JPEG encoding failed".into()))?;
        Ok(Reencoded {
            bytes,
            extension: "jpg",
            content_type: "image/jpeg",
            width,
            height,
        })
    } else {
        Ok(Reencoded {
            bytes: png(&pixels)?,
            extension: "png",
            content_type: "image/png",
            width,
            height,
        })
    }
}

/// Pixels as a PNG: the one PNG encoder of the core (re-encoded images,
/// rasterized SVG). Fast deflate: ~9 ms per megapixel against ~59 for the
/// default, for files a little larger.
pub(crate) fn png(pixels: &DynamicImage) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive);
    pixels.write_with_encoder(encoder).map_err(broken)?;
    Ok(out)
}

/// 8-bit grey or RGB samples as a baseline JPEG. jpeg-encoder (without its
/// `simd` feature: no unsafe code) is several times faster than the image
/// crate's encoder; the PDF flattener uses it for photographic pages too.
pub(crate) fn jpeg(
    samples: &[u8],
    width: u16,
    height: u16,
    gray: bool,
    quality: u8,
) -> Option<Vec<u8>> {
    let color = if gray {
        jpeg_encoder::ColorType::Luma
    } else {
        jpeg_encoder::ColorType::Rgb
    };
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(samples, width, height, color)
        .ok()?;
    Some(out)
}

/// The image as 8-bit RGB, transparent areas composed over white.
pub(crate) fn on_white(pixels: &DynamicImage) -> DynamicImage {
    if !pixels.color().has_alpha() {
        return DynamicImage::ImageRgb8(pixels.to_rgb8());
    }
    let rgba = pixels.to_rgba8();
    let rgb = ::image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        ::image::Rgb([over(r), over(g), over(b)])
    });
    DynamicImage::ImageRgb8(rgb)
}

fn broken(e: ::image::ImageError) -> Error {
    match e {
        ::image::ImageError::Limits(_) => Error::Broken("over the decoder's memory limit".into()),
        e => Error::Broken(e.to_string()),
    }
}
