//! The few header fields that cross the boundary: decoded by mail-parser,
//! cleaned here, re-encoded by mail-builder. Nothing else is carried over.

use mail_parser::{Address, HeaderValue, Message};

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

impl KeptHeaders {
    pub fn from_message(message: &Message<'_>) -> Self {
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
            let name = addr.name.as_deref().map(clean_text).filter(|n| !n.is_empty());
            Some(Mailbox { name, address })
        })
        .take(1_000)
        .collect()
}

/// An addr-spec as it may appear between angle brackets, or nothing.
fn clean_address(address: &str) -> Option<String> {
    let address = address.trim();
    let valid = address.len() <= 320
        && address.contains('@')
        && !address.starts_with('@')
        && !address.ends_with('@')
        && address.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !is_bidi_control(c) && !"<>()[],;:\\\"".contains(c)
        });
    valid.then(|| address.to_owned())
}

/// A msg-id without its angle brackets, or nothing.
fn clean_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let valid = !id.is_empty()
        && id.len() <= 998
        && id.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
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
        assert_eq!(clean_text("x\r\nBcc: evil@example.com"), "x Bcc: evil@example.com");
        assert_eq!(clean_text("a\0b\u{202E}exe.pdf"), "a bexe.pdf");
        assert_eq!(clean_text("  請求書\t のご案内 "), "請求書 のご案内");
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
