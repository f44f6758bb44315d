//! The link in a notice through which a recipient asks for an original:
//! `/request/ID.EXPIRY.MAC`, the MAC an HMAC-SHA256 (with the console's
//! secret) over the queue ID, the recipients of the copy that carried the
//! link, and the expiry. It cannot be guessed, made for another message or
//! other recipients, or used after it expires; it says nothing a recipient
//! does not already know.
//!
//! Each copy of a message goes to all its recipients at once, so the link
//! is bound to that set, and the request page asks which of them is asking.

use mukaika_access::Secret;
use mukaika_spool::QueueId;

/// The MAC's scope: a MAC made for anything else never verifies here.
const SCOPE: &str = "release-request";
/// The scope of the request form's own token.
const FORM_SCOPE: &str = "release-request-form";

/// A link's parts, parsed but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: QueueId,
    pub expires: u64,
    pub mac: String,
}

/// The path of the link for `id` sent to `recipients`, valid until `expires`.
pub fn path(secret: &Secret, id: &QueueId, recipients: &[String], expires: u64) -> String {
    let mac = secret.sign(SCOPE, &fields(id, recipients), expires);
    format!("/request/{}.{expires}.{mac}", id.as_str())
}

fn fields<'a>(id: &'a QueueId, recipients: &'a [String]) -> Vec<&'a str> {
    std::iter::once(id.as_str())
        .chain(recipients.iter().map(String::as_str))
        .collect()
}

/// Parses the last segment of a link; None for anything malformed.
pub fn parse(token: &str) -> Option<Link> {
    if token.len() > 256 {
        return None;
    }
    let mut parts = token.splitn(3, '.');
    let id = parts.next()?.parse().ok()?;
    let expires = parts.next()?.parse().ok()?;
    let mac = parts.next()?;
    let ok = !mac.is_empty()
        && mac
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| Link {
        id,
        expires,
        mac: mac.to_owned(),
    })
}

impl Link {
    /// Whether the link was made by us for this message and its recipients, and has not expired.
    pub fn valid(&self, secret: &Secret, recipients: &[String], now: u64) -> bool {
        secret.verify(
            SCOPE,
            &fields(&self.id, recipients),
            self.expires,
            &self.mac,
            now,
        )
    }

    /// The token of the request form served for this link.
    pub fn form_token(&self, secret: &Secret) -> String {
        secret.sign(FORM_SCOPE, &[self.id.as_str(), &self.mac], self.expires)
    }

    /// Whether a posted form token belongs to this link.
    pub fn form_valid(&self, secret: &Secret, token: &str, now: u64) -> bool {
        secret.verify(
            FORM_SCOPE,
            &[self.id.as_str(), &self.mac],
            self.expires,
            token,
            now,
        )
    }
}
