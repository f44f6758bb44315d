//! PDFs: flattened ones only. Read with lopdf (not the writer that made
//! them): no key or name of active or hidden content anywhere, a catalog
//! with nothing but its pages, and every page drawing image XObjects only.

use lopdf::{Dictionary, Document, Object};

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

pub fn flattened(bytes: &[u8], complain: &mut impl FnMut(String)) {
    let doc = match Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(e) => return complain(format!("not a PDF lopdf reads: {e}")),
    };
    if doc.trailer.get(b"Encrypt").is_ok() {
        complain("encrypted".into());
    }
    for (id, object) in &doc.objects {
        walk(object, &mut |dict| {
            for (key, value) in dict.iter() {
                let key = String::from_utf8_lossy(key);
                if FORBIDDEN_KEYS.contains(&key.as_ref()) {
                    complain(format!("object {id:?} has /{key}"));
                }
                if let Ok(name) = value.as_name() {
                    let name = String::from_utf8_lossy(name);
                    if FORBIDDEN_NAMES.contains(&name.as_ref()) {
                        complain(format!("object {id:?} names /{name}"));
                    }
                }
            }
        });
    }
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
        let content = "BT /F1 24 Tf 72 720 Td (TEXT) Tj ET";
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> >>".to_owned(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            "<< /S /JavaScript /JS (app.alert(1)) >>".to_owned(),
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
