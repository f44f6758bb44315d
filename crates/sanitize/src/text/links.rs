//! Links in delivered text: kept as plain text, defanged, or removed.
//!
//! Mail clients turn anything that looks like a URL into a link, so a
//! plain-text body is only link-free if nothing in it still looks like one.
//! Defanging breaks the patterns clients look for (`hxxps://`, `[.]`, `[@]`,
//! `[:]`) while a person can still read, and if need be retype, the address.
//!
//! What counts as a URL in text: `scheme://…` (any scheme), `www.host…`,
//! `mailto:`, `tel:` (lower case, then `+` or a digit: the `TEL:` label of a
//! Japanese signature is not a URI), and `javascript:`, `data:`, `vbscript:`
//! and `file:`, which are always removed, as are UNC paths
//! (`\\host\share\x.lnk`): a client opens them as `file:` links, and just
//! opening one sends the reader's Windows credentials to that host. A URL ends at whitespace, at any
//! non-ASCII character (so `https://example.com/です` ends before `で`), at
//! `<>"'` and backtick, and loses trailing `.,:;!?*` and unbalanced closing
//! brackets. A `scheme://` is matched whatever stands before the scheme, so
//! `xhttps://…` cannot slip past us to a client that starts the URL later.
//!
//! Bare e-mail addresses (`info@example.jp`) are not URLs and are left as
//! they are: signatures need them, and a client only opens a compose window.

use std::borrow::Cow;

use memchr::{memchr, memchr3};
use serde::{Deserialize, Serialize};

/// What happens to URLs (http, https, ftp, mailto:, tel:, www.…) in delivered text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkMode {
    /// Visible but not clickable: `hxxps://example[.]com/path`.
    Defang,
    /// Replaced by a marker.
    Remove,
    /// Left as a plain-text URL.
    Keep,
}

/// Counts of what was done to links, for the report/notice.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LinkStats {
    /// Links left visible but made unclickable.
    pub defanged: usize,
    /// Links replaced by [`REMOVED_MARKER`], or anchor targets dropped.
    pub removed: usize,
    /// Links left as they were ([`LinkMode::Keep`]).
    pub kept: usize,
}

/// Stands where a link was removed.
pub const REMOVED_MARKER: &str = "[リンク削除]";

/// Longest scheme we look back for; bounds the work per `:`.
const MAX_SCHEME: usize = 32;

/// Neutralize every URL found in plain text (`http://`, `https://`,
/// `ftp://`, `www.host…`, `mailto:`, `tel:`, plus `javascript:`, `data:`,
/// `vbscript:` and `file:`, which are always removed whatever the mode).
/// Returns new text; adds to stats.
#[must_use]
pub fn neutralize_text(text: &str, mode: LinkMode, stats: &mut LinkStats) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    neutralize_into(text, mode, stats, &mut out);
    out
}

/// Render one HTML anchor: its visible text and its href, per mode.
///
/// Unsafe targets (anything but http, https, ftp, mailto and tel) are
/// dropped and counted as removed; the text stays. When text and target
/// differ both are shown, `ここをクリック <hxxps://evil[.]example/login>`;
/// when they name the same URL it is shown once, taken from the href so
/// that what is shown is where the link really went.
pub fn render_anchor(
    text: &str,
    href: &str,
    mode: LinkMode,
    stats: &mut LinkStats,
    out: &mut String,
) {
    let text = text.trim();
    let href = clean_href(href);
    let kind = href_kind(&href);
    match kind {
        HrefKind::None => neutralize_into(text, mode, stats, out),
        HrefKind::Unsafe => {
            stats.removed += 1;
            neutralize_into(text, mode, stats, out);
        }
        _ if same_target(text, &href) => write_href(&href, kind, mode, stats, out, false),
        _ => {
            neutralize_into(text, mode, stats, out);
            if !text.is_empty() {
                out.push(' ');
            }
            write_href(&href, kind, mode, stats, out, true);
        }
    }
}

