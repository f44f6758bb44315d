//! Entry names: raw bytes to text, then to a path that cannot escape,
//! hide its extension or break a log line.
//!
//! Names are labels here, never file system paths, but the CDR step will
//! write them into a new archive that a person unpacks on Windows: they
//! must be harmless there too.

use encoding_rs::SHIFT_JIS;

/// What an empty or fully stripped name becomes.
const UNNAMED: &str = "unnamed";

/// Longer neutralized names keep their head and tail (the extension).
const MAX_NAME_CHARS: usize = 255;

/// Decodes a raw entry name. `utf8_flag` is general purpose bit 11 (the zip
/// crate also sets it when it applied an Info-ZIP Unicode Path field).
///
/// Without the flag: valid UTF-8 is taken as such (macOS, 7-Zip and
/// Info-ZIP write UTF-8 without saying so), then CP932 (Japanese Windows
/// Explorer), then CP437, the format's default, which decodes anything.
pub(crate) fn decode(raw: &[u8], utf8_flag: bool) -> String {
    if utf8_flag {
        return String::from_utf8_lossy(raw).into_owned();
    }
    if let Ok(text) = std::str::from_utf8(raw) {
        return text.to_owned();
    }
    if let Some(text) = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(raw) {
        return text.into_owned();
    }
    raw.iter().map(|&b| cp437(b)).collect()
}

/// Makes a decoded name safe to show and to reuse as a relative path:
/// `\` becomes `/`; a drive letter, leading `/`, empty, `.` and `..`
/// components go; so do control characters and bidi controls (an RTLO can
/// make `invoice\u{202E}fdp.exe` show as `invoiceexe.pdf`).
pub(crate) fn neutralize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|&c| !is_hidden_control(c))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let without_drive = strip_drive(&cleaned);
    let parts: Vec<&str> = without_drive
        .split('/')
        .filter(|part| !is_dots_only(part))
        .collect();
    let joined = parts.join("/");
    if joined.is_empty() {
        return UNNAMED.to_owned();
    }
    shorten(joined)
}

/// Characters that are invisible, reorder text, or end a line.
fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `C:rest` → `rest`: Windows would resolve it against that drive.
fn strip_drive(name: &str) -> &str {
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        &name[2..]
    } else {
        name
    }
}

/// Empty, `.`, `..`, and the likes of `.. ` or `...`, which Windows trims
/// down to `..` or `.`.
fn is_dots_only(part: &str) -> bool {
    part.chars().all(|c| c == '.' || c == ' ')
}

/// Names are bounded so that path chains of nested entries stay small.
fn shorten(name: String) -> String {
    let count = name.chars().count();
    if count <= MAX_NAME_CHARS {
        return name;
    }
    let keep = (MAX_NAME_CHARS - 1) / 2;
    let head: String = name.chars().take(keep).collect();
    let tail: String = name.chars().skip(count - keep).collect();
    format!("{head}…{tail}")
}

/// IBM code page 437, the high half (the low half is ASCII).
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»\
░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀\
αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}";

fn cp437(byte: u8) -> char {
    if byte.is_ascii() {
        return char::from(byte);
    }
    CP437_HIGH
        .chars()
        .nth(usize::from(byte - 0x80))
        .unwrap_or('\u{FFFD}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cp437_table_covers_the_high_half() {
        assert_eq!(CP437_HIGH.chars().count(), 128);
        assert_eq!(cp437(0x80), 'Ç');
        assert_eq!(cp437(0xE1), 'ß');
        assert_eq!(cp437(0xFF), '\u{A0}');
    }

    #[test]
    fn names_decode_by_flag_then_utf8_then_cp932_then_cp437() {
        let mitsumori = "見積書.pdf";
        assert_eq!(decode(mitsumori.as_bytes(), true), mitsumori);
        assert_eq!(decode(mitsumori.as_bytes(), false), mitsumori);
        let (cp932, _, _) = SHIFT_JIS.encode(mitsumori);
        assert_eq!(decode(&cp932, false), mitsumori);
        // 0x5C as a CP932 trail byte is part of 表, not a path separator.
        let (hyo, _, _) = SHIFT_JIS.encode("表.xlsx");
        assert_eq!(hyo[1], b'\\');
        assert_eq!(neutralize(&decode(&hyo, false)), "表.xlsx");
        // 0x81 0x20 is no CP932 character: CP437 takes it.
        assert_eq!(decode(b"\x81 x", false), "ü x");
    }

    #[test]
    fn paths_cannot_climb_or_root() {
        assert_eq!(neutralize("../../etc/passwd"), "etc/passwd");
        assert_eq!(neutralize("/etc/x"), "etc/x");
        assert_eq!(neutralize("C:\\Windows\\x"), "Windows/x");
        assert_eq!(neutralize("c:relative.txt"), "relative.txt");
        assert_eq!(neutralize("a//./b/.. /c"), "a/b/c");
        assert_eq!(neutralize("\\\\server\\share\\f"), "server/share/f");
        assert_eq!(neutralize(""), UNNAMED);
        assert_eq!(neutralize("../.."), UNNAMED);
    }

    #[test]
    fn controls_and_bidi_are_removed() {
        assert_eq!(neutralize("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(neutralize("a\u{2066}b\u{200F}c\u{0}d\r\ne"), "abcde");
        // A component that is `..` once its controls are gone goes too.
        assert_eq!(neutralize(".\u{202E}./x"), "x");
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.exe", "a".repeat(1000));
        let short = neutralize(&long);
        assert_eq!(short.chars().count(), MAX_NAME_CHARS);
        assert!(short.ends_with("aaa.exe"));
    }
}
