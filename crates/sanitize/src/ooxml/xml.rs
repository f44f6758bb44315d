//! Rewriting one kept XML part so it still opens once the package graph
//! has been cut, and so it cannot fetch or run anything.
//!
//! The part is streamed event by event (quick-xml) into a new string:
//! - a DTD (`<!DOCTYPE`, `<!ENTITY`) refuses the whole file; entities are
//!   never expanded, and any reference but the five predefined ones and
//!   character references is an error;
//! - an element whose relationship attribute (`r:id`, `r:embed`,
//!   `o:relid`…) names a relationship that was not kept is removed, or for
//!   hyperlinks and pictures only that attribute, so the text stays; an OLE
//!   or ActiveX reference takes its whole object container with it
//!   (`w:object`, `w:pict`, `p:graphicFrame`, a drawing anchor);
//! - collections that would be left empty (`x:hyperlinks`…) are removed,
//!   since the schema wants at least one child;
//! - macro hooks (`w:entryMacro`, `x:FmlaMacro`, drawing `macro`
//!   attributes, `ppaction://macro` actions, `Auto_Open` names), mail
//!   merge data sources and VML `src`/`href` URLs go;
//! - Word fields are judged by [`super::fields`];
//! - comments and processing instructions are dropped, and the XML
//!   declaration is rewritten as UTF-8.

use std::borrow::Cow;
use std::collections::HashSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::Error;
use super::fields::{self, Fields};
use super::package::XML_DECL;
use super::splice::Out;

pub(super) const NS_W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
pub(super) const NS_W_STRICT: &str = "http://purl.oclc.org/ooxml/wordprocessingml/main";

/// Deeper nesting is refused: nothing real comes close, and the programs
/// that open the output may recurse (libxml2 stops at 256 by default).
const MAX_DEPTH: usize = 512;

/// Namespaces the rewriter acts on; transitional and strict are one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    W,
    X,
    P,
    A,
    Xdr,
    R,
    V,
    O,
    XlVml,
    Other,
}

fn ns_kind(ns: &ResolveResult<'_>) -> Ns {
    let ResolveResult::Bound(n) = ns else {
        return Ns::Other;
    };
    match n.0 {
        NS_W | NS_W_STRICT => Ns::W,
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        | "http://purl.oclc.org/ooxml/spreadsheetml/main" => Ns::X,
        "http://schemas.openxmlformats.org/presentationml/2006/main"
        | "http://purl.oclc.org/ooxml/presentationml/main" => Ns::P,
        "http://schemas.openxmlformats.org/drawingml/2006/main"
        | "http://purl.oclc.org/ooxml/drawingml/main" => Ns::A,
        "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
        | "http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing" => Ns::Xdr,
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        | "http://purl.oclc.org/ooxml/officeDocument/relationships" => Ns::R,
        "urn:schemas-microsoft-com:vml" => Ns::V,
        "urn:schemas-microsoft-com:office:office" => Ns::O,
        "urn:schemas-microsoft-com:office:excel" => Ns::XlVml,
        _ => Ns::Other,
    }
}

/// The elements the rewriter treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Other,
    WRun,
    WRunProps,
    WFldChar,
    WFldSimple,
    WHyperlink,
    /// `w:object` and `w:pict`: the containers of OLE, ActiveX and VML.
    WObject,
    /// OLE and ActiveX references that take their container with them.
    ObjectRef,
    WMailMerge,
    MacroHook,
    XSheet,
    XDefinedName,
    /// Collections the schema wants non-empty.
    Collection,
    XPageSetup,
    /// Holders of OLE objects and ActiveX controls only.
    ObjectList,
    PGraphicFrame,
    ABlip,
    AHlink,
    XdrAnchor,
    XdrOther,
    Vml,
}

