//! Word fields. A field is code that Word runs when it opens or updates
//! the document: DDE and DDEAUTO start programs, INCLUDEPICTURE,
//! INCLUDETEXT and LINK fetch files or URLs (and leak NTLM hashes over
//! UNC paths), MACROBUTTON runs a macro. Fields whose keyword is not on a
//! short list of harmless ones are reduced to the result Word last
//! displayed, which stays in the document as plain text.
//!
//! A complex field (`w:fldChar` begin … `w:instrText` … separate … result
//! … end) can span runs and paragraphs, and its instruction can itself be
//! built by nested fields (`{ {QUOTE 68 68 69} … }` spells DDE), so the
//! decision needs the whole instruction: [`scan`] reads the part once to
//! decide every field, and [`Fields`] replays those decisions while the
//! part is rewritten.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::Error;
use super::xml::{NS_W, NS_W_STRICT, corrupt, text_of};

/// Field keywords that only format, number, cross-reference or show
/// document properties. Everything else is stripped to its result.
const HARMLESS: &[&str] = &[
    "=",
    "ADVANCE",
    "AUTHOR",
    "AUTONUM",
    "AUTONUMLGL",
    "AUTONUMOUT",
    "BARCODE",
    "BIBLIOGRAPHY",
    "BIDIOUTLINE",
    "CITATION",
    "COMMENTS",
    "COMPARE",
    "CREATEDATE",
    "DATE",
    "DISPLAYBARCODE",
    "DOCPROPERTY",
    "DOCVARIABLE",
    "EDITTIME",
    "EQ",
    "FILENAME",
    "FILESIZE",
    "FORMCHECKBOX",
    "FORMDROPDOWN",
    "FORMTEXT",
    "GOTOBUTTON",
    "IF",
    "INDEX",
    "INFO",
    "KEYWORDS",
    "LASTSAVEDBY",
    "LISTNUM",
    "MERGEFIELD",
    "MERGEREC",
    "MERGESEQ",
    "NEXT",
    "NEXTIF",
    "NOTEREF",
    "NUMCHARS",
    "NUMPAGES",
    "NUMWORDS",
    "PAGE",
    "PAGEREF",
    "PRINTDATE",
    "QUOTE",
    "REF",
    "REVNUM",
    "SAVEDATE",
    "SECTION",
    "SECTIONPAGES",
    "SEQ",
    "SET",
    "SHAPE",
    "SKIPIF",
    "STYLEREF",
    "SUBJECT",
    "SYMBOL",
    "TA",
    "TC",
    "TIME",
    "TITLE",
    "TOA",
    "TOC",
    "USERADDRESS",
    "USERINITIALS",
    "USERNAME",
    "XE",
];

/// `None` to keep a field with this instruction, else the reason code for
/// stripping it. `nested_in_keyword`: another field began before the
/// keyword ended, so Word computes the keyword from that field's result
/// (`{ {QUOTE 68 68 69} … }` is a DDE field; so is `{ D{QUOTE "DE"} … }`).
pub(super) fn judge(instruction: &str, nested_in_keyword: bool) -> Option<&'static str> {
    let keyword = keyword(instruction);
    if keyword.starts_with("DDE") {
        Some("dde-field")
    } else if nested_in_keyword {
        Some("field-code")
    } else if HARMLESS.binary_search(&keyword.as_str()).is_ok() {
        None
    } else if keyword == "HYPERLINK" {
        Some("hyperlink")
    } else {
        Some("field-code")
    }
}

/// The instruction's first word, upper-cased (`= 2+2` gives `=`).
fn keyword(instruction: &str) -> String {
    let trimmed = instruction.trim_start();
    if trimmed.starts_with('=') {
        return "=".into();
    }
    trimmed
        .split(|c: char| c.is_whitespace() || c == '\\' || c == '"')
        .next()
        .unwrap_or_default()
        .to_uppercase()
}

/// The `w:fldCharType` of a field character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Char {
    Begin,
    Separate,
    End,
}

pub(super) fn is_w(ns: &ResolveResult<'_>) -> bool {
    matches!(ns, ResolveResult::Bound(n) if n.0 == NS_W || n.0 == NS_W_STRICT)
}

/// The field character type of a `w:fldChar` start tag.
pub(super) fn char_type(e: &quick_xml::events::BytesStart<'_>) -> Option<Char> {
    e.attributes().flatten().find_map(|a| {
        if a.key.local_name().as_ref() != "fldCharType" {
            return None;
        }
        match a.value.as_ref() {
            "begin" => Some(Char::Begin),
            "separate" => Some(Char::Separate),
            "end" => Some(Char::End),
            _ => None,
        }
    })
}

