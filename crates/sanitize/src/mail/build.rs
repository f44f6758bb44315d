//! The delivered message: new and minimal, written by mail-builder from the
//! kept headers, the notice plus body text, and the delivered attachments.

use mail_builder::{
    MessageBuilder,
    headers::{
        address::Address, content_type::ContentType, message_id::MessageId, raw::Raw, text::Text,
    },
    mime::{BodyPart, MimePart},
};

use super::charset;
use super::headers::{KeptHeaders, Mailbox};
use super::mime::Attachment;
use crate::attachment::Body;
use crate::policy::{OutputCharset, Policy};
use crate::report::Verdict;

pub struct Output<'a> {
    pub headers: &'a KeptHeaders,
    pub text: &'a str,
    pub attachments: &'a [Attachment],
    pub verdict: Verdict,
    /// The multipart boundary: derived from the content, so the output
    /// is reproducible, and unguessable by the sender, so no text of
    /// theirs can end a part.
    pub boundary: &'a str,
    /// The queue (= quarantine) id, written as `X-Mukaika-Queue-Id`.
    pub queue_id: Option<&'a str>,
}

pub fn build(output: &Output<'_>, policy: &Policy) -> Vec<u8> {
    let h = output.headers;
    let mut builder = MessageBuilder::new();
    for (name, boxes) in [
        ("From", &h.from),
        ("To", &h.to),
        ("Cc", &h.cc),
        ("Reply-To", &h.reply_to),
    ] {
        if boxes.is_empty() {
            continue;
        }
        builder = match policy.output_charset {
            OutputCharset::Utf8 => builder.header(name, address_list(boxes)),
            OutputCharset::Iso2022Jp => builder.header(name, Raw::new(jis_address_list(boxes))),
        };
    }
    if let Some(subject) = &h.subject {
        builder = match policy.output_charset {
            OutputCharset::Iso2022Jp if !subject.is_ascii() => {
                builder.header("Subject", Raw::new(rfc2047_words(subject, Word::Jis)))
            }
            _ => builder.header("Subject", Text::new(subject.as_str())),
        };
    }
    if let Some(date) = &h.date {
        builder = builder.header("Date", Raw::new(date.as_str()));
    }
    if let Some(id) = &h.message_id {
        builder = builder.header("Message-ID", MessageId::new(id.as_str()));
    }
    if !h.in_reply_to.is_empty() {
        builder = builder.header(
            "In-Reply-To",
            MessageId::new_list(h.in_reply_to.iter().map(String::as_str)),
        );
    }
    if !h.references.is_empty() {
        builder = builder.header(
            "References",
            MessageId::new_list(h.references.iter().map(String::as_str)),
        );
    }
    builder = builder.header(
        "X-Mukaika-Sanitized",
        Raw::new(format!(
            "profile={}; verdict={}",
            header_token(&policy.name),
            output.verdict.as_str()
        )),
    );

    if let Some(id) = output.queue_id {
        builder = builder.header("X-Mukaika-Queue-Id", Raw::new(id));
    }

    let text = text_part(output.text, policy.output_charset);
    let body = if output.attachments.is_empty() {
        text
    } else {
        let mut parts = vec![text];
        parts.extend(output.attachments.iter().map(attachment_part));
        let content_type =
            ContentType::new("multipart/mixed").attribute("boundary", output.boundary);
        MimePart::new(content_type, BodyPart::Multipart(parts))
    };
    // Writing into a Vec cannot fail.
    builder.body(body).write_to_vec().unwrap_or_default()
}

/// A delivered attachment. The name goes out twice, as old Japanese
/// clients need: RFC 2231 `filename*=` (mail-builder) on the disposition,
/// and the Outlook form, an RFC 2047 word in a quoted `name=`, on the type.
fn attachment_part(attachment: &Attachment) -> MimePart<'_> {
    let name = rfc2047_words(&attachment.filename, Word::Utf8);
    let (content_type, contents) = match &attachment.body {
        Body::Text(text) => (
            format!(
                "{}; charset=utf-8;\r\n\tname=\"{name}\"",
                attachment.content_type
            ),
            BodyPart::Text(text.as_str().into()),
        ),
        Body::Binary(bytes) => (
            format!("{};\r\n\tname=\"{name}\"", attachment.content_type),
            BodyPart::Binary(bytes.as_slice().into()),
        ),
    };
    MimePart {
        headers: vec![("Content-Type".into(), Raw::new(content_type).into())],
        contents,
    }
    .attachment(attachment.filename.as_str())
}

/// The charset of RFC 2047 words.
#[derive(Clone, Copy)]
enum Word {
    Utf8,
    /// For the old Japanese clients of the `iso-2022-jp` output charset.
    /// Each word ends back in ASCII, as RFC 1468 requires.
    Jis,
}

