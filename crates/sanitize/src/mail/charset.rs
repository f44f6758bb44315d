//! Bytes of a declared (or undeclared) charset to text, and text to the
//! output charset, without 文字化け and without silently dropping a byte.
//!
//! encoding_rs does the decoding; what this module adds is the mail-specific
//! policy around it: the labels Japanese mailers really send (CP50220,
//! Windows-31J…), detection when a label is missing or wrong (chardetng),
//! counting of undecodable bytes, and the ISO-2022-JP output fold table.

use encoding_rs::{DecoderResult, EUC_JP, EncoderResult, Encoding, ISO_2022_JP, SHIFT_JIS, UTF_8};

/// Text decoded from bytes, with what the report needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// WHATWG name of the encoding really used, e.g. "ISO-2022-JP".
    pub charset: &'static str,
    /// The label was missing, unknown or wrong and the charset was detected.
    pub detected: bool,
    /// Undecodable byte sequences, each replaced by U+FFFD.
    pub replaced: usize,
}

/// Decodes `bytes` labelled `label` (the Content-Type charset, if any).
pub fn decode(bytes: &[u8], label: Option<&str>) -> Decoded {
    // The common case first, validated once: UTF-8, labelled or not.
    let utf8_label = label
        .and_then(encoding_for_label)
        .is_none_or(|e| e == UTF_8);
    if utf8_label
        && !has_jis_escape(bytes)
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        let detected = label.is_none() && !bytes.is_ascii();
        return Decoded {
            text: text.to_owned(),
            charset: UTF_8.name(),
            detected,
            replaced: 0,
        };
    }
    let declared = label
        .and_then(encoding_for_label)
        .filter(|&e| !label_is_wrong(e, label, bytes));
    if let Some(encoding) = declared {
        let (text, replaced) = decode_counting(bytes, encoding);
        if replaced == 0 {
            return Decoded {
                text,
                charset: encoding.name(),
                detected: false,
                replaced,
            };
        }
        // A wrong label is common (Shift_JIS sent as "iso-2022-jp" or
        // "utf-8"): when the label fails on many bytes, not just a damaged
        // one or two, keep whichever reading loses fewer.
        let guess = detect(bytes);
        if guess != encoding && label_fails(encoding, &text, replaced, bytes) {
            let (guessed, guessed_replaced) = decode_counting(bytes, guess);
            if guessed_replaced < replaced {
                return Decoded {
                    text: guessed,
                    charset: guess.name(),
                    detected: true,
                    replaced: guessed_replaced,
                };
            }
        }
        return Decoded {
            text,
            charset: encoding.name(),
            detected: false,
            replaced,
        };
    }
    let encoding = detect(bytes);
    let (text, replaced) = decode_counting(bytes, encoding);
    // Plain ASCII (or valid UTF-8) needs no label to be read right.
    let detected = label.is_some() || !(encoding == UTF_8 && bytes.is_ascii());
    Decoded {
        text,
        charset: encoding.name(),
        detected,
        replaced,
    }
}

/// Whether a label's reading fails on so much that another reading should
/// be tried. Damaged text (a few bad bytes in good UTF-8) keeps its label:
/// for UTF-8 the label fails only if errors outnumber the characters it
/// read well; for other charsets, if more than 1 byte in 20 is bad.
fn label_fails(encoding: &'static Encoding, text: &str, replaced: usize, bytes: &[u8]) -> bool {
    if encoding == UTF_8 {
        let good = text
            .chars()
            .filter(|&c| !c.is_ascii() && c != '\u{FFFD}')
            .count();
        return replaced > good;
    }
    let non_ascii = bytes.iter().filter(|b| !b.is_ascii()).count();
    replaced > 2.max(non_ascii / 20)
}