fn classify(ns: Ns, local: &str) -> Tag {
    match (ns, local) {
        (Ns::W, "r") => Tag::WRun,
        (Ns::W, "rPr") => Tag::WRunProps,
        (Ns::W, "fldChar") => Tag::WFldChar,
        (Ns::W, "fldSimple") => Tag::WFldSimple,
        (Ns::W, "hyperlink") => Tag::WHyperlink,
        (Ns::W, "object" | "pict") => Tag::WObject,
        (Ns::W, "control" | "objectEmbed" | "objectLink")
        | (Ns::P, "oleObj" | "control")
        | (Ns::O, "OLEObject") => Tag::ObjectRef,
        (Ns::W, "mailMerge") => Tag::WMailMerge,
        (Ns::W, "entryMacro" | "exitMacro") | (Ns::XlVml, "FmlaMacro") => Tag::MacroHook,
        (Ns::X, "sheet") => Tag::XSheet,
        (Ns::X, "definedName") => Tag::XDefinedName,
        (Ns::X, "hyperlinks" | "externalReferences" | "definedNames" | "customProperties") => {
            Tag::Collection
        }
        (Ns::X, "pageSetup") => Tag::XPageSetup,
        (Ns::X, "oleObjects" | "controls") | (Ns::P, "controls" | "embeddedFontLst") => {
            Tag::ObjectList
        }
        (Ns::P, "graphicFrame") => Tag::PGraphicFrame,
        (Ns::A, "blip") => Tag::ABlip,
        (Ns::A, "hlinkClick" | "hlinkHover" | "hlinkMouseOver") => Tag::AHlink,
        (Ns::Xdr, "twoCellAnchor" | "oneCellAnchor" | "absoluteAnchor") => Tag::XdrAnchor,
        (Ns::Xdr, _) => Tag::XdrOther,
        (Ns::V | Ns::O, _) => Tag::Vml,
        _ => Tag::Other,
    }
}

/// What a rewritten part looks like, and the reasons for edits in it.
pub(super) struct Rewritten {
    pub(super) text: String,
    pub(super) removed: Vec<&'static str>,
}

/// Rewrites one part. `kept`: the ids of the part's relationships that
/// survived; any other id it names is dangling.
pub(super) fn rewrite(
    part: &str,
    text: &str,
    kept: &HashSet<&str>,
    vml: bool,
) -> Result<Rewritten, Error> {
    // quick-xml skips a leading byte order mark without counting it in
    // its positions, which must be those of `text`.
    let mut text = Cow::Borrowed(text.strip_prefix('\u{FEFF}').unwrap_or(text));
    if vml && text.contains("<br>") {
        // Excel writes HTML line breaks into VML comment boxes.
        text = Cow::Owned(text.replace("<br>", "<br/>"));
    }
    refuse_dtd(text.as_bytes())?;
    let decisions = if text.contains("fldChar") {
        fields::scan(part, &text)?
    } else {
        Vec::new()
    };
    let mut r = Rewriter {
        part,
        kept,
        out: Out::new(&text),
        span: 0..0,
        removed: Vec::new(),
        tags: Vec::new(),
        skip: None,
        unwrap: Vec::new(),
        frames: Vec::new(),
        fields: Fields::new(decisions),
        removed_sheets: Vec::new(),
        sheets_seen: 0,
        roots: 0,
    };
    r.run(&text)?;
    Ok(Rewritten {
        text: r.out.finish(),
        removed: r.removed,
    })
}

/// UTF-8 text of a part: BOMs handled, UTF-16 converted, anything else
/// must be valid UTF-8 (Office writes nothing else).
pub(super) fn decode<'a>(part: &str, data: &'a [u8]) -> Result<Cow<'a, str>, Error> {
    let utf16 = |enc: &'static encoding_rs::Encoding, body: &[u8]| {
        enc.decode_without_bom_handling_and_without_replacement(body)
            .map(|s| Cow::Owned(s.into_owned()))
            .ok_or_else(|| Error::Corrupt(format!("{part}: invalid UTF-16")))
    };
    match data {
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(part, rest),
        [0xFF, 0xFE, rest @ ..] => utf16(encoding_rs::UTF_16LE, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(encoding_rs::UTF_16BE, rest),
        [b'<', 0, ..] => utf16(encoding_rs::UTF_16LE, data),
        [0, b'<', ..] => utf16(encoding_rs::UTF_16BE, data),
        _ => utf8(part, data),
    }
}