/// [`neutralize_text`], appending to `out`.
pub(crate) fn neutralize_into(text: &str, mode: LinkMode, stats: &mut LinkStats, out: &mut String) {
    let b = text.as_bytes();
    let mut copied = 0;
    let mut pos = 0;
    while let Some(off) = memchr3(b':', b'.', b'\\', &b[pos..]) {
        let at = pos + off;
        let Some(url) = find_url(b, at, copied) else {
            pos = at + 1;
            continue;
        };
        out.push_str(&text[copied..url.start]);
        write_url(&text[url.start..url.end], url.kind, mode, stats, out);
        copied = url.end;
        pos = url.end;
    }
    out.push_str(&text[copied..]);
}

/// What an anchor's href points at, once cleaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HrefKind {
    /// Empty, a fragment or a relative path: nowhere, in a mail.
    None,
    /// Anything outside the allow-list: dropped whatever the mode.
    Unsafe,
    /// http, https, ftp, or `//host` (scheme taken from the page).
    Web,
    Mailto,
    Tel,
}

/// The href as a browser would read it: entity-decoded (by the caller),
/// without the tabs and newlines browsers strip from URLs
/// (`java&#9;script:`), other controls or bidi overrides.
pub(crate) fn clean_href(href: &str) -> Cow<'_, str> {
    // Fast path: nothing below `!`, no DEL, no lead byte of C1 or bidi controls.
    if href
        .bytes()
        .all(|c| c > b' ' && c != 0x7F && c != 0xC2 && c != 0xE2)
    {
        return Cow::Borrowed(href);
    }
    let dirty = |c: char| c.is_control() || is_bidi_control(c);
    let trimmed = href.trim_matches(|c: char| c == ' ' || dirty(c));
    if !trimmed.contains(dirty) {
        return Cow::Borrowed(trimmed);
    }
    Cow::Owned(trimmed.chars().filter(|&c| !dirty(c)).collect())
}

/// Classifies a cleaned href. Allow-list: a scheme we do not know might
/// start a program on the reader's PC (`ms-msdt:`, `search-ms:`, …).
pub(crate) fn href_kind(href: &str) -> HrefKind {
    if href.is_empty() || href.starts_with('#') {
        return HrefKind::None;
    }
    // `\\host\share` (or a mix of slashes, which Windows reads the same)
    // is a UNC path, a `file:` link: opening it sends the reader's Windows
    // credentials to that host.
    if ["\\\\", "\\/", "/\\"].iter().any(|p| href.starts_with(p)) {
        return HrefKind::Unsafe;
    }
    if href.starts_with("//") {
        return HrefKind::Web;
    }
    let Some(scheme) = scheme_of(href) else {
        return HrefKind::None;
    };
    let is = |s: &str| scheme.eq_ignore_ascii_case(s);
    if is("http") || is("https") || is("ftp") {
        HrefKind::Web
    } else if is("mailto") {
        HrefKind::Mailto
    } else if is("tel") {
        HrefKind::Tel
    } else {
        HrefKind::Unsafe
    }
}

/// Whether an anchor's visible text names its own target (so it is shown
/// once). Scheme, case and a trailing `/` do not count as a difference.
pub(crate) fn same_target(text: &str, href: &str) -> bool {
    let t = strip_scheme(text.trim()).trim_end_matches('/');
    let h = strip_scheme(href).trim_end_matches('/');
    !t.is_empty() && t.eq_ignore_ascii_case(h)
}

/// Writes a (cleaned, allowed) href per mode and counts it. `bracket`
/// wraps it as `<…>`, for when it follows the anchor's text.
pub(crate) fn write_href(
    href: &str,
    kind: HrefKind,
    mode: LinkMode,
    stats: &mut LinkStats,
    out: &mut String,
    bracket: bool,
) {
    if kind == HrefKind::Unsafe || mode == LinkMode::Remove {
        stats.removed += 1;
        out.push_str(REMOVED_MARKER);
        return;
    }
    if bracket {
        out.push('<');
    }
    if mode == LinkMode::Keep {
        stats.kept += 1;
        out.push_str(href);
    } else {
        stats.defanged += 1;
        match kind {
            HrefKind::Mailto => defang_mailto(href, out),
            HrefKind::Tel => defang_opaque(href, out),
            _ => defang_web(href, true, out),
        }
    }
    if bracket {
        out.push('>');
    }
}