/// Labels that cannot be right for these bytes: "us-ascii" on 8-bit bytes,
/// and a single-byte charset on bytes that are valid multi-byte UTF-8 (real
/// Latin-1 text is practically never valid UTF-8).
fn label_is_wrong(encoding: &'static Encoding, label: Option<&str>, bytes: &[u8]) -> bool {
    if bytes.is_ascii() {
        return false;
    }
    let ascii_label = label.is_some_and(|l| {
        matches!(
            l.trim().trim_matches('"').to_ascii_lowercase().as_str(),
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us"
        )
    });
    ascii_label || (encoding.is_single_byte() && std::str::from_utf8(bytes).is_ok())
}

/// The encoding for a charset label, including the Microsoft and legacy
/// Japanese names that WHATWG labels do not cover.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches('"');
    let lower = label.to_ascii_lowercase();
    let japanese = match lower.as_str() {
        // CP50220/50221/50222 and ISO-2022-JP-MS are supersets that encoding_rs'
        // ISO-2022-JP decoder reads (NEC row 13, IBM rows, ESC ( I kana).
        "cp50220"
        | "cp50221"
        | "cp50222"
        | "iso-2022-jp-ms"
        | "iso-2022-jp-1"
        | "iso-2022-jp-2"
        | "iso-2022-jp-3"
        | "iso-2022-jp-2004"
        | "x-windows-iso2022jp" => Some(ISO_2022_JP),
        "cp932" | "ms932" | "windows-932" | "x-ms-cp932" | "ibm-943" | "shift-jis"
        | "x-shift_jis" | "shift_jisx0213" | "shift_jis-2004" => Some(SHIFT_JIS),
        "cp51932" | "eucjp-ms" | "euc-jp-ms" | "eucjp" | "x-eucjp" | "euc-jisx0213" => Some(EUC_JP),
        _ => None,
    };
    japanese.or_else(|| Encoding::for_label_no_replacement(lower.as_bytes()))
}

/// The charset an HTML document declares in its first 1024 bytes
/// (`<meta charset=…>` or `<meta http-equiv … content="…; charset=…">`),
/// for HTML parts sent without a MIME charset label. A simplified form of
/// the HTML prescan: enough for what mailers write.
pub fn html_meta_charset(html: &[u8]) -> Option<&str> {
    let head = &html[..html.len().min(1024)];
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = memchr::memmem::find(&lower[from..], b"<meta") {
        let tag_start = from + at;
        let tag_end =
            memchr::memchr(b'>', &lower[tag_start..]).map_or(lower.len(), |e| tag_start + e);
        if let Some(c) = memchr::memmem::find(&lower[tag_start..tag_end], b"charset") {
            let mut i = tag_start + c + "charset".len();
            while i < tag_end && matches!(lower[i], b' ' | b'=' | b'"' | b'\'') {
                i += 1;
            }
            let end = (i..tag_end)
                .find(|&j| {
                    !(lower[j].is_ascii_alphanumeric()
                        || matches!(lower[j], b'-' | b'_' | b'.' | b':'))
                })
                .unwrap_or(tag_end);
            if end > i {
                return std::str::from_utf8(&head[i..end]).ok();
            }
        }
        from = tag_end;
    }
    None
}

/// Guesses the encoding of unlabelled bytes: UTF-8 when valid, ISO-2022-JP
/// when 7-bit with JIS escapes, otherwise chardetng (with a .jp hint).
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    if bytes.is_ascii() {
        return if has_jis_escape(bytes) {
            ISO_2022_JP
        } else {
            UTF_8
        };
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    detector.guess(Some(b"jp"), chardetng::Utf8Detection::Allow)
}

fn has_jis_escape(bytes: &[u8]) -> bool {
    memchr::memchr_iter(0x1b, bytes)
        .any(|i| matches!(bytes.get(i + 1..i + 3), Some(b"$B" | b"$@" | b"(I")))
}

/// Decodes with U+FFFD for each malformed sequence and counts them.
fn decode_counting(bytes: &[u8], encoding: &'static Encoding) -> (String, usize) {
    if encoding == UTF_8
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        return (text.to_owned(), 0);
    }
    let shifted;
    let bytes = if encoding == ISO_2022_JP && bytes.contains(&0x0e) {
        shifted = shift_out_to_escape(bytes);
        &shifted[..]
    } else {
        bytes
    };
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let mut replaced = 0;
    let mut rest = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        rest = &rest[read..];
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::Malformed(_, _) => {
                replaced += 1;
                text.push('\u{FFFD}');
            }
            DecoderResult::OutputFull => text.reserve(rest.len().max(16) * 3),
        }
    }
    (text, replaced)
}

