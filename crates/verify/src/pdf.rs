//! PDFs, read with lopdf (not the writer that made them). Flattened: no
//! key or name of active or hidden content anywhere, a catalog with
//! nothing but its pages, and every page drawing image XObjects only.
//! Cleaned (only where the caller allows them): text and fonts may stay,
//! but no action, script, form, embedded file or encryption, one revision,
//! and no object the catalog does not reach.

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

/// Keys that mean active or hidden content, anywhere in the file.
const FORBIDDEN_KEYS: [&str; 17] = [
    "Font",
    "Annots",
    "OpenAction",
    "AA",
    "JavaScript",
    "JS",
    "EmbeddedFiles",
    "EF",
    "AcroForm",
    "XFA",
    "URI",
    "A",
    "Names",
    "Outlines",
    "Launch",
    "SubmitForm",
    "RichMedia",
];

/// Names that mean the same, as values.
const FORBIDDEN_NAMES: [&str; 7] = [
    "JavaScript",
    "URI",
    "Launch",
    "Annot",
    "Font",
    "Widget",
    "EmbeddedFile",
];

/// Keys of active or hidden content a cleaned PDF may not have.
const CLEANED_FORBIDDEN_KEYS: [&str; 12] = [
    "OpenAction",
    "AA",
    "JavaScript",
    "JS",
    "EmbeddedFiles",
    "EF",
    "AcroForm",
    "XFA",
    "URI",
    "RichMediaContent",
    "Launch",
    "SubmitForm",
];

/// Actions and annotations a cleaned PDF may not name.
const CLEANED_FORBIDDEN_NAMES: [&str; 11] = [
    "JavaScript",
    "Launch",
    "SubmitForm",
    "ImportData",
    "GoToR",
    "GoToE",
    "URI",
    "RichMedia",
    "FileAttachment",
    "EmbeddedFile",
    "Filespec",
];

/// A flattened PDF, or, when `cleaned_allowed`, a cleaned one.
pub fn check(bytes: &[u8], cleaned_allowed: bool, complain: &mut impl FnMut(String)) {
    if !cleaned_allowed {
        return flattened(bytes, complain);
    }
    let mut not_flat = Vec::new();
    flattened(bytes, &mut |what| not_flat.push(what));
    if !not_flat.is_empty() {
        cleaned(bytes, complain);
    }
}

pub fn flattened(bytes: &[u8], complain: &mut impl FnMut(String)) {
    let Some(doc) = load(bytes, complain) else {
        return;
    };
    forbidden(&doc, &FORBIDDEN_KEYS, &FORBIDDEN_NAMES, complain);
    let pages = doc.get_pages();
    if pages.is_empty() {
        complain("no pages".into());
    }
    for (number, page) in pages {
        let Ok(dict) = doc.get_dictionary(page) else {
            complain(format!("page {number} unreadable"));
            continue;
        };
        if let Err(what) = draws_only_images(&doc, page, dict) {
            complain(format!("page {number}: {what}"));
        }
    }
}

/// A cleaned PDF: text and fonts allowed, nothing active, nothing hidden
/// in an earlier revision or an unreachable object.
pub fn cleaned(bytes: &[u8], complain: &mut impl FnMut(String)) {
    let Some(doc) = load(bytes, complain) else {
        return;
    };
    forbidden(
        &doc,
        &CLEANED_FORBIDDEN_KEYS,
        &CLEANED_FORBIDDEN_NAMES,
        complain,
    );
    if doc.xref_section_count > 1 {
        complain(format!("{} revisions", doc.xref_section_count));
    }
    let reached = reachable(&doc);
    for id in doc.objects.keys().filter(|id| !reached.contains(id)) {
        complain(format!("object {id:?} is not reachable from the trailer"));
    }
    if doc.get_pages().is_empty() {
        complain("no pages".into());
    }
}

/// The document, unencrypted; complains otherwise.
fn load(bytes: &[u8], complain: &mut impl FnMut(String)) -> Option<Document> {
    let doc = match Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            complain(format!("not a PDF lopdf reads: {e}"));
            return None;
        }
    };
    if doc.trailer.get(b"Encrypt").is_ok() {
        complain("encrypted".into());
    }
    Some(doc)
}

/// Complains of every forbidden key, and name as a value, in any object.
fn forbidden(doc: &Document, keys: &[&str], names: &[&str], complain: &mut impl FnMut(String)) {
    for (id, object) in &doc.objects {
        walk(object, &mut |dict| {
            for (key, value) in dict.iter() {
                let key = String::from_utf8_lossy(key);
                if keys.contains(&key.as_ref()) {
                    complain(format!("object {id:?} has /{key}"));
                }
                if let Ok(name) = value.as_name() {
                    let name = String::from_utf8_lossy(name);
                    if names.contains(&name.as_ref()) {
                        complain(format!("object {id:?} names /{name}"));
                    }
                }
            }
        });
    }
}

/// Objects the trailer reaches, by any chain of references.
fn reachable(doc: &Document) -> BTreeSet<ObjectId> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<ObjectId> = Vec::new();
    let trailer = Object::Dictionary(doc.trailer.clone());
    references(&trailer, &mut todo);
    while let Some(id) = todo.pop() {
        if seen.insert(id)
            && let Some(object) = doc.objects.get(&id)
        {
            references(object, &mut todo);
        }
    }
    seen
}