/// Kinds of URL found in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `http://`, `https://`, `ftp://`: scheme gets `hxxp`, `fxp`.
    Web,
    /// Any other `scheme://`: the colon is bracketed.
    Hier,
    /// `www.host`.
    Www,
    Mailto,
    Tel,
    /// Already defanged by someone (`hxxps://`): not a link, left alone.
    Defanged,
    /// `javascript:`, `data:`, `vbscript:`, `file:`, and UNC paths.
    Unsafe,
}

struct Found {
    start: usize,
    end: usize,
    kind: Kind,
}

/// Looks for a URL around the `:` or `.` at `at`, not reaching back
/// before `floor` (the end of the previous URL).
fn find_url(b: &[u8], at: usize, floor: usize) -> Option<Found> {
    match b[at] {
        b'.' => return find_www(b, at, floor),
        b'\\' => return find_unc(b, at, floor),
        _ => {}
    }
    let mut start = at;
    while start > floor && at - start < MAX_SCHEME && b[start - 1].is_ascii_alphanumeric() {
        start -= 1;
    }
    // A scheme starts with a letter: `1https://` is `https://` to a client.
    while start < at && !b[start].is_ascii_alphabetic() {
        start += 1;
    }
    let scheme = &b[start..at];
    if b[at + 1..].starts_with(b"//") {
        if scheme.is_empty() {
            return None;
        }
        let kind = hier_kind(scheme);
        let mut end = url_end(b, at + 3, at + 3, false);
        if kind != Kind::Unsafe {
            end = cut_unsafe(b, at + 3, end);
        }
        return Some(Found { start, end, kind });
    }
    // `mailto:` is one wherever it starts, like `://`; other opaque schemes
    // need a word boundary (`metadata:` is not `data:`).
    if scheme.len() >= 6 && scheme[scheme.len() - 6..].eq_ignore_ascii_case(b"mailto") {
        start = at - 6;
    } else if start > 0 && b[start - 1].is_ascii_alphanumeric() {
        return None;
    }
    let scheme = &b[start..at];
    let is = |s: &[u8]| scheme.eq_ignore_ascii_case(s);
    let kind = if is(b"mailto") {
        Kind::Mailto
    } else if scheme == b"tel"
        && b.get(at + 1)
            .is_some_and(|&c| c == b'+' || c.is_ascii_digit())
    {
        Kind::Tel
    } else if is(b"javascript") || is(b"vbscript") || is(b"data") || is(b"file") {
        Kind::Unsafe
    } else {
        return None;
    };
    // Something must follow: `data: 5 items` is prose. Non-ASCII counts
    // as something, so that `mailto:` before an IDN address is still caught.
    let next = *b.get(at + 1)?;
    if next.is_ascii() && !is_url_byte(next, kind == Kind::Unsafe) {
        return None;
    }
    let mut end = url_end(b, at + 1, at + 1, kind == Kind::Unsafe);
    if end == at + 1 && next.is_ascii() {
        return None;
    }
    if kind != Kind::Unsafe {
        end = cut_unsafe(b, at + 1, end);
    }
    Some(Found { start, end, kind })
}

/// `www.` at a word start, then a host character.
fn find_www(b: &[u8], dot: usize, floor: usize) -> Option<Found> {
    let start = dot.checked_sub(3)?;
    if start < floor || !b[start..dot].eq_ignore_ascii_case(b"www") {
        return None;
    }
    if start > 0 && b[start - 1].is_ascii_alphanumeric() {
        return None;
    }
    if !b.get(dot + 1)?.is_ascii_alphanumeric() {
        return None;
    }
    let end = url_end(b, dot + 1, dot + 2, false);
    let end = cut_unsafe(b, dot + 1, end);
    Some(Found {
        start,
        end,
        kind: Kind::Www,
    })
}