struct Open {
    ordinal: usize,
    instruction: String,
    in_instruction: bool,
    nested_in_keyword: bool,
}

/// Decides every complex field of a part, in the order their begin
/// characters appear.
pub(super) fn scan(part: &str, text: &str) -> Result<Vec<Option<&'static str>>, Error> {
    let mut reader = NsReader::from_str(text);
    let mut decisions = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut in_instr_text = false;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| corrupt(part, e))?;
        match event {
            Event::Start(e) | Event::Empty(e) if is_w(&ns) => match e.local_name().as_ref() {
                "fldChar" => match char_type(&e) {
                    Some(Char::Begin) => {
                        if let Some(top) = open.last_mut()
                            && top.in_instruction
                            && !top.instruction.trim_start().contains(char::is_whitespace)
                        {
                            top.nested_in_keyword = true;
                        }
                        open.push(Open {
                            ordinal: decisions.len(),
                            instruction: String::new(),
                            in_instruction: true,
                            nested_in_keyword: false,
                        });
                        decisions.push(None);
                    }
                    Some(Char::Separate) => {
                        if let Some(top) = open.last_mut() {
                            top.in_instruction = false;
                        }
                    }
                    Some(Char::End) => close(open.pop(), &mut decisions),
                    None => {}
                },
                "instrText" | "delInstrText" => in_instr_text = true,
                _ => {}
            },
            Event::End(e) if is_w(&ns) => {
                if matches!(e.local_name().as_ref(), "instrText" | "delInstrText") {
                    in_instr_text = false;
                }
            }
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_) if in_instr_text => {
                if let Some(top) = open.last_mut().filter(|t| t.in_instruction) {
                    top.instruction.push_str(&text_of(part, &event)?);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // Fields never ended are judged on what they had.
    while let Some(field) = open.pop() {
        close(Some(field), &mut decisions);
    }
    Ok(decisions)
}

fn close(field: Option<Open>, decisions: &mut [Option<&'static str>]) {
    if let Some(f) = field
        && let Some(slot) = decisions.get_mut(f.ordinal)
    {
        *slot = judge(&f.instruction, f.nested_in_keyword);
    }
}

/// Replays [`scan`]'s decisions during the rewrite.
pub(super) struct Fields {
    decisions: Vec<Option<&'static str>>,
    next: usize,
    /// Open fields: (strip reason, still in the instruction).
    open: Vec<(Option<&'static str>, bool)>,
}

impl Fields {
    pub(super) fn new(decisions: Vec<Option<&'static str>>) -> Self {
        Self {
            decisions,
            next: 0,
            open: Vec::new(),
        }
    }

    /// Inside the instruction of a stripped field: run content goes.
    pub(super) fn suppressing(&self) -> bool {
        self.open
            .iter()
            .any(|&(strip, instr)| strip.is_some() && instr)
    }

    /// Follows one field character. Returns whether to drop it, and the
    /// reason to report when it begins a stripped field.
    pub(super) fn on_char(&mut self, c: Char) -> (bool, Option<&'static str>) {
        match c {
            Char::Begin => {
                let strip = self.decisions.get(self.next).copied().flatten();
                self.next += 1;
                let drop = self.suppressing() || strip.is_some();
                self.open.push((strip, true));
                (drop, strip)
            }
            Char::Separate => {
                let drop = self.suppressing() || self.open.last().is_some_and(|f| f.0.is_some());
                if let Some(top) = self.open.last_mut() {
                    top.1 = false;
                }
                (drop, None)
            }
            Char::End => {
                let strip = self.open.pop().and_then(|f| f.0);
                (strip.is_some() || self.suppressing(), None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harmless_list_is_sorted() {
        assert!(HARMLESS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn keywords_decide() {
        assert_eq!(judge(" PAGE \\* MERGEFORMAT ", false), None);
        assert_eq!(judge("=SUM(ABOVE)", false), None);
        assert_eq!(
            judge(" DDEAUTO c:\\\\windows\\\\cmd.exe \"/k calc\"", false),
            Some("dde-field")
        );
        assert_eq!(judge("dde x y", false), Some("dde-field"));
        assert_eq!(
            judge("INCLUDEPICTURE \"http://x/a.png\" \\d", false),
            Some("field-code")
        );
        assert_eq!(judge(" HYPERLINK \"http://x\"", false), Some("hyperlink"));
        assert_eq!(judge("\"DDEAUTO\" x", false), Some("field-code"));
        assert_eq!(judge("  ", true), Some("field-code"));
        assert_eq!(judge("PAGE", true), Some("field-code"));
        assert_eq!(judge("", false), Some("field-code"));
    }
}
