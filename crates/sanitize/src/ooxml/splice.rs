//! The rewriter's output, spliced from the input: an event written as it
//! came is not copied on its own but extends a pending range of the input,
//! which is copied in one piece when something else must be written (an
//! edited start tag, the XML declaration) or when an event is left out. A
//! part in which one attribute goes is two copies and the edited tag.
//!
//! An event is only taken as a range of the input when its text is
//! proven to be exactly that range: the slice quick-xml handed out lies
//! at the expected place in the input, and the event's span around it is
//! just the markup that frames it (`<`…`>`, `</`…`>`, `&`…`;`,
//! `<![CDATA[`…`]]>`). Otherwise the caller writes the event out of its
//! parts, as before: the bytes that go out are the same either way.

use std::ops::Range;

pub(super) struct Out<'t> {
    /// The text being parsed.
    src: &'t str,
    buf: String,
    /// A range of `src` that follows `buf` and has not been copied yet.
    pending: Range<usize>,
}

impl<'t> Out<'t> {
    pub(super) fn new(src: &'t str) -> Self {
        Self {
            src,
            buf: String::with_capacity(src.len()),
            pending: 0..0,
        }
    }

    /// Takes the event at `span` of the input as it came, if `inner` (the
    /// slice quick-xml returned for it) sits in `src` right after `head`
    /// bytes of markup and the span ends `tail` bytes after it. `false`:
    /// nothing was taken, the caller writes the event itself.
    pub(super) fn event(
        &mut self,
        span: &Range<usize>,
        inner: &str,
        head: usize,
        tail: usize,
    ) -> bool {
        let at = inner.as_ptr().addr().wrapping_sub(self.src.as_ptr().addr());
        let fits = span.start.checked_add(head) == Some(at)
            && at
                .checked_add(inner.len())
                .and_then(|e| e.checked_add(tail))
                == Some(span.end)
            && self.src.get(span.clone()).is_some();
        if !fits {
            return false;
        }
        if self.pending.end == span.start && !self.pending.is_empty() {
            self.pending.end = span.end;
        } else {
            self.flush();
            self.pending = span.clone();
        }
        true
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            // In bounds: `event` took only ranges `src.get` accepted.
            self.buf
                .push_str(self.src.get(self.pending.clone()).unwrap_or_default());
        }
        self.pending = 0..0;
    }

    pub(super) fn push_str(&mut self, s: &str) {
        self.flush();
        self.buf.push_str(s);
    }

    pub(super) fn push(&mut self, c: char) {
        self.flush();
        self.buf.push(c);
    }

    /// What has been written so far, in bytes.
    pub(super) fn len(&self) -> usize {
        self.buf.len() + self.pending.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes back everything written after the first `len` bytes.
    pub(super) fn truncate(&mut self, len: usize) {
        self.flush();
        self.buf.truncate(len);
    }

    pub(super) fn finish(mut self) -> String {
        self.flush();
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_events_are_copied_as_one_range() {
        let src = "<a><b x=\"1\"/>text</a>";
        let mut out = Out::new(src);
        assert!(out.event(&(0..3), &src[1..2], 1, 1));
        assert!(out.event(&(3..13), &src[4..11], 1, 2));
        assert_eq!((out.buf.len(), out.len()), (0, 13));
        // An edited event: the pending range goes out first.
        out.push_str("T");
        assert!(out.event(&(17..21), &src[19..20], 2, 1));
        assert_eq!(out.finish(), "<a><b x=\"1\"/>T</a>");
    }

    #[test]
    fn a_slice_that_is_not_the_span_is_refused() {
        let src = "<a></a>";
        let elsewhere = String::from("a");
        let mut out = Out::new(src);
        assert!(!out.event(&(0..3), &elsewhere, 1, 1));
        assert!(!out.event(&(0..4), &src[1..2], 1, 1));
        assert!(!out.event(&(0..30), &src[1..29.min(src.len())], 1, 1));
        assert!(out.is_empty());
        assert!(out.event(&(0..3), &src[1..2], 1, 1));
        out.truncate(0);
        assert_eq!(out.finish(), "");
    }
}
