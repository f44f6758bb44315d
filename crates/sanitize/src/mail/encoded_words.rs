//! RFC 2047 encoded-words joined before they are decoded.
//!
//! Real mailers split a long Subject, display name or filename into several
//! `=?UTF-8?B?…?=` words wherever the byte count falls, inside a multi-byte
//! character (or, for ISO-2022-JP, inside an escape sequence). Decoded one
//! by one, as mail-parser does, each half becomes U+FFFD
//! (庁内���ステ��更新). Thunderbird, MimeKit and Python's `email` join
//! adjacent words of the same charset first; so does this module: it
//! rewrites a raw header value so that each run of adjacent words of one
//! charset becomes a single UTF-8 word, which mail-parser then reads as
//! usual. Words of different charsets are never joined, and nothing that
//! is not a well-formed encoded-word is touched.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use encoding_rs::ISO_2022_JP;

use super::charset;

/// Most words joined into one: a header is bounded already, this bounds
/// the work per run.
const MAX_RUN: usize = 1_000;

/// One well-formed encoded-word in a header value.
struct Word<'a> {
    start: usize,
    end: usize,
    /// The charset label, without an RFC 2231 language (`UTF-8*ja` → `UTF-8`).
    charset: &'a str,
    bytes: Vec<u8>,
}

/// `value` with every run of two or more adjacent encoded-words of the same
/// charset (only whitespace between them) replaced by one UTF-8 B word of
/// their bytes joined and then decoded; `None` when there is no such run.
pub fn join_adjacent(value: &str) -> Option<String> {
    if !value.contains("=?") {
        return None;
    }
    let words = words(value);
    let mut out = String::with_capacity(value.len());
    let mut copied = 0;
    let mut joined_any = false;
    let mut i = 0;
    while i < words.len() {
        let mut j = i + 1;
        while j < words.len()
            && j - i < MAX_RUN
            && words[j].charset.eq_ignore_ascii_case(words[i].charset)
            && is_folding_space(&value[words[j - 1].end..words[j].start])
        {
            j += 1;
        }
        if j - i >= 2 {
            let mut bytes: Vec<u8> = words[i..j].iter().flat_map(|w| w.bytes.clone()).collect();
            let label = words[i].charset;
            if charset::encoding_for_label(label) == Some(ISO_2022_JP) {
                bytes = drop_redundant_escapes(&bytes);
            }
            let text = charset::decode(&bytes, Some(label)).text;
            out.push_str(&value[copied..words[i].start]);
            out.push_str("=?UTF-8?B?");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(text.as_bytes()));
            out.push_str("?=");
            copied = words[j - 1].end;
            joined_any = true;
        }
        i = j;
    }
    out.push_str(&value[copied..]);
    joined_any.then_some(out)
}

/// Every well-formed encoded-word in `value`, in order.
fn words(value: &str) -> Vec<Word<'_>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = value[from..].find("=?") {
        let start = from + at;
        match word_at(value, start) {
            Some(word) => {
                from = word.end;
                found.push(word);
            }
            None => from = start + 2,
        }
    }
    found
}

/// The encoded-word starting at `start`, if one does: `=?charset?B|Q?text?=`
/// with no whitespace or `?` inside its fields.
fn word_at(value: &str, start: usize) -> Option<Word<'_>> {
    let rest = &value[start + 2..];
    let (label, rest) = rest.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let (text, _) = rest.split_once("?=")?;
    let token = |s: &str| !s.bytes().any(|b| b.is_ascii_whitespace() || b == b'?');
    if label.is_empty() || !token(label) || !token(text) || label.len() > 64 {
        return None;
    }
    let charset = label.split_once('*').map_or(label, |(c, _)| c);
    let bytes = match encoding {
        "B" | "b" => b_decode(text)?,
        "Q" | "q" => q_decode(text),
        _ => return None,
    };
    let end = start + 2 + label.len() + 1 + encoding.len() + 1 + text.len() + 2;
    Some(Word {
        start,
        end,
        charset,
        bytes,
    })
}

