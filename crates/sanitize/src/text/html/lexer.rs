//! The tokenizer (`Lexer`), its tokens and attributes, and the first pass
//! (`layout_tables`).

use memchr::memchr;

use super::MAX_DEPTH;
use super::css::{Css, looks_like_beacon, tiny_length};
use super::entities::decode_attr;
use super::tag::Tag;

/// One token of the input; text positions are byte ranges into it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Token {
    /// Text between tags, character references not yet decoded.
    Text(usize, usize),
    /// Content of `<xmp>`/`<plaintext>`: shown as is, preformatted.
    Raw(usize, usize),
    Start(Start),
    End(Tag),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Start {
    pub(super) tag: Tag,
    pub(super) flags: u8,
    /// The one attribute the renderer needs: `href` of `a`, `alt` of `img`.
    pub(super) attr: (usize, usize),
}

pub(super) const SELF_CLOSING: u8 = 1;
/// `hidden` attribute or hiding inline style.
pub(super) const HIDDEN: u8 = 2;
/// Table used for layout (`role`, or found so by `layout_tables`).
pub(super) const LAYOUT: u8 = 4;
/// Image that looks like a tracking pixel.
pub(super) const TRACKING: u8 = 8;
/// `attr` is present.
pub(super) const HAS_ATTR: u8 = 16;

impl Start {
    pub(super) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// The attributes we look at, as byte ranges of their raw values.
#[derive(Default)]
struct Attrs {
    href: Option<(usize, usize)>,
    alt: Option<(usize, usize)>,
    src: Option<(usize, usize)>,
    style: Option<(usize, usize)>,
    role: Option<(usize, usize)>,
    width: Option<(usize, usize)>,
    height: Option<(usize, usize)>,
    hidden: bool,
}

impl Attrs {
    /// Records an attribute; like browsers, the first of a name wins.
    fn set(&mut self, name: &[u8], value: (usize, usize)) {
        let slot = match name.len() {
            3 if name.eq_ignore_ascii_case(b"alt") => &mut self.alt,
            3 if name.eq_ignore_ascii_case(b"src") => &mut self.src,
            4 if name.eq_ignore_ascii_case(b"href") => &mut self.href,
            4 if name.eq_ignore_ascii_case(b"role") => &mut self.role,
            5 if name.eq_ignore_ascii_case(b"style") => &mut self.style,
            5 if name.eq_ignore_ascii_case(b"width") => &mut self.width,
            6 if name.eq_ignore_ascii_case(b"height") => &mut self.height,
            6 if name.eq_ignore_ascii_case(b"hidden") => {
                self.hidden = true;
                return;
            }
            _ => return,
        };
        slot.get_or_insert(value);
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// First pass: which tables are for layout, in document order, and how
/// many comments there are. A table is for layout when it says so
/// (`role="presentation"`) or holds blocks, line breaks or other tables;
/// that needs the whole table seen before its first row is drawn.
///
/// This pass only reads structure (no styles, no character references),
/// and nothing of it is kept but one flag per table: re-reading the input
/// in the second pass costs less time than a token list would cost memory.
pub(super) fn layout_tables(src: &str) -> (Vec<bool>, usize) {
    let mut lexer = Lexer::new(src, false);
    let mut layout = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut overflow = 0usize;
    for token in lexer.by_ref() {
        match token {
            Token::Start(start) => {
                if (start.tag.closes_p() || start.tag == Tag::Br)
                    && let Some(flag) = open.last().and_then(|&i| layout.get_mut(i))
                {
                    *flag = true;
                }
                if start.tag == Tag::Table {
                    layout.push(start.has(LAYOUT));
                    if open.len() < MAX_DEPTH {
                        open.push(layout.len() - 1);
                    } else {
                        overflow += 1;
                    }
                }
            }
            Token::End(Tag::Table) if overflow > 0 => overflow -= 1,
            Token::End(Tag::Table) => {
                open.pop();
            }
            _ => {}
        }
    }
    (layout, lexer.comments)
}

/// Splits the input into tokens, without recursion or backtracking.
pub(super) struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    /// The content of `<xmp>`/`<plaintext>`, due after its start tag.
    queued: Option<Token>,
    comments: usize,
    /// Also work out the flags that need attribute values (hidden, tracking).
    full: bool,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str, full: bool) -> Lexer<'a> {
        Lexer {
            src,
            b: src.as_bytes(),
            pos: 0,
            queued: None,
            comments: 0,
            full,
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        if let Some(token) = self.queued.take() {
            return Some(token);
        }
        let b = self.b;
        while self.pos < b.len() {
            let at = self.pos;
            if b[at] != b'<' {
                let end = memchr(b'<', &b[at..]).map_or(b.len(), |o| at + o);
                self.pos = end;
                return Some(Token::Text(at, end));
            }
            let token = match b.get(at + 1) {
                Some(c) if c.is_ascii_alphabetic() => self.start_tag(at + 1),
                Some(b'/') => match b.get(at + 2) {
                    Some(c) if c.is_ascii_alphabetic() => self.end_tag(at + 2),
                    Some(b'>') => {
                        self.pos = at + 3;
                        None
                    }
                    Some(_) => self.bogus_comment(at + 2),
                    None => Some(self.text_from(at)),
                },
                Some(b'!') if b[at + 2..].starts_with(b"--") => {
                    self.comments += 1;
                    self.comment(at + 4)
                }
                Some(b'!' | b'?') => self.bogus_comment(at + 2),
                _ => Some(self.text_from(at)),
            };
            if token.is_some() {
                return token;
            }
        }
        None
    }
}

impl Lexer<'_> {
    /// A `<` that starts no tag is text.
    fn text_from(&mut self, at: usize) -> Token {
        let end = memchr(b'<', &self.b[at + 1..]).map_or(self.b.len(), |o| at + 1 + o);
        self.pos = end;
        Token::Text(at, end)
    }

