//! What travels with a message through the queue: its SMTP envelope and
//! where it stands. Shared by ingress (which creates it), the spool (which
//! stores it), the pipeline, the relay and the quarantine.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A queue ID: 16 to 32 characters of `[0-9A-Za-z]`, unique per message,
/// sortable by arrival. It names the message everywhere: SMTP replies,
/// logs, spool files, quarantine records.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QueueId(String);

impl QueueId {
    /// The ID as text: also its file name in the spool and the quarantine.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a string is not a queue ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidQueueId(pub String);

impl fmt::Display for InvalidQueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a queue ID: {:?} (16 to 32 letters and digits)",
            self.0
        )
    }
}

impl std::error::Error for InvalidQueueId {}

impl FromStr for QueueId {
    type Err = InvalidQueueId;

    /// Validates, so that an ID from the command line or a file name can
    /// never become a path like `../x`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = (16..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidQueueId(s.to_owned()))
        }
    }
}

impl TryFrom<String> for QueueId {
    type Error = InvalidQueueId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<QueueId> for String {
    fn from(id: QueueId) -> Self {
        id.0
    }
}

/// Seconds since the Unix epoch: the unit of every time in an envelope,
/// and the one clock the stages share.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Which message a queue entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The original as received: waits for the sanitizer.
    Original,
    /// The sanitized message (or the notice that replaces it): waits for
    /// delivery to the next hop.
    Sanitized,
}

/// The SMTP envelope of a message and its delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// MAIL FROM reverse-path without angle brackets; empty for `<>`.
    pub sender: String,
    /// RCPT TO forward-paths without angle brackets: those still to be
    /// delivered.
    pub recipients: Vec<String>,
    /// Unix seconds when ingress accepted the message.
    pub received_at: u64,
    /// The client's IP address and the name it gave in EHLO/HELO.
    pub client_ip: String,
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    /// Which message the entry holds: the original or the sanitized one.
    pub stage: Stage,
    /// Delivery attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Unix seconds when the next attempt is due (0: now).
    #[serde(default)]
    pub next_attempt: u64,
    /// The last temporary failure, for logs and `quarantine show`.
    #[serde(default)]
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_are_validated() {
        assert!("0193A4F2C1D8E7B6a1b2".parse::<QueueId>().is_ok());
        assert!("../../etc/passwd".parse::<QueueId>().is_err());
        assert!("short".parse::<QueueId>().is_err());
        let json =
            serde_json::to_string(&"0193A4F2C1D8E7B6a1b2".parse::<QueueId>().unwrap()).unwrap();
        assert!(serde_json::from_str::<QueueId>("\"a/b\"").is_err());
        assert_eq!(json, "\"0193A4F2C1D8E7B6a1b2\"");
    }
}
