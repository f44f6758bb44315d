//! HTML mail bodies to readable plain text, with nothing active left.
//!
//! Scripts, styles, comments, forms, embedded objects, images and anything
//! the sender hid (`hidden`, `display:none`, the preheader tricks) go with
//! their content; links go through [`super::links`]; the rest becomes text
//! laid out the way a reader expects: paragraphs, `■` headings, `・`/`1.`
//! lists, `> ` quotes, data tables as `a | b` rows and layout tables (the
//! nested tables of marketing mail) as plain blocks.
//!
//! # Why a hand-written tokenizer
//! This runs on every mail, so it must be fast and must not be steerable
//! into slow paths. On a 106 KB marketing-style mail (nested layout tables,
//! inline styles, many links, Japanese text), release build, one core:
//!
//! | what                                                  | MB/s |
//! |-------------------------------------------------------|-----:|
//! | html5gum 0.9, `DefaultEmitter`, tokens only           |  143 |
//! | html5gum 0.9, `CallbackEmitter`, tokens only          |  233 |
//! | html2text 0.17 `from_read`, full conversion           |   21 |
//! | this module, full conversion                          |  270 |
//!
//! html5gum's `DefaultEmitter` alone is below the 150 MB/s target before
//! any rendering is done, and even its callback emitter leaves little room
//! for the rendering: it follows the full HTML5 state machine byte by byte.
//! We only need tag names, a handful of attributes and text, and we throw
//! away whole subtrees (scripts, styles, hidden parts), so a small tokenizer
//! that jumps with `memchr` to the next `<`, quote or end tag does much less
//! work. It follows the HTML5 tokenizer where it matters for what is shown
//! (tag and attribute syntax, raw-text elements, comments, character
//! references, EOF rules) and is simpler elsewhere (no foreign-content or
//! script-data-escaped states: at worst, script text shows as plain text).
//!
//! # Shape
//! Two passes over the input, both linear and without recursion:
//! 1. `layout_tables` reads the structure only and decides, per table,
//!    whether it is for layout (it holds blocks, nested tables or says
//!    `role="presentation"`), which needs the whole table seen first.
//! 2. `Renderer` walks the tokens of a second `Lexer` run with an explicit
//!    element stack, capped at `MAX_DEPTH` (256); deeper nesting still
//!    shows its text, but no longer shapes the layout.
//!
//! Nothing is kept between the passes but one flag per table, so memory is
//! the input plus the output. (Keeping a token list instead ran at ~360
//! MB/s but cost up to 40 bytes per input byte on `<<<<…`.)
//!
//! Inline text is neutralized a line at a time, not per text node, so a URL
//! split over tags (`https://evil<b></b>.example`) is still caught. For the
//! same reason anchors use the parts of [`links::render_anchor`] directly:
//! their text stays in the line, their target is added after it.
//!
//! Security: this module reads hostile input. Memory is O(input), time is
//! linear, nothing panics on any input (see the tests at the end; the
//! benchmark is `/work/scratch-html/benches/html.rs` until the crate has one).

use std::borrow::Cow;

use memchr::memchr;

use super::links::{self, HrefKind, LinkMode, LinkStats};

/// What was dropped from the HTML, for the report/notice.
///
/// Elements inside an already dropped subtree are not counted again,
/// except scripts, styles and comments, which are counted wherever they are.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HtmlStats {
    /// `<script>` elements.
    pub scripts: usize,
    /// `<style>` elements.
    pub styles: usize,
    /// Comments, conditional comments included.
    pub comments: usize,
    /// Forms and form controls (form, input, button, select, option, textarea).
    pub forms: usize,
    /// Hidden subtrees (`hidden`, `display:none`, preheader tricks), noscript, template.
    pub hidden: usize,
    /// Images dropped (their alt text, if any, is kept).
    pub images: usize,
    /// Images that look like tracking pixels (tiny, hidden or beacon-like).
    pub tracking_pixels: usize,
    /// iframe, object, embed, applet, svg, math, canvas, audio, video, frameset…
    pub embedded: usize,
    /// What was done to links.
    pub links: LinkStats,
}

/// Plain text made from an HTML body, and what was dropped on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlText {
    /// The text: lines end in `\n`, no trailing spaces, at most one blank line in a row.
    pub text: String,
    /// What was dropped or changed.
    pub stats: HtmlStats,
}

/// Nesting deeper than this still shows its text but no longer shapes the
/// layout; it bounds every walk of the element stack.
const MAX_DEPTH: usize = 256;

/// Quote and list prefixes beyond this depth are not drawn, so deep
/// nesting cannot multiply the size of the output.
const MAX_FRAMES: usize = 16;

/// Drawn for `<hr>`.
const RULE: &str = "--------------------";

/// Input is already-decoded text (charset handled elsewhere).
#[must_use]
pub fn html_to_text(html: &str, links: LinkMode) -> HtmlText {
    let (layout, comments) = layout_tables(html);
    let mut stats = HtmlStats {
        comments,
        ..HtmlStats::default()
    };
    let text = Renderer::new(html, links, &mut stats, layout).run(Lexer::new(html, true));
    HtmlText { text, stats }
}

/// Element names that mean something here; the rest are `Other`, told
/// apart by a hash of their lower-case name (only to match end tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    A,
    Address,
    Applet,
    Area,
    Article,
    Aside,
    Audio,
    Base,
    Basefont,
    Bgsound,
    Blockquote,
    Body,
    Br,
    Button,
    Canvas,
    Caption,
    Center,
    Col,
    Datalist,
    Dd,
    Details,
    Dialog,
    Dir,
    Div,
    Dl,
    Dt,
    Embed,
    Fieldset,
    Figcaption,
    Figure,
    Footer,
    Form,
    Frame,
    Frameset,
    H(u8),
    Head,
    Header,
    Hgroup,
    Hr,
    Html,
    Iframe,
    Img,
    Input,
    Keygen,
    Legend,
    Li,
    Link,
    Listing,
    Main,
    Math,
    Menu,
    Meta,
    Nav,
    Noembed,
    Noframes,
    Noscript,
    Object,
    Ol,
    Optgroup,
    Option,
    P,
    Param,
    Plaintext,
    Pre,
    Script,
    Section,
    Select,
    Source,
    Style,
    Summary,
    Svg,
    Table,
    Tbody,
    Td,
    Template,
    Textarea,
    Tfoot,
    Th,
    Thead,
    Title,
    Tr,
    Track,
    Ul,
    Video,
    Wbr,
    Xmp,
    Other(u32),
}

