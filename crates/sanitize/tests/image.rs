//! Image re-encoding: metadata and trailing bytes gone, pixel bombs refused
//! before allocation. Outputs are checked at the byte level (segments and
//! chunks), not with the code under test.

mod support;

use std::io::Cursor;
use std::time::Instant;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use mukaika_sanitize::image::{Error, ImageOptions, OutputFormat, reencode};
use support::crc32;

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| Rgba([x as u8, y as u8, 200, 255]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg() -> Vec<u8> {
    let img = RgbImage::from_fn(64, 48, |x, y| Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .unwrap();
    out
}

/// A JPEG with an EXIF APP1 segment (GPS tag text inside) after SOI, and a
/// payload after EOI.
fn jpeg_with_exif_and_payload() -> Vec<u8> {
    let plain = jpeg();
    let exif = b"Exif\0\0MM\0*GPSLatitude 35.6812N GPSLongitude 139.7671E camera=secret";
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    app1.extend_from_slice(exif);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out.extend_from_slice(b"PK\x03\x04 hidden zip after the image");
    out
}

/// PNG chunk types in order.
fn png_chunks(bytes: &[u8]) -> Vec<String> {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let mut at = 8;
    let mut chunks = Vec::new();
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        chunks.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        at += 12 + len;
    }
    assert_eq!(at, bytes.len(), "nothing after IEND");
    chunks
}

/// JPEG marker bytes of the segments before the scan.
fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(&bytes[..2], [0xFF, 0xD8]);
    let mut at = 2;
    let mut markers = Vec::new();
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        at += 2 + u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
    }
    markers
}

#[test]
fn png_metadata_and_trailing_bytes_are_gone() {
    let mut input = png(20, 10);
    // A tEXt chunk before IEND, and bytes after it.
    let iend = input.len() - 12;
    let text = b"Commentjavascript:alert(1)";
    let mut chunk = (text.len() as u32).to_be_bytes().to_vec();
    let mut typed = b"tEXt".to_vec();
    typed.extend_from_slice(text);
    chunk.extend_from_slice(&typed);
    chunk.extend_from_slice(&crc32(&typed).to_be_bytes());
    input.splice(iend..iend, chunk);
    input.extend_from_slice(b"<script>after IEND</script>");
    assert!(png_chunks(&input[..input.len() - 27]).contains(&"tEXt".to_string()));

    let out = reencode(&input, &ImageOptions::default()).unwrap();
    assert_eq!((out.extension, out.width, out.height), ("png", 20, 10));
    let chunks = png_chunks(&out.bytes);
    assert!(
        chunks
            .iter()
            .all(|c| ["IHDR", "IDAT", "IEND"].contains(&c.as_str())),
        "{chunks:?}"
    );
    assert!(!String::from_utf8_lossy(&out.bytes).contains("script"));
}

#[test]
fn jpeg_exif_gps_and_payload_are_gone() {
    let input = jpeg_with_exif_and_payload();
    assert!(jpeg_markers(&input).contains(&0xE1));
    let out = reencode(&input, &ImageOptions::default()).unwrap();
    assert_eq!((out.extension, out.content_type), ("jpg", "image/jpeg"));
    let markers = jpeg_markers(&out.bytes);
    assert!(!markers.contains(&0xE1), "no APP1 (EXIF): {markers:x?}");
    let text = String::from_utf8_lossy(&out.bytes);
    assert!(!text.contains("GPS") && !text.contains("Exif") && !text.contains("hidden zip"));
    assert!(out.bytes.ends_with(&[0xFF, 0xD9]), "ends at EOI");
    // And it is still the same picture size.
    assert_eq!((out.width, out.height), (64, 48));
}

#[test]
fn the_profile_chooses_the_format() {
    let options = |format| ImageOptions {
        format,
        ..ImageOptions::default()
    };
    assert_eq!(
        reencode(&jpeg(), &options(OutputFormat::Png))
            .unwrap()
            .extension,
        "png"
    );
    let from_png = reencode(&png(8, 8), &options(OutputFormat::Jpeg)).unwrap();
    assert_eq!(jpeg_markers(&from_png.bytes)[0], 0xE0, "JFIF APP0 first");
    assert_eq!(
        reencode(&png(8, 8), &options(OutputFormat::Auto))
            .unwrap()
            .extension,
        "png"
    );
}

#[test]
fn animated_gif_becomes_its_first_frame() {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame};
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        for shade in [10u8, 250] {
            let frame = RgbaImage::from_pixel(6, 4, Rgba([shade, shade, shade, 255]));
            encoder
                .encode_frame(Frame::from_parts(
                    frame,
                    0,
                    0,
                    Delay::from_numer_denom_ms(100, 1),
                ))
                .unwrap();
        }
    }
    let out = reencode(&gif, &ImageOptions::default()).unwrap();
    assert_eq!(out.extension, "png");
    let chunks = png_chunks(&out.bytes);
    assert!(
        !chunks.contains(&"acTL".to_string()),
        "not an APNG: {chunks:?}"
    );
    let decoded = image::load_from_memory(&out.bytes).unwrap().to_rgba8();
    assert!(decoded.get_pixel(0, 0).0[0] < 50, "the first (dark) frame");
}

#[test]
fn a_pixel_bomb_is_refused_before_decoding() {
    // A valid PNG header claiming 100,000 × 100,000 pixels (10 G pixels).
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let started = Instant::now();
    let err = reencode(&bomb, &ImageOptions::default()).unwrap_err();
    assert!(
        matches!(err, Error::TooManyPixels { .. } | Error::Broken(_)),
        "{err}"
    );
    assert!(
        started.elapsed().as_millis() < 500,
        "{:?}",
        started.elapsed()
    );
    // Within the limit but a truncated body: broken, not a panic.
    let big = png(300, 300);
    let err = reencode(&big[..big.len() / 2], &ImageOptions::default()).unwrap_err();
    assert_eq!(err.reason(), "image-broken");
}

#[test]
fn garbage_is_not_an_image() {
    for input in [
        &b""[..],
        b"GIF8",
        b"\x89PNG\r\n\x1a\n",
        b"hello world",
        b"BM",
    ] {
        let err = reencode(input, &ImageOptions::default()).unwrap_err();
        assert!(
            matches!(err, Error::Unsupported | Error::Broken(_)),
            "{input:?}: {err}"
        );
    }
}