fn references(object: &Object, out: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(id) => out.push(*id),
        Object::Array(items) => items.iter().for_each(|v| references(v, out)),
        Object::Dictionary(dict) => dict.iter().for_each(|(_, v)| references(v, out)),
        Object::Stream(stream) => stream.dict.iter().for_each(|(_, v)| references(v, out)),
        _ => {}
    }
}

fn walk(object: &Object, visit: &mut impl FnMut(&Dictionary)) {
    match object {
        Object::Dictionary(dict) => {
            visit(dict);
            dict.iter().for_each(|(_, v)| walk(v, visit));
        }
        Object::Stream(stream) => {
            visit(&stream.dict);
            stream.dict.iter().for_each(|(_, v)| walk(v, visit));
        }
        Object::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// Resources of image XObjects only, and content that only draws them.
fn draws_only_images(doc: &Document, id: lopdf::ObjectId, page: &Dictionary) -> Result<(), String> {
    let resources = resolve(doc, page.get(b"Resources").map_err(|_| "no resources")?)?;
    for (key, value) in resources.iter() {
        if key.as_slice() != b"XObject" {
            return Err(format!("resource /{}", String::from_utf8_lossy(key)));
        }
        for (_, xobject) in resolve(doc, value)?.iter() {
            let stream = xobject
                .as_reference()
                .and_then(|r| doc.get_object(r))
                .and_then(Object::as_stream)
                .map_err(|_| "an XObject that is not a stream")?;
            if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Image") {
                return Err("an XObject that is not an image".into());
            }
        }
    }
    let content = doc.get_page_content(id);
    let content = lopdf::content::Content::decode(&content).map_err(|e| format!("content: {e}"))?;
    for op in &content.operations {
        if !["q", "Q", "cm", "Do"].contains(&op.operator.as_str()) {
            return Err(format!("operator {} in the content", op.operator));
        }
    }
    Ok(())
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Result<&'a Dictionary, String> {
    match object {
        Object::Reference(id) => doc.get_dictionary(*id).map_err(|e| e.to_string()),
        Object::Dictionary(dict) => Ok(dict),
        _ => Err("not a dictionary".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page PDF with text in Helvetica and a JavaScript OpenAction.
    fn active_pdf() -> Vec<u8> {
        text_pdf(
            "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
            "<< /S /JavaScript /JS (app.alert(1)) >>",
        )
    }

    /// A one-page PDF with text in Helvetica: catalog, page tree, page,
    /// content, `fifth`, font.
    fn text_pdf(catalog: &str, fifth: &str) -> Vec<u8> {
        let content = "BT /F1 24 Tf 72 720 Td (TEXT) Tj ET";
        let objects = [
            catalog.to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> >>".to_owned(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            fifth.to_owned(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        ];
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (n, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", n + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn complaints(bytes: &[u8], cleaned_allowed: bool) -> Vec<String> {
        let mut found = Vec::new();
        check(bytes, cleaned_allowed, &mut |w| found.push(w));
        found
    }

    /// Text and fonts pass where cleaned PDFs are allowed, only there.
    #[test]
    fn a_cleaned_pdf_passes_only_where_allowed() {
        // Object 5 is reached: an internal GoTo link on the catalog.
        let clean = text_pdf(
            "<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] /Outlines 5 0 R >>",
            "<< /Type /Outlines /Count 0 >>",
        );
        let strict = complaints(&clean, false);
        assert!(strict.iter().any(|w| w.contains("/Font")), "{strict:?}");
        let found = complaints(&clean, true);
        assert!(found.iter().any(|w| w.contains("/OpenAction")), "{found:?}");
        let clean = text_pdf(
            "<< /Type /Catalog /Pages 2 0 R /Outlines 5 0 R >>",
            "<< /Type /Outlines /Count 0 >>",
        );
        assert_eq!(complaints(&clean, true), Vec::<String>::new());
    }

    #[test]
    fn a_cleaned_pdf_with_active_content_or_an_orphan_is_refused() {
        let found = complaints(&active_pdf(), true);
        assert!(found.iter().any(|w| w.contains("/OpenAction")), "{found:?}");
        assert!(
            found.iter().any(|w| w.contains("names /JavaScript")),
            "{found:?}"
        );
        // Nothing reaches object 5: what an earlier revision leaves behind.
        let orphan = text_pdf(
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Outlines /Count 0 >>",
        );
        let found = complaints(&orphan, true);
        assert_eq!(
            found,
            ["object (5, 0) is not reachable from the trailer"],
            "{found:?}"
        );
    }

    #[test]
    fn an_unflattened_pdf_is_refused() {
        let mut found = Vec::new();
        flattened(&active_pdf(), &mut |w| found.push(w));
        assert!(found.iter().any(|w| w.contains("/OpenAction")), "{found:?}");
        assert!(found.iter().any(|w| w.contains("/Font")), "{found:?}");
        assert!(
            found.iter().any(|w| w.contains("resource /Font")),
            "{found:?}"
        );
        let mut found = Vec::new();
        flattened(b"%PDF-garbage", &mut |w| found.push(w));
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
