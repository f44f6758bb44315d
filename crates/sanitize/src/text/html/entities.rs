//! Character references: decoding and the named entity table.

use std::borrow::Cow;

use memchr::memchr;

/// An attribute value with character references decoded.
pub(super) fn decode_attr(raw: &str) -> Cow<'_, str> {
    let b = raw.as_bytes();
    if memchr(b'&', b).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let (mut i, mut run) = (0, 0);
    while let Some(o) = memchr(b'&', &b[i..]) {
        let at = i + o;
        i = at + 1;
        if let Some((ch, len)) = decode_entity(&b[at..], true) {
            out.push_str(&raw[run..at]);
            out.push(ch);
            i = at + len;
            run = i;
        }
    }
    out.push_str(&raw[run..]);
    Cow::Owned(out)
}

/// Decodes the character reference at the start of `b` (which starts with
/// `&`): the character and the bytes it took, or `None` if it is not one.
/// In attributes, `&copy=1` stays as it is, as in browsers.
pub(super) fn decode_entity(b: &[u8], in_attr: bool) -> Option<(char, usize)> {
    match *b.get(1)? {
        b'#' => decode_numeric(b),
        c if c.is_ascii_alphanumeric() => decode_named(b, in_attr),
        _ => None,
    }
}

fn decode_numeric(b: &[u8]) -> Option<(char, usize)> {
    let (radix, mut i) = match b.get(2) {
        Some(b'x' | b'X') => (16, 3),
        _ => (10, 2),
    };
    let digits = i;
    let mut value: u32 = 0;
    while let Some(d) = b.get(i).and_then(|&c| char::from(c).to_digit(radix)) {
        value = value.saturating_mul(radix).saturating_add(d).min(0x11_0000);
        i += 1;
    }
    if i == digits {
        return None;
    }
    if b.get(i) == Some(&b';') {
        i += 1;
    }
    let ch = match value {
        0x80..=0x9F => WINDOWS_1252[(value - 0x80) as usize],
        _ => char::from_u32(value)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{FFFD}'),
    };
    Some((ch, i))
}

fn decode_named(b: &[u8], in_attr: bool) -> Option<(char, usize)> {
    let n = b[1..]
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    let name = &b[1..1 + n];
    if b.get(1 + n) == Some(&b';')
        && let Some((ch, _)) = lookup_entity(name)
    {
        return Some((ch, n + 2));
    }
    // Legacy names also work without `;` (`&copy 2024`, `&nbsp`).
    for k in (2..=n.min(6)).rev() {
        if let Some((ch, true)) = lookup_entity(&name[..k]) {
            let next = b.get(1 + k).copied().unwrap_or(b' ');
            if in_attr && (next.is_ascii_alphanumeric() || next == b'=') {
                return None;
            }
            return Some((ch, 1 + k));
        }
    }
    None
}

fn lookup_entity(name: &[u8]) -> Option<(char, bool)> {
    // The ones mail is full of, before the binary search.
    match name {
        b"amp" => return Some(('&', true)),
        b"nbsp" => return Some(('\u{A0}', true)),
        b"lt" => return Some(('<', true)),
        b"gt" => return Some(('>', true)),
        b"quot" => return Some(('"', true)),
        b"yen" => return Some(('¥', true)),
        b"copy" => return Some(('©', true)),
        _ => {}
    }
    let i = ENTITIES.binary_search_by(|(k, _, _)| (*k).cmp(name)).ok()?;
    let (_, ch, legacy) = ENTITIES[i];
    Some((ch, legacy))
}

/// What `&#128;`–`&#159;` mean to browsers.
const WINDOWS_1252: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

