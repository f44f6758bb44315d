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
    delivered.eml    what was delivered for it: sanitized mail or notice (0600)
    meta.json        the Record as pretty JSON: envelope, verdict,
                     report, size, sha256, status, history (0600)
  index.sqlite3      the search index (0600): derived from the records,
                     rebuilt by `reindex` (or at open when missing)
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
quarantine.record(&id, Event::new(1_700_000_060, EventKind::Delivered, "250 ok"))?;
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
mod index;
mod release;

use std::fmt;
use std::path::PathBuf;

use mukaika_spool::{Envelope, QueueId};
use serde::{Deserialize, Serialize};

pub use error::{Error, Result};
pub use fs::FsQuarantine;
pub use index::SEARCH_MAX_BYTES;
pub use release::{Resent, resent, sha256_hex};

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

    /// Keeps the message that was delivered for the original (the
    /// sanitized mail or the notice), durably, beside it: what the console
    /// shows as "what was delivered". [`Error::NotFound`] without a record.
    fn keep_delivered(&self, id: &QueueId, message: &[u8]) -> Result<()>;

    /// The message kept by [`Quarantine::keep_delivered`].
    fn delivered(&self, id: &QueueId) -> Result<Option<Vec<u8>>>;

    /// One summary per record matching `filter`, in its order, the page it
    /// asks for. Served by the index: it never reads every record.
    fn list(&self, filter: &Filter) -> Result<Vec<Summary>>;

    /// How many records match `filter` (its paging aside).
    fn count(&self, filter: &Filter) -> Result<u64>;

    /// Counts of the records stored in `since..until` (unix seconds), for
    /// the console's charts: per `bucket_secs` and verdict, top reasons and
    /// threats, and processing times.
    fn stats(&self, since: u64, until: u64, bucket_secs: u64) -> Result<Stats>;

    /// Rebuilds the index from the records; returns how many it holds.
    fn reindex(&self) -> Result<usize>;

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
    /// For the release events: which request, what, to whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Release>,
}

impl Event {
    /// An event done by the system, not by a person.
    pub fn new(at: u64, kind: EventKind, detail: impl Into<String>) -> Self {
        Self {
            at,
            kind,
            detail: detail.into(),
            by: None,
            release: None,
        }
    }

    /// The same event, done by `by`.
    pub fn by(mut self, by: impl Into<String>) -> Self {
        self.by = Some(by.into());
        self
    }
}

/// A release request and what became of it: the `release` of the events
/// `release_requested`, `released`, `release_failed` and `release_refused`,
/// which name the request they answer by its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The request's number in the record, from 1.
    pub request: u32,
    /// The one original attachment asked for (its IMAP part path, e.g.
    /// `2`), or none for the whole original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// Where it goes: the original recipients, or an address the approver typed.
    pub to: Vec<String>,
    /// The requester's reason, or the approver's for a refusal.
    #[serde(default)]
    pub reason: String,
    /// SHA-256 of what was delivered (on `released`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
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
    /// Someone asked for the original (or one attachment of it).
    ReleaseRequested,
    /// An approver refused a release request.
    ReleaseRefused,
    /// An administrator removed the message from the queue (its original
    /// stays here).
    Dequeued,
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
            EventKind::ReleaseRequested => "release_requested",
            EventKind::ReleaseRefused => "release_refused",
            EventKind::Dequeued => "dequeued",
        }
    }
}