/// A UNC path: `\\` at a word start (not in `C:\\x` or `a\\\\b`), then
/// anything but whitespace or another backslash (`\\host`, `\\?\UNC\…`,
/// `\\192.0.2.1\`). Always unsafe, so where it ends matters only for
/// what of it is still shown: it ends as a URL does.
fn find_unc(b: &[u8], at: usize, floor: usize) -> Option<Found> {
    if b.get(at + 1) != Some(&b'\\') {
        return None;
    }
    if at > floor && (b[at - 1].is_ascii_alphanumeric() || matches!(b[at - 1], b':' | b'\\')) {
        return None;
    }
    let next = *b.get(at + 2)?;
    if next.is_ascii_whitespace() || next == b'\\' || next.is_ascii_control() {
        return None;
    }
    let end = url_end(b, at + 2, at + 3, false);
    Some(Found {
        start: at,
        end,
        kind: Kind::Unsafe,
    })
}

/// Ends a URL before an unsafe one nested in it (`https://x/?u=javascript:…`),
/// so that the nested one is found, and removed, on its own in every mode.
fn cut_unsafe(b: &[u8], from: usize, end: usize) -> usize {
    let end = match memchr::memmem::find(&b[from..end], b"\\\\") {
        Some(unc) => from + unc,
        None => end,
    };
    let mut p = from;
    while let Some(off) = memchr(b':', &b[p..end]) {
        let colon = p + off;
        let mut start = colon;
        while start > from && colon - start < 10 && b[start - 1].is_ascii_alphabetic() {
            start -= 1;
        }
        let word = &b[start..colon];
        let unsafe_word = [&b"javascript"[..], b"vbscript", b"data", b"file"]
            .iter()
            .any(|u| word.eq_ignore_ascii_case(u));
        let boundary = !b[start - 1].is_ascii_alphanumeric();
        if unsafe_word && boundary && b.get(colon + 1).is_some_and(u8::is_ascii_graphic) {
            return start;
        }
        p = colon + 1;
    }
    end
}

fn hier_kind(scheme: &[u8]) -> Kind {
    let ends = |s: &[u8]| {
        scheme.len() >= s.len() && scheme[scheme.len() - s.len()..].eq_ignore_ascii_case(s)
    };
    if ends(b"hxxp") || ends(b"hxxps") || ends(b"fxp") {
        Kind::Defanged
    } else if ends(b"http") || ends(b"https") || ends(b"ftp") || ends(b"ftps") {
        Kind::Web
    } else if ends(b"javascript") || ends(b"vbscript") || ends(b"data") || ends(b"file") {
        Kind::Unsafe
    } else {
        Kind::Hier
    }
}

/// Bytes a URL in text may contain. Unsafe ones also take quotes, so that
/// `javascript:alert('x')` goes as a whole.
fn is_url_byte(c: u8, quotes: bool) -> bool {
    match c {
        b'<' | b'>' | b'"' | b'`' => false,
        b'\'' => quotes,
        _ => c.is_ascii_graphic(),
    }
}

/// End of the URL whose body starts at `from`; trailing punctuation and
/// unbalanced closing brackets are left out, but never below `min`.
fn url_end(b: &[u8], from: usize, min: usize, quotes: bool) -> usize {
    let mut end = from;
    let (mut paren, mut square, mut curly) = (0isize, 0isize, 0isize);
    while end < b.len() && is_url_byte(b[end], quotes) {
        match b[end] {
            b'(' => paren += 1,
            b')' => paren -= 1,
            b'[' => square += 1,
            b']' => square -= 1,
            b'{' => curly += 1,
            b'}' => curly -= 1,
            _ => {}
        }
        end += 1;
    }
    while end > min {
        let balance = match b[end - 1] {
            // Kept, so that the nested `mailto:` is broken with the rest.
            b':' if is_nested_mailto(b, end - 1) => break,
            b'.' | b',' | b':' | b';' | b'!' | b'?' | b'*' => None,
            b')' if paren < 0 => Some(&mut paren),
            b']' if square < 0 => Some(&mut square),
            b'}' if curly < 0 => Some(&mut curly),
            _ => break,
        };
        if let Some(count) = balance {
            *count += 1;
        }
        end -= 1;
    }
    end.max(from)
}