    /// `<!-- … -->`, also closed by `--!>`, or at once by `<!-->`, `<!--->`.
    fn comment(&mut self, from: usize) -> Option<Token> {
        let b = self.b;
        let rest = &b[from..];
        self.pos = b.len();
        if rest.starts_with(b">") {
            self.pos = from + 1;
        } else if rest.starts_with(b"->") {
            self.pos = from + 2;
        } else {
            let mut p = from;
            while let Some(o) = memchr(b'>', &b[p..]) {
                let gt = p + o;
                let closes = (gt >= from + 2 && &b[gt - 2..gt] == b"--")
                    || (gt >= from + 3 && &b[gt - 3..gt] == b"--!");
                if closes {
                    self.pos = gt + 1;
                    break;
                }
                p = gt + 1;
            }
        }
        None
    }

    /// `<!DOCTYPE …>`, `<![CDATA[…]>`, `<?…>`, `</3>`: up to the next `>`.
    fn bogus_comment(&mut self, from: usize) -> Option<Token> {
        self.pos = memchr(b'>', &self.b[from..]).map_or(self.b.len(), |o| from + o + 1);
        None
    }

    fn tag_name_end(&self, from: usize) -> usize {
        let b = self.b;
        let mut p = from;
        while p < b.len() && !matches!(b[p], b'\t' | b'\n' | 0x0C | b'\r' | b' ' | b'/' | b'>') {
            p += 1;
        }
        p
    }

    /// EOF inside a tag drops the tag and the rest, as in browsers.
    fn end_tag(&mut self, name_start: usize) -> Option<Token> {
        let name_end = self.tag_name_end(name_start);
        let tag = Tag::from_name(&self.b[name_start..name_end]);
        self.pos = self.b.len();
        let (end, _) = self.attributes(name_end, None)?;
        self.pos = end;
        Some(Token::End(tag))
    }

    fn start_tag(&mut self, name_start: usize) -> Option<Token> {
        let name_end = self.tag_name_end(name_start);
        let tag = Tag::from_name(&self.b[name_start..name_end]);
        let mut attrs = Attrs::default();
        let wanted = self.full || tag == Tag::Table;
        self.pos = self.b.len();
        let (end, self_closing) = self.attributes(name_end, wanted.then_some(&mut attrs))?;
        self.pos = end;
        if let Some(name) = tag.raw_name() {
            let (content_end, after) = if tag == Tag::Plaintext {
                (self.b.len(), self.b.len())
            } else {
                self.raw_end(name, end)
            };
            if tag == Tag::Xmp || tag == Tag::Plaintext {
                self.queued = Some(Token::Raw(end, content_end));
            }
            self.pos = after;
        }
        Some(Token::Start(self.start_token(tag, &attrs, self_closing)))
    }

