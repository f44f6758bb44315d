//! The shortcut: a kept XML part that needs no edit goes out as its
//! original compressed bytes, without being parsed or deflated again.
//! Whether it needs an edit is decided by a scan of its raw bytes that
//! errs towards "yes": any word the rewrite acts on, in markup position,
//! sends the part through the rewrite. On a 3.5 MB document.xml this is
//! the difference between about 7 ms and 40 ms (docs/PERFORMANCE.md).

use super::Error;
use super::xml::refuse_dtd;

/// Element names (by prefix) and attribute names whose presence sends a
/// part through [`rewrite`](super::xml::rewrite): every construct the rewrite acts on, besides
/// relationship ids, is one of them (fields, objects and controls, macro
/// hooks, mail merge, defined names, VML URLs, click actions).
const TRIGGER_ELEMENTS: &[&[u8]] = &[
    b"fldChar",
    b"fldSimple",
    b"instrText",
    b"delInstrText",
    b"object",
    b"OLEObject",
    b"oleObj",
    b"control",
    b"mailMerge",
    b"entryMacro",
    b"exitMacro",
    b"FmlaMacro",
    b"definedName",
];
/// The first bytes of [`TRIGGER_ELEMENTS`], to skip most tags at once.
const TRIGGER_FIRST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < TRIGGER_ELEMENTS.len() {
        table[TRIGGER_ELEMENTS[i][0] as usize] = true;
        i += 1;
    }
    table
};
const TRIGGER_ATTRIBUTES: &[&[u8]] = &[b"action", b"macro", b"src", b"href"];

/// Whether a part can go out exactly as it came. `text` is the part as
/// [`decode`](super::xml::decode) borrowed it (so it was UTF-8); it must be declared UTF-8 or
/// not declared, and have no DTD (refused here too), no trigger, no character
/// reference (which could spell a relationship id), and no mention of a
/// relationship id that was dropped. Anything else is rewritten; this
/// only saves parsing and deflating big parts that need nothing.
///
/// The scan is on raw bytes and errs towards rewriting: a trigger word in
/// text that merely looks like markup costs time, never safety.
pub(super) fn untouched(text: &str, dropped: &[String]) -> Result<bool, Error> {
    let body = text.as_bytes();
    // A NUL is never in XML text, but is half of every ASCII character in
    // UTF-16 or UTF-32, where this scan would see none of its words.
    if !body.starts_with(b"<") || memchr::memchr(0, body).is_some() {
        return Ok(false);
    }
    refuse_dtd(body)?;
    if body.starts_with(b"<?xml") && !declares_utf8(body) {
        return Ok(false);
    }
    let find = |needle: &[u8]| memchr::memmem::find(body, needle).is_some();
    // Every condition must hold; the one that usually fails first when a
    // part does need the rewrite (a link to a dropped relationship, found
    // near where it is used) is tried first.
    if dropped
        .iter()
        .any(|id| find(format!("\"{id}\"").as_bytes()) || find(format!("'{id}'").as_bytes()))
    {
        return Ok(false);
    }
    let attribute = |name: &&[u8]| {
        memchr::memmem::find_iter(body, name).any(|at| names_attribute(body, at + name.len()))
    };
    Ok(!(find(b"&#") || has_trigger_element(body) || TRIGGER_ATTRIBUTES.iter().any(attribute)))
}

/// Whether some `<name` or `<prefix:name` starts with a trigger element
/// name. One pass over the `<`s rather than one search per name.
fn has_trigger_element(body: &[u8]) -> bool {
    let name_byte =
        |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') || *b >= 0x80;
    memchr::memchr_iter(b'<', body).any(|at| {
        let name = body.get(at + 1..).unwrap_or_default();
        let head = name.iter().take_while(|b| name_byte(b)).count();
        let local = match name.get(head) {
            Some(b':') => name.get(head + 1..).unwrap_or_default(),
            _ => name,
        };
        local
            .first()
            .is_some_and(|&b| TRIGGER_FIRST_BYTES[usize::from(b)])
            && TRIGGER_ELEMENTS.iter().any(|t| local.starts_with(t))
    })
}

/// The word ending at `end` is followed by `=`, as an attribute name is.
fn names_attribute(body: &[u8], end: usize) -> bool {
    let rest = body.get(end..).unwrap_or_default();
    rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'=')
}

/// The XML declaration names UTF-8, or no encoding (which means UTF-8).
fn declares_utf8(body: &[u8]) -> bool {
    let end = memchr::memmem::find(body, b"?>").unwrap_or(body.len());
    let decl = body.get(..end).unwrap_or_default().to_ascii_lowercase();
    match memchr::memmem::find(&decl, b"encoding") {
        None => true,
        Some(at) => {
            let rest = decl.get(at + 8..).unwrap_or_default();
            let value: Vec<u8> = rest
                .iter()
                .copied()
                .skip_while(|&b| b != b'"' && b != b'\'')
                .skip(1)
                .take_while(|&b| b != b'"' && b != b'\'')
                .collect();
            value == b"utf-8" || value == b"utf8"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copied(xml: &str, dropped: &[&str]) -> bool {
        let dropped: Vec<String> = dropped.iter().map(|s| s.to_string()).collect();
        untouched(xml, &dropped).unwrap()
    }

    #[test]
    fn only_parts_with_nothing_to_do_are_copied() {
        let prose = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="x"><w:t>action items: object, control, src, macro &amp; more</w:t></w:document>"#;
        assert!(copied(prose, &["rId9"]));
        for needs_work in [
            r#"<w:document xmlns:w="x"><w:r><w:fldChar w:fldCharType="begin"/></w:r></w:document>"#,
            r#"<document><instrText>DDE</instrText></document>"#,
            r#"<w:document xmlns:w="x"><w:object/></w:document>"#,
            r#"<p:sld xmlns:p="x"><p:controls/></p:sld>"#,
            r#"<a xmlns:v="v"><v:imagedata src = "\\host\x.png"/></a>"#,
            r#"<a xmlns:o="o"><o:x o:href="http://x/"/></a>"#,
            r#"<a><b action="ppaction://program"/></a>"#,
            r#"<a><b macro="[0]!Run"/></a>"#,
            r#"<a><b r:id="rId9"/></a>"#,
            r#"<a><b r:id='rId9'/></a>"#,
            r#"<a><b r:id="rI&#100;9"/></a>"#,
            r#"<?xml version="1.0" encoding="UTF-7"?><a/>"#,
        ] {
            assert!(!copied(needs_work, &["rId9"]), "{needs_work}");
        }
        assert!(copied("<?xml version='1.0' encoding='utf-8'?><a/>", &[]));
        let dtd = untouched("<!DOCTYPE a><a/>", &[]);
        assert_eq!(dtd, Err(Error::EntityDeclaration));
        // UTF-16 without a BOM is valid UTF-8, NULs and all.
        let utf16: Vec<u8> = "<a/>".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(!untouched(std::str::from_utf8(&utf16).unwrap(), &[]).unwrap());
    }
}
