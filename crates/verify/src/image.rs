//! Images: bare pixels that decode. Read chunk by chunk and segment by
//! segment here, then decoded by the image crate to prove they are images.

/// Largest image decoded to check it (pixels); the sanitizer's own limit
/// is lower.
const MAX_PIXELS: u64 = 1_000_000_000;

/// Only IHDR, PLTE, IDAT, tRNS and IEND, nothing after IEND, and it decodes.
pub fn png(bytes: &[u8], complain: &mut impl FnMut(String)) {
    let Some(mut rest) = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n") else {
        return complain("not a PNG".into());
    };
    while rest.len() >= 12 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = String::from_utf8_lossy(&rest[4..8]).into_owned();
        if !["IHDR", "PLTE", "IDAT", "IEND", "tRNS"].contains(&kind.as_str()) {
            complain(format!("PNG chunk {kind}"));
        }
        rest = rest.get(12 + len..).unwrap_or_default();
        if kind == "IEND" {
            break;
        }
    }
    if !rest.is_empty() {
        complain(format!("{} bytes after the PNG's IEND", rest.len()));
    }
    decodes(bytes, ::image::ImageFormat::Png, complain);
}

/// No APPn segment but JFIF's APP0, no comment, ends at EOI, and decodes.
pub fn jpeg(bytes: &[u8], complain: &mut impl FnMut(String)) {
    if !bytes.starts_with(&[0xFF, 0xD8]) || !bytes.ends_with(&[0xFF, 0xD9]) {
        return complain("not a JPEG ending at EOI".into());
    }
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF && bytes[at + 1] != 0xDA {
        let marker = bytes[at + 1];
        if (0xE1..=0xEF).contains(&marker) || marker == 0xFE {
            complain(format!("JPEG segment FF{marker:02X} (metadata)"));
        }
        at += 2 + u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
    }
    decodes(bytes, ::image::ImageFormat::Jpeg, complain);
}

fn decodes(bytes: &[u8], format: ::image::ImageFormat, complain: &mut impl FnMut(String)) {
    let mut reader = ::image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = ::image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    if let Err(e) = reader.decode() {
        complain(format!("does not decode: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complaints(f: impl FnOnce(&mut dyn FnMut(String))) -> Vec<String> {
        let mut out = Vec::new();
        f(&mut |w| out.push(w));
        out
    }

    #[test]
    fn metadata_and_trailers_are_caught() {
        let jpeg_with_exif = [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x04, 0x45, 0x78, 0xFF, 0xD9];
        let found = complaints(|c| jpeg(&jpeg_with_exif, &mut |w| c(w)));
        assert!(found.iter().any(|w| w.contains("FFE1")), "{found:?}");
        let mut with_text = b"\x89PNG\r\n\x1a\n".to_vec();
        with_text.extend_from_slice(b"\0\0\0\x01tEXtX\0\0\0\0\0\0\0\0IEND\0\0\0\0trailer");
        let found = complaints(|c| png(&with_text, &mut |w| c(w)));
        assert!(found.iter().any(|w| w.contains("tEXt")), "{found:?}");
        assert!(
            found.iter().any(|w| w.contains("7 bytes after")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|w| w.contains("does not decode")),
            "{found:?}"
        );
    }
}
