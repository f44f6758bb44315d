//! NAME
//!   line - one entry as one line of the log, and back
//!
//! DESCRIPTION
//!   The field order is fixed (a struct, not a map), so the same entry
//!   always makes the same bytes. serde_json escapes control characters:
//!   no entry can contain a newline and split into two lines.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Action, Entry};

#[derive(Serialize)]
struct LineOut<'a> {
    at: u64,
    time: &'a str,
    user: &'a str,
    client: &'a str,
    action: Action,
    queue_id: Option<&'a str>,
    sha256: Option<&'a str>,
    detail: &'a str,
    prev: &'a str,
}

/// A line as read back. Unknown fields are tolerated (a later version may
/// add some); the chain covers them all the same.
#[derive(Deserialize)]
pub(crate) struct LineIn {
    pub at: u64,
    pub time: String,
    #[serde(rename = "user")]
    pub _user: String,
    #[serde(rename = "client")]
    pub _client: String,
    #[serde(rename = "action")]
    pub _action: Action,
    #[serde(rename = "queue_id")]
    pub _queue_id: Option<String>,
    #[serde(rename = "sha256")]
    pub _sha256: Option<String>,
    #[serde(rename = "detail")]
    pub _detail: String,
    pub prev: String,
}

/// The line for `entry` chained to `prev`, without its newline.
pub(crate) fn encode(entry: &Entry, prev: &str) -> Vec<u8> {
    let time = rfc3339(entry.at);
    let line = LineOut {
        at: entry.at,
        time: &time,
        user: &entry.user,
        client: &entry.client,
        action: entry.action,
        queue_id: entry.queue_id.as_deref(),
        sha256: entry.sha256.as_deref(),
        detail: &entry.detail,
        prev,
    };
    // Serializing a struct of strings and integers into a Vec cannot fail.
    serde_json::to_vec(&line).unwrap_or_default()
}

/// Lowercase hex SHA-256 of a line's bytes (without its newline).
pub(crate) fn hash(line: &[u8]) -> String {
    format!("{:x}", Sha256::digest(line))
}

/// Unix seconds as RFC 3339 in UTC (`2026-12-05T19:10:35Z`); a time past
/// the year 9999 as `invalid`.
pub fn rfc3339(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
        .map_or_else(|| "invalid".into(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_305_600), "2026-11-22T00:00:00Z");
        assert_eq!(rfc3339(u64::MAX), "invalid");
    }

    #[test]
    fn a_newline_in_the_detail_stays_on_one_line() {
        let entry = Entry::new("太郎", "local", Action::UserAdd).detail("a\nb\r\n\u{2028}");
        let line = encode(&entry, crate::GENESIS);
        assert!(!line.contains(&b'\n'));
        let text = String::from_utf8(line).unwrap();
        assert!(text.contains("\"user\":\"太郎\""), "{text}");
        let back: LineIn = serde_json::from_str(&text).unwrap();
        assert_eq!(back._detail, "a\nb\r\n\u{2028}");
    }
}