/// Only folding whitespace between two words (which RFC 2047 says to drop).
fn is_folding_space(between: &str) -> bool {
    between
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn b_decode(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT.decode(text).ok()
}

fn q_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'_', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// ISO-2022-JP words each end back in ASCII and the next starts with its
/// own escape: joined, that is two escape sequences in a row, which the
/// WHATWG decoder reads as an error. The first of two adjacent escapes
/// switches to nothing, so it is left out.
fn drop_redundant_escapes(bytes: &[u8]) -> Vec<u8> {
    let escape_len = |at: usize| match bytes.get(at..) {
        Some([0x1b, b'(', b'B' | b'J' | b'I', ..]) | Some([0x1b, b'$', b'@' | b'B', ..]) => 3,
        Some([0x1b, b'$', b'(', b'D' | b'Q' | b'O', ..]) => 4,
        _ => 0,
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let len = escape_len(i);
        if len > 0 && escape_len(i + len) > 0 {
            i += len;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Splits `bytes` into encoded-words every `every` bytes, cutting
    /// through characters, as the mailers of issue 16 do.
    fn split_words(label: &str, bytes: &[u8], every: usize) -> String {
        bytes
            .chunks(every)
            .map(|c| format!("=?{label}?B?{}?=", b(c)))
            .collect::<Vec<_>>()
            .join("\r\n ")
    }

    fn decoded(value: &str) -> String {
        let joined = join_adjacent(value).expect("a run to join");
        let word = joined
            .trim()
            .strip_prefix("=?UTF-8?B?")
            .and_then(|w| w.strip_suffix("?="))
            .expect("one word");
        String::from_utf8(b_decode(word).unwrap()).unwrap()
    }

    #[test]
    fn issue_16_utf8_split_inside_characters_is_joined() {
        let subject = "庁内システム更新のお知らせ（第二版）";
        for every in [4, 5, 7, 10] {
            let value = split_words("UTF-8", subject.as_bytes(), every);
            assert_eq!(decoded(&value), subject, "every {every}");
        }
    }

    #[test]
    fn issue_16_q_words_and_mixed_encodings_of_one_charset() {
        // 情報 in Q split inside 情, then 報 in B: one charset, two encodings.
        let value = "=?utf-8?q?=E6=83?= =?UTF-8?Q?=85?=\t=?utf-8?b?5aCx?=";
        assert_eq!(decoded(value), "情報");
        assert_eq!(decoded("=?UTF-8?Q?a_b?= =?UTF-8?Q?_c?="), "a b c");
    }

    #[test]
    fn issue_16_iso_2022_jp_split_inside_an_escape_sequence() {
        let jis = encoding_rs::ISO_2022_JP.encode("議事録の送付").0;
        assert_eq!(&jis[..3], b"\x1b$B");
        for every in [1, 2, 4, 5] {
            let value = split_words("ISO-2022-JP", &jis, every);
            assert_eq!(decoded(&value), "議事録の送付", "every {every}");
        }
        // Words that each end back in ASCII, as RFC 1468 says: joined, the
        // escapes meet and must not count as an error.
        let a = encoding_rs::ISO_2022_JP.encode("議事").0;
        let c = encoding_rs::ISO_2022_JP.encode("録").0;
        let value = format!("=?ISO-2022-JP?B?{}?= =?iso-2022-jp?B?{}?=", b(&a), b(&c));
        assert_eq!(decoded(&value), "議事録");
    }

    #[test]
    fn issue_16_shift_jis_and_language_suffix() {
        let sjis = encoding_rs::SHIFT_JIS.encode("見積書のご送付").0;
        let value = split_words("Shift_JIS*ja", &sjis, 3);
        assert_eq!(decoded(&value), "見積書のご送付");
    }

    #[test]
    fn different_charsets_are_never_joined() {
        let value = format!("=?UTF-8?B?{}?= =?ISO-8859-1?Q?caf=E9?=", b("会".as_bytes()));
        assert_eq!(join_adjacent(&value), None);
        // Two UTF-8 halves with a Latin-1 word between them stay apart.
        let (x, y) = "会".as_bytes().split_at(1);
        let value = format!(
            "=?UTF-8?B?{}?= =?ISO-8859-1?Q?x?= =?UTF-8?B?{}?=",
            b(x),
            b(y)
        );
        assert_eq!(join_adjacent(&value), None);
    }

    #[test]
    fn text_around_and_between_runs_is_kept() {
        let (x, y) = "議".as_bytes().split_at(2);
        let value = format!(
            "\"=?UTF-8?B?{}?= =?UTF-8?B?{}?=\" <a@example.jp>, x =?UTF-8?B?{}?= y",
            b(x),
            b(y),
            b("z".as_bytes())
        );
        let joined = join_adjacent(&value).unwrap();
        assert_eq!(
            joined,
            format!(
                "\"=?UTF-8?B?{}?=\" <a@example.jp>, x =?UTF-8?B?{}?= y",
                b("議".as_bytes()),
                b(b"z")
            )
        );
        // Words separated by other text are not adjacent.
        assert_eq!(
            join_adjacent(&format!("=?UTF-8?B?{}?= - =?UTF-8?B?{}?=", b(x), b(y))),
            None
        );
    }

    #[test]
    fn malformed_words_are_left_alone() {
        for value in [
            "=?UTF-8?B?not base64!?= =?UTF-8?B?4pyT?=",
            "=?UTF-8?X?abc?= =?UTF-8?X?def?=",
            "=??B?YQ==?= =??B?YQ==?=",
            "=?UTF-8?B?YQ",
            "=?",
            "?= =?",
        ] {
            assert_eq!(join_adjacent(value), None, "{value}");
        }
    }
}
