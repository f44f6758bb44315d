//! Inline `style` checks: what hides an element or makes an image a tracking pixel.

use memchr::memchr;

/// What an inline `style` does that matters here.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Css {
    /// Not shown: `display:none`, `visibility:hidden`, `font-size:0`,
    /// `max-height:0`, `opacity:0`, `mso-hide:all`.
    pub(super) hidden: bool,
    /// `width` or `height` of at most 2px: a tracking pixel, on an image.
    pub(super) tiny: bool,
}

impl Css {
    /// Reads `name: value` declarations; runs on nearly every element of
    /// a marketing mail, so it splits bytes with `memchr`.
    pub(super) fn parse(style: &str) -> Css {
        let mut css = Css::default();
        let mut rest = style;
        while !rest.is_empty() {
            let end = memchr(b';', rest.as_bytes()).unwrap_or(rest.len());
            let decl = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or("");
            let Some(colon) = memchr(b':', decl.as_bytes()) else {
                continue;
            };
            let name = decl[..colon].trim();
            let value = &decl[colon + 1..];
            let value = memchr(b'!', value.as_bytes())
                .map_or(value, |i| &value[..i])
                .trim();
            css.declaration(name, value);
        }
        css
    }

    fn declaration(&mut self, name: &str, value: &str) {
        // Most declarations are colours, fonts and spacing: skip them cheaply.
        let first = name.as_bytes().first().map(u8::to_ascii_lowercase);
        if !matches!(first, Some(b'd' | b'f' | b'h' | b'm' | b'o' | b'v' | b'w')) {
            return;
        }
        let is = |s: &str| name.eq_ignore_ascii_case(s);
        let hides = if is("display") {
            value.eq_ignore_ascii_case("none")
        } else if is("visibility") {
            value.eq_ignore_ascii_case("hidden") || value.eq_ignore_ascii_case("collapse")
        } else if is("font-size") {
            length_at_most(value, 1.0)
        } else if is("max-height") || is("opacity") {
            length(value).is_some_and(|(n, _)| n == 0.0)
        } else if is("mso-hide") {
            value.eq_ignore_ascii_case("all")
        } else {
            if is("width") || is("height") {
                self.tiny |= tiny_length(value);
            }
            false
        };
        self.hidden |= hides;
    }
}

/// A CSS or HTML length: its number and its unit (`1.5px` → 1.5, `px`).
fn length(v: &str) -> Option<(f32, &str)> {
    let v = v.trim();
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let number = v[..end].parse().ok()?;
    Some((number, v[end..].trim()))
}

/// Zero in any unit, or at most `max` pixels (points, or no unit).
fn length_at_most(v: &str, max: f32) -> bool {
    length(v).is_some_and(|(n, unit)| {
        let px =
            unit.is_empty() || unit.eq_ignore_ascii_case("px") || unit.eq_ignore_ascii_case("pt");
        n == 0.0 || (px && n <= max)
    })
}

/// A width or height of at most 2 pixels.
pub(super) fn tiny_length(v: &str) -> bool {
    length_at_most(v, 2.0)
}

/// Image URLs of the usual open-tracking services.
pub(super) fn looks_like_beacon(src: &str) -> bool {
    let src = src.to_ascii_lowercase();
    [
        "track", "pixel", "beacon", "open", "1x1", "/o.gif", "/t.gif", "spacer",
    ]
    .iter()
    .any(|w| src.contains(w))
}
