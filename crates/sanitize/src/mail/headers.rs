//! The few header fields that cross the boundary: decoded by mail-parser,
//! cleaned here, re-encoded by mail-builder. Nothing else is carried over.

use mail_parser::{Address, HeaderValue, Message, MessageParser};

use super::{charset, encoded_words};

/// Cleaned values of the kept fields, ready for the builder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptHeaders {
    pub from: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub subject: Option<String>,
    /// RFC 5322 date, re-rendered from the parsed value.
    pub date: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

/// The header fields kept, by their lowercase names.
const KEPT: [&str; 9] = [
    "from",
    "to",
    "cc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
];

impl KeptHeaders {
    pub fn from_message(message: &Message<'_>) -> Self {
        match reread_raw(message) {
            Some(block) => match MessageParser::new().parse_headers(&block) {
                Some(reread) => Self::from_decoded(&reread),
                None => Self::from_decoded(message),
            },
            None => Self::from_decoded(message),
        }
    }

    /// The From mailboxes as one line, `名前 <a@example.jp>, …`.
    pub fn from_text(&self) -> String {
        self.from
            .iter()
            .map(|m| match &m.name {
                Some(name) => format!("{name} <{}>", m.address),
                None => m.address.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn from_decoded(message: &Message<'_>) -> Self {
        Self {
            from: mailboxes(message.from()),
            to: mailboxes(message.to()),
            cc: mailboxes(message.cc()),
            reply_to: mailboxes(message.reply_to()),
            subject: message.subject().map(clean_text).filter(|s| !s.is_empty()),
            date: message.date().map(|d| d.to_rfc822()),
            message_id: message.message_id().and_then(clean_id),
            in_reply_to: ids(message.in_reply_to()),
            references: ids(message.references()),
        }
    }
}

/// The kept fields rewritten for mail-parser to read again, when it would
/// read them wrong: old Japanese mailers put raw ISO-2022-JP or Shift_JIS
/// in headers instead of RFC 2047 words, which mail-parser reads as broken
/// UTF-8 (decoded here with charset detection); and mailers split encoded
/// words inside a character, which mail-parser decodes word by word
/// (joined here, see [`encoded_words`]). `None` when neither happened.
fn reread_raw(message: &Message<'_>) -> Option<Vec<u8>> {
    let raw = message.raw_message();
    // A forwarded message's offsets count from the outer message's start.
    let base = message
        .parts
        .first()
        .map_or(0, |root| root.offset_header as usize);
    let value_of = |h: &mail_parser::Header<'_>| {
        let start = (h.offset_start as usize).checked_sub(base)?;
        let end = (h.offset_end as usize).checked_sub(base)?;
        raw.get(start..end)
    };
    let mut needs = false;
    let mut fields = Vec::new();
    for header in message
        .headers()
        .iter()
        .filter(|h| KEPT.contains(&h.name().to_ascii_lowercase().as_str()))
    {
        let Some(value) = value_of(header) else {
            continue;
        };
        let eight_bit =
            value.contains(&0x1b) || (!value.is_ascii() && std::str::from_utf8(value).is_err());
        let text = if eight_bit {
            charset::decode(value, None).text
        } else {
            String::from_utf8_lossy(value).into_owned()
        };
        let joined = encoded_words::join_adjacent(&text);
        needs |= eight_bit || joined.is_some();
        fields.push((header.name(), joined.unwrap_or(text)));
    }
    if !needs {
        return None;
    }
    let mut block = Vec::new();
    for (name, text) in fields {
        block.extend_from_slice(name.as_bytes());
        block.extend_from_slice(b": ");
        block.extend_from_slice(text.trim_start().as_bytes());
        if !text.ends_with('\n') {
            block.extend_from_slice(b"\r\n");
        }
    }
    block.extend_from_slice(b"\r\n");
    Some(block)
}

/// Longest header text kept; anything longer is cut (and shown cut).
const MAX_TEXT_CHARS: usize = 1_000;

/// Makes decoded header text safe to re-encode: no control characters (so
/// no CR, LF or NUL can start a new field), no bidi overrides, whitespace
/// collapsed, bounded length.
pub fn clean_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT_CHARS * 4));
    let mut chars = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if is_bidi_control(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if chars >= MAX_TEXT_CHARS {
            out.push('…');
            break;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        chars += 1;
    }
    out
}

/// Bidirectional formatting characters (RTLO and friends), which can make
/// a name or subject read differently from what it is.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(address) = address else {
        return Vec::new();
    };
    let addrs: Vec<&mail_parser::Addr<'_>> = match address {
        Address::List(list) => list.iter().collect(),
        Address::Group(groups) => groups.iter().flat_map(|g| g.addresses.iter()).collect(),
    };
    addrs
        .into_iter()
        .filter_map(|addr| {
            let address = clean_address(addr.address.as_deref()?)?;
            let name = addr
                .name
                .as_deref()
                .map(clean_text)
                .filter(|n| !n.is_empty());
            Some(Mailbox { name, address })
        })
        .take(1_000)
        .collect()
}

/// An addr-spec as it may appear between angle brackets, or nothing.
pub(crate) fn clean_address(address: &str) -> Option<String> {
    let address = address.trim();
    let valid = address.len() <= 320
        && address.contains('@')
        && !address.starts_with('@')
        && !address.ends_with('@')
        && address.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !is_bidi_control(c)
                && !"<>()[],;:\\\"".contains(c)
        });
    valid.then(|| address.to_owned())
}

/// A msg-id without its angle brackets, or nothing.
fn clean_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let valid = !id.is_empty()
        && id.len() <= 998
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    valid.then(|| id.to_owned())
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<&str> = match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    };
    list.into_iter().filter_map(clean_id).take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_survive() {
        assert_eq!(
            clean_text("x\r\nBcc: evil@example.com"),
            "x Bcc: evil@example.com"
        );
        assert_eq!(clean_text("a\0b\u{202E}exe.pdf"), "a bexe.pdf");
        assert_eq!(clean_text("  請求書\t のご案内 "), "請求書 のご案内");
    }

    #[test]
    fn raw_8bit_japanese_headers_are_decoded() {
        let raw = b"From: \x1b$B;3ED\x1b(B <yamada@example.jp>\r\nSubject: \x1b$B$3$s$K$A$O\x1b(B test\r\n\r\nhi\r\n";
        let kept = KeptHeaders::from_message(&MessageParser::new().parse(raw).unwrap());
        assert_eq!(kept.subject.as_deref(), Some("こんにちは test"));
        assert_eq!(
            kept.from,
            vec![Mailbox {
                name: Some("山田".into()),
                address: "yamada@example.jp".into()
            }]
        );
        let raw = b"Subject: \x89\xef\x8bc\x82\xcc\x93\xfa\x92\xf6\x82\xc9\x82\xc2\x82\xa2\x82\xc4\r\n\r\nhi\r\n";
        let kept = KeptHeaders::from_message(&MessageParser::new().parse(raw).unwrap());
        assert_eq!(kept.subject.as_deref(), Some("会議の日程について"));
    }

    #[test]
    fn addresses_and_ids_are_validated() {
        assert_eq!(clean_address(" a@example.jp "), Some("a@example.jp".into()));
        assert_eq!(clean_address("a@example.jp>\r\nBcc: x@y"), None);
        assert_eq!(clean_address("nobody"), None);
        assert_eq!(clean_id("<abc@example.jp>"), Some("abc@example.jp".into()));
        assert_eq!(clean_id("abc\r\n@x"), None);
    }
}
