//! NAME
//!   release - the copy of an original that a release delivers
//!
//! DESCRIPTION
//!   A released original is the message exactly as received, with RFC 5322
//!   resent fields on top (section 3.6.6): who released it, when, to whom,
//!   and a new `Resent-Message-ID`, so that a mail client that de-duplicates
//!   by Message-ID does not drop it as the sanitized copy it already has,
//!   and an auditor inside can tell it from a sanitized mail. The original
//!   follows byte for byte: the fields are only prepended.
//!
//! SECURITY
//!   Every value written is checked to be one line of printable ASCII (or
//!   UTF-8 for the releaser's name, which is quoted as a comment-free
//!   token): nothing from outside can add a field.

use sha2::{Digest, Sha256};

use crate::Event;

/// Who released what to whom, for [`resent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resent<'a> {
    /// The releasing system's address (`Resent-From`).
    pub from: &'a str,
    /// The addresses it goes to (`Resent-To`).
    pub to: &'a [String],
    /// The person who released it (console user, or `cli:NAME`).
    pub by: &'a str,
    /// Unix seconds.
    pub at: u64,
    /// The queue ID and request number, which make the Message-ID unique.
    pub queue_id: &'a str,
    /// The release request, when there was one.
    pub request: Option<u32>,
    /// The domain of the `Resent-Message-ID`.
    pub domain: &'a str,
}

/// The original with the resent fields before it.
pub fn resent(original: &[u8], resent: &Resent<'_>) -> Vec<u8> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_control() || c == ';' { '_' } else { c })
            .collect()
    };
    let date = mail_parser::DateTime::from_timestamp(resent.at as i64);
    let request = resent
        .request
        .map_or(String::new(), |n| format!("; request={n}"));
    let unique = &hex(&Sha256::digest(
        format!(
            "{}/{}/{:?}/{}",
            resent.queue_id, resent.at, resent.request, resent.by
        )
        .as_bytes(),
    ))[..16];
    let to: Vec<String> = resent.to.iter().map(|a| clean(a)).collect();
    let fields = format!(
        "Resent-From: {from}\r\nResent-To: {to}\r\nResent-Date: {date}\r\nResent-Message-ID: <{id}.{unique}@{domain}>\r\nX-Mukaika-Released: by={by}; at={at}; queue-id={id}{request}\r\n",
        from = clean(resent.from),
        to = to.join(", "),
        date = date.to_rfc822(),
        id = clean(resent.queue_id),
        domain = clean(resent.domain),
        by = clean(resent.by),
        at = date.to_rfc3339(),
    );
    let mut out = Vec::with_capacity(fields.len() + original.len());
    out.extend_from_slice(fields.as_bytes());
    out.extend_from_slice(original);
    out
}

/// Lowercase hex SHA-256, as records and events carry it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Event {
    /// The release this event is about, by request number.
    pub fn request_number(&self) -> Option<u32> {
        self.release.as_ref().map(|r| r.request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_first_and_the_original_follows_unchanged() {
        let original = b"From: a@example.jp\r\nMessage-ID: <x@example.jp>\r\n\r\nbody\r\n";
        let to = vec!["tanaka@city.lg.jp".to_owned()];
        let out = resent(
            original,
            &Resent {
                from: "postmaster@mukaika.city.lg.jp",
                to: &to,
                by: "承認者\r\nBcc: evil@example.com",
                at: 1_790_000_000,
                queue_id: "ABC",
                request: Some(2),
                domain: "mukaika.city.lg.jp",
            },
        );
        assert!(out.ends_with(original));
        let head = std::str::from_utf8(&out[..out.len() - original.len()]).unwrap();
        assert!(head.starts_with(
            "Resent-From: postmaster@mukaika.city.lg.jp\r\nResent-To: tanaka@city.lg.jp\r\n"
        ));
        assert!(head.contains("\r\nResent-Date: "));
        assert!(head.contains("Resent-Message-ID: <ABC."));
        assert!(
            head.contains("X-Mukaika-Released: by=承認者__Bcc: evil@example.com; at=2026-09-21T")
        );
        assert!(head.contains("; request=2\r\n"));
        assert_eq!(head.matches("\r\n").count(), 5, "no field was smuggled in");
    }
}
