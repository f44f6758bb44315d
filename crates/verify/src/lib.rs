/*!
Mukaika's output verifier: before a sanitized message crosses, it is read
again by this small checker, which shares no code with the sanitizer core,
against an allow-list. A violation means a sanitizer bug; the caller holds
the message (fail closed), logs it and counts it.

What may cross: a header section of 7-bit ASCII with only the kept fields;
one text/plain body, or a multipart/mixed of that body and attachments of
the allowed types, with no nested multipart or message; text that decodes;
PNG holding only critical chunks and JPEG with no metadata segment, both
decoding, with nothing after their end; flattened PDFs (pages that draw
images only, no key of active content anywhere) or, where the profile
cleans PDFs and the caller says so ([`verify_with`]), cleaned PDFs (no
action, script, form or embedded file; one revision, no unreachable
object); Office Open XML with no
macro, ActiveX, OLE or external part or relationship; zips of such files
under relative names.

```
let ok = b"From: a@example.jp\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n";
assert!(mukaika_verify::verify(ok).is_ok());
let html = b"Content-Type: text/html\r\n\r\n<b>x</b>\r\n";
assert!(mukaika_verify::verify(html).is_err());
```
*/
#![forbid(unsafe_code)]

mod image;
mod ooxml;
mod pdf;
mod zip;

use std::fmt;

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// Header fields a sanitized message may carry.
pub const ALLOWED_HEADERS: [&str; 14] = [
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "X-Mukaika-Sanitized",
    "X-Mukaika-Queue-Id",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// Header fields a part of the multipart may carry.
pub const ALLOWED_PART_HEADERS: [&str; 3] = [
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
];

/// Content types an attachment may have.
pub const ALLOWED_ATTACHMENTS: [&str; 9] = [
    "text/plain",
    "text/csv",
    "image/png",
    "image/jpeg",
    "application/zip",
    "application/pdf",
    DOCX,
    XLSX,
    PPTX,
];
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

/// One thing that may not cross.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The MIME part (0: the message itself), or where in it.
    pub place: String,
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.what)
    }
}

/// What may cross beyond the strictest allow-list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allow {
    /// A PDF may be cleaned (text and fonts kept) rather than flattened.
    pub cleaned_pdfs: bool,
}

/// Checks `message` against the strictest allow-list (flattened PDFs only):
/// every violation, or none.
pub fn verify(message: &[u8]) -> Result<(), Vec<Violation>> {
    verify_with(message, &Allow::default())
}

/// Checks `message` against the allow-list widened by `allow`.
pub fn verify_with(message: &[u8], allow: &Allow) -> Result<(), Vec<Violation>> {
    let mut found = Vec::new();
    let mut violation = |place: String, what: String| found.push(Violation { place, what });
    header_section(message, &mut violation);
    match MessageParser::new().parse(message) {
        None => violation("message".into(), "does not parse as a mail".into()),
        Some(parsed) => parts(&parsed, allow, &mut violation),
    }
    if found.is_empty() { Ok(()) } else { Err(found) }
}

/// 7-bit, CRLF, only the allowed fields, each once.
fn header_section(message: &[u8], violation: &mut impl FnMut(String, String)) {
    let place = || "header".to_owned();
    let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") else {
        return violation(place(), "no CRLF CRLF ends the header section".into());
    };
    // Up to and with the last field's CRLF.
    let section = &message[..end + 2];
    if !section.is_ascii() || section.contains(&0) {
        violation(place(), "not 7-bit ASCII".into());
    }
    let mut seen: Vec<String> = Vec::new();
    let lines = section.strip_suffix(b"\n").unwrap_or(section);
    for line in lines.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or_else(|| {
            violation(place(), "a bare LF".into());
            line
        });
        if line.contains(&b'\r') || line.len() > 998 {
            violation(place(), "a raw CR or a line over 998 octets".into());
        }
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        let name = String::from_utf8_lossy(line.split(|&b| b == b':').next().unwrap_or_default())
            .into_owned();
        if !ALLOWED_HEADERS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&name))
        {
            violation(place(), format!("field {name:?} is not on the list"));
        }
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            violation(place(), format!("field {name:?} twice"));
        }
        seen.push(lower);
    }
}

/// The MIME structure and each part's content.
fn parts(
    message: &mail_parser::Message<'_>,
    allow: &Allow,
    violation: &mut impl FnMut(String, String),
) {
    for (id, part) in message.parts.iter().enumerate() {
        let place = || format!("part {id}");
        let content_type = part
            .content_type()
            .map(|ct| {
                format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase()
            })
            .unwrap_or_else(|| "text/plain".into());
        match &part.body {
            PartType::Multipart(_) if id == 0 && content_type == "multipart/mixed" => continue,
            PartType::Multipart(_) => {
                violation(place(), format!("nested or unexpected {content_type}"));
                continue;
            }
            PartType::Message(_) => {
                violation(place(), "a nested message".into());
                continue;
            }
            PartType::Html(_) => violation(place(), "HTML".into()),
            _ => {}
        }
        for header in &part.headers {
            let name = header.name();
            if id > 0
                && !ALLOWED_PART_HEADERS
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(name))
            {
                violation(place(), format!("part header {name:?}"));
            }
        }
        let is_body = id == 0 || id == 1;
        if is_body && content_type != "text/plain" {
            violation(
                place(),
                format!("the body is {content_type}, not text/plain"),
            );
        }
        if !ALLOWED_ATTACHMENTS.contains(&content_type.as_str()) {
            violation(place(), format!("{content_type} may not cross"));
            continue;
        }
        content(&content_type, part.contents(), &place(), allow, violation);
    }
}

/// One piece of content of an allowed type.
pub(crate) fn content(
    content_type: &str,
    bytes: &[u8],
    place: &str,
    allow: &Allow,
    violation: &mut impl FnMut(String, String),
) {
    let mut complain = |what: String| violation(place.to_owned(), what);
    match content_type {
        "text/plain" | "text/csv" => {
            if std::str::from_utf8(bytes).is_err() {
                complain("text that is not UTF-8".into());
            }
            if bytes.contains(&0) {
                complain("a NUL in text".into());
            }
        }
        "image/png" => image::png(bytes, &mut complain),
        "image/jpeg" => image::jpeg(bytes, &mut complain),
        "application/zip" => zip::entries(bytes, place, allow, violation),
        "application/pdf" => pdf::check(bytes, allow.cleaned_pdfs, &mut complain),
        DOCX | XLSX | PPTX => ooxml::cleaned(bytes, &mut complain),
        other => complain(format!("{other} may not cross")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whats(message: &[u8]) -> Vec<String> {
        verify(message)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.what)
            .collect()
    }

    #[test]
    fn a_plain_text_mail_passes() {
        let mail = b"From: a@example.jp\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n";
        assert_eq!(verify(mail), Ok(()));
    }

    #[test]
    fn headers_off_the_list_html_and_nesting_fail() {
        let mail = b"From: a@example.jp\r\nBcc: x@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nx\r\n--b--\r\n";
        let whats = whats(mail);
        assert!(whats.iter().any(|w| w.contains("\"Bcc\"")), "{whats:?}");
        assert!(whats.iter().any(|w| w == "HTML"), "{whats:?}");
        assert!(
            whats.iter().any(|w| w.contains("nested message")),
            "{whats:?}"
        );
    }

    #[test]
    fn other_types_may_not_cross() {
        let mail = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/x-msdownload\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAA==\r\n--b--\r\n";
        let whats = whats(mail);
        assert!(
            whats
                .iter()
                .any(|w| w.contains("application/x-msdownload may not cross")),
            "{whats:?}"
        );
    }
}