impl Tag {
    fn from_name(name: &[u8]) -> Tag {
        let mut buf = [0u8; 10];
        let Some(lower) = buf.get_mut(..name.len()) else {
            return Tag::Other(name_hash(name));
        };
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        match &*lower {
            b"a" => Tag::A,
            b"address" => Tag::Address,
            b"applet" => Tag::Applet,
            b"area" => Tag::Area,
            b"article" => Tag::Article,
            b"aside" => Tag::Aside,
            b"audio" => Tag::Audio,
            b"base" => Tag::Base,
            b"basefont" => Tag::Basefont,
            b"bgsound" => Tag::Bgsound,
            b"blockquote" => Tag::Blockquote,
            b"body" => Tag::Body,
            b"br" => Tag::Br,
            b"button" => Tag::Button,
            b"canvas" => Tag::Canvas,
            b"caption" => Tag::Caption,
            b"center" => Tag::Center,
            b"col" => Tag::Col,
            b"datalist" => Tag::Datalist,
            b"dd" => Tag::Dd,
            b"details" => Tag::Details,
            b"dialog" => Tag::Dialog,
            b"dir" => Tag::Dir,
            b"div" => Tag::Div,
            b"dl" => Tag::Dl,
            b"dt" => Tag::Dt,
            b"embed" => Tag::Embed,
            b"fieldset" => Tag::Fieldset,
            b"figcaption" => Tag::Figcaption,
            b"figure" => Tag::Figure,
            b"footer" => Tag::Footer,
            b"form" => Tag::Form,
            b"frame" => Tag::Frame,
            b"frameset" => Tag::Frameset,
            [b'h', n @ b'1'..=b'6'] => Tag::H(n - b'0'),
            b"head" => Tag::Head,
            b"header" => Tag::Header,
            b"hgroup" => Tag::Hgroup,
            b"hr" => Tag::Hr,
            b"html" => Tag::Html,
            b"iframe" => Tag::Iframe,
            b"img" | b"image" => Tag::Img,
            b"input" => Tag::Input,
            b"keygen" => Tag::Keygen,
            b"legend" => Tag::Legend,
            b"li" => Tag::Li,
            b"link" => Tag::Link,
            b"listing" => Tag::Listing,
            b"main" => Tag::Main,
            b"math" => Tag::Math,
            b"menu" => Tag::Menu,
            b"meta" => Tag::Meta,
            b"nav" => Tag::Nav,
            b"noembed" => Tag::Noembed,
            b"noframes" => Tag::Noframes,
            b"noscript" => Tag::Noscript,
            b"object" => Tag::Object,
            b"ol" => Tag::Ol,
            b"optgroup" => Tag::Optgroup,
            b"option" => Tag::Option,
            b"p" => Tag::P,
            b"param" => Tag::Param,
            b"plaintext" => Tag::Plaintext,
            b"pre" => Tag::Pre,
            b"script" => Tag::Script,
            b"section" => Tag::Section,
            b"select" => Tag::Select,
            b"source" => Tag::Source,
            b"style" => Tag::Style,
            b"summary" => Tag::Summary,
            b"svg" => Tag::Svg,
            b"table" => Tag::Table,
            b"tbody" => Tag::Tbody,
            b"td" => Tag::Td,
            b"template" => Tag::Template,
            b"textarea" => Tag::Textarea,
            b"tfoot" => Tag::Tfoot,
            b"th" => Tag::Th,
            b"thead" => Tag::Thead,
            b"title" => Tag::Title,
            b"tr" => Tag::Tr,
            b"track" => Tag::Track,
            b"ul" => Tag::Ul,
            b"video" => Tag::Video,
            b"wbr" => Tag::Wbr,
            b"xmp" => Tag::Xmp,
            other => Tag::Other(name_hash(other)),
        }
    }

    /// Elements without content or end tag.
    fn is_void(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Area | Base
                | Basefont
                | Bgsound
                | Br
                | Col
                | Embed
                | Frame
                | Hr
                | Img
                | Input
                | Keygen
                | Link
                | Meta
                | Param
                | Source
                | Track
                | Wbr
        )
    }

    /// Name of an element whose content is raw text, ended only by its own
    /// end tag: the tokenizer consumes it.
    fn raw_name(self) -> Option<&'static [u8]> {
        Some(match self {
            Tag::Script => b"script",
            Tag::Style => b"style",
            Tag::Title => b"title",
            Tag::Textarea => b"textarea",
            Tag::Xmp => b"xmp",
            Tag::Iframe => b"iframe",
            Tag::Noembed => b"noembed",
            Tag::Noframes => b"noframes",
            Tag::Noscript => b"noscript",
            Tag::Plaintext => b"plaintext",
            _ => return None,
        })
    }

    /// Starting one of these ends an open `<p>`.
    fn closes_p(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Address
                | Article
                | Aside
                | Blockquote
                | Center
                | Details
                | Dialog
                | Dir
                | Div
                | Dl
                | Dd
                | Dt
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Form
                | H(_)
                | Header
                | Hgroup
                | Hr
                | Li
                | Listing
                | Main
                | Menu
                | Nav
                | Ol
                | P
                | Pre
                | Section
                | Summary
                | Table
                | Ul
                | Xmp
                | Plaintext
        )
    }

    /// Starts a line of its own.
    fn is_block(self) -> bool {
        use Tag::*;
        self.closes_p() || matches!(self, Tr | Td | Th | Caption | Legend | Br)
    }

    /// Structure that inline end tags cannot close across.
    fn is_special(self) -> bool {
        !matches!(self, Tag::Other(_) | Tag::A | Tag::Option | Tag::Optgroup)
    }

    /// End tags of blocks do not close across these.
    fn is_scope_boundary(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Table | Td | Th | Caption | Object | Applet | Template | Svg | Math
        )
    }

    /// `<svg/>` and `<math/>` really are self-closing (foreign content).
    fn is_foreign(self) -> bool {
        matches!(self, Tag::Svg | Tag::Math)
    }
}

/// FNV-1a of an ASCII-lower-cased name.
fn name_hash(name: &[u8]) -> u32 {
    name.iter().fold(0x811c_9dc5, |h: u32, c| {
        (h ^ u32::from(c.to_ascii_lowercase())).wrapping_mul(0x0100_0193)
    })
}

/// One token of the input; text positions are byte ranges into it.
#[derive(Debug, Clone, Copy)]
enum Token {
    /// Text between tags, character references not yet decoded.
    Text(usize, usize),
    /// Content of `<xmp>`/`<plaintext>`: shown as is, preformatted.
    Raw(usize, usize),
    Start(Start),
    End(Tag),
}

#[derive(Debug, Clone, Copy)]
struct Start {
    tag: Tag,
    flags: u8,
    /// The one attribute the renderer needs: `href` of `a`, `alt` of `img`.
    attr: (usize, usize),
}

const SELF_CLOSING: u8 = 1;
/// `hidden` attribute or hiding inline style.
const HIDDEN: u8 = 2;
/// Table used for layout (`role`, or found so by `layout_tables`).
const LAYOUT: u8 = 4;
/// Image that looks like a tracking pixel.
const TRACKING: u8 = 8;
/// `attr` is present.
const HAS_ATTR: u8 = 16;