/// CP50222 writes half-width kana between SO and SI; encoding_rs knows only
/// the `ESC ( I` form, so rewrite one into the other. Two escapes in a row
/// are an error to the WHATWG decoder, so an escape made redundant by the
/// rewrite is left out.
fn shift_out_to_escape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut back_to_ascii = false;
    for &byte in bytes {
        if back_to_ascii && byte != 0x1b && byte != 0x0e {
            out.extend_from_slice(b"\x1b(B");
        }
        back_to_ascii = false;
        match byte {
            0x0e => {
                if out.ends_with(b"\x1b(B") || out.ends_with(b"\x1b(J") {
                    out.truncate(out.len() - 3);
                }
                out.extend_from_slice(b"\x1b(I");
            }
            0x0f => back_to_ascii = true,
            _ => out.push(byte),
        }
    }
    out
}

/// Text encoded as ISO-2022-JP for old Japanese mail clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// Characters ISO-2022-JP cannot carry (emoji…), written as 〓.
    pub unmappable: usize,
}

/// Encodes text as ISO-2022-JP. Characters that Unicode has twice (the
/// wave-dash family) are folded to the form JIS X 0208 carries; anything
/// else without a JIS code becomes the geta mark 〓, never an HTML entity.
pub fn encode_iso_2022_jp(text: &str) -> Encoded {
    let folded: String = text.chars().map(fold_for_jis).collect();
    let mut encoder = ISO_2022_JP.new_encoder();
    let mut bytes = Vec::with_capacity(folded.len() + folded.len() / 2 + 8);
    let mut unmappable = 0;
    let mut rest = folded.as_str();
    loop {
        let needed = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len() * 8)
            + 8;
        bytes.reserve(needed);
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut bytes, true);
        rest = &rest[read..];
        match result {
            EncoderResult::InputEmpty => break,
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(_) => {
                unmappable += 1;
                // 〓 is JIS 0x222E; the encoder is left in whatever state it
                // was, so write it through the encoder rather than raw.
                let (result, _) =
                    encoder.encode_from_utf8_to_vec_without_replacement("〓", &mut bytes, false);
                debug_assert!(matches!(result, EncoderResult::InputEmpty));
            }
        }
    }
    Encoded { bytes, unmappable }
}

