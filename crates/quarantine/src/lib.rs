/*!
Mukaika's quarantine: the originals, kept on the Internet side.

Every message that goes through the sanitizer leaves its original here,
with its envelope, the sanitizer's verdict and JSON report, and a history
of what happened next: delivered, deferred, held, bounced, released by an
administrator. `mukaika quarantine list/show/release/delete/purge` reads
and acts on it. Records older than the retention period are purged.

# Layout

One directory per queue ID:

```text
DIR/
  <ID>/              0700
    original.eml     the message exactly as received (0600)
    meta.json        the Record as pretty JSON: envelope, verdict,
                     report, size, sha256, status, history (0600)
```

Both files are written as `NAME.tmp`, fsynced, renamed into place, and the
directory is fsynced. `meta.json` is written last and is the commit mark:
a directory without it is an unfinished `store` and is not a record. A
half-written `meta.json.tmp` never replaces a good `meta.json`. Updates to
one record are serialized by an `flock` on its directory, so the daemon
and the `mukaika quarantine` command can work on the same store at once.

# Example

```
use mukaika_quarantine::{Config, Event, EventKind, Filter, FsQuarantine, Quarantine};
use mukaika_spool::{Envelope, QueueId, Stage};

let dir = tempfile::tempdir()?;
let quarantine = FsQuarantine::open(&Config { dir: dir.path().into(), ..Config::default() })?;
let id = QueueId::generate();
let envelope = Envelope {
    sender: "a@example.jp".into(), recipients: vec!["b@city.lg.jp".into()],
    received_at: 1_700_000_000, client_ip: "192.0.2.1".into(), helo: "mx.example.jp".into(),
    stage: Stage::Original, attempts: 0, next_attempt: 0, last_error: None,
};
quarantine.store(&id, &envelope, b"Subject: hi\r\n\r\nhello\r\n", "sanitized", r#"{"parts":[]}"#)?;
quarantine.record(&id, Event { at: 1_700_000_060, kind: EventKind::Delivered, detail: "250 ok".into(), by: None })?;
let record = quarantine.get(&id)?.expect("stored");
assert_eq!(record.status, EventKind::Delivered);
assert_eq!(quarantine.list(&Filter::default())?.len(), 1);
# Ok::<(), Box<dyn std::error::Error>>(())
```

# What this crate is not

It does not deliver: a release reads the original here and hands it to the
relay, then records a `Released` (or `ReleaseFailed`) event.

# Security

Moderately security-sensitive: originals are untrusted and possibly
malicious. They are stored byte for byte, never parsed here, in 0700
directories and 0600 files. Paths come only from validated [`QueueId`]s.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod fs;

use std::fmt;
use std::path::PathBuf;

use mukaika_spool::{Envelope, QueueId};
use serde::{Deserialize, Serialize};

pub use error::{Error, Result};
pub use fs::FsQuarantine;

/// Where originals are kept, with what happened to their messages.
///
/// All methods block on disk I/O: call them from
/// `tokio::task::spawn_blocking`.
pub trait Quarantine: Send + Sync {
    /// Stores the original with its envelope, verdict and report (JSON
    /// text from the sanitizer), durably. Idempotent for the same ID: a
    /// re-run after a crash overwrites the record, history included.
    fn store(
        &self,
        id: &QueueId,
        envelope: &Envelope,
        original: &[u8],
        verdict: &str,
        report_json: &str,
    ) -> Result<()>;

    /// Appends what happened next to the record's history, durably, and
    /// makes it the record's status. [`Error::NotFound`] without a record.
    fn record(&self, id: &QueueId, event: Event) -> Result<()>;

    /// The record's metadata and history, not the original.
    fn get(&self, id: &QueueId) -> Result<Option<Record>>;

    /// The original message, byte for byte as received.
    fn original(&self, id: &QueueId) -> Result<Option<Vec<u8>>>;

    /// One summary per record matching `filter`, newest first.
    fn list(&self, filter: &Filter) -> Result<Vec<Summary>>;

    /// Deletes a record and its original; false if there was none.
    fn delete(&self, id: &QueueId) -> Result<bool>;

    /// Deletes records stored more than `retention_days` before `now`
    /// (unix seconds); returns how many.
    fn purge(&self, now: u64) -> Result<usize>;
}

/// One thing that happened to a quarantined message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Unix seconds.
    pub at: u64,
    /// What happened.
    pub kind: EventKind,
    /// Details: the next hop's reply, the failure, the recipients.
    pub detail: String,
    /// Who did it, for administrator actions (release).
    pub by: Option<String>,
}

/// What happened: a record's status is the kind of its latest event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The original was stored (the first event of every record).
    Stored,
    /// The sanitized message (or the notice) reached the next hop.
    Delivered,
    /// Delivery failed for now and will be retried.
    Deferred,
    /// The message was not passed on (verdict held or rejected): the
    /// recipients get a notice instead.
    Held,
    /// Delivery failed for good and no DSN could be sent.
    Undeliverable,
    /// Delivery failed for good and the sender got a DSN.
    Bounced,
    /// An administrator delivered the original.
    Released,
    /// An administrator's release failed.
    ReleaseFailed,
}

impl EventKind {
    /// The kind as stored and shown: `release_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Stored => "stored",
            EventKind::Delivered => "delivered",
            EventKind::Deferred => "deferred",
            EventKind::Held => "held",
            EventKind::Undeliverable => "undeliverable",
            EventKind::Bounced => "bounced",
            EventKind::Released => "released",
            EventKind::ReleaseFailed => "release_failed",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A quarantine record: everything but the original. `meta.json` holds
/// exactly this, and `mukaika quarantine show` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The message's queue ID.
    pub id: QueueId,
    /// Unix seconds when the original was stored.
    pub stored_at: u64,
    /// The sanitizer's verdict: `sanitized`, `held` or `rejected`.
    pub verdict: String,
    /// The kind of the latest event.
    pub status: EventKind,
    /// Size of the original in bytes.
    pub size: u64,
    /// SHA-256 of the original, lowercase hex.
    pub sha256: String,
    /// The SMTP envelope as received.
    pub envelope: Envelope,
    /// Every event, oldest first; the first is `stored`.
    pub history: Vec<Event>,
    /// The sanitizer's report. A report that was not valid JSON is kept as
    /// a JSON string.
    pub report: serde_json::Value,
}

/// One line of `mukaika quarantine list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The message's queue ID.
    pub id: QueueId,
    /// Unix seconds when the original was stored.
    pub stored_at: u64,
    /// The sanitizer's verdict.
    pub verdict: String,
    /// The kind of the latest event.
    pub status: EventKind,
    /// Size of the original in bytes.
    pub size: u64,
    /// MAIL FROM; empty for `<>`.
    pub sender: String,
    /// RCPT TO.
    pub recipients: Vec<String>,
}

/// Which records [`Quarantine::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this verdict.
    pub verdict: Option<String>,
    /// Only records stored at or after this time (unix seconds).
    pub since: Option<u64>,
}

/// The file quarantine's settings (`[quarantine]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The quarantine directory: one subdirectory per message.
    pub dir: PathBuf,
    /// Records are purged this many days after they were stored. 0 keeps
    /// them forever (the config crate refuses 0).
    pub retention_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("./var/quarantine"),
            retention_days: 30,
        }
    }
}