impl EventKind {
    /// The kind named `name` (as [`EventKind::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        use EventKind::*;
        [
            Stored,
            Delivered,
            Deferred,
            Held,
            Undeliverable,
            Bounced,
            Released,
            ReleaseFailed,
            ReleaseRequested,
            ReleaseRefused,
            Dequeued,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
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

/// The `reason` of a report object (the report, a part, an entry).
fn reason_of(value: &serde_json::Value) -> Option<&str> {
    value.get("reason").and_then(|r| r.as_str())
}

impl Record {
    /// The release requests not yet released or refused (a failed release
    /// stays open), oldest first.
    pub fn open_requests(&self) -> Vec<&Event> {
        let answered = |n: u32| {
            self.history.iter().any(|e| {
                matches!(e.kind, EventKind::Released | EventKind::ReleaseRefused)
                    && e.release.as_ref().is_some_and(|r| r.request == n)
            })
        };
        self.history
            .iter()
            .filter(|e| e.kind == EventKind::ReleaseRequested)
            .filter(|e| e.release.as_ref().is_some_and(|r| !answered(r.request)))
            .collect()
    }

    /// The number the next release request gets.
    pub fn next_request(&self) -> u32 {
        let last = self.history.iter().filter_map(|e| e.release.as_ref());
        last.map(|r| r.request).max().unwrap_or(0) + 1
    }

    /// The original's Subject, as the sanitizer decoded it.
    pub fn subject(&self) -> Option<&str> {
        self.report.get("subject").and_then(|s| s.as_str())
    }

    /// The original's From line, as the sanitizer decoded it.
    pub fn from(&self) -> Option<&str> {
        self.report.get("from").and_then(|s| s.as_str())
    }

    /// The threat names clamd found.
    pub fn threats(&self) -> Vec<&str> {
        let threats = self.report.get("threats").and_then(|t| t.as_array());
        let names = threats.into_iter().flatten();
        names.filter_map(|t| t.get("name")?.as_str()).collect()
    }

    /// The reason codes of the message and of every part or archive entry
    /// that was not kept as it was, each once, in order of appearance.
    pub fn reasons(&self) -> Vec<&str> {
        let parts = self.report.get("parts").and_then(|p| p.as_array());
        let not_kept = parts.into_iter().flatten().flat_map(|part| {
            let entries = part.get("entries").and_then(|e| e.as_array());
            std::iter::once(part).chain(entries.into_iter().flatten())
        });
        let not_kept =
            not_kept.filter(|item| item.get("action").and_then(|a| a.as_str()) != Some("kept"));
        let mut reasons: Vec<&str> = Vec::new();
        for r in std::iter::once(reason_of(&self.report))
            .chain(not_kept.map(reason_of))
            .flatten()
        {
            if !r.is_empty() && !reasons.contains(&r) {
                reasons.push(r);
            }
        }
        reasons
    }
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
    /// The original's Subject, decoded.
    pub subject: Option<String>,
    /// The original's From line, decoded.
    pub from: Option<String>,
    /// What clamd found.
    pub threats: Vec<String>,
    /// Release requests waiting for an approver.
    pub open_requests: u32,
}

/// Which records [`Quarantine::list`] returns, in which order, which page.
/// Every criterion given must match; text criteria match anywhere in the
/// field, ASCII letters in either case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this verdict.
    pub verdict: Option<String>,
    /// Only records stored at or after this time (unix seconds).
    pub since: Option<u64>,
    /// Only records stored before this time (unix seconds).
    pub until: Option<u64>,
    /// In the envelope sender or the From line.
    pub sender: Option<String>,
    /// In one of the envelope recipients.
    pub recipient: Option<String>,
    /// Every word (split at white space) in the Subject.
    pub subject: Option<String>,
    /// This reason code, for the message or one of its parts.
    pub reason: Option<String>,
    /// In a threat name.
    pub threat: Option<String>,
    /// Only records with release requests waiting.
    pub open_requests: bool,
    /// The order.
    pub sort: Sort,
    /// Records skipped before the page.
    pub offset: u64,
    /// The page's size; none: all.
    pub limit: Option<u64>,
}

/// The order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Newest first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Largest first.
    Largest,
}

/// What [`Quarantine::stats`] counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Records in the range.
    pub total: u64,
    /// One bucket per `bucket_secs`, oldest first, empty ones included.
    pub buckets: Vec<Bucket>,
    /// The commonest reason codes, with their counts (at most 10).
    pub reasons: Vec<(String, u64)>,
    /// The commonest threats, with their counts (at most 10).
    pub threats: Vec<(String, u64)>,
    /// Messages held because their worker timed out, crashed or answered garbage.
    pub worker_failures: u64,
    /// Time from arrival to quarantine, seconds: mean and 95th percentile.
    pub latency_secs: (f64, u64),
    /// The sanitizer core's own time, milliseconds: mean and 95th percentile.
    pub core_ms: (f64, u64),
}

/// Records stored in one interval, per verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Its start, unix seconds.
    pub start: u64,
    /// Records per verdict.
    pub verdicts: std::collections::BTreeMap<String, u64>,
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
