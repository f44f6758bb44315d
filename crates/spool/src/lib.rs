/*!
Mukaika's spool: accepted mail, durably on disk, in explicit states.

The spool is the contract between the stages. Ingress answers `250` only
once [`Spool::enqueue`] has returned, and by then the message is on disk
(file fsynced, named in `incoming/`, directory fsynced). The workers
[`claim`](Spool::claim) entries, and each ends in exactly one of
[`defer`](Spool::defer), [`complete`](Spool::complete) or
[`corrupt`](Spool::corrupt). After a crash, [`recover`](Spool::recover)
puts whatever was being worked on back in line. Nothing accepted is lost,
and nothing is deleted except by `complete`.

# States

A state is a directory, and the entry's file moves between them by
`rename(2)`. Only this crate moves files (one module owns transitions:
`fs.rs`).

```text
             enqueue                   claim                   complete
 ingress ─────────────▶ incoming/ ───────────────▶ active/ ──────────────▶ (removed: delivered,
                           ▲                       │  ▲  │                  bounced, or kept in
                           │ recover():            │  │  │                  quarantine for good)
                           │ stage original        │  │  │
                           └───────────────────────┤  │  │ corrupt(), or damage found
                                                   │  │  ▼ by claim() or recover()
                             defer(), or recover() │  │ corrupt/ID + ID.reason
                             if stage sanitized    │  │ (kept for a human)
                           ┌───────────────────────┘  │
                           ▼                          │
                       deferred/ ─────────────────────┘
                                  claim, once due

 tmp/: files being written, not yet messages. recover() empties it.
```

- `incoming/`: accepted, waiting for the sanitizer (stage `original`).
- `active/`: claimed by a worker. Nothing stays here across a restart.
- `deferred/`: waiting for `envelope.next_attempt`: the sanitized message
  after a temporary delivery failure, or an original whose sanitizing had to
  wait (e.g. virus scanner down).
- `corrupt/`: files that cannot be read as spool files, kept for a human.
  The reason is in `ID.reason` beside each one.

Each step, and what makes it safe:

- enqueue: write `tmp/ID`, fsync it, link it as `incoming/ID`, fsync
  `incoming/`. Only then may ingress answer 250.
- claim: rename into `active/`. No fsync is needed: after a crash the
  entry is in one directory or the other, and recover() handles both.
- defer: write `tmp/ID`, fsync, rename it over `active/ID`, rename that to
  `deferred/ID`, fsync `deferred/` and `active/`. A crash in between leaves
  the old or the new file in `active/`, and recover() routes it by stage.
- complete: unlink `active/ID`, fsync `active/`.
- corrupt: rename to `corrupt/`, write the reason beside it, fsync.

A claim is not fsynced, so on a file system that could reorder the rename
with a later unlink, a crash could bring a completed entry back: delivery
is at least once, never at most once.

A file is named by its [`QueueId`], and IDs sort by arrival. The file
format (a length-prefixed header, the JSON envelope, the raw message and an
`END` trailer) is described in `format.rs`. A file that was cut short is
detected and goes to `corrupt/`. It is never delivered truncated.

# Example

```
use mukaika_spool::{Config, Envelope, FsSpool, Spool, Stage};

let dir = tempfile::tempdir()?;
let spool = FsSpool::open(&Config { dir: dir.path().into(), ..Config::default() })?;
spool.recover()?;
let envelope = Envelope {
    sender: "a@example.jp".into(), recipients: vec!["b@city.lg.jp".into()],
    received_at: 1_700_000_000, client_ip: "192.0.2.1".into(), helo: "mx.example.jp".into(),
    stage: Stage::Original, attempts: 0, next_attempt: 0, last_error: None,
};
let id = spool.enqueue(&envelope, b"Subject: hi\r\n\r\nhello\r\n")?; // now answer 250
let entry = spool.claim(&id)?.expect("nobody else claimed it");
assert_eq!(entry.message, b"Subject: hi\r\n\r\nhello\r\n");
spool.complete(&id)?;
assert_eq!(spool.counts()?.queued(), 0);
# Ok::<(), Box<dyn std::error::Error>>(())
```

# What this crate is not

It does not schedule, deliver or sanitize. It keeps messages and tells
which are waiting. The trait's signatures have no paths, so that a
replicated backend (NATS JetStream) can implement it later.

# Security

Moderately security-sensitive: the spool holds untrusted mail. Directories
are created 0700 and files 0600. A file name is always a validated
[`QueueId`], never text from the wire or the command line.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod envelope;
mod error;
mod format;
mod fs;
mod queue_id;
pub mod time;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use envelope::{Envelope, InvalidQueueId, QueueId, Stage, unix_now};
pub use error::{Error, Result};
pub use fs::FsSpool;

/// The queue: where accepted mail waits between the stages.
///
/// All methods block on disk I/O: call them from
/// `tokio::task::spawn_blocking`. Implementations are shared between
/// threads; each method is safe to call concurrently.
pub trait Spool: Send + Sync {
    /// Stores a new message in `incoming`, durably (file fsynced, put in
    /// place, directory fsynced) and returns its new ID. Only then may
    /// ingress answer 250.
    fn enqueue(&self, envelope: &Envelope, message: &[u8]) -> Result<QueueId>;

    /// Moves `id` from incoming or deferred to active and reads it.
    /// `Ok(None)` if another worker took it first or it is gone. A damaged
    /// entry goes to `corrupt` and comes back as [`Error::Corrupt`].
    fn claim(&self, id: &QueueId) -> Result<Option<Entry>>;

    /// IDs waiting in `incoming`, oldest first.
    fn incoming(&self) -> Result<Vec<QueueId>>;

    /// IDs in `deferred` whose `envelope.next_attempt <= now` (unix
    /// seconds), oldest first.
    fn due(&self, now: u64) -> Result<Vec<QueueId>>;

    /// Replaces the active entry with a new envelope and message (e.g. the
    /// sanitized message after the original went to quarantine) and moves
    /// it to deferred, durably.
    fn defer(&self, id: &QueueId, envelope: &Envelope, message: &[u8]) -> Result<()>;

    /// Done with an active entry (delivered, bounced, or handed to
    /// quarantine for good): removes it durably.
    fn complete(&self, id: &QueueId) -> Result<()>;

    /// Moves an unreadable entry (from active, incoming or deferred) to
    /// `corrupt`, with the reason beside it. Never deletes it.
    fn corrupt(&self, id: &QueueId, reason: &str) -> Result<()>;

    /// At start-up, before any claim: every entry left in active goes back
    /// (stage original to incoming, sanitized to deferred, due now), stray
    /// temporary files are removed, and unreadable files go to corrupt.
    /// Returns what it did, for a log line.
    fn recover(&self) -> Result<Recovery>;

    /// Messages and bytes per state, for back-pressure and metrics. Cheap:
    /// called on every MAIL command.
    fn counts(&self) -> Result<Counts>;

    /// Every message in incoming, active and deferred, with its envelope,
    /// oldest first: `mailq` for the console.
    fn list(&self) -> Result<Vec<Queued>>;

    /// Makes deferred entries due now, all of them or the one given, and
    /// returns those it made due. Not written to disk: an entry is tried
    /// at once, and its next `defer` writes the next time anyway.
    fn flush(&self, id: Option<&QueueId>, now: u64) -> Result<Vec<QueueId>>;

    /// Takes an entry out of incoming or deferred for good, durably, and
    /// returns it so that the caller can keep the original; `None` if it
    /// is in neither (an active entry is being worked on: not removed).
    fn remove(&self, id: &QueueId) -> Result<Option<Entry>>;
}

/// One queued message, as the console's queue page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queued {
    /// Its queue ID.
    pub id: QueueId,
    /// Where it is.
    pub state: State,
    /// Its envelope as last stored (attempts, next attempt, last error).
    pub envelope: Envelope,
    /// Its file's size.
    pub size: u64,
}

/// A claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its queue ID.
    pub id: QueueId,
    /// Its envelope as last stored.
    pub envelope: Envelope,
    /// The message bytes as last stored.
    pub message: Vec<u8>,
}

/// A spool state: a directory of the file backend, a lowercase noun.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Accepted, waiting for the sanitizer.
    Incoming,
    /// Claimed by a worker.
    Active,
    /// Waiting for its next attempt.
    Deferred,
    /// Unreadable, kept for a human.
    Corrupt,
}

impl State {
    /// The state's name, which is also its directory's.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Incoming => "incoming",
            State::Active => "active",
            State::Deferred => "deferred",
            State::Corrupt => "corrupt",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Messages and bytes in one state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCount {
    /// How many messages.
    pub messages: usize,
    /// Their size on disk (envelope and framing included).
    pub bytes: u64,
}

/// What the spool holds, per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Waiting for the sanitizer.
    pub incoming: StateCount,
    /// Being worked on.
    pub active: StateCount,
    /// Waiting for their next attempt.
    pub deferred: StateCount,
    /// Unreadable, kept for a human.
    pub corrupt: StateCount,
    /// The configured [`Config::high_water`].
    pub high_water: usize,
}

impl Counts {
    /// Messages still to be handled: incoming, active and deferred.
    pub fn queued(&self) -> usize {
        self.incoming.messages + self.active.messages + self.deferred.messages
    }

    /// True when more than `high_water` messages are queued: ingress then
    /// answers `451 4.3.1` until the queue drains.
    pub fn over_high_water(&self) -> bool {
        self.queued() > self.high_water
    }
}

/// What [`Spool::recover`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Entries moved from active back to incoming (stage original).
    pub to_incoming: usize,
    /// Entries moved from active back to deferred, due now (stage
    /// sanitized).
    pub to_deferred: usize,
    /// Stray files removed from `tmp/`: writes that never completed, so
    /// never acknowledged.
    pub tmp_removed: usize,
    /// Files moved to corrupt (unreadable, misnamed, or a duplicate).
    pub corrupted: usize,
    /// Messages in incoming afterwards.
    pub incoming: usize,
    /// Messages in deferred afterwards.
    pub deferred: usize,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} active → incoming, {} active → deferred, {} temporary files removed, {} moved to corrupt; \
             now {} incoming, {} deferred",
            self.to_incoming,
            self.to_deferred,
            self.tmp_removed,
            self.corrupted,
            self.incoming,
            self.deferred
        )
    }
}

/// The file spool's settings (`[spool]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The spool directory; it holds `incoming/`, `active/`, `deferred/`,
    /// `corrupt/`, `tmp/` and the `lock` file. It must be on one file
    /// system (entries move by rename) and on local disk.
    pub dir: PathBuf,
    /// Above this many messages in incoming, active and deferred together,
    /// ingress answers `451 4.3.1` (see [`Counts::over_high_water`]).
    pub high_water: usize,
    /// Fsync files and directories before reporting success. `false` is
    /// UNSAFE: a power loss or kernel crash then loses mail that was
    /// acknowledged with 250, and may leave damaged files. Only for
    /// benchmarks.
    pub fsync: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("./var/spool"),
            high_water: 10_000,
            fsync: true,
        }
    }
}