fn utf8<'a>(part: &str, data: &'a [u8]) -> Result<Cow<'a, str>, Error> {
    std::str::from_utf8(data)
        .map(Cow::Borrowed)
        .map_err(|_| Error::Corrupt(format!("{part}: not UTF-8")))
}

/// Any markup declaration but a comment or CDATA section: refused before
/// parsing, whatever the parser would make of it.
pub(super) fn refuse_dtd(text: impl AsRef<[u8]>) -> Result<(), Error> {
    let text = text.as_ref();
    for at in memchr::memmem::find_iter(text, b"<!") {
        let rest = text.get(at + 2..at + 9).unwrap_or_default();
        let upper = rest.to_ascii_uppercase();
        if upper.starts_with(b"DOCTYPE") || upper.starts_with(b"ENTITY") {
            return Err(Error::EntityDeclaration);
        }
    }
    Ok(())
}

pub(super) fn corrupt(part: &str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{part}: {e}"))
}

/// The character data of a text, reference or CDATA event, unescaped.
/// Only predefined entities and character references exist without a DTD.
pub(super) fn text_of<'a>(part: &str, event: &'a Event<'_>) -> Result<Cow<'a, str>, Error> {
    match event {
        Event::Text(t) => quick_xml::escape::unescape(t)
            .map_err(|e| corrupt(part, e))
            .map(|c| Cow::Owned(c.into_owned())),
        Event::CData(c) => Ok(Cow::Borrowed(c.as_ref())),
        Event::GeneralRef(r) => {
            if r.is_char_ref() {
                return match r.resolve_char_ref() {
                    Ok(Some(c)) => Ok(Cow::Owned(c.to_string())),
                    _ => Err(corrupt(part, "bad character reference")),
                };
            }
            match r.as_ref() {
                "amp" => Ok("&".into()),
                "lt" => Ok("<".into()),
                "gt" => Ok(">".into()),
                "quot" => Ok("\"".into()),
                "apos" => Ok("'".into()),
                _ => Err(corrupt(part, "reference to an undeclared entity")),
            }
        }
        _ => Ok(Cow::Borrowed("")),
    }
}

/// An open element whose output may still be taken back.
struct Frame {
    kind: FrameKind,
    /// Depth of the element that opened it.
    depth: usize,
    /// Where its output starts in `out`.
    start: usize,
    /// An object reference inside was cut: the container goes.
    tainted: bool,
    /// Direct children kept (collections).
    children: usize,
    /// Character data (defined names).
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    /// `w:object`, `w:pict`, `p:graphicFrame`, drawing anchors.
    Container,
    Collection,
    DefinedName,
}

struct Rewriter<'k> {
    part: &'k str,
    kept: &'k HashSet<&'k str>,
    out: Out<'k>,
    /// Where the current event is in the input.
    span: std::ops::Range<usize>,
    removed: Vec<&'static str>,
    /// The open elements; `tags.len()` is the depth.
    tags: Vec<Tag>,
    /// Depth of an element whose subtree is being left out.
    skip: Option<usize>,
    /// Depths of elements written without their tags (stripped fldSimple).
    unwrap: Vec<usize>,
    frames: Vec<Frame>,
    fields: Fields,
    /// Sheets taken out of a workbook: (lower-cased name, position).
    removed_sheets: Vec<(String, usize)>,
    sheets_seen: usize,
    roots: usize,
}

/// What to do with one start tag.
enum Action {
    Write,
    /// Write it without the attributes at these indices, plus `add`.
    Strip(Vec<usize>, Option<String>),
    /// Leave the element and everything in it out.
    Skip,
    /// Leave the tags out but keep the content.
    Unwrap,
}

