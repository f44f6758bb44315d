//! The fields RFC 5322 requires that a mail came without. A message with
//! no From or no Date is invalid, and some LGWAN mail servers refuse it;
//! like Postfix's cleanup, the relay supplies them from what the caller
//! knows ([`Context`]): From from the envelope sender (or a fixed
//! `unknown-sender@invalid` for the null sender), Date from arrival. The
//! notice and the report say so.

use super::headers::{KeptHeaders, Mailbox, clean_address};
use super::notice::About;
use crate::context::{Context, UNKNOWN_SENDER};

/// Latest arrival time written as a Date: 9999-12-31 23:59:59 UTC (the
/// four-digit year RFC 5322 writes).
const MAX_TIMESTAMP: u64 = 253_402_300_799;

/// What was supplied for one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Supplied {
    /// The address written as From, when the mail had none.
    pub from: Option<String>,
    /// A Date was written from the arrival time.
    pub date: bool,
}

impl Supplied {
    /// The report's `supplied_headers`: `from`, `date`.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.from.is_some() {
            names.push("from".to_owned());
        }
        if self.date {
            names.push("date".to_owned());
        }
        names
    }
}

/// Fills in From and Date when `headers` has none. From is always
/// supplied (the envelope sender when it is a valid address, else
/// [`UNKNOWN_SENDER`]); Date only when the arrival time is known: without
/// it (the offline command) the builder writes the time of the run.
pub fn missing(headers: &mut KeptHeaders, context: &Context) -> Supplied {
    let mut supplied = Supplied::default();
    if headers.from.is_empty() {
        let address = context
            .envelope_sender
            .as_deref()
            .and_then(clean_address)
            .unwrap_or_else(|| UNKNOWN_SENDER.to_owned());
        headers.from.push(Mailbox {
            name: None,
            address: address.clone(),
        });
        supplied.from = Some(address);
    }
    if headers.date.is_none()
        && let Some(at) = context.received_at.filter(|&t| t <= MAX_TIMESTAMP)
    {
        let at = i64::try_from(at).unwrap_or_default();
        headers.date = Some(mail_parser::DateTime::from_timestamp(at).to_rfc822());
        supplied.date = true;
    }
    supplied
}

/// What the notice says about the message as a whole.
pub fn about<'a>(context: &'a Context, supplied: &'a Supplied) -> About<'a> {
    About {
        queue_id: context.header_queue_id(),
        request_url: context.notice_request_url(),
        supplied_from: supplied.from.as_deref(),
        supplied_date: supplied.date,
        sender_warning: context.notice_sender_warning(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(sender: Option<&str>, at: Option<u64>) -> Context {
        Context {
            envelope_sender: sender.map(str::to_owned),
            received_at: at,
            ..Context::default()
        }
    }

    #[test]
    fn from_comes_from_the_envelope_or_is_unknown() {
        let mut h = KeptHeaders::default();
        let s = missing(&mut h, &context(Some("kikaku@example.jp"), None));
        assert_eq!(s.from.as_deref(), Some("kikaku@example.jp"));
        assert_eq!(h.from_text(), "kikaku@example.jp");
        assert_eq!(s.names(), ["from"]);
        for sender in [
            Some(""),
            None,
            Some("not an address"),
            Some("a@b>\r\nBcc: x@y"),
        ] {
            let mut h = KeptHeaders::default();
            let s = missing(&mut h, &context(sender, None));
            assert_eq!(h.from_text(), UNKNOWN_SENDER, "{sender:?}");
            assert!(s.from.is_some());
        }
    }

    #[test]
    fn date_comes_from_arrival() {
        let mut h = KeptHeaders::default();
        let s = missing(&mut h, &context(None, Some(1_731_547_800)));
        assert_eq!(h.date.as_deref(), Some("Thu, 14 Nov 2024 01:30:00 +0000"));
        assert_eq!(s.names(), ["from", "date"]);
        let mut h = KeptHeaders::default();
        assert!(!missing(&mut h, &context(None, Some(u64::MAX))).date);
        assert!(h.date.is_none());
    }

    #[test]
    fn present_fields_are_kept() {
        let mut h = KeptHeaders {
            from: vec![Mailbox {
                name: None,
                address: "a@example.jp".into(),
            }],
            date: Some("Thu, 14 Nov 2024 10:30:00 +0900".into()),
            ..KeptHeaders::default()
        };
        let before = h.clone();
        let s = missing(&mut h, &context(Some("b@example.jp"), Some(0)));
        assert_eq!((h, s), (before, Supplied::default()));
    }
}
