//! What the caller knows about a message that the message itself does not
//! say: its queue id, its envelope sender, when it arrived. The core reads
//! no clock and sees no SMTP session, so these come in as data, and the
//! same message with the same context always gives the same bytes.

use serde::{Deserialize, Serialize};

/// What the caller knows about a message that the message itself does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The queue (= quarantine) id: written as `X-Mukaika-Queue-Id` and quoted in the notice.
    pub queue_id: Option<String>,
    /// MAIL FROM; `Some("")` is the null sender; None when unknown (the offline CLI).
    pub envelope_sender: Option<String>,
    /// Arrival, unix seconds: the Date supplied when the mail has none.
    pub received_at: Option<u64>,
    /// A link where a recipient can ask for the original (the operator console fills it in later):
    /// when set, the notice shows it (Japanese and English line) wherever it mentions the quarantine.
    pub request_url: Option<String>,
    /// A warning about the sender from authentication done outside the core
    /// (`なりすましの疑い`: DMARC failed, or an own domain from outside),
    /// shown first in the notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_warning: Option<Warning>,
}

/// A line of the notice in both its languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// 日本語.
    pub ja: String,
    /// English.
    pub en: String,
}

/// The From supplied for a mail without one and without a usable envelope
/// sender (the null sender `<>`, or none known), as Postfix's cleanup does.
pub const UNKNOWN_SENDER: &str = "unknown-sender@invalid";

impl Context {
    /// The queue id as it may go into a header field: letters, digits,
    /// `-`, `_` and `.`, at most 64 of them; anything else is not written.
    pub fn header_queue_id(&self) -> Option<&str> {
        self.queue_id.as_deref().filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
    }

    /// The sender warning as it may go into the notice: one line of text
    /// each, at most 500 characters; anything else is not shown.
    pub fn notice_sender_warning(&self) -> Option<(&str, &str)> {
        let fits = |t: &str| {
            !t.is_empty()
                && t.chars().count() <= 500
                && !t
                    .chars()
                    .any(|c| c.is_control() || crate::mail::headers::is_bidi_control(c))
        };
        let w = self.sender_warning.as_ref()?;
        (fits(&w.ja) && fits(&w.en)).then_some((w.ja.as_str(), w.en.as_str()))
    }

    /// The request link as it may go into the notice: one line of printable
    /// text, at most 2,000 characters; anything else is not shown.
    pub fn notice_request_url(&self) -> Option<&str> {
        self.request_url.as_deref().map(str::trim).filter(|url| {
            !url.is_empty()
                && url.chars().count() <= 2_000
                && !url.chars().any(|c| {
                    c.is_control() || c.is_whitespace() || crate::mail::headers::is_bidi_control(c)
                })
        })
    }
}
