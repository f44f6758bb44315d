//! The output `Writer`: lines, whitespace, prefixes (`Frame`s) and gaps.

use super::MAX_FRAMES;
use crate::text::links::{self, LinkMode, LinkStats};

/// Prefixes drawn at the start of each line, innermost last.
#[derive(Debug)]
pub(super) enum Frame {
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
pub(super) struct Writer {
    pub(super) out: String,
    /// The current line's text not yet neutralized.
    pub(super) pending: String,
    pub(super) mode: LinkMode,
    pub(super) links: LinkStats,
    pub(super) frames: Vec<Frame>,
    /// Line breaks owed before the next content: 1 a new line, 2 a blank line.
    nl: u8,
    pub(super) line_open: bool,
    /// Where the current line's content starts in `out`, after its prefix.
    pub(super) line_start: usize,
    /// A collapsed space is owed before the next content on this line.
    space: bool,
    /// A table cell separator is owed instead.
    pub(super) sep: bool,
    /// Whitespace inside `<pre>`, written only if content follows on the line.
    pub(super) pre_ws: String,
    /// Counts flushes of `pending`, so an anchor can tell whether its text
    /// is still all there.
    pub(super) flushes: u64,
}

impl Writer {
    pub(super) fn new(capacity: usize, mode: LinkMode) -> Writer {
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
    pub(super) fn content(&mut self, s: &str) {
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

    pub(super) fn space(&mut self) {
        self.space |= self.line_open;
    }

    pub(super) fn open_line(&mut self) {
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

    pub(super) fn flush_pending(&mut self) {
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

    pub(super) fn break_line(&mut self) {
        if self.line_open {
            self.end_line();
        }
    }

    pub(super) fn blank_line(&mut self) {
        self.break_line();
        if !self.out.is_empty() {
            self.nl = 2;
        }
    }

    /// `<br>`, or a newline in `<pre>`: breaks even an empty line.
    pub(super) fn hard_break(&mut self) {
        if self.line_open {
            self.end_line();
        } else if !self.out.is_empty() {
            self.nl = (self.nl + 1).min(2);
        }
    }

    pub(super) fn gap(&mut self, gap: Gap) {
        match gap {
            Gap::Line => self.break_line(),
            Gap::Blank => self.blank_line(),
        }
    }

    pub(super) fn push_frame(&mut self, frame: Frame) -> bool {
        let room = self.frames.len() < MAX_FRAMES;
        if room {
            self.frames.push(frame);
        }
        room
    }

    pub(super) fn in_list(&self) -> bool {
        self.frames.iter().any(|f| matches!(f, Frame::List { .. }))
    }

    /// `・ ` or the next number of the innermost list.
    pub(super) fn next_marker(&mut self) -> String {
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

    pub(super) fn finish(mut self) -> (String, LinkStats) {
        self.break_line();
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        (self.out, self.links)
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Gap {
    Line,
    Blank,
}