fn write_url(url: &str, kind: Kind, mode: LinkMode, stats: &mut LinkStats, out: &mut String) {
    match (kind, mode) {
        (Kind::Defanged, _) => out.push_str(url),
        (Kind::Unsafe, _) | (_, LinkMode::Remove) => {
            stats.removed += 1;
            out.push_str(REMOVED_MARKER);
        }
        (_, LinkMode::Keep) => {
            stats.kept += 1;
            out.push_str(url);
        }
        (_, LinkMode::Defang) => {
            stats.defanged += 1;
            match kind {
                Kind::Mailto => defang_mailto(url, out),
                Kind::Tel | Kind::Hier => defang_opaque(url, out),
                Kind::Www => defang_web(url, false, out),
                _ => defang_web(url, true, out),
            }
        }
    }
}

/// `https://a.example/x` → `hxxps://a[.]example/x`; `www.a.example` →
/// `www[.]a[.]example` (no scheme: `www.a.example:8080` has a port, not
/// one); `//a.example` → `//a[.]example`. Every `.` and `@` of the authority
/// is bracketed, so userinfo tricks (`https://bank.example@evil.example/`)
/// show plainly.
fn defang_web(url: &str, has_scheme: bool, out: &mut String) {
    let rest = match scheme_of(url).filter(|_| has_scheme) {
        Some(scheme) => {
            defang_scheme(scheme, out);
            out.push(':');
            &url[scheme.len() + 1..]
        }
        None => url,
    };
    let slashes = rest.len() - rest.trim_start_matches(['/', '\\']).len();
    out.push_str(&rest[..slashes]);
    let rest = &rest[slashes..];
    let auth_len = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    defang_rest(rest, auth_len, out);
}

/// `http` → `hxxp`, `ftp` → `fxp`, keeping the case of each letter.
fn defang_scheme(scheme: &str, out: &mut String) {
    let lower = scheme.to_ascii_lowercase();
    let keep = if lower.ends_with("https") || lower.ends_with("http") {
        lower.rfind("http").map(|i| (i + 1, i + 3))
    } else if lower.ends_with("ftp") || lower.ends_with("ftps") {
        lower.rfind("ftp").map(|i| (i + 1, i + 2))
    } else {
        None
    };
    let Some((from, to)) = keep else {
        out.push_str(scheme);
        return;
    };
    for (i, c) in scheme.char_indices() {
        match c {
            't' if (from..to).contains(&i) => out.push('x'),
            'T' if (from..to).contains(&i) => out.push('X'),
            _ => out.push(c),
        }
    }
}

/// Brackets whatever would let a client see a link in the rest of a URL:
/// each `.` and `@` of the authority (the first `auth_len` bytes), and
/// anywhere a nested `://`, `mailto:` or `www.` (`?u=https://evil.example`
/// is a link of its own to a client). Already bracketed ones stay.
fn defang_rest(rest: &str, auth_len: usize, out: &mut String) {
    let b = rest.as_bytes();
    let mut last = 0;
    for (i, &c) in b.iter().enumerate() {
        let in_auth = i < auth_len;
        let insert = match c {
            b'.' if in_auth || (i >= 3 && b[i - 3..i].eq_ignore_ascii_case(b"www")) => "[.]",
            b'@' if in_auth => "[@]",
            b':' if b[i + 1..].starts_with(b"//") || is_nested_mailto(b, i) => "[:]",
            _ => continue,
        };
        if i > 0 && b[i - 1] == b'[' && b.get(i + 1) == Some(&b']') {
            continue;
        }
        out.push_str(&rest[last..i]);
        out.push_str(insert);
        last = i + 1;
    }
    out.push_str(&rest[last..]);
}

/// The `:` at `colon` ends `mailto`.
fn is_nested_mailto(b: &[u8], colon: usize) -> bool {
    colon >= 6 && b[colon - 6..colon].eq_ignore_ascii_case(b"mailto")
}

/// `mailto:a@b.example?subject=x` → `a[@]b[.]example`. The query holds
/// instructions for a mail client, not content, and goes.
fn defang_mailto(url: &str, out: &mut String) {
    let body = url.split_once(':').map_or(url, |(_, b)| b);
    let addr = body.split(['?', '#']).next().unwrap_or("");
    if addr.is_empty() {
        out.push_str("mailto[:]");
    } else {
        defang_rest(addr, addr.len(), out);
    }
}