/// The JIS X 0208 form of characters that Unicode encodes twice.
fn fold_for_jis(c: char) -> char {
    match c {
        '\u{301C}' => '\u{FF5E}', // WAVE DASH → FULLWIDTH TILDE (JIS 1-33)
        '\u{2016}' => '\u{2225}', // DOUBLE VERTICAL LINE → PARALLEL TO
        '\u{2212}' => '\u{FF0D}', // MINUS SIGN → FULLWIDTH HYPHEN-MINUS
        '\u{00A2}' => '\u{FFE0}',
        '\u{00A3}' => '\u{FFE1}',
        '\u{00AC}' => '\u{FFE2}',
        '\u{00A6}' => '\u{FFE4}',
        '\u{2014}' => '\u{2015}', // EM DASH → HORIZONTAL BAR (JIS 1-29)
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp50220_extensions_decode() {
        // ① ㈱ Ⅲ (NEC row 13), then half-width ｱ via ESC ( I.
        let d = decode(b"\x1b$B-!-j-7\x1b(I1\x1b(B", Some("ISO-2022-JP"));
        assert_eq!(d.text, "①㈱Ⅲｱ");
        assert_eq!((d.replaced, d.detected), (0, false));
    }

    #[test]
    fn cp50222_shift_out_kana_decode() {
        let d = decode(b"\x0e12\x0fA", Some("iso-2022-jp"));
        assert_eq!(d.text, "ｱｲA");
        let d = decode(
            b"\x1b$B%+%J\x1b(B\x0e6E\x0f\x1b$BA43Q\x1b(B",
            Some("iso-2022-jp"),
        );
        assert_eq!((d.text.as_str(), d.replaced), ("カナｶﾅ全角", 0));
    }

    #[test]
    fn shift_jis_is_read_as_cp932() {
        let d = decode(b"\x81\x60\x81\x7c\x87\x40", Some("Shift_JIS"));
        assert_eq!(d.text, "～－①");
        assert_eq!(d.charset, "Shift_JIS");
    }

    #[test]
    fn wrong_label_is_detected() {
        // Shift_JIS bytes labelled ISO-2022-JP.
        let sjis = encoding_rs::SHIFT_JIS.encode("会議の日程について").0;
        let d = decode(&sjis, Some("iso-2022-jp"));
        assert_eq!(d.text, "会議の日程について");
        assert!(d.detected);
        // UTF-8 labelled us-ascii.
        let d = decode("日本語".as_bytes(), Some("us-ascii"));
        assert_eq!((d.text.as_str(), d.detected), ("日本語", true));
    }

    #[test]
    fn a_damaged_byte_does_not_flip_the_charset() {
        let mut bytes = "こんにちは、会議の件です。".as_bytes().to_vec();
        bytes.push(0xc7);
        let d = decode(&bytes, Some("utf-8"));
        assert_eq!(d.text, "こんにちは、会議の件です。\u{FFFD}");
        assert_eq!((d.charset, d.replaced, d.detected), ("UTF-8", 1, false));
        let mut bytes = "会議の件です。".as_bytes().to_vec();
        bytes.extend_from_slice(b"\x89\xfe\x01\x83\xff\x00\xc2\x8f\x9a\xe0");
        let d = decode(&bytes, Some("utf-8"));
        assert!(d.text.starts_with("会議の件です。"), "{}", d.text);
        assert_eq!(d.charset, "UTF-8");
        // Latin-1 labelled UTF-8 and Latin-1 itself.
        assert_eq!(decode("café".as_bytes(), Some("iso-8859-1")).text, "café");
        assert_eq!(decode(b"caf\xe9", Some("iso-8859-1")).text, "café");
    }

    #[test]
    fn html_meta_charset_is_found() {
        assert_eq!(
            html_meta_charset(b"<html><head><META charset=\"Shift_JIS\">"),
            Some("Shift_JIS")
        );
        let html = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-jp\"><p>x";
        assert_eq!(html_meta_charset(html), Some("euc-jp"));
        assert_eq!(html_meta_charset(b"<meta name=x><p>charset=no"), None);
        assert_eq!(html_meta_charset(b"<meta charset="), None);
    }

    #[test]
    fn missing_label_is_detected() {
        let euc = encoding_rs::EUC_JP
            .encode("東京都千代田区霞が関の庁舎で会議があります")
            .0;
        assert_eq!(
            decode(&euc, None).text,
            "東京都千代田区霞が関の庁舎で会議があります"
        );
        assert_eq!(decode(b"\x1b$B$3$s$K$A$O\x1b(B", None).text, "こんにちは");
    }

    #[test]
    fn undecodable_bytes_are_counted_not_dropped() {
        let d = decode(b"ab\xff\xfecd", Some("utf-8"));
        assert!(d.text.starts_with("ab") && d.text.ends_with("cd"));
        assert!(d.replaced >= 1);
        assert_eq!(d.text.matches('\u{FFFD}').count(), d.replaced);
    }

    #[test]
    fn iso_2022_jp_output_folds_and_substitutes() {
        let e = encode_iso_2022_jp("10時〜12時 ① ｱ 😀");
        assert_eq!(e.unmappable, 1);
        assert!(e.bytes.is_ascii());
        let back = decode(&e.bytes, Some("iso-2022-jp")).text;
        assert_eq!(back, "10時～12時 ① ア 〓");
    }
}