/// What the attributes of one start tag say.
#[derive(Default)]
struct Attrs {
    /// A relationship attribute names a relationship that is gone.
    dangling: bool,
    /// Indices of attributes to leave out.
    strip: Vec<usize>,
    /// The unprefixed `name` attribute.
    name: String,
    /// `w:instr` of a simple field.
    instr: String,
    /// A DrawingML hyperlink action that runs a macro, program or object.
    runs_code: bool,
    /// `localSheetId` of a defined name, and the attribute's index.
    local_sheet: Option<(usize, usize)>,
}

impl Rewriter<'_> {
    fn run(&mut self, text: &str) -> Result<(), Error> {
        let mut reader = NsReader::from_str(text);
        loop {
            let start = reader.buffer_position();
            let (ns, event) = reader
                .read_resolved_event()
                .map_err(|e| corrupt(self.part, e))?;
            let ns = ns_kind(&ns);
            let end = reader.buffer_position();
            // Positions that do not fit in memory match no slice of the
            // input, so the event is written out of its parts.
            self.span = usize::try_from(start).unwrap_or(usize::MAX)
                ..usize::try_from(end).unwrap_or(usize::MAX);
            match event {
                Event::Start(e) => {
                    self.plain_namespaces(&e)?;
                    self.start(&reader, ns, &e, false)?;
                }
                Event::Empty(e) => {
                    self.plain_namespaces(&e)?;
                    self.start(&reader, ns, &e, true)?;
                }
                Event::End(e) => self.end(e.name().as_ref())?,
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => self.text(&event)?,
                Event::Decl(_) if self.out.is_empty() => self.out.push_str(XML_DECL),
                Event::DocType(_) => return Err(Error::EntityDeclaration),
                Event::Eof => break,
                // Comments, processing instructions, a late declaration.
                _ => {}
            }
        }
        if !self.tags.is_empty() || self.roots != 1 {
            return Err(corrupt(self.part, "not exactly one complete root element"));
        }
        Ok(())
    }

    /// Refuses a namespace declaration whose value holds a reference.
    /// quick-xml compares namespace names as written, while Word and
    /// LibreOffice expand references first: `m&#97;in` is `main` to them,
    /// and would hide a Word field or a VML URL from this rewriter (and
    /// from [`fields::scan`]). Office never writes one. Every start tag
    /// passes here, inside skipped subtrees too; only those that mention
    /// `xmlns` (which a name cannot escape) are looked at.
    fn plain_namespaces(&self, e: &BytesStart<'_>) -> Result<(), Error> {
        // One memchr, not a substring search: this runs on every tag.
        let tag = e.as_bytes();
        let mentions = memchr::memchr_iter(b'x', tag)
            .any(|at| tag.get(at..).is_some_and(|rest| rest.starts_with(b"xmlns")));
        if !mentions {
            return Ok(());
        }
        for attr in e.attributes() {
            let attr = attr.map_err(|e| corrupt(self.part, e))?;
            if attr.key.as_namespace_binding().is_some() && attr.value.contains('&') {
                return Err(corrupt(
                    self.part,
                    "a namespace name written with a reference",
                ));
            }
        }
        Ok(())
    }

    fn start(
        &mut self,
        reader: &NsReader<&[u8]>,
        ns: Ns,
        e: &BytesStart<'_>,
        empty: bool,
    ) -> Result<(), Error> {
        if self.tags.len() >= MAX_DEPTH {
            return Err(corrupt(self.part, "elements nested too deep"));
        }
        let tag = classify(ns, e.local_name().as_ref());
        // Field characters are followed even inside skipped subtrees, so
        // the ordinals stay those of the scan.
        let field = match tag {
            Tag::WFldChar => fields::char_type(e).map(|c| self.fields.on_char(c)),
            _ => None,
        };
        if self.skip.is_some() {
            if !empty {
                self.tags.push(tag);
            }
            return Ok(());
        }
        let root = self.tags.is_empty();
        let action = match field {
            Some((drop, reason)) => {
                self.removed.extend(reason);
                if drop { Action::Skip } else { Action::Write }
            }
            None => self.decide(reader, tag, e)?,
        };
        if root {
            self.roots += 1;
            if !matches!(action, Action::Write | Action::Strip(..)) {
                return Err(corrupt(self.part, "the root element cannot be kept"));
            }
        }
        let at = self.out.len();
        match action {
            Action::Skip => {
                if !empty {
                    self.tags.push(tag);
                    self.skip = Some(self.tags.len());
                }
                return Ok(());
            }
            Action::Unwrap => {
                if !empty {
                    self.unwrap.push(self.tags.len() + 1);
                }
            }
            Action::Write => {
                self.count_child();
                self.write_start(e, &[], None, empty)?;
            }
            Action::Strip(attrs, add) => {
                self.count_child();
                self.write_start(e, &attrs, add.as_deref(), empty)?;
            }
        }
        if !empty {
            self.tags.push(tag);
            self.open_frame(tag, at);
        }
        Ok(())
    }

    /// The action for a start tag outside any skipped subtree.
    fn decide(
        &mut self,
        reader: &NsReader<&[u8]>,
        tag: Tag,
        e: &BytesStart<'_>,
    ) -> Result<Action, Error> {
        match tag {
            Tag::ObjectList => return Ok(Action::Skip),
            Tag::WMailMerge => {
                // A data source query Word offers to run on open.
                self.removed.push("external-data");
                return Ok(Action::Skip);
            }
            Tag::MacroHook => {
                self.removed.push("macro-reference");
                return Ok(Action::Skip);
            }
            _ => {}
        }
        if self.fields.suppressing()
            && self.tags.last() == Some(&Tag::WRun)
            && tag != Tag::WRunProps
        {
            return Ok(Action::Skip);
        }
        let attrs = self.inspect(reader, tag, e)?;
        if attrs.dangling {
            return Ok(self.dangling(tag, attrs));
        }
        match tag {
            Tag::WFldSimple => {
                if let Some(reason) = fields::judge(&attrs.instr, false) {
                    self.removed.push(reason);
                    return Ok(Action::Unwrap);
                }
            }
            Tag::AHlink if attrs.runs_code => {
                self.removed.push("macro-reference");
                return Ok(Action::Skip);
            }
            Tag::XDefinedName => return Ok(self.defined_name(attrs)),
            Tag::XSheet => self.sheets_seen += 1,
            _ => {}
        }
        if attrs.strip.is_empty() {
            Ok(Action::Write)
        } else {
            Ok(Action::Strip(attrs.strip, None))
        }
    }

    /// Reads the attributes that matter; notes what to strip.
    fn inspect(
        &mut self,
        reader: &NsReader<&[u8]>,
        tag: Tag,
        e: &BytesStart<'_>,
    ) -> Result<Attrs, Error> {
        let mut found = Attrs::default();
        for (i, attr) in e.attributes().enumerate() {
            let attr = attr.map_err(|e| corrupt(self.part, e))?;
            let value = if attr.value.contains('&') {
                attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| corrupt(self.part, e))?
            } else {
                Cow::Borrowed(attr.value.as_ref())
            };
            let (ns, local) = reader.resolver().resolve_attribute(attr.key);
            let ns = match ns {
                ResolveResult::Unbound => None,
                other => Some(ns_kind(&other)),
            };
            match (ns, local.as_ref()) {
                (Some(Ns::R), _) | (Some(Ns::O), "relid")
                    if !value.is_empty() && !self.kept.contains(value.as_ref()) =>
                {
                    found.dangling = true;
                    found.strip.push(i);
                }
                (_, "src" | "href" | "althref") if tag == Tag::Vml && !value.is_empty() => {
                    // A VML picture or link may name a URL or UNC path.
                    found.strip.push(i);
                    self.removed.push("external-reference");
                }
                (None, "macro")
                    if matches!(tag, Tag::XdrOther | Tag::XdrAnchor) && !value.is_empty() =>
                {
                    found.strip.push(i);
                    self.removed.push("macro-reference");
                }
                (None, "name") => found.name = value.into_owned(),
                (Some(Ns::W), "instr") if tag == Tag::WFldSimple => {
                    found.instr = value.into_owned();
                }
                (None, "action") if tag == Tag::AHlink => {
                    let action = value.to_ascii_lowercase();
                    found.runs_code = ["ppaction://macro", "ppaction://program", "ppaction://ole"]
                        .iter()
                        .any(|p| action.starts_with(p));
                }
                (None, "localSheetId") if tag == Tag::XDefinedName => {
                    found.local_sheet = value.trim().parse().ok().map(|v| (v, i));
                }
                _ => {}
            }
        }
        Ok(found)
    }

    /// An element naming a relationship that is gone.
    fn dangling(&mut self, tag: Tag, attrs: Attrs) -> Action {
        match tag {
            // Keep the text or the picture frame; lose the target.
            Tag::WHyperlink | Tag::XPageSetup | Tag::ABlip => Action::Strip(attrs.strip, None),
            Tag::ObjectRef => {
                let container = self
                    .frames
                    .iter_mut()
                    .rev()
                    .find(|f| f.kind == FrameKind::Container);
                if let Some(f) = container {
                    f.tainted = true;
                }
                Action::Skip
            }
            Tag::XSheet => {
                self.removed_sheets
                    .push((attrs.name.to_lowercase(), self.sheets_seen));
                self.sheets_seen += 1;
                Action::Skip
            }
            _ => Action::Skip,
        }
    }

    /// Defined names that run macros or belong to a removed sheet go;
    /// sheet-local ones are renumbered past removed sheets.
    fn defined_name(&mut self, attrs: Attrs) -> Action {
        let name = attrs.name.to_ascii_lowercase();
        let bare = name.strip_prefix("_xlnm.").unwrap_or(&name);
        let auto = [
            "auto_open",
            "auto_close",
            "auto_activate",
            "auto_deactivate",
        ];
        if auto.iter().any(|a| bare.starts_with(a)) {
            self.removed.push("macro-reference");
            return Action::Skip;
        }
        let Some((index, attr)) = attrs.local_sheet else {
            return Action::Write;
        };
        if self.removed_sheets.iter().any(|&(_, i)| i == index) {
            return Action::Skip;
        }
        let before = self
            .removed_sheets
            .iter()
            .filter(|&&(_, i)| i < index)
            .count();
        if before == 0 {
            return Action::Write;
        }
        let renumbered = format!(" localSheetId=\"{}\"", index - before);
        Action::Strip(vec![attr], Some(renumbered))
    }

    fn write_start(
        &mut self,
        e: &BytesStart<'_>,
        strip: &[usize],
        add: Option<&str>,
        empty: bool,
    ) -> Result<(), Error> {
        if strip.is_empty() && add.is_none() {
            let tail = if empty { 2 } else { 1 };
            if !self.out.event(&self.span, e, 1, tail) {
                self.out.push('<');
                self.out.push_str(e);
                self.out.push_str(if empty { "/>" } else { ">" });
            }
            return Ok(());
        }
        self.out.push('<');
        self.out.push_str(e.name().as_ref());
        for (i, attr) in e.attributes().enumerate() {
            let attr = attr.map_err(|e| corrupt(self.part, e))?;
            if strip.contains(&i) {
                continue;
            }
            let quote = if attr.value.contains('"') { '\'' } else { '"' };
            self.out.push(' ');
            self.out.push_str(attr.key.as_ref());
            self.out.push('=');
            self.out.push(quote);
            self.out.push_str(&attr.value);
            self.out.push(quote);
        }
        self.out.push_str(add.unwrap_or_default());
        self.out.push_str(if empty { "/>" } else { ">" });
        Ok(())
    }

    /// A direct child of a collection is about to be written.
    fn count_child(&mut self) {
        let depth = self.tags.len();
        if let Some(f) = self.frames.last_mut()
            && f.kind == FrameKind::Collection
            && f.depth == depth
        {
            f.children += 1;
        }
    }

    /// `start`: where the element's start tag begins in `out`.
    fn open_frame(&mut self, tag: Tag, start: usize) {
        let kind = match tag {
            Tag::WObject | Tag::PGraphicFrame | Tag::XdrAnchor => FrameKind::Container,
            Tag::Collection => FrameKind::Collection,
            Tag::XDefinedName => FrameKind::DefinedName,
            _ => return,
        };
        self.frames.push(Frame {
            kind,
            depth: self.tags.len(),
            start,
            tainted: false,
            children: 0,
            text: String::new(),
        });
    }

    fn end(&mut self, name: &str) -> Result<(), Error> {
        let depth = self.tags.len();
        if depth == 0 {
            return Err(corrupt(self.part, "end tag without start tag"));
        }
        if let Some(skip) = self.skip {
            if depth == skip {
                self.skip = None;
            }
            self.tags.pop();
            return Ok(());
        }
        self.tags.pop();
        if self.unwrap.last() == Some(&depth) {
            self.unwrap.pop();
            return Ok(());
        }
        if !self.out.event(&self.span, name, 2, 1) {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        if self.frames.last().is_some_and(|f| f.depth == depth) {
            self.close_frame();
        }
        Ok(())
    }

    /// Takes a frame's output back if what it held makes it useless.
    fn close_frame(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let keep = match frame.kind {
            FrameKind::Container => !frame.tainted,
            FrameKind::Collection => frame.children > 0,
            FrameKind::DefinedName => !self.names_removed_sheet(&frame.text),
        };
        if keep {
            return;
        }
        self.out.truncate(frame.start);
        if let Some(parent) = self.frames.last_mut()
            && parent.kind == FrameKind::Collection
            && parent.depth + 1 == frame.depth
        {
            parent.children = parent.children.saturating_sub(1);
        }
    }

    fn names_removed_sheet(&self, formula: &str) -> bool {
        let formula = formula.to_lowercase();
        self.removed_sheets.iter().any(|(name, _)| {
            formula.contains(&format!("{name}!"))
                || formula.contains(&format!("'{}'!", name.replace('\'', "''")))
        })
    }

    fn text(&mut self, event: &Event<'_>) -> Result<(), Error> {
        if self.skip.is_some() {
            return Ok(());
        }
        let content = text_of(self.part, event)?;
        if self.tags.is_empty() {
            if content.trim().is_empty() {
                return Ok(());
            }
            return Err(corrupt(self.part, "text outside the root element"));
        }
        if let Some(f) = self.frames.last_mut()
            && f.kind == FrameKind::DefinedName
        {
            f.text.push_str(&content);
        }
        // The event's text and the markup around it.
        let (inner, open, close): (&str, &str, &str) = match event {
            Event::Text(t) => (t, "", ""),
            Event::CData(c) => (c, "<![CDATA[", "]]>"),
            Event::GeneralRef(r) => (r, "&", ";"),
            _ => return Ok(()),
        };
        if !self.out.event(&self.span, inner, open.len(), close.len()) {
            self.out.push_str(open);
            self.out.push_str(inner);
            self.out.push_str(close);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(xml: &str, kept: &[&str]) -> Result<Rewritten, Error> {
        let kept: HashSet<&str> = kept.iter().copied().collect();
        rewrite("test.xml", xml, &kept, false)
    }

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:v="urn:schemas-microsoft-com:vml""#;

    #[test]
    fn dtds_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#;
        assert_eq!(run(bomb, &[]).err(), Some(Error::EntityDeclaration));
        assert!(matches!(run("<x>&a;</x>", &[]), Err(Error::Corrupt(_))));
        assert_eq!(
            run("<x>&amp;&#65;</x>", &[]).unwrap().text,
            "<x>&amp;&#65;</x>"
        );
    }

    #[test]
    fn hyperlinks_keep_their_text() {
        let xml = format!(
            r#"<w:document {W}><w:p><w:hyperlink r:id="rId9" w:history="1"><w:r><w:t>click</w:t></w:r></w:hyperlink></w:p></w:document>"#
        );
        let out = run(&xml, &[]).unwrap().text;
        assert!(
            out.contains(r#"<w:hyperlink w:history="1"><w:r><w:t>click</w:t>"#),
            "{out}"
        );
    }

    #[test]
    fn objects_with_cut_references_go_whole() {
        let xml = format!(
            r#"<w:document {W}><w:p><w:r><w:t>before</w:t><w:object><v:shape><v:imagedata r:id="rId1"/></v:shape><o:OLEObject r:id="rId2"/></w:object></w:r></w:p></w:document>"#
        );
        let out = run(&xml, &["rId1"]).unwrap().text;
        assert!(
            !out.contains("object") && !out.contains("OLEObject"),
            "{out}"
        );
        assert!(out.contains("before</w:t></w:r>"), "{out}");
    }

    #[test]
    fn dde_fields_keep_their_result() {
        let xml = format!(
            r#"<w:document {W}><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>shown</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p><w:p><w:fldSimple w:instr="DDE x y"><w:r><w:t>simple</w:t></w:r></w:fldSimple></w:p></w:document>"#
        );
        let done = run(&xml, &[]).unwrap();
        assert!(!done.text.contains("DDE"), "{}", done.text);
        assert!(done.text.contains("shown") && done.text.contains("simple"));
        assert!(done.text.contains("<w:instrText>PAGE</w:instrText>"));
        assert_eq!(done.text.matches("<w:fldChar").count(), 2, "{}", done.text);
        assert_eq!(done.removed, ["dde-field", "dde-field"]);
    }

    #[test]
    fn dde_spelled_by_a_nested_field_is_stripped() {
        let xml = format!(
            r#"<w:document {W}><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>QUOTE 68 68 69</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>DDE</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:instrText> PAGE "cmd"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>result</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:document>"#
        );
        let done = run(&xml, &[]).unwrap();
        assert!(
            !done.text.contains("fldChar") && !done.text.contains("instrText"),
            "{}",
            done.text
        );
        assert!(done.text.contains("result"));
    }

    #[test]
    fn utf16_parts_become_utf8() {
        let mut data = vec![0xFF, 0xFE];
        for unit in "<?xml version=\"1.0\" encoding=\"UTF-16\"?><x>日本</x>".encode_utf16() {
            data.extend_from_slice(&unit.to_le_bytes());
        }
        let text = decode("u.xml", &data).unwrap();
        let out = rewrite("u.xml", &text, &HashSet::new(), false)
            .unwrap()
            .text;
        assert!(
            out.ends_with("<x>日本</x>") && out.contains("UTF-8"),
            "{out}"
        );
    }

    #[test]
    fn namespaces_written_with_references_are_refused() {
        let vml = r#"<x xmlns:v="urn:schemas-microsoft-com:v&#109;l"><v:imagedata src="\\host\x.png"/></x>"#;
        assert!(matches!(run(vml, &[]), Err(Error::Corrupt(_))));
        let plain =
            r#"<x xmlns:v="urn:schemas-microsoft-com:vml"><v:imagedata src="\\host\x.png"/></x>"#;
        let kept: HashSet<&str> = HashSet::new();
        let out = rewrite("v.xml", plain, &kept, true).unwrap();
        assert!(!out.text.contains("host"), "{}", out.text);
    }

    #[test]
    fn malformed_parts_are_refused() {
        for bad in ["<a><b></a>", "<a/><b/>", "text<a/>", "<a>", ""] {
            assert!(matches!(run(bad, &[]), Err(Error::Corrupt(_))), "{bad}");
        }
    }
}
