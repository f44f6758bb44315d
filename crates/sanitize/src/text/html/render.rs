//! The second pass: the `Renderer`, tokens to text.

use super::entities::{decode_attr, decode_entity};
use super::lexer::{HAS_ATTR, HIDDEN, LAYOUT, SELF_CLOSING, Start, TRACKING, Token};
use super::tag::Tag;
use super::writer::{Frame, Gap, Writer};
use super::{HtmlStats, MAX_DEPTH, RULE};
use crate::text::links::{self, HrefKind, LinkMode};

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
pub(super) struct Renderer<'a> {
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
    pub(super) fn new(
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

    pub(super) fn run(mut self, tokens: impl Iterator<Item = Token>) -> String {
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