/// `text` as RFC 2047 base64 words of at most 75 characters each, folded;
/// ASCII text as is. `text` is cleaned header text or a cleaned filename:
/// no quote, backslash or control character can be in it.
fn rfc2047_words(text: &str, charset: Word) -> String {
    use base64::Engine;
    if text.is_ascii() {
        return text.to_owned();
    }
    // Bytes per word before encoding: 45 of UTF-8; 14 characters of JIS
    // (at most 2 bytes each plus the escapes).
    let fits = |chars: usize, bytes: usize| match charset {
        Word::Utf8 => bytes <= 45,
        Word::Jis => chars <= 14,
    };
    let mut words = Vec::new();
    let (mut start, mut chars, mut bytes) = (0, 0, 0);
    for (at, c) in text.char_indices() {
        if !fits(chars + 1, bytes + c.len_utf8()) {
            words.push(&text[start..at]);
            (start, chars, bytes) = (at, 0, 0);
        }
        chars += 1;
        bytes += c.len_utf8();
    }
    words.push(&text[start..]);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    words
        .iter()
        .map(|w| match charset {
            Word::Utf8 => format!("=?UTF-8?B?{}?=", b64(w.as_bytes())),
            Word::Jis => format!(
                "=?ISO-2022-JP?B?{}?=",
                b64(&charset::encode_iso_2022_jp(w).bytes)
            ),
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// An address list with display names as ISO-2022-JP words. Addresses and
/// names are cleaned (headers.rs): only a quote or backslash in an ASCII
/// name needs escaping.
fn jis_address_list(boxes: &[Mailbox]) -> String {
    boxes
        .iter()
        .map(|b| match &b.name {
            Some(name) if !name.is_ascii() => {
                format!("{} <{}>", rfc2047_words(name, Word::Jis), b.address)
            }
            Some(name) => format!(
                "\"{}\" <{}>",
                name.replace('\\', "\\\\").replace('"', "\\\""),
                b.address
            ),
            None => format!("<{}>", b.address),
        })
        .collect::<Vec<_>>()
        .join(",\r\n ")
}

fn text_part(text: &str, charset: OutputCharset) -> MimePart<'static> {
    // text/plain's canonical form ends lines with CRLF (RFC 2046).
    let text = text.replace('\n', "\r\n");
    match charset {
        OutputCharset::Utf8 => MimePart::new("text/plain", BodyPart::Text(text.into())),
        OutputCharset::Iso2022Jp => {
            // RFC 1468: 7bit, every line back in ASCII (the encoder switches
            // back before each CR), no line over 998 bytes.
            let encoded = charset::encode_iso_2022_jp(&break_long_lines(&text, MAX_JIS_LINE_CHARS));
            let content_type = mail_builder::headers::content_type::ContentType::new("text/plain")
                .attribute("charset", "ISO-2022-JP");
            MimePart::new(content_type, BodyPart::Binary(encoded.bytes.into()))
                .transfer_encoding("7bit")
        }
    }
}

/// Characters per ISO-2022-JP line: at most 3 bytes each with escapes, so
/// well under SMTP's 998-byte line limit.
const MAX_JIS_LINE_CHARS: usize = 300;

/// Breaks lines longer than `max` characters (CRLF-terminated text).
fn break_long_lines(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / max * 2);
    let mut column = 0;
    for c in text.chars() {
        if c == '\n' {
            column = 0;
        } else if c != '\r' {
            if column == max {
                out.push_str("\r\n");
                column = 0;
            }
            column += 1;
        }
        out.push(c);
    }
    out
}

fn address_list(boxes: &[Mailbox]) -> Address<'_> {
    Address::new_list(
        boxes
            .iter()
            .map(|b| Address::new_address(b.name.as_deref(), b.address.as_str()))
            .collect(),
    )
}

/// Profile names are validated by the config; this keeps the header safe
/// even for a policy built in code.
fn header_token(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{OutputCharset, Policy, sanitize};

    #[test]
    fn iso_2022_jp_output_writes_jis_words_that_read_back_exactly() {
        let raw = "From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.jp>\r\n\
To: \"Tanaka \\\"T\\\"\" <tanaka@lgwan.example.jp>\r\n\
Subject: =?UTF-8?B?44CQ6YeN6KaB44CR5p2l6YCx44Gu5omT44Gh5ZCI44KP44Gb44Gr44Gk44GE44Gm77yI56ysMuWbnu+8iQ==?=\r\n\
\r\nbody\r\n";
        let policy = Policy {
            output_charset: OutputCharset::Iso2022Jp,
            ..Policy::default()
        };
        let out = sanitize(raw.as_bytes(), &policy).message;
        let head = &out[..crate::mail::limits::header_len(&out)];
        assert!(head.is_ascii(), "{}", String::from_utf8_lossy(head));
        let text = String::from_utf8_lossy(head);
        assert!(text.contains("Subject: =?ISO-2022-JP?B?"), "{text}");
        assert!(text.lines().all(|l| l.len() <= 998));
        let parsed = mail_parser::MessageParser::new().parse(&out).unwrap();
        assert_eq!(
            parsed.subject(),
            Some("【重要】来週の打ち合わせについて（第2回）")
        );
        let from = parsed.from().and_then(|a| a.first()).unwrap();
        assert_eq!(from.name.as_deref(), Some("山田太郎"));
        let to = parsed.to().and_then(|a| a.first()).unwrap();
        assert_eq!(
            (to.name.as_deref(), to.address.as_deref()),
            (Some("Tanaka \"T\""), Some("tanaka@lgwan.example.jp"))
        );
    }
}