/// Named character references: all of HTML 4 plus `&apos;` and the legacy
/// upper-case ones, sorted for binary search; `true` marks the names that
/// also work without `;`. HTML5's rarer names stay undecoded.
#[rustfmt::skip]
static ENTITIES: &[(&[u8], char, bool)] = &[
    (b"AElig", '\u{c6}', true), (b"AMP", '\u{26}', true), (b"Aacute", '\u{c1}', true),
    (b"Acirc", '\u{c2}', true), (b"Agrave", '\u{c0}', true), (b"Alpha", '\u{391}', false),
    (b"Aring", '\u{c5}', true), (b"Atilde", '\u{c3}', true), (b"Auml", '\u{c4}', true),
    (b"Beta", '\u{392}', false), (b"COPY", '\u{a9}', true), (b"Ccedil", '\u{c7}', true),
    (b"Chi", '\u{3a7}', false), (b"Dagger", '\u{2021}', false), (b"Delta", '\u{394}', false),
    (b"ETH", '\u{d0}', true), (b"Eacute", '\u{c9}', true), (b"Ecirc", '\u{ca}', true),
    (b"Egrave", '\u{c8}', true), (b"Epsilon", '\u{395}', false), (b"Eta", '\u{397}', false),
    (b"Euml", '\u{cb}', true), (b"GT", '\u{3e}', true), (b"Gamma", '\u{393}', false),
    (b"Iacute", '\u{cd}', true), (b"Icirc", '\u{ce}', true), (b"Igrave", '\u{cc}', true),
    (b"Iota", '\u{399}', false), (b"Iuml", '\u{cf}', true), (b"Kappa", '\u{39a}', false),
    (b"LT", '\u{3c}', true), (b"Lambda", '\u{39b}', false), (b"Mu", '\u{39c}', false),
    (b"Ntilde", '\u{d1}', true), (b"Nu", '\u{39d}', false), (b"OElig", '\u{152}', false),
    (b"Oacute", '\u{d3}', true), (b"Ocirc", '\u{d4}', true), (b"Ograve", '\u{d2}', true),
    (b"Omega", '\u{3a9}', false), (b"Omicron", '\u{39f}', false), (b"Oslash", '\u{d8}', true),
    (b"Otilde", '\u{d5}', true), (b"Ouml", '\u{d6}', true), (b"Phi", '\u{3a6}', false),
    (b"Pi", '\u{3a0}', false), (b"Prime", '\u{2033}', false), (b"Psi", '\u{3a8}', false),
    (b"QUOT", '\u{22}', true), (b"REG", '\u{ae}', true), (b"Rho", '\u{3a1}', false),
    (b"Scaron", '\u{160}', false), (b"Sigma", '\u{3a3}', false), (b"THORN", '\u{de}', true),
    (b"Tau", '\u{3a4}', false), (b"Theta", '\u{398}', false), (b"Uacute", '\u{da}', true),
    (b"Ucirc", '\u{db}', true), (b"Ugrave", '\u{d9}', true), (b"Upsilon", '\u{3a5}', false),
    (b"Uuml", '\u{dc}', true), (b"Xi", '\u{39e}', false), (b"Yacute", '\u{dd}', true),
    (b"Yuml", '\u{178}', false), (b"Zeta", '\u{396}', false), (b"aacute", '\u{e1}', true),
    (b"acirc", '\u{e2}', true), (b"acute", '\u{b4}', true), (b"aelig", '\u{e6}', true),
    (b"agrave", '\u{e0}', true), (b"alefsym", '\u{2135}', false), (b"alpha", '\u{3b1}', false),
    (b"amp", '\u{26}', true), (b"and", '\u{2227}', false), (b"ang", '\u{2220}', false),
    (b"apos", '\u{27}', false), (b"aring", '\u{e5}', true), (b"asymp", '\u{2248}', false),
    (b"atilde", '\u{e3}', true), (b"auml", '\u{e4}', true), (b"bdquo", '\u{201e}', false),
    (b"beta", '\u{3b2}', false), (b"brvbar", '\u{a6}', true), (b"bull", '\u{2022}', false),
    (b"cap", '\u{2229}', false), (b"ccedil", '\u{e7}', true), (b"cedil", '\u{b8}', true),
    (b"cent", '\u{a2}', true), (b"chi", '\u{3c7}', false), (b"circ", '\u{2c6}', false),
    (b"clubs", '\u{2663}', false), (b"cong", '\u{2245}', false), (b"copy", '\u{a9}', true),
    (b"crarr", '\u{21b5}', false), (b"cup", '\u{222a}', false), (b"curren", '\u{a4}', true),
    (b"dArr", '\u{21d3}', false), (b"dagger", '\u{2020}', false), (b"darr", '\u{2193}', false),
    (b"deg", '\u{b0}', true), (b"delta", '\u{3b4}', false), (b"diams", '\u{2666}', false),
    (b"divide", '\u{f7}', true), (b"eacute", '\u{e9}', true), (b"ecirc", '\u{ea}', true),
    (b"egrave", '\u{e8}', true), (b"empty", '\u{2205}', false), (b"emsp", '\u{2003}', false),
    (b"ensp", '\u{2002}', false), (b"epsilon", '\u{3b5}', false),
    (b"equiv", '\u{2261}', false), (b"eta", '\u{3b7}', false), (b"eth", '\u{f0}', true),
    (b"euml", '\u{eb}', true), (b"euro", '\u{20ac}', false), (b"exist", '\u{2203}', false),
    (b"fnof", '\u{192}', false), (b"forall", '\u{2200}', false), (b"frac12", '\u{bd}', true),
    (b"frac14", '\u{bc}', true), (b"frac34", '\u{be}', true), (b"frasl", '\u{2044}', false),
    (b"gamma", '\u{3b3}', false), (b"ge", '\u{2265}', false), (b"gt", '\u{3e}', true),
    (b"hArr", '\u{21d4}', false), (b"harr", '\u{2194}', false), (b"hearts", '\u{2665}', false),
    (b"hellip", '\u{2026}', false), (b"iacute", '\u{ed}', true), (b"icirc", '\u{ee}', true),
    (b"iexcl", '\u{a1}', true), (b"igrave", '\u{ec}', true), (b"image", '\u{2111}', false),
    (b"infin", '\u{221e}', false), (b"int", '\u{222b}', false), (b"iota", '\u{3b9}', false),
    (b"iquest", '\u{bf}', true), (b"isin", '\u{2208}', false), (b"iuml", '\u{ef}', true),
    (b"kappa", '\u{3ba}', false), (b"lArr", '\u{21d0}', false), (b"lambda", '\u{3bb}', false),
    (b"lang", '\u{27e8}', false), (b"laquo", '\u{ab}', true), (b"larr", '\u{2190}', false),
    (b"lceil", '\u{2308}', false), (b"ldquo", '\u{201c}', false), (b"le", '\u{2264}', false),
    (b"lfloor", '\u{230a}', false), (b"lowast", '\u{2217}', false),
    (b"loz", '\u{25ca}', false), (b"lrm", '\u{200e}', false), (b"lsaquo", '\u{2039}', false),
    (b"lsquo", '\u{2018}', false), (b"lt", '\u{3c}', true), (b"macr", '\u{af}', true),
    (b"mdash", '\u{2014}', false), (b"micro", '\u{b5}', true), (b"middot", '\u{b7}', true),
    (b"minus", '\u{2212}', false), (b"mu", '\u{3bc}', false), (b"nabla", '\u{2207}', false),
    (b"nbsp", '\u{a0}', true), (b"ndash", '\u{2013}', false), (b"ne", '\u{2260}', false),
    (b"ni", '\u{220b}', false), (b"not", '\u{ac}', true), (b"notin", '\u{2209}', false),
    (b"nsub", '\u{2284}', false), (b"ntilde", '\u{f1}', true), (b"nu", '\u{3bd}', false),
    (b"oacute", '\u{f3}', true), (b"ocirc", '\u{f4}', true), (b"oelig", '\u{153}', false),
    (b"ograve", '\u{f2}', true), (b"oline", '\u{203e}', false), (b"omega", '\u{3c9}', false),
    (b"omicron", '\u{3bf}', false), (b"oplus", '\u{2295}', false), (b"or", '\u{2228}', false),
    (b"ordf", '\u{aa}', true), (b"ordm", '\u{ba}', true), (b"oslash", '\u{f8}', true),
    (b"otilde", '\u{f5}', true), (b"otimes", '\u{2297}', false), (b"ouml", '\u{f6}', true),
    (b"para", '\u{b6}', true), (b"part", '\u{2202}', false), (b"permil", '\u{2030}', false),
    (b"perp", '\u{22a5}', false), (b"phi", '\u{3c6}', false), (b"pi", '\u{3c0}', false),
    (b"piv", '\u{3d6}', false), (b"plusmn", '\u{b1}', true), (b"pound", '\u{a3}', true),
    (b"prime", '\u{2032}', false), (b"prod", '\u{220f}', false), (b"prop", '\u{221d}', false),
    (b"psi", '\u{3c8}', false), (b"quot", '\u{22}', true), (b"rArr", '\u{21d2}', false),
    (b"radic", '\u{221a}', false), (b"rang", '\u{27e9}', false), (b"raquo", '\u{bb}', true),
    (b"rarr", '\u{2192}', false), (b"rceil", '\u{2309}', false), (b"rdquo", '\u{201d}', false),
    (b"real", '\u{211c}', false), (b"reg", '\u{ae}', true), (b"rfloor", '\u{230b}', false),
    (b"rho", '\u{3c1}', false), (b"rlm", '\u{200f}', false), (b"rsaquo", '\u{203a}', false),
    (b"rsquo", '\u{2019}', false), (b"sbquo", '\u{201a}', false),
    (b"scaron", '\u{161}', false), (b"sdot", '\u{22c5}', false), (b"sect", '\u{a7}', true),
    (b"shy", '\u{ad}', true), (b"sigma", '\u{3c3}', false), (b"sigmaf", '\u{3c2}', false),
    (b"sim", '\u{223c}', false), (b"spades", '\u{2660}', false), (b"sub", '\u{2282}', false),
    (b"sube", '\u{2286}', false), (b"sum", '\u{2211}', false), (b"sup", '\u{2283}', false),
    (b"sup1", '\u{b9}', true), (b"sup2", '\u{b2}', true), (b"sup3", '\u{b3}', true),
    (b"supe", '\u{2287}', false), (b"szlig", '\u{df}', true), (b"tau", '\u{3c4}', false),
    (b"there4", '\u{2234}', false), (b"theta", '\u{3b8}', false),
    (b"thetasym", '\u{3d1}', false), (b"thinsp", '\u{2009}', false),
    (b"thorn", '\u{fe}', true), (b"tilde", '\u{2dc}', false), (b"times", '\u{d7}', true),
    (b"trade", '\u{2122}', false), (b"uArr", '\u{21d1}', false), (b"uacute", '\u{fa}', true),
    (b"uarr", '\u{2191}', false), (b"ucirc", '\u{fb}', true), (b"ugrave", '\u{f9}', true),
    (b"uml", '\u{a8}', true), (b"upsih", '\u{3d2}', false), (b"upsilon", '\u{3c5}', false),
    (b"uuml", '\u{fc}', true), (b"weierp", '\u{2118}', false), (b"xi", '\u{3be}', false),
    (b"yacute", '\u{fd}', true), (b"yen", '\u{a5}', true), (b"yuml", '\u{ff}', true),
    (b"zeta", '\u{3b6}', false), (b"zwj", '\u{200d}', false), (b"zwnj", '\u{200c}', false),
];