/// `tel:+81-3-1234` → `tel[:]+81-3-1234`; `smb://h` → `smb[:]//h`.
fn defang_opaque(url: &str, out: &mut String) {
    match url.split_once(':') {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("[:]");
            let slashes = rest.len() - rest.trim_start_matches('/').len();
            out.push_str(&rest[..slashes]);
            let rest = &rest[slashes..];
            let auth_len = if slashes > 0 {
                rest.find(['/', '?', '#']).unwrap_or(rest.len())
            } else {
                0
            };
            defang_rest(rest, auth_len, out);
        }
        None => out.push_str(url),
    }
}

/// The scheme of an absolute URL (`https` in `https://…`), if it has one.
fn scheme_of(url: &str) -> Option<&str> {
    let colon = url.find([':', '/', '?', '#'])?;
    let scheme = &url[..colon];
    let valid = url.as_bytes()[colon] == b':'
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c));
    valid.then_some(scheme)
}

fn strip_scheme(s: &str) -> &str {
    for prefix in ["https://", "http://", "ftp://", "mailto:", "tel:", "//"] {
        if s.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        {
            return &s[prefix.len()..];
        }
    }
    s
}

/// Bidi embeddings, overrides and isolates: they reorder what is shown
/// (`gpj.exe` shown as `exe.jpg`) and carry no text of their own.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, mode: LinkMode) -> (String, LinkStats) {
        let mut stats = LinkStats::default();
        let out = neutralize_text(text, mode, &mut stats);
        (out, stats)
    }

    fn defang(text: &str) -> String {
        run(text, LinkMode::Defang).0
    }

    fn anchor(text: &str, href: &str, mode: LinkMode) -> (String, LinkStats) {
        let mut stats = LinkStats::default();
        let mut out = String::new();
        render_anchor(text, href, mode, &mut stats, &mut out);
        (out, stats)
    }

    #[test]
    fn defang_exact_strings() {
        assert_eq!(
            defang("https://example.com/path?q=1"),
            "hxxps://example[.]com/path?q=1"
        );
        assert_eq!(defang("http://a.example"), "hxxp://a[.]example");
        assert_eq!(defang("ftp://files.example/x"), "fxp://files[.]example/x");
        assert_eq!(defang("HTTPS://A.EXAMPLE"), "HXXPS://A[.]EXAMPLE");
        assert_eq!(defang("www.example.com"), "www[.]example[.]com");
        assert_eq!(defang("mailto:a@b.example"), "a[@]b[.]example");
        assert_eq!(defang("mailto:a@b.example?subject=x"), "a[@]b[.]example");
        assert_eq!(defang("tel:+81-3-1234"), "tel[:]+81-3-1234");
        assert_eq!(
            defang("smb://host.example/share"),
            "smb[:]//host[.]example/share"
        );
    }

    #[test]
    fn defang_hosts() {
        assert_eq!(
            defang("https://bank.example@evil.example/"),
            "hxxps://bank[.]example[@]evil[.]example/"
        );
        assert_eq!(
            defang("http://192.168.0.1:8080/a"),
            "hxxp://192[.]168[.]0[.]1:8080/a"
        );
        assert_eq!(
            defang("https://xn--eckwd4c7c.xn--zckzah/"),
            "hxxps://xn--eckwd4c7c[.]xn--zckzah/"
        );
        // A URL nested in the query is a link of its own to a client.
        assert_eq!(
            defang("https://r.example/?u=https://evil.example&w=www.evil.example"),
            "hxxps://r[.]example/?u=https[:]//evil.example&w=www[.]evil.example"
        );
        // Whatever stands before the scheme, the scheme is broken.
        assert_eq!(defang("xhttps://evil.example"), "xhxxps://evil[.]example");
    }

    #[test]
    fn url_ends_sensibly_in_japanese_text() {
        assert_eq!(
            defang("詳細はhttps://example.com/です。"),
            "詳細はhxxps://example[.]com/です。"
        );
        assert_eq!(defang("(https://example.com)"), "(hxxps://example[.]com)");
        assert_eq!(
            defang("see https://example.com."),
            "see hxxps://example[.]com."
        );
        assert_eq!(
            defang("https://en.example/wiki/A_(b)), ok"),
            "hxxps://en[.]example/wiki/A_(b)), ok"
        );
        assert_eq!(defang("<https://a.example>"), "<hxxps://a[.]example>");
        assert_eq!(defang("\"www.a.example\""), "\"www[.]a[.]example\"");
        assert_eq!(
            defang("https://a.example　全角"),
            "hxxps://a[.]example　全角"
        );
        // An IDN host stops the URL, but the scheme is still broken.
        assert_eq!(defang("https://例え.jp/"), "hxxps://例え.jp/");
    }

    #[test]
    fn prose_is_not_a_url() {
        for s in [
            "Input data: 5 items",
            "TEL:03-1234-5678",
            "metadata:x",
            "Awww. nice",
            "時刻 12:30. 以上",
            "file: report.pdf",
            "hxxps://already[.]defanged",
        ] {
            assert_eq!(
                run(s, LinkMode::Remove),
                (s.to_string(), LinkStats::default())
            );
        }
    }

    #[test]
    fn remove_and_keep() {
        let (out, stats) = run(
            "見て https://a.example/x と www.b.example",
            LinkMode::Remove,
        );
        assert_eq!(out, "見て [リンク削除] と [リンク削除]");
        assert_eq!(stats.removed, 2);
        let text = "見て https://a.example/x と mailto:a@b.example";
        let (out, stats) = run(text, LinkMode::Keep);
        assert_eq!(out, text);
        assert_eq!(
            stats,
            LinkStats {
                kept: 2,
                ..LinkStats::default()
            }
        );
    }

    #[test]
    fn unsafe_schemes_always_removed() {
        for mode in [LinkMode::Keep, LinkMode::Defang, LinkMode::Remove] {
            let (out, stats) = run(
                "a javascript:alert('x') b data:text/html,hi c JavaScript://%0aalert(1)",
                mode,
            );
            assert_eq!(out, "a [リンク削除] b [リンク削除] c [リンク削除]");
            assert_eq!(stats.removed, 3);
        }
    }

    #[test]
    fn issue_16_unc_paths_and_file_links_are_removed() {
        for mode in [LinkMode::Keep, LinkMode::Defang, LinkMode::Remove] {
            let (out, stats) = run(
                "共有: \\\\fs01\\soumu\\手順.lnk と \\\\192.0.2.7\\c$\\x.lnk、\
                 (\\\\?\\UNC\\h\\s) file://fs02/share/a.lnk FILE:///C:/x.exe",
                mode,
            );
            assert_eq!(
                out,
                "共有: [リンク削除]手順.lnk と [リンク削除]、(\
                 [リンク削除]) [リンク削除] [リンク削除]",
                "{mode:?}"
            );
            assert_eq!(stats.removed, 5, "{mode:?}");
        }
        // A UNC path inside a URL is cut out of it and removed on its own.
        assert_eq!(
            defang("https://a.example/?u=\\\\evil\\s"),
            "hxxps://a[.]example/?u=[リンク削除]"
        );
        // Not UNC paths: a Windows path with doubled separators, a lone
        // backslash, an escaped one in prose.
        for text in ["C:\\\\Users\\\\x", "a\\b", "\\\\ x", "x\\\\\\y"] {
            assert_eq!(defang(text), text);
        }
        // As an anchor's target: dropped, the text stays.
        for href in [
            "\\\\fs01\\s\\x.lnk",
            "\\/fs01/s",
            "/\\fs01\\s",
            "file://fs01/s",
        ] {
            let (out, stats) = anchor("手順書", href, LinkMode::Keep);
            assert_eq!((out.as_str(), stats.removed), ("手順書", 1), "{href}");
        }
    }

    #[test]
    fn stats_count_each_link() {
        let (_, stats) = run("https://a.example www.b.example tel:110", LinkMode::Defang);
        assert_eq!(
            stats,
            LinkStats {
                defanged: 3,
                ..LinkStats::default()
            }
        );
    }

    #[test]
    fn anchor_text_and_target_differ() {
        let (out, stats) = anchor(
            "ここをクリック",
            "https://evil.example/login",
            LinkMode::Defang,
        );
        assert_eq!(out, "ここをクリック <hxxps://evil[.]example/login>");
        assert_eq!(stats.defanged, 1);
        let (out, _) = anchor(
            "ここをクリック",
            "https://evil.example/login",
            LinkMode::Remove,
        );
        assert_eq!(out, "ここをクリック [リンク削除]");
        let (out, _) = anchor(
            "ここをクリック",
            "https://evil.example/login",
            LinkMode::Keep,
        );
        assert_eq!(out, "ここをクリック <https://evil.example/login>");
    }

    #[test]
    fn anchor_phishing_text_is_neutralized_too() {
        let (out, stats) = anchor(
            "https://bank.example",
            "https://evil.example",
            LinkMode::Defang,
        );
        assert_eq!(out, "hxxps://bank[.]example <hxxps://evil[.]example>");
        assert_eq!(stats.defanged, 2);
    }

    #[test]
    fn anchor_same_url_shown_once() {
        let (out, stats) = anchor("https://a.example", "https://a.example/", LinkMode::Defang);
        assert_eq!(out, "hxxps://a[.]example/");
        assert_eq!(stats.defanged, 1);
        let (out, _) = anchor("www.a.example", "http://www.a.example", LinkMode::Defang);
        assert_eq!(out, "hxxp://www[.]a[.]example");
        let (out, _) = anchor("info@a.example", "mailto:info@a.example", LinkMode::Defang);
        assert_eq!(out, "info[@]a[.]example");
    }

    #[test]
    fn anchor_unsafe_target_dropped() {
        for href in [
            "javascript:alert(1)",
            " JaVa\tScRiPt:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:x",
            "file:///C:/x",
            "ms-msdt:/id",
        ] {
            let (out, stats) = anchor("押してください", href, LinkMode::Keep);
            assert_eq!(out, "押してください", "{href}");
            assert_eq!(
                stats,
                LinkStats {
                    removed: 1,
                    ..LinkStats::default()
                }
            );
        }
    }

    #[test]
    fn anchor_without_target() {
        for href in ["", "#top", "page.html", "/path"] {
            let (out, stats) = anchor("目次", href, LinkMode::Defang);
            assert_eq!(out, "目次");
            assert_eq!(stats, LinkStats::default());
        }
    }

    #[test]
    fn hostile_text_is_linear_and_safe() {
        let long = "a:".repeat(50_000) + &"www.".repeat(50_000) + &")".repeat(50_000);
        let (out, _) = run(&long, LinkMode::Defang);
        assert!(out.len() >= long.len());
        let (out, _) = run(
            &format!("https://{}b", "a.".repeat(50_000)),
            LinkMode::Remove,
        );
        assert_eq!(out, REMOVED_MARKER);
        assert_eq!(defang("www.a.example:8080/x"), "www[.]a[.]example:8080/x");
        assert_eq!(defang("1https://a.example"), "1hxxps://a[.]example");
        assert_eq!(
            defang("www.mailto:a@b.example"),
            "www[.]mailto[:]a[@]b[.]example"
        );
        assert_eq!(
            defang("www.https://evil.example"),
            "www[.]https[:]//evil.example"
        );
        assert_eq!(defang("evilmailto:a@b.example"), "evila[@]b[.]example");
        assert_eq!(defang("tel:1xmailto:あ"), "tel[:]1xmailto[:]あ");
        let (out, stats) = run("https://a.example/?u=javascript:alert(1)", LinkMode::Keep);
        assert_eq!(out, "https://a.example/?u=[リンク削除]");
        assert_eq!(
            stats,
            LinkStats {
                kept: 1,
                removed: 1,
                defanged: 0
            }
        );
        assert_eq!(
            defang("http://a.example/mailto:x"),
            "hxxp://a[.]example/mailto[:]x"
        );
        for s in [":", ".", "://", "www.", "mailto:", "https:/", "tel:", "é:"] {
            let _ = run(s, LinkMode::Defang);
        }
    }
}