    /// Where the raw text after a `<script>`-like start tag ends, and where
    /// its end tag ends. Unterminated: both at EOF.
    fn raw_end(&self, name: &[u8], from: usize) -> (usize, usize) {
        let b = self.b;
        let mut p = from;
        while let Some(o) = memchr(b'<', &b[p..]) {
            let lt = p + o;
            let n = lt + 2;
            let is_end = b.get(lt + 1) == Some(&b'/')
                && b.get(n..n + name.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(name))
                && b.get(n + name.len())
                    .is_some_and(|&c| is_space(c) || c == b'/' || c == b'>');
            if is_end {
                let after = self
                    .attributes(n + name.len(), None)
                    .map_or(b.len(), |(e, _)| e);
                return (lt, after);
            }
            p = lt + 1;
        }
        (b.len(), b.len())
    }

    /// Reads attributes from `p` to the closing `>`, recording the ones we
    /// use. Returns the position after `>` and whether the tag ended in
    /// `/>`, or `None` at EOF inside the tag.
    fn attributes(&self, mut p: usize, mut attrs: Option<&mut Attrs>) -> Option<(usize, bool)> {
        let b = self.b;
        let mut slash = false;
        loop {
            while p < b.len() && (is_space(b[p]) || b[p] == b'/') {
                slash = b[p] == b'/';
                p += 1;
            }
            match b.get(p)? {
                b'>' => return Some((p + 1, slash)),
                _ => slash = false,
            }
            let name_start = p;
            p += 1;
            while p < b.len()
                && !matches!(
                    b[p],
                    b'\t' | b'\n' | 0x0C | b'\r' | b' ' | b'/' | b'>' | b'='
                )
            {
                p += 1;
            }
            let name = &b[name_start..p];
            while p < b.len() && is_space(b[p]) {
                p += 1;
            }
            let mut value = (p, p);
            if b.get(p) == Some(&b'=') {
                p += 1;
                while p < b.len() && is_space(b[p]) {
                    p += 1;
                }
                match *b.get(p)? {
                    quote @ (b'"' | b'\'') => {
                        let close = p + 1 + memchr(quote, &b[p + 1..])?;
                        value = (p + 1, close);
                        p = close + 1;
                    }
                    b'>' => value = (p, p),
                    _ => {
                        let start = p;
                        while p < b.len() && !is_space(b[p]) && b[p] != b'>' {
                            p += 1;
                        }
                        value = (start, p);
                    }
                }
            }
            if let Some(attrs) = attrs.as_deref_mut() {
                attrs.set(name, value);
            }
        }
    }

    /// Turns what the renderer needs of the attributes into flags.
    fn start_token(&self, tag: Tag, attrs: &Attrs, self_closing: bool) -> Start {
        let value = |v: (usize, usize)| decode_attr(&self.src[v.0..v.1]);
        let css = attrs
            .style
            .map(|v| Css::parse(&value(v)))
            .unwrap_or_default();
        let mut flags = 0;
        if self_closing {
            flags |= SELF_CLOSING;
        }
        if attrs.hidden || css.hidden {
            flags |= HIDDEN;
        }
        let attr = match tag {
            Tag::A => attrs.href,
            Tag::Img => attrs.alt,
            _ => None,
        };
        if attr.is_some() {
            flags |= HAS_ATTR;
        }
        let tiny = |v: Option<(usize, usize)>| v.is_some_and(|v| tiny_length(&value(v)));
        let is_tracking = || {
            let alt_blank = attrs.alt.is_none_or(|v| value(v).trim().is_empty());
            let beacon = attrs.src.is_some_and(|v| looks_like_beacon(&value(v)));
            flags & HIDDEN != 0
                || css.tiny
                || tiny(attrs.width)
                || tiny(attrs.height)
                || (alt_blank && beacon)
        };
        let is_layout = || {
            let role = attrs.role.map(value);
            let role = role.as_deref().map(str::trim).unwrap_or("");
            role.eq_ignore_ascii_case("presentation") || role.eq_ignore_ascii_case("none")
        };
        if (tag == Tag::Img && is_tracking()) || (tag == Tag::Table && is_layout()) {
            flags |= if tag == Tag::Img { TRACKING } else { LAYOUT };
        }
        Start {
            tag,
            flags,
            attr: attr.unwrap_or((0, 0)),
        }
    }
}