impl Start {
    fn has(&self, flag: u8) -> bool {
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
fn layout_tables(src: &str) -> (Vec<bool>, usize) {
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
struct Lexer<'a> {
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
    fn new(src: &'a str, full: bool) -> Lexer<'a> {
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

/// What an inline `style` does that matters here.
#[derive(Debug, Default, Clone, Copy)]
struct Css {
    /// Not shown: `display:none`, `visibility:hidden`, `font-size:0`,
    /// `max-height:0`, `opacity:0`, `mso-hide:all`.
    hidden: bool,
    /// `width` or `height` of at most 2px: a tracking pixel, on an image.
    tiny: bool,
}

impl Css {
    /// Reads `name: value` declarations; runs on nearly every element of
    /// a marketing mail, so it splits bytes with `memchr`.
    fn parse(style: &str) -> Css {
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
fn tiny_length(v: &str) -> bool {
    length_at_most(v, 2.0)
}

/// Image URLs of the usual open-tracking services.
fn looks_like_beacon(src: &str) -> bool {
    let src = src.to_ascii_lowercase();
    [
        "track", "pixel", "beacon", "open", "1x1", "/o.gif", "/t.gif", "spacer",
    ]
    .iter()
    .any(|w| src.contains(w))
}

/// Prefixes drawn at the start of each line, innermost last.
#[derive(Debug)]
enum Frame {
    /// `> `; `shown` once a line was drawn in it, so the blank line
    /// before a quote is not drawn as `>`.
    Quote { shown: bool },
    /// `・ `, `1. `, `■ ` on the first line, spaces of the same width after.
    Marker { text: String, used: bool },
    /// Two spaces (`<dd>`).
    Indent,
    /// A list: no prefix of its own, numbers its items.
    List { ordered: bool, next: usize },
}

/// Builds the text line by line: whitespace collapsed, prefixes drawn,
/// line breaks owed until content needs them (so empty blocks leave no
/// blank lines), links neutralized a whole line at a time.
struct Writer {
    out: String,
    /// The current line's text not yet neutralized.
    pending: String,
    mode: LinkMode,
    links: LinkStats,
    frames: Vec<Frame>,
    /// Line breaks owed before the next content: 1 a new line, 2 a blank line.
    nl: u8,
    line_open: bool,
    /// Where the current line's content starts in `out`, after its prefix.
    line_start: usize,
    /// A collapsed space is owed before the next content on this line.
    space: bool,
    /// A table cell separator is owed instead.
    sep: bool,
    /// Whitespace inside `<pre>`, written only if content follows on the line.
    pre_ws: String,
    /// Counts flushes of `pending`, so an anchor can tell whether its text
    /// is still all there.
    flushes: u64,
}

impl Writer {
    fn new(capacity: usize, mode: LinkMode) -> Writer {
        Writer {
            out: String::with_capacity(capacity),
            pending: String::new(),
            mode,
            links: LinkStats::default(),
            frames: Vec::new(),
            nl: 0,
            line_open: false,
            line_start: 0,
            space: false,
            sep: false,
            pre_ws: String::new(),
            flushes: 0,
        }
    }

    /// Non-whitespace content of the current line.
    fn content(&mut self, s: &str) {
        if !self.line_open {
            self.open_line();
        } else if self.sep {
            self.pending.push_str(" | ");
        } else if self.space {
            self.pending.push(' ');
        }
        self.space = false;
        self.sep = false;
        if !self.pre_ws.is_empty() {
            self.pending.push_str(&self.pre_ws);
            self.pre_ws.clear();
        }
        self.pending.push_str(s);
    }

    fn space(&mut self) {
        self.space |= self.line_open;
    }

    fn open_line(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
            if self.nl >= 2 {
                for frame in &self.frames {
                    if let Frame::Quote { shown: true } = frame {
                        self.out.push_str("> ");
                    }
                }
                self.trim_end();
                self.out.push('\n');
            }
        }
        for frame in &mut self.frames {
            match frame {
                Frame::Quote { shown } => {
                    self.out.push_str("> ");
                    *shown = true;
                }
                Frame::Marker { text, used: false } => self.out.push_str(text),
                Frame::Marker { text, used: true } => {
                    self.out
                        .extend(std::iter::repeat_n(' ', text.chars().count()));
                }
                Frame::Indent => self.out.push_str("  "),
                Frame::List { .. } => {}
            }
            if let Frame::Marker { used, .. } = frame {
                *used = true;
            }
        }
        self.line_start = self.out.len();
        self.line_open = true;
        self.nl = 0;
        self.space = false;
        self.sep = false;
    }

    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        links::neutralize_into(&self.pending, self.mode, &mut self.links, &mut self.out);
        self.pending.clear();
        self.flushes += 1;
    }

    fn trim_end(&mut self) {
        let len = self.out.trim_end_matches([' ', '\t']).len();
        self.out.truncate(len);
    }

    fn end_line(&mut self) {
        self.flush_pending();
        self.trim_end();
        self.line_open = false;
        self.space = false;
        self.sep = false;
        self.pre_ws.clear();
        self.nl = self.nl.max(1);
    }

    fn break_line(&mut self) {
        if self.line_open {
            self.end_line();
        }
    }

    fn blank_line(&mut self) {
        self.break_line();
        if !self.out.is_empty() {
            self.nl = 2;
        }
    }

    /// `<br>`, or a newline in `<pre>`: breaks even an empty line.
    fn hard_break(&mut self) {
        if self.line_open {
            self.end_line();
        } else if !self.out.is_empty() {
            self.nl = (self.nl + 1).min(2);
        }
    }

    fn gap(&mut self, gap: Gap) {
        match gap {
            Gap::Line => self.break_line(),
            Gap::Blank => self.blank_line(),
        }
    }

    fn push_frame(&mut self, frame: Frame) -> bool {
        let room = self.frames.len() < MAX_FRAMES;
        if room {
            self.frames.push(frame);
        }
        room
    }

    fn in_list(&self) -> bool {
        self.frames.iter().any(|f| matches!(f, Frame::List { .. }))
    }

    /// `・ ` or the next number of the innermost list.
    fn next_marker(&mut self) -> String {
        let list = self.frames.iter_mut().rev().find_map(|f| match f {
            Frame::List { ordered, next } => Some((*ordered, next)),
            _ => None,
        });
        match list {
            Some((true, next)) => {
                let marker = format!("{next}. ");
                *next += 1;
                marker
            }
            _ => "・ ".to_string(),
        }
    }

    fn finish(mut self) -> (String, LinkStats) {
        self.break_line();
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        (self.out, self.links)
    }
}

#[derive(Debug, Clone, Copy)]
enum Gap {
    Line,
    Blank,
}

/// What closing an open element does.
#[derive(Debug, Clone, Copy)]
enum Act {
    None,
    Gap(Gap),
    /// Pops the element's frame, if it got one, then leaves a gap.
    Frame {
        gap: Gap,
        pushed: bool,
    },
    Table {
        layout: bool,
        cells: usize,
    },
    Pre,
    Anchor(u32),
}

#[derive(Debug, Clone, Copy)]
struct Open {
    tag: Tag,
    act: Act,
}

/// An `<a href>` whose text is being collected.
#[derive(Debug)]
struct Anchor {
    id: u32,
    href: (usize, usize),
    /// Where its text starts in `Writer::pending`…
    start: usize,
    /// …valid while no flush happened since.
    flushes: u64,
}

/// Second pass: tokens to text, with an explicit, capped element stack.
struct Renderer<'a> {
    src: &'a str,
    stats: &'a mut HtmlStats,
    w: Writer,
    stack: Vec<Open>,
    /// Open elements not pushed because the stack was full.
    overflow: usize,
    /// Stack index of the root of the subtree being dropped.
    skip: Option<usize>,
    anchor: Option<Anchor>,
    anchors: u32,
    pre: usize,
    /// The next token directly follows `<pre>` (its first newline goes).
    pre_start: bool,
    /// Open `<p>` elements, to skip looking for one.
    open_p: usize,
    /// From the first pass: which tables are for layout, in order…
    layout: Vec<bool>,
    /// …and how many tables were started so far.
    tables: usize,
}

impl<'a> Renderer<'a> {
    fn new(
        src: &'a str,
        mode: LinkMode,
        stats: &'a mut HtmlStats,
        layout: Vec<bool>,
    ) -> Renderer<'a> {
        Renderer {
            src,
            stats,
            w: Writer::new(src.len() / 4, mode),
            stack: Vec::new(),
            overflow: 0,
            skip: None,
            anchor: None,
            anchors: 0,
            pre: 0,
            pre_start: false,
            open_p: 0,
            layout,
            tables: 0,
        }
    }

    fn run(mut self, tokens: impl Iterator<Item = Token>) -> String {
        let src = self.src;
        for token in tokens {
            let pre_start = std::mem::take(&mut self.pre_start);
            match token {
                Token::Text(s, e) if self.skip.is_none() => {
                    let mut text = &src[s..e];
                    if pre_start {
                        text = text
                            .strip_prefix("\r\n")
                            .or_else(|| text.strip_prefix(['\n', '\r']))
                            .unwrap_or(text);
                    }
                    self.push_text(text, true);
                }
                Token::Raw(s, e) if self.skip.is_none() => {
                    self.w.blank_line();
                    self.pre += 1;
                    self.push_text(&src[s..e], false);
                    self.pre -= 1;
                    self.w.blank_line();
                }
                Token::Text(..) | Token::Raw(..) => {}
                Token::Start(start) => self.start(start),
                Token::End(tag) => self.end(tag),
            }
        }
        self.pop_to(0);
        self.close_anchor();
        let (text, links) = self.w.finish();
        self.stats.links = links;
        text
    }

    /// Text with whitespace collapsed (kept in `<pre>`), character
    /// references decoded if `entities`, and controls, C1 and bidi
    /// overrides dropped.
    fn push_text(&mut self, s: &str, entities: bool) {
        let b = s.as_bytes();
        let (mut i, mut run) = (0, 0);
        while i < b.len() {
            let c = b[i];
            if !SPECIAL[usize::from(c)] {
                i += 1;
                continue;
            }
            let (len, ch) = match c {
                b'&' if entities => match decode_entity(&b[i..], false) {
                    Some((ch, len)) => (len, Some(ch)),
                    None => {
                        i += 1;
                        continue;
                    }
                },
                0xC2 => match b.get(i + 1) {
                    Some(0xA0) => (2, Some(' ')),
                    Some(0x80..=0x9F) => (2, None),
                    _ => {
                        i += 1;
                        continue;
                    }
                },
                0xE2 if is_bidi_at(b, i) => (3, None),
                b'&' | 0xE2 => {
                    i += 1;
                    continue;
                }
                b'\r' if b.get(i + 1) == Some(&b'\n') => (1, None),
                _ => (1, Some(char::from(c))),
            };
            self.push_run(&s[run..i]);
            if let Some(ch) = ch {
                self.push_char(ch);
            }
            i += len;
            run = i;
        }
        self.push_run(&s[run..]);
    }

    fn push_run(&mut self, s: &str) {
        if !s.is_empty() {
            self.w.content(s);
        }
    }

    fn push_char(&mut self, ch: char) {
        let pre = self.pre > 0;
        match ch {
            '\n' | '\r' if pre => self.w.hard_break(),
            ' ' | '\t' if pre => self.w.pre_ws.push(ch),
            '\u{A0}' if pre => self.w.pre_ws.push(' '),
            ' ' | '\t' | '\n' | '\r' | '\x0C' | '\u{A0}' => self.w.space(),
            c if c.is_control() || links::is_bidi_control(c) => {}
            c => self.w.content(c.encode_utf8(&mut [0; 4])),
        }
    }

    fn start(&mut self, mut start: Start) {
        let tag = start.tag;
        if tag == Tag::Table {
            // Counted before anything can skip it, to stay in step with the first pass.
            if self.layout.get(self.tables).copied().unwrap_or(true) {
                start.flags |= LAYOUT;
            }
            self.tables += 1;
        }
        if tag.raw_name().is_some() {
            self.start_raw(tag);
            return;
        }
        if matches!(tag, Tag::Html | Tag::Head | Tag::Body) {
            return;
        }
        self.implicit_close(tag);
        if tag.is_void() {
            if self.skip.is_none() {
                self.void(start);
            }
            return;
        }
        if tag.is_foreign() && start.has(SELF_CLOSING) {
            if self.skip.is_none() {
                self.stats.embedded += 1;
            }
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            self.overflow += 1;
            if self.skip.is_none() && tag.is_block() {
                self.w.break_line();
            }
            return;
        }
        let act = if self.skip.is_some() {
            Act::None
        } else {
            self.open(start)
        };
        if tag == Tag::P {
            self.open_p += 1;
        }
        self.stack.push(Open { tag, act });
    }

    /// Script-like elements: the tokenizer took their content; count them.
    fn start_raw(&mut self, tag: Tag) {
        let stats = &mut *self.stats;
        match tag {
            Tag::Script => stats.scripts += 1,
            Tag::Style => stats.styles += 1,
            _ if self.skip.is_some() => {}
            Tag::Textarea => stats.forms += 1,
            Tag::Iframe | Tag::Noembed | Tag::Noframes => stats.embedded += 1,
            Tag::Noscript => stats.hidden += 1,
            Tag::Xmp | Tag::Plaintext => self.implicit_close(tag),
            _ => {}
        }
    }

    /// Starts a subtree whose content is dropped.
    fn drop_subtree(&mut self) -> Act {
        self.skip = Some(self.stack.len());
        Act::None
    }

    /// Does what opening `start` does; returns what closing it will do.
    fn open(&mut self, start: Start) -> Act {
        let w = &mut self.w;
        let stats = &mut *self.stats;
        if start.has(HIDDEN) {
            stats.hidden += 1;
            return self.drop_subtree();
        }
        match start.tag {
            Tag::Form | Tag::Button | Tag::Select | Tag::Option | Tag::Optgroup | Tag::Datalist => {
                stats.forms += 1;
                self.drop_subtree()
            }
            Tag::Object
            | Tag::Applet
            | Tag::Svg
            | Tag::Math
            | Tag::Canvas
            | Tag::Audio
            | Tag::Video
            | Tag::Frameset => {
                stats.embedded += 1;
                self.drop_subtree()
            }
            Tag::Template => {
                stats.hidden += 1;
                self.drop_subtree()
            }
            Tag::A => self.open_anchor(start),
            Tag::P => {
                w.blank_line();
                Act::Gap(Gap::Blank)
            }
            Tag::H(level) => {
                w.blank_line();
                // `■` for the main headings, `□` below them.
                let text = if level <= 2 { "■ " } else { "□ " }.to_string();
                let pushed = w.push_frame(Frame::Marker { text, used: false });
                Act::Frame {
                    gap: Gap::Blank,
                    pushed,
                }
            }
            Tag::Blockquote => {
                w.blank_line();
                let pushed = w.push_frame(Frame::Quote { shown: false });
                Act::Frame {
                    gap: Gap::Blank,
                    pushed,
                }
            }
            Tag::Pre | Tag::Listing => {
                w.blank_line();
                self.pre += 1;
                self.pre_start = true;
                Act::Pre
            }
            Tag::Ul | Tag::Ol | Tag::Menu | Tag::Dir => {
                let gap = if w.in_list() { Gap::Line } else { Gap::Blank };
                w.gap(gap);
                let ordered = start.tag == Tag::Ol;
                let pushed = w.push_frame(Frame::List { ordered, next: 1 });
                Act::Frame { gap, pushed }
            }
            Tag::Li => {
                w.break_line();
                let text = w.next_marker();
                let pushed = w.push_frame(Frame::Marker { text, used: false });
                Act::Frame {
                    gap: Gap::Line,
                    pushed,
                }
            }
            Tag::Dd => {
                w.break_line();
                let pushed = w.push_frame(Frame::Indent);
                Act::Frame {
                    gap: Gap::Line,
                    pushed,
                }
            }
            Tag::Table => {
                let layout = start.has(LAYOUT);
                w.gap(if layout { Gap::Line } else { Gap::Blank });
                Act::Table { layout, cells: 0 }
            }
            Tag::Tr => {
                w.break_line();
                if let Some(Act::Table { cells, .. }) = self.table() {
                    *cells = 0;
                }
                Act::Gap(Gap::Line)
            }
            Tag::Td | Tag::Th => self.open_cell(),
            tag if tag.is_block() => {
                w.break_line();
                Act::Gap(Gap::Line)
            }
            _ => Act::None,
        }
    }

    /// The innermost open table's state.
    fn table(&mut self) -> Option<&mut Act> {
        self.stack
            .iter_mut()
            .rev()
            .map(|open| &mut open.act)
            .find(|act| matches!(act, Act::Table { .. }))
    }

    /// Data table cells join their row with ` | `; layout cells are blocks.
    fn open_cell(&mut self) -> Act {
        let line_open = self.w.line_open;
        match self.table() {
            Some(Act::Table {
                layout: false,
                cells,
            }) => {
                *cells += 1;
                if *cells > 1 && line_open {
                    self.w.sep = true;
                }
                Act::None
            }
            _ => {
                self.w.break_line();
                Act::Gap(Gap::Line)
            }
        }
    }

    fn void(&mut self, start: Start) {
        let stats = &mut *self.stats;
        match start.tag {
            Tag::Img => self.image(start),
            _ if start.has(HIDDEN) => {}
            Tag::Br => self.w.hard_break(),
            Tag::Hr => {
                self.w.break_line();
                self.w.content(RULE);
                self.w.break_line();
            }
            Tag::Input | Tag::Keygen => stats.forms += 1,
            Tag::Embed | Tag::Frame => stats.embedded += 1,
            _ => {}
        }
    }

    /// Images go; meaningful alt text stays as `[画像: …]`.
    fn image(&mut self, start: Start) {
        if start.has(TRACKING) {
            self.stats.tracking_pixels += 1;
            return;
        }
        self.stats.images += 1;
        if !start.has(HAS_ATTR) {
            return;
        }
        let alt = clean_inline(&decode_attr(&self.src[start.attr.0..start.attr.1]));
        if alt.chars().any(char::is_alphanumeric) {
            self.w.content(&format!("[画像: {alt}]"));
        }
    }

    fn open_anchor(&mut self, start: Start) -> Act {
        if !start.has(HAS_ATTR) {
            return Act::None;
        }
        self.anchors += 1;
        self.anchor = Some(Anchor {
            id: self.anchors,
            href: start.attr,
            start: self.w.pending.len(),
            flushes: self.w.flushes,
        });
        Act::Anchor(self.anchors)
    }

    /// Adds the anchor's target after its text, or shows the target in
    /// place of the text when both name the same URL.
    fn close_anchor(&mut self) {
        let Some(anchor) = self.anchor.take() else {
            return;
        };
        let decoded = decode_attr(&self.src[anchor.href.0..anchor.href.1]);
        let href = links::clean_href(&decoded);
        let kind = links::href_kind(&href);
        let w = &mut self.w;
        match kind {
            HrefKind::None => return,
            HrefKind::Unsafe => {
                w.links.removed += 1;
                return;
            }
            _ => {}
        }
        let current = anchor.flushes == w.flushes;
        let text = current
            .then(|| w.pending.get(anchor.start..))
            .flatten()
            .unwrap_or("");
        // The space or cell separator owed when the anchor opened was
        // written with its first content; it is not part of its text.
        let lead = [" | ", " "]
            .into_iter()
            .find(|p| text.starts_with(p))
            .map_or(0, str::len);
        let text = &text[lead..];
        // Shown once only at a word boundary: the line is split where the
        // text starts, and `https:` + `//a.example` must not meet again.
        let before = current
            .then(|| w.pending.get(..anchor.start))
            .flatten()
            .unwrap_or("");
        let boundary = lead > 0 || !before.ends_with(|c: char| c.is_ascii_graphic());
        if boundary && links::same_target(text, &href) {
            w.pending.truncate(anchor.start + lead);
            w.flush_pending();
            links::write_href(&href, kind, w.mode, &mut w.links, &mut w.out, false);
            return;
        }
        w.flush_pending();
        if !w.line_open {
            w.open_line();
        } else if w.out.len() > w.line_start {
            w.out.push(' ');
        }
        links::write_href(&href, kind, w.mode, &mut w.links, &mut w.out, true);
    }

    /// The end tags HTML implies: a new `<li>` ends the previous one, a
    /// block ends an open `<p>`, and so on.
    fn implicit_close(&mut self, tag: Tag) {
        use Tag::*;
        let list_stop = |t: Tag| t.is_special() && !matches!(t, Address | Div | P);
        match tag {
            Li => self.close_nearest(|t| t == Li, list_stop),
            Dd | Dt => self.close_nearest(|t| matches!(t, Dd | Dt), list_stop),
            Tr => self.close_nearest(|t| t == Tr, |t| t == Table),
            Td | Th => self.close_nearest(|t| matches!(t, Td | Th), |t| matches!(t, Tr | Table)),
            Thead | Tbody | Tfoot => {
                self.close_nearest(|t| t == Tr, |t| t == Table);
                self.close_nearest(|t| matches!(t, Thead | Tbody | Tfoot), |t| t == Table);
            }
            H(_) | Option
                if self
                    .stack
                    .last()
                    .is_some_and(|o| o.tag == tag || matches!((o.tag, tag), (H(_), H(_)))) =>
            {
                self.pop_to(self.stack.len() - 1);
            }
            A => {
                if self.skip.is_none() {
                    self.close_anchor();
                }
                if self.stack.last().is_some_and(|o| o.tag == A) {
                    self.pop_to(self.stack.len() - 1);
                }
            }
            _ => {}
        }
        if tag.closes_p() && self.open_p > 0 {
            self.close_nearest(|t| t == P, |t| t.is_scope_boundary() || t == Button);
        }
    }

    /// Pops up to and including the innermost `is` element, unless a
    /// `stop` element comes first.
    fn close_nearest(&mut self, is: impl Fn(Tag) -> bool, stop: impl Fn(Tag) -> bool) {
        for i in (0..self.stack.len()).rev() {
            let tag = self.stack[i].tag;
            if is(tag) {
                self.pop_to(i);
                return;
            }
            if stop(tag) {
                return;
            }
        }
    }

    fn end(&mut self, tag: Tag) {
        if tag.raw_name().is_some() || matches!(tag, Tag::Html | Tag::Head | Tag::Body) {
            return;
        }
        if tag == Tag::Br {
            // `</br>` is a `<br>` to browsers.
            if self.skip.is_none() {
                self.w.hard_break();
            }
            return;
        }
        if tag.is_void() {
            return;
        }
        if self.overflow > 0 {
            self.overflow -= 1;
            if self.skip.is_none() && tag.is_block() {
                self.w.break_line();
            }
            return;
        }
        if tag == Tag::A {
            self.end_anchor();
            return;
        }
        let stop = |t: Tag| match tag {
            Tag::Tr | Tag::Thead | Tag::Tbody | Tag::Tfoot | Tag::Table => t == Tag::Table,
            Tag::Li => t.is_scope_boundary() || matches!(t, Tag::Ul | Tag::Ol),
            _ if !tag.is_special() => t.is_special(),
            _ => t.is_scope_boundary(),
        };
        let found = self.close_nearest_found(tag, stop);
        if !found && tag == Tag::P && self.skip.is_none() {
            // `</p>` alone is an empty paragraph to browsers.
            self.w.blank_line();
        }
    }

    fn close_nearest_found(&mut self, tag: Tag, stop: impl Fn(Tag) -> bool) -> bool {
        for i in (0..self.stack.len()).rev() {
            let t = self.stack[i].tag;
            if t == tag {
                self.pop_to(i);
                return true;
            }
            if stop(t) {
                return false;
            }
        }
        false
    }

    /// `</a>` ends the link even when blocks opened inside it are still
    /// open (browsers re-nest them); only the link state is closed then.
    fn end_anchor(&mut self) {
        let Some(i) = (0..self.stack.len()).rev().find(|&i| {
            let tag = self.stack[i].tag;
            tag == Tag::A || tag.is_scope_boundary()
        }) else {
            return;
        };
        if self.stack[i].tag != Tag::A {
            return;
        }
        if i + 1 == self.stack.len() {
            self.pop_to(i);
            return;
        }
        if let Act::Anchor(id) = self.stack[i].act
            && self.skip.is_none()
            && self.anchor.as_ref().is_some_and(|a| a.id == id)
        {
            self.close_anchor();
        }
        self.stack[i].act = Act::None;
    }

    fn pop_to(&mut self, len: usize) {
        while self.stack.len() > len {
            let Some(open) = self.stack.pop() else {
                break;
            };
            if open.tag == Tag::P {
                self.open_p = self.open_p.saturating_sub(1);
            }
            if self.skip == Some(self.stack.len()) {
                self.skip = None;
            } else if self.skip.is_none() {
                self.close(open.act);
            }
        }
    }

    fn close(&mut self, act: Act) {
        match act {
            Act::None => {}
            Act::Gap(gap) => self.w.gap(gap),
            Act::Frame { gap, pushed } => {
                self.w.break_line();
                if pushed {
                    self.w.frames.pop();
                }
                self.w.gap(gap);
            }
            Act::Table { layout, .. } => self.w.gap(if layout { Gap::Line } else { Gap::Blank }),
            Act::Pre => {
                self.pre = self.pre.saturating_sub(1);
                self.w.blank_line();
            }
            Act::Anchor(id) => {
                if self.anchor.as_ref().is_some_and(|a| a.id == id) {
                    self.close_anchor();
                }
            }
        }
    }
}

/// Bytes that need a look in text: whitespace and controls, `&`, DEL, and
/// the lead bytes of NBSP/C1 controls (0xC2) and of bidi controls (0xE2).
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = c <= 0x20 || c == 0x26 || c == 0x7F || c == 0xC2 || c == 0xE2;
        c += 1;
    }
    table
};

/// U+202A–U+202E or U+2066–U+2069 starts at `i`.
fn is_bidi_at(b: &[u8], i: usize) -> bool {
    match (b.get(i + 1), b.get(i + 2)) {
        (Some(0x80), Some(c)) => (0xAA..=0xAE).contains(c),
        (Some(0x81), Some(c)) => (0xA6..=0xA9).contains(c),
        _ => false,
    }
}

/// Attribute text on one line: whitespace collapsed, controls dropped.
fn clean_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C' | '\u{A0}') {
            space = !out.is_empty();
        } else if !(c.is_control() || links::is_bidi_control(c)) {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// An attribute value with character references decoded.
fn decode_attr(raw: &str) -> Cow<'_, str> {
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
fn decode_entity(b: &[u8], in_attr: bool) -> Option<(char, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        let out = html_to_text(html, LinkMode::Defang);
        check_shape(&out.text);
        out.text
    }

    /// What every output must look like, whatever the input.
    fn check_shape(text: &str) {
        assert!(!text.contains("\n\n\n"), "two blank lines: {text:?}");
        assert!(!text.starts_with('\n'), "leading blank line: {text:?}");
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "no final newline: {text:?}"
        );
        for line in text.lines() {
            assert_eq!(
                line,
                line.trim_end_matches([' ', '\t']),
                "trailing space: {text:?}"
            );
        }
    }

    #[test]
    fn japanese_text_survives_exactly() {
        let jp = "拝啓　時下ますますご清祥のこととお慶び申し上げます。①②③「ｶﾀｶﾅ」〒100-0001";
        assert_eq!(text(&format!("<p>{jp}</p>")), format!("{jp}\n"));
        assert_eq!(text(jp), format!("{jp}\n"));
    }

    #[test]
    fn blocks_and_whitespace() {
        assert_eq!(
            text("<p>a</p><p>b<br>c</p><div>d</div>"),
            "a\n\nb\nc\n\nd\n"
        );
        assert_eq!(text("<p>  a \n\t b  <b> c </b>d</p>"), "a b c d\n");
        assert_eq!(text("a<br><br><br><br>b"), "a\n\nb\n");
        assert_eq!(
            text("<div><div><p>x</p></div></div><div></div><p></p><p>y"),
            "x\n\ny\n"
        );
        assert_eq!(text("<p>a</p><hr><p>b</p>"), format!("a\n\n{RULE}\n\nb\n"));
    }

    #[test]
    fn pre_keeps_whitespace() {
        assert_eq!(
            text("<p>x</p><pre>\n  a  b\n\n\n\n  c\n</pre><p>y</p>"),
            "x\n\n  a  b\n\n  c\n\ny\n"
        );
    }

    #[test]
    fn headings_lists_quotes() {
        assert_eq!(
            text("<h1>お知らせ</h1><p>本文</p><h3>補足</h3>続き"),
            "■ お知らせ\n\n本文\n\n□ 補足\n\n続き\n"
        );
        assert_eq!(
            text(
                "<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul><ol><li>first<li>second</ol>"
            ),
            "・ one\n・ two\n  ・ nested\n\n1. first\n2. second\n"
        );
        assert_eq!(
            text("<p>前</p><blockquote><p>引用1</p><p>引用2</p></blockquote><p>後</p>"),
            "前\n\n> 引用1\n>\n> 引用2\n\n後\n"
        );
        assert_eq!(
            text("<dl><dt>用語</dt><dd>説明</dd></dl>"),
            "用語\n  説明\n"
        );
    }

    #[test]
    fn data_tables_use_pipes() {
        let html = "<p>表</p><table border=1><tr><th>名前</th><th>値</th></tr>\
                    <tr><td>a</td><td>1</td></tr><tr><td></td><td>2</td></tr></table><p>後</p>";
        assert_eq!(text(html), "表\n\n名前 | 値\na | 1\n2\n\n後\n");
        let html = "<table><tr><td>詳細</td><td> <a href='https://a.example/'>https://a.example/</a></td></tr></table>";
        assert_eq!(text(html), "詳細 | hxxps://a[.]example/\n");
    }

    #[test]
    fn layout_tables_become_blocks() {
        let html = "<table><tr><td><p>左</p></td><td><table><tr><td>右</td></tr></table></td></tr></table>";
        assert_eq!(text(html), "左\n\n右\n");
        let html = "<table role=presentation><tr><td>a</td><td>b</td></tr></table>";
        assert_eq!(text(html), "a\nb\n");
        let html = "<table><tr><td>住所</td><td>東京都<br>千代田区</td></tr></table>";
        assert_eq!(text(html), "住所\n東京都\n千代田区\n");
    }

    #[test]
    fn entities_decoded() {
        assert_eq!(
            text("<p>&amp; &lt;script&gt; &nbsp;x&#x3042;&#12354;&copy;&hellip;&unknown; &amp</p>"),
            "& <script> xああ©…&unknown; &\n"
        );
        assert_eq!(
            text("&#0;&#x110000;&#128;&#xD800;"),
            "\u{FFFD}\u{FFFD}€\u{FFFD}\n"
        );
        assert_eq!(text("a&#x202E;b\u{202E}c"), "abc\n");
    }

    #[test]
    fn scripts_styles_comments_gone() {
        let html = "<html><head><title>T</title><style>p{color:red}</style>\
                    <script>alert(1)</script></head><body><!-- secret --><p>見える</p>\
                    <script type=text/javascript>document.write('<p>x</p>')</script>\
                    <noscript>ns</noscript><template><p>tpl</p></template></body></html>";
        let out = html_to_text(html, LinkMode::Defang);
        assert_eq!(out.text, "見える\n");
        assert_eq!((out.stats.scripts, out.stats.styles), (2, 1));
        assert_eq!((out.stats.comments, out.stats.hidden), (1, 2));
    }

    #[test]
    fn hidden_preheaders_gone() {
        for attr in [
            "style=\"display:none\"",
            "style='visibility: hidden'",
            "style=\"font-size:0px;line-height:0\"",
            "style=\"max-height:0;overflow:hidden\"",
            "style=\"opacity:0\"",
            "style=\"mso-hide:all\"",
            "style=\"DISPLAY : NONE !important\"",
            "style=\"display&#58;none\"",
            "hidden",
        ] {
            let html = format!("<div {attr}>春のセール<span>x</span><p>y</p></div><p>本文</p>");
            let out = html_to_text(&html, LinkMode::Defang);
            assert_eq!(out.text, "本文\n", "{attr}");
            assert_eq!(out.stats.hidden, 1, "{attr}");
        }
        assert_eq!(text("<p style='display:none'>a<div>shown</div>"), "shown\n");
        let shown =
            "<div style='opacity:0.5;font-size:12px;max-height:100px;display:block'>見える</div>";
        assert_eq!(text(shown), "見える\n");
    }

    #[test]
    fn forms_and_embedded_gone() {
        let html = "<form action=https://evil.example/><p>ID</p><input name=id>\
                    <button>送信</button><select><option>a</select><textarea>t</textarea></form>\
                    <p>後</p><input type=text>";
        let out = html_to_text(html, LinkMode::Defang);
        assert_eq!(out.text, "後\n");
        assert_eq!(out.stats.forms, 2);
        let html = "<iframe src=x>if</iframe><object data=x>obj</object><embed src=x>\
                    <svg><text>s</text></svg><math><mi>m</mi></math><video>v</video>\
                    <audio>a</audio><canvas>c</canvas><applet>ap</applet><svg/><p>残る</p>";
        let out = html_to_text(html, LinkMode::Defang);
        assert_eq!(out.text, "残る\n");
        assert_eq!(out.stats.embedded, 10);
    }

    #[test]
    fn images_and_tracking_pixels() {
        let html = "<p>A<img src='https://img.example/x.jpg' alt='ロゴ'>B\
                    <img src='https://t.example/x.gif' width=1 height=1>\
                    <img src='https://img.example/y.png' alt=''>\
                    <img src='https://mail.example/track/abc.gif'>\
                    <img src=z style='width:1px;height:1px' alt=px>\
                    <img src=z style='display:none' alt=hid></p>";
        let out = html_to_text(html, LinkMode::Keep);
        assert_eq!(out.text, "A[画像: ロゴ]B\n");
        assert_eq!((out.stats.images, out.stats.tracking_pixels), (2, 4));
    }

    #[test]
    fn unsafe_hrefs_removed() {
        for href in [
            "javascript:alert(1)",
            "jav&#x61;script:alert(1)",
            " java\tscript:x",
            "JAVASCRIPT:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            for mode in [LinkMode::Keep, LinkMode::Defang, LinkMode::Remove] {
                let out = html_to_text(&format!("<a href=\"{href}\">押す</a>"), mode);
                assert_eq!(out.text, "押す\n", "{href}");
                assert_eq!(out.stats.links.removed, 1, "{href}");
            }
        }
    }

    #[test]
    fn anchor_text_and_target() {
        let html = "<p><a href=\"https://evil.example/login\">ここをクリック</a>してください</p>";
        let run = |mode| html_to_text(html, mode).text;
        assert_eq!(
            run(LinkMode::Defang),
            "ここをクリック <hxxps://evil[.]example/login>してください\n"
        );
        assert_eq!(
            run(LinkMode::Remove),
            "ここをクリック [リンク削除]してください\n"
        );
        assert_eq!(
            run(LinkMode::Keep),
            "ここをクリック <https://evil.example/login>してください\n"
        );
        assert_eq!(
            text("<p>URL: <a href=\"https://a.example/\">https://a.example</a> です</p>"),
            "URL: hxxps://a[.]example/ です\n"
        );
        assert_eq!(
            text("<a href=\"https://evil.example/\">https://bank.example/</a>"),
            "hxxps://bank[.]example/ <hxxps://evil[.]example/>\n"
        );
        assert_eq!(
            text("<a href='mailto:info@a.example'>info@a.example</a>"),
            "info[@]a[.]example\n"
        );
        assert_eq!(
            text("<a href=\"#top\">上へ</a> <a name=x>y</a>"),
            "上へ y\n"
        );
        assert_eq!(
            text("<a href=https://a.example/x?a=1&amp;b=2>t</a>"),
            "t <hxxps://a[.]example/x?a=1&b=2>\n"
        );
    }

    #[test]
    fn anchor_around_blocks() {
        let html = "<a href=\"https://a.example/\"><table><tr><td><img alt=商品>\
                    </td></tr></table></a><p>次</p>";
        assert_eq!(text(html), "[画像: 商品]\n\n<hxxps://a[.]example/>\n\n次\n");
    }

    #[test]
    fn urls_in_text() {
        assert_eq!(
            text("<p>詳細は https://example.com/です</p>"),
            "詳細は hxxps://example[.]com/です\n"
        );
        let out = html_to_text(
            "<p>https://evil<b></b>.example/x and www.<i>evil</i>.example</p>",
            LinkMode::Remove,
        );
        assert_eq!(out.text, "[リンク削除] and [リンク削除]\n");
        assert_eq!(out.stats.links.removed, 2);
        assert_eq!(text("https&#58;//a.example"), "hxxps://a[.]example\n");
        assert_eq!(
            text("https:<a href=\"//a.example\">//a.example</a>"),
            "hxxps://a[.]example <//a[.]example>\n"
        );
    }

    #[test]
    fn keep_mode_counts() {
        let out = html_to_text(
            "<p>https://a.example <a href=https://b.example>b</a></p>",
            LinkMode::Keep,
        );
        assert_eq!(out.text, "https://a.example b <https://b.example>\n");
        assert_eq!(
            out.stats.links,
            LinkStats {
                kept: 2,
                ..LinkStats::default()
            }
        );
    }

    #[test]
    fn hostile_markup() {
        assert_eq!(
            text("<scr<script>ipt>alert(1)</script>x"),
            "ipt>alert(1)x\n"
        );
        assert_eq!(text("<div class='a' <p>hello</p>"), "hello\n");
        assert_eq!(text("a<a href=\"x"), "a\n");
        assert_eq!(text("a<div"), "a\n");
        assert_eq!(text("a<!-- b <p>c</p>"), "a\n");
        assert_eq!(text("a<script>b<p>c"), "a\n");
        assert_eq!(text("a<style>b"), "a\n");
        assert_eq!(text("a<title>b"), "a\n");
        // `p\0` is not `p` (browsers read `p\u{FFFD}`).
        assert_eq!(text("a\0b<p\0>c</p\0>d<p>e</p>"), "abcd\n\ne\n");
        assert_eq!(text("</div></p></li></table></a></td>text"), "text\n");
        assert_eq!(text("<p><b><i>unclosed"), "unclosed\n");
        assert_eq!(
            text("1 < 2 > 0 <3 & &# &#x &; <"),
            "1 < 2 > 0 <3 & &# &#x &; <\n"
        );
        assert_eq!(
            text("a</ b>c<!d>e<?f>g</>h</"),
            "aceg h</\n".replace(' ', "")
        );
        assert_eq!(text("<!-->a<!--->b<!---->c<!-- x --!>d"), "abcd\n");
        assert_eq!(text("<xmp><b>x</b></xmp>"), "<b>x</b>\n");
        assert_eq!(
            text("<a href=https://a.example/x>t</a>"),
            "t <hxxps://a[.]example/x>\n"
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let n = 10_000;
        let html = "<div>".repeat(n) + "深い" + &"</div>".repeat(n) + "後";
        assert_eq!(text(&html), "深い\n後\n");
        let html = "<blockquote>".repeat(n) + "q";
        let out = text(&html);
        assert_eq!(out, format!("{}q\n", "> ".repeat(MAX_FRAMES)));
        for unit in [
            "<ul><li>",
            "<table><tr><td>",
            "<a href=https://a.example>",
            "<span>",
            "<p>",
            "<svg>",
            "<h1>",
        ] {
            let html = unit.repeat(n) + "x" + &"</td></li></a></span>".repeat(n);
            let _ = text(&html);
        }
    }

    #[test]
    fn big_hostile_inputs_stay_linear() {
        let n = 50_000;
        for html in [
            "<a href=x>".repeat(n),
            "</x>".repeat(n),
            "<table>".repeat(n) + &"<td><p>".repeat(n),
            "<li>".repeat(n),
            "<p style=\"display:none\">".repeat(n),
            "&amp;&#1;&unknownentity".repeat(n),
            "a:b.www.".repeat(n),
            format!("<div>{}", "https://a.example/(".repeat(n)),
            format!("<pre>{}", " \n".repeat(n)),
            format!("<!--{}", "-!>".repeat(n)),
            format!("<script>{}", "</scrip".repeat(n)),
            format!("<a {}", "x=' '".repeat(n)),
        ] {
            let out = html_to_text(&html, LinkMode::Defang);
            check_shape(&out.text);
            assert!(out.text.len() <= html.len() * 8 + 64);
        }
    }

    /// A small deterministic generator, for the fuzz-like tests.
    fn lcg(mut seed: u64) -> impl FnMut() -> usize {
        move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        }
    }

    /// Output shape and link safety, for any input.
    fn check_fuzzed(html: &str) {
        for mode in [LinkMode::Defang, LinkMode::Remove, LinkMode::Keep] {
            let out = html_to_text(html, mode);
            check_shape(&out.text);
            let lower = out.text.to_ascii_lowercase();
            let script_url = lower
                .match_indices("javascript:alert")
                .any(|(i, _)| !lower[..i].ends_with(|c: char| c.is_ascii_alphanumeric()));
            assert!(!script_url, "{html:?} -> {:?}", out.text);
            if mode == LinkMode::Keep {
                continue;
            }
            for live in ["https://", "http://"] {
                assert!(!lower.contains(live), "{html:?} -> {:?}", out.text);
            }
            for (i, _) in lower.match_indices("mailto:") {
                let next = lower[i + 7..].chars().next();
                assert!(
                    next.is_none_or(|c| !c.is_alphanumeric()),
                    "{html:?} -> {:?}",
                    out.text
                );
            }
        }
    }

    /// Random bytes around tag and URL fragments: the tokenizer's corners.
    #[test]
    fn byte_soup_fuzz() {
        let alphabet: Vec<char> = "<>/=\"' abcdehilmnoprstvwxy!-&#;:.\n\0\tあ\u{202E}[]()@"
            .chars()
            .collect();
        let words = [
            "script",
            "style",
            "a href=",
            "https://",
            "www.",
            "javascript:",
            "mailto:",
            "table",
            "td",
            "pre",
            "div",
            "p",
            "!--",
            "xmp",
            "svg",
            "li",
            "ul",
            "tel:1",
            "hidden",
            "style=display:none",
        ];
        let mut next = lcg(7);
        for _ in 0..3000 {
            let len = next() % 80;
            let mut html = String::new();
            for _ in 0..len {
                if next().is_multiple_of(4) {
                    html.push_str(words[next() % words.len()]);
                } else {
                    html.push(alphabet[next() % alphabet.len()]);
                }
            }
            check_fuzzed(&html);
        }
    }

    /// Random tag soup from hostile pieces: no panic, shape holds, and no
    /// live URL or script survives in Defang and Remove modes.
    #[test]
    fn tag_soup_fuzz() {
        const PIECES: &[&str] = &[
            "<div>",
            "</div>",
            "<p>",
            "</p>",
            "<a href=\"https://evil.example/x\">",
            "</a>",
            "<a href='javascript:alert(1)'>",
            "<a href=\"//e.example\">",
            "https://",
            "http:",
            "//",
            "evil",
            ".example",
            "www.",
            "www",
            "<b>",
            "</b>",
            "<table>",
            "<tr>",
            "<td>",
            "</td>",
            "</table>",
            "<ul>",
            "<li>",
            "<ol>",
            "<pre>",
            "</pre>",
            "\n",
            " ",
            "テキスト",
            "&amp;",
            "&#",
            "<!--",
            "-->",
            "<script>",
            "</script>",
            "<br>",
            "<img alt=x src=y>",
            "<blockquote>",
            "</blockquote>",
            "<",
            ">",
            "\"",
            "'",
            "=",
            "javascript:alert(1)",
            "mailto:a@b.example",
            "<h2>",
            "</h2>",
            "<style>",
            "</style>",
            "<svg/>",
            "<div hidden>",
            "<form>",
            "</form>",
            "&nbsp;",
            "\0",
            "<hr>",
            "<dd>",
            "<xmp>",
            "</xmp>",
            "java&#115;cript:alert(1)",
            "&#x202E;",
            "\u{3000}",
            "<th>",
            "tel:+81",
        ];
        let mut next = lcg(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let len = next() % 40;
            let html: String = (0..len).map(|_| PIECES[next() % PIECES.len()]).collect();
            check_fuzzed(&html);
        }
    }
}
