//! NAME
//!   fs - the file quarantine: one directory per message
//!
//! DESCRIPTION
//!   `DIR/<ID>/original.eml` and `DIR/<ID>/meta.json` (the crate docs
//!   describe the layout). Each file is replaced whole: written as
//!   `NAME.tmp`, fsynced, renamed over `NAME`, then the directory is
//!   fsynced. `meta.json` is written after `original.eml` and marks the
//!   record as complete. Read-modify-write of one record (store, record,
//!   delete) holds an `flock` on its directory, which also covers other
//!   processes such as the `mukaika quarantine` command.
//!
//!   Lists, counts and stats come from the index (`index.rs`), which each
//!   write updates after the record is committed. An index write that
//!   fails does not fail the write: the record is the truth, the failure
//!   is logged, and `reindex` brings the index back in line.
//!
//! SECURITY
//!   Directories 0700, files 0600. Directory names are validated queue IDs;
//!   anything else in `DIR` is ignored.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use mukaika_spool::{Envelope, QueueId, unix_now};
use tracing::warn;

use crate::index::Index;
use crate::release::sha256_hex;
use crate::{Config, Error, Event, EventKind, Filter, Quarantine, Record, Result, Stats, Summary};

const ORIGINAL: &str = "original.eml";
const DELIVERED: &str = "delivered.eml";
const META: &str = "meta.json";
const INDEX: &str = "index.sqlite3";
const DAY: u64 = 86_400;

/// The file quarantine.
pub struct FsQuarantine {
    root: PathBuf,
    retention_days: u32,
    index: Index,
    /// Unix seconds, for `stored_at`; replaceable for tests.
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl FsQuarantine {
    /// Opens the quarantine at `config.dir`, creating it if needed. Several
    /// processes may open the same directory.
    pub fn open(config: &Config) -> Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&config.dir)
            .map_err(Error::io("creating directory", &config.dir))?;
        let (index, stale) = Index::open(&config.dir.join(INDEX))?;
        let quarantine = Self {
            root: config.dir.clone(),
            retention_days: config.retention_days,
            index,
            clock: Box::new(unix_now),
        };
        if stale {
            let n = quarantine.reindex()?;
            if n > 0 {
                tracing::info!(records = n, "quarantine index built from the records");
            }
        }
        Ok(quarantine)
    }

    /// A file of a committed record; None without the record or the file.
    fn read_file(&self, id: &QueueId, name: &str) -> Result<Option<Vec<u8>>> {
        let dir = self.record_dir(id);
        if !dir.join(META).exists() {
            return Ok(None);
        }
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Io {
                action: "reading",
                path,
                source: e,
            }),
        }
    }

    /// Brings the index row of `record` up to date; a failure is logged.
    fn index(&self, record: &Record) {
        if let Err(e) = self.index.put(record) {
            warn!(queue_id = %record.id, error = %e, "quarantine index not updated");
        }
    }

    /// Every readable record, in ID order (damaged ones are logged).
    fn records(&self) -> Result<impl Iterator<Item = Record> + '_> {
        Ok(ids(&self.root)?.into_iter().filter_map(|id| {
            match self.read_meta(&id, &self.record_dir(&id)) {
                Ok(record) => record,
                Err(e) => {
                    warn!(error = %e, "quarantine record skipped");
                    None
                }
            }
        }))
    }

    /// Uses `clock` (unix seconds) instead of the system clock for
    /// `stored_at`: for tests of retention.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The quarantine directory.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    fn record_dir(&self, id: &QueueId) -> PathBuf {
        self.root.join(id.as_str())
    }

    /// Locks a record's directory for a read-modify-write; None if there is
    /// no such directory.
    fn lock(&self, dir: &Path) -> Result<Option<File>> {
        let handle = match File::open(dir) {
            Ok(handle) => handle,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::Io {
                    action: "opening directory",
                    path: dir.into(),
                    source: e,
                });
            }
        };
        handle.lock().map_err(Error::io("locking", dir))?;
        Ok(Some(handle))
    }

    /// The record in `dir`, None if it has no `meta.json` (no record, or an
    /// unfinished store).
    fn read_meta(&self, id: &QueueId, dir: &Path) -> Result<Option<Record>> {
        let path = dir.join(META);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::Io {
                    action: "reading",
                    path,
                    source: e,
                });
            }
        };
        let record: Record = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if &record.id != id {
            return Err(Error::Corrupt {
                path,
                reason: format!("it is the record of {}", record.id),
            });
        }
        Ok(Some(record))
    }

    fn write_meta(&self, dir: &Path, record: &Record) -> Result<()> {
        let json = serde_json::to_vec_pretty(record)
            .expect("a record (strings, numbers, JSON values) always encodes");
        replace(dir, META, &json)
    }
}

impl Quarantine for FsQuarantine {
    fn store(
        &self,
        id: &QueueId,
        envelope: &Envelope,
        original: &[u8],
        verdict: &str,
        report_json: &str,
    ) -> Result<()> {
        let dir = self.record_dir(id);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => sync_dir(&self.root)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Error::Io {
                    action: "creating directory",
                    path: dir,
                    source: e,
                });
            }
        }
        let Some(_lock) = self.lock(&dir)? else {
            let source = io::Error::new(io::ErrorKind::NotFound, "deleted while being stored");
            return Err(Error::Io {
                action: "storing",
                path: dir,
                source,
            });
        };
        replace(&dir, ORIGINAL, original)?;
        let report = serde_json::from_str(report_json).unwrap_or_else(|e| {
            warn!(queue_id = %id, error = %e, "sanitizer report is not JSON: kept as text");
            serde_json::Value::String(report_json.to_owned())
        });
        let now = (self.clock)();
        let size = original.len() as u64;
        let stored = Event::new(
            now,
            EventKind::Stored,
            format!("verdict {verdict}, {size} bytes"),
        );
        let record = Record {
            id: id.clone(),
            stored_at: now,
            verdict: verdict.to_owned(),
            status: EventKind::Stored,
            size,
            sha256: sha256_hex(original),
            envelope: envelope.clone(),
            history: vec![stored],
            report,
        };
        self.write_meta(&dir, &record)?;
        sync_dir(&dir)?;
        self.index(&record);
        Ok(())
    }

    fn record(&self, id: &QueueId, event: Event) -> Result<()> {
        let dir = self.record_dir(id);
        let Some(_lock) = self.lock(&dir)? else {
            return Err(Error::NotFound { id: id.clone() });
        };
        let Some(mut record) = self.read_meta(id, &dir)? else {
            return Err(Error::NotFound { id: id.clone() });
        };
        record.status = event.kind;
        record.history.push(event);
        self.write_meta(&dir, &record)?;
        sync_dir(&dir)?;
        self.index(&record);
        Ok(())
    }

    fn get(&self, id: &QueueId) -> Result<Option<Record>> {
        self.read_meta(id, &self.record_dir(id))
    }

    fn original(&self, id: &QueueId) -> Result<Option<Vec<u8>>> {
        self.read_file(id, ORIGINAL)
    }

    fn keep_delivered(&self, id: &QueueId, message: &[u8]) -> Result<()> {
        let dir = self.record_dir(id);
        let Some(_lock) = self.lock(&dir)? else {
            return Err(Error::NotFound { id: id.clone() });
        };
        if !dir.join(META).exists() {
            return Err(Error::NotFound { id: id.clone() });
        }
        replace(&dir, DELIVERED, message)?;
        sync_dir(&dir)
    }

    fn delivered(&self, id: &QueueId) -> Result<Option<Vec<u8>>> {
        self.read_file(id, DELIVERED)
    }

    fn list(&self, filter: &Filter) -> Result<Vec<Summary>> {
        self.index.list(filter)
    }

    fn count(&self, filter: &Filter) -> Result<u64> {
        self.index.count(filter)
    }

    fn stats(&self, since: u64, until: u64, bucket_secs: u64) -> Result<Stats> {
        self.index.stats(since, until, bucket_secs)
    }

    fn reindex(&self) -> Result<usize> {
        self.index.rebuild(self.records()?)
    }

    fn delete(&self, id: &QueueId) -> Result<bool> {
        let dir = self.record_dir(id);
        let Some(_lock) = self.lock(&dir)? else {
            return Ok(false);
        };
        // Removing meta.json is the commit: from then on there is no record,
        // whatever a crash leaves of the rest.
        let meta = dir.join(META);
        let existed = match fs::remove_file(&meta) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(Error::Io {
                    action: "removing",
                    path: meta,
                    source: e,
                });
            }
        };
        if existed {
            sync_dir(&dir)?;
        }
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Io {
                    action: "removing",
                    path: dir,
                    source: e,
                });
            }
        }
        sync_dir(&self.root)?;
        if let Err(e) = self.index.remove(id.as_str()) {
            warn!(queue_id = %id, error = %e, "quarantine index not updated");
        }
        Ok(existed)
    }

    fn purge(&self, now: u64) -> Result<usize> {
        if self.retention_days == 0 {
            return Ok(0);
        }
        let max_age = u64::from(self.retention_days) * DAY;
        let mut purged = 0;
        for id in ids(&self.root)? {
            let dir = self.record_dir(&id);
            match self.read_meta(&id, &dir) {
                Ok(Some(record)) => {
                    if now.saturating_sub(record.stored_at) > max_age && self.delete(&id)? {
                        purged += 1;
                    }
                }
                // No record (an unfinished store) or a damaged one: judged
                // by the directory's age instead.
                result => {
                    let modified = fs::metadata(&dir).and_then(|m| m.modified()).ok();
                    let age = modified
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map(|d| now.saturating_sub(d.as_secs()));
                    if age.is_some_and(|age| age > max_age) {
                        if let Err(e) = &result {
                            warn!(error = %e, "damaged quarantine record past retention: deleted");
                        }
                        fs::remove_dir_all(&dir).map_err(Error::io("removing", &dir))?;
                        sync_dir(&self.root)?;
                        purged += usize::from(result.is_err());
                    }
                }
            }
        }
        Ok(purged)
    }
}

/// Replaces `dir/name` with `bytes`: `name.tmp`, fsync, rename. The caller
/// fsyncs `dir` once it has written all it writes.
fn replace(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(Error::io("creating", &tmp))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(Error::io("writing", &tmp))?;
    fs::rename(&tmp, &path).map_err(Error::io("renaming into place", &tmp))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsyncing directory", dir))
}

/// The record directories: names that are queue IDs, sorted.
fn ids(root: &Path) -> Result<Vec<QueueId>> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(root).map_err(Error::io("listing", root))? {
        let entry = entry.map_err(Error::io("listing", root))?;
        if let Some(id) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse().ok())
        {
            ids.push(id);
        }
    }
    ids.sort();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use mukaika_spool::Stage;

    use super::*;

    const T0: u64 = 1_700_000_000;

    fn envelope(sender: &str) -> Envelope {
        Envelope {
            sender: sender.into(),
            recipients: vec!["b@city.lg.jp".into()],
            received_at: T0,
            client_ip: "192.0.2.1".into(),
            helo: "mx.example.jp".into(),
            stage: Stage::Original,
            attempts: 0,
            next_attempt: 0,
            last_error: None,
        }
    }

    /// A quarantine whose clock the test sets.
    fn open(dir: &Path) -> (FsQuarantine, Arc<AtomicU64>) {
        let now = Arc::new(AtomicU64::new(T0));
        let clock = now.clone();
        let quarantine = FsQuarantine::open(&Config {
            dir: dir.into(),
            retention_days: 30,
        })
        .unwrap()
        .with_clock(move || clock.load(Ordering::SeqCst));
        (quarantine, now)
    }

    fn id() -> QueueId {
        QueueId::generate()
    }

    #[test]
    fn store_get_original() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = open(dir.path());
        let id = id();
        let original = b"Subject: invoice\r\n\r\nsee attachment\r\n";
        q.store(
            &id,
            &envelope("a@example.jp"),
            original,
            "held",
            r#"{"verdict":"held","parts":[1]}"#,
        )
        .unwrap();

        let record = q.get(&id).unwrap().unwrap();
        assert_eq!(record.id, id);
        assert_eq!(record.envelope, envelope("a@example.jp"));
        assert_eq!(
            (record.verdict.as_str(), record.stored_at, record.status),
            ("held", T0, EventKind::Stored)
        );
        assert_eq!(record.size, original.len() as u64);
        assert_eq!(record.sha256, sha256_hex(original));
        assert_eq!(record.sha256.len(), 64);
        assert_eq!(
            record.report,
            serde_json::json!({"verdict": "held", "parts": [1]})
        );
        assert_eq!(record.history.len(), 1);
        assert_eq!(record.history[0].kind, EventKind::Stored);
        assert_eq!(q.original(&id).unwrap().unwrap(), original);
        assert_eq!(q.delivered(&id).unwrap(), None);
        q.keep_delivered(&id, b"Subject: sanitized\r\n\r\nhello\r\n")
            .unwrap();
        assert_eq!(
            q.delivered(&id).unwrap().unwrap(),
            b"Subject: sanitized\r\n\r\nhello\r\n"
        );

        let other = QueueId::generate();
        assert!(matches!(
            q.keep_delivered(&other, b"x"),
            Err(Error::NotFound { .. })
        ));
        assert_eq!(q.get(&other).unwrap(), None);
        assert_eq!(q.original(&other).unwrap(), None);
        let mut names: Vec<_> = fs::read_dir(dir.path().join(id.as_str()))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["delivered.eml", "meta.json", "original.eml"],
            "no temporary files left"
        );
    }

    #[test]
    fn record_keeps_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = open(dir.path());
        let id = id();
        q.store(&id, &envelope("a@example.jp"), b"m", "sanitized", "{}")
            .unwrap();
        let deferred = Event::new(T0 + 1, EventKind::Deferred, "451 try later");
        let released = Event::new(T0 + 2, EventKind::ReleaseFailed, "550 no").by("admin");
        q.record(&id, deferred.clone()).unwrap();
        q.record(&id, released.clone()).unwrap();
        let record = q.get(&id).unwrap().unwrap();
        assert_eq!(record.status, EventKind::ReleaseFailed);
        assert_eq!(record.history[1..], [deferred, released]);
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["status"], "release_failed");
        assert_eq!(json["history"][2]["by"], "admin");
        assert_eq!(json["envelope"]["stage"], "original");

        let missing = q.record(
            &QueueId::generate(),
            Event::new(0, EventKind::Held, String::new()),
        );
        assert!(matches!(missing, Err(Error::NotFound { .. })));
    }

    #[test]
    fn store_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let (q, now) = open(dir.path());
        let id = id();
        q.store(&id, &envelope("a@example.jp"), b"first run", "held", "{}")
            .unwrap();
        q.record(&id, Event::new(T0, EventKind::Held, "notice"))
            .unwrap();
        now.store(T0 + 60, Ordering::SeqCst);
        q.store(
            &id,
            &envelope("a@example.jp"),
            b"second run",
            "sanitized",
            r#"{"n":2}"#,
        )
        .unwrap();
        let record = q.get(&id).unwrap().unwrap();
        assert_eq!(
            (
                record.verdict.as_str(),
                record.stored_at,
                record.history.len()
            ),
            ("sanitized", T0 + 60, 1)
        );
        assert_eq!(record.report, serde_json::json!({"n": 2}));
        assert_eq!(q.original(&id).unwrap().unwrap(), b"second run");
        assert_eq!(q.list(&Filter::default()).unwrap().len(), 1);
    }

    #[test]
    fn list_filters_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let (q, now) = open(dir.path());
        let ids: Vec<QueueId> = (0..3).map(|_| id()).collect();
        for (i, (id, verdict)) in ids
            .iter()
            .zip(["sanitized", "held", "sanitized"])
            .enumerate()
        {
            now.store(T0 + 100 * i as u64, Ordering::SeqCst);
            q.store(
                id,
                &envelope(&format!("s{i}@example.jp")),
                b"m",
                verdict,
                "{}",
            )
            .unwrap();
        }
        let all: Vec<QueueId> = q
            .list(&Filter::default())
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(all, [ids[2].clone(), ids[1].clone(), ids[0].clone()]);

        let sanitized = q
            .list(&Filter {
                verdict: Some("sanitized".into()),
                since: None,
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(
            sanitized.iter().map(|s| &s.id).collect::<Vec<_>>(),
            [&ids[2], &ids[0]]
        );
        let recent = q
            .list(&Filter {
                verdict: None,
                since: Some(T0 + 100),
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(
            recent.iter().map(|s| &s.id).collect::<Vec<_>>(),
            [&ids[2], &ids[1]]
        );
        let both = q
            .list(&Filter {
                verdict: Some("held".into()),
                since: Some(T0 + 150),
                ..Filter::default()
            })
            .unwrap();
        assert!(both.is_empty());

        let summary = &q
            .list(&Filter {
                verdict: Some("held".into()),
                since: None,
                ..Filter::default()
            })
            .unwrap()[0];
        assert_eq!(
            summary,
            &Summary {
                id: ids[1].clone(),
                stored_at: T0 + 100,
                verdict: "held".into(),
                status: EventKind::Stored,
                size: 1,
                sender: "s1@example.jp".into(),
                recipients: vec!["b@city.lg.jp".into()],
                subject: None,
                from: None,
                threats: vec![],
                open_requests: 0,
            }
        );
        assert_eq!(format!("[{:<8}]", summary.status), "[stored  ]");
    }

    #[test]
    fn delete_removes_record_and_original() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = open(dir.path());
        let (keep, gone) = (id(), id());
        q.store(&keep, &envelope("a@example.jp"), b"keep", "sanitized", "{}")
            .unwrap();
        q.store(&gone, &envelope("a@example.jp"), b"gone", "sanitized", "{}")
            .unwrap();
        assert!(q.delete(&gone).unwrap());
        assert!(!q.delete(&gone).unwrap());
        assert!(!dir.path().join(gone.as_str()).exists());
        assert_eq!(q.get(&gone).unwrap(), None);
        assert_eq!(q.original(&gone).unwrap(), None);
        assert_eq!(q.list(&Filter::default()).unwrap().len(), 1);
        assert!(q.get(&keep).unwrap().is_some());
    }

    #[test]
    fn purge_uses_the_given_now() {
        let dir = tempfile::tempdir().unwrap();
        let (q, now) = open(dir.path());
        let (old, young) = (id(), id());
        q.store(&old, &envelope("a@example.jp"), b"old", "sanitized", "{}")
            .unwrap();
        now.store(T0 + 20 * DAY, Ordering::SeqCst);
        q.store(
            &young,
            &envelope("a@example.jp"),
            b"young",
            "sanitized",
            "{}",
        )
        .unwrap();

        assert_eq!(
            q.purge(T0 + 30 * DAY).unwrap(),
            0,
            "exactly 30 days is not more than 30 days"
        );
        assert_eq!(q.purge(T0 + 30 * DAY + 1).unwrap(), 1);
        assert_eq!(q.get(&old).unwrap(), None);
        assert!(q.get(&young).unwrap().is_some());
        assert_eq!(q.purge(T0 + 30 * DAY + 1).unwrap(), 0);
        assert_eq!(q.purge(T0 + 51 * DAY).unwrap(), 1);
        assert!(q.list(&Filter::default()).unwrap().is_empty());

        let forever = FsQuarantine::open(&Config {
            dir: dir.path().into(),
            retention_days: 0,
        })
        .unwrap();
        forever
            .store(&old, &envelope("a@example.jp"), b"old", "sanitized", "{}")
            .unwrap();
        assert_eq!(
            forever.purge(u64::MAX).unwrap(),
            0,
            "retention 0 keeps everything"
        );
    }

    #[test]
    fn a_half_written_meta_never_shadows_a_good_one() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = open(dir.path());
        let id = id();
        q.store(&id, &envelope("a@example.jp"), b"m", "held", "{}")
            .unwrap();
        let good = q.get(&id).unwrap().unwrap();
        // A crash in the middle of the next write of meta.json.
        let record_dir = dir.path().join(id.as_str());
        let full = fs::read(record_dir.join(META)).unwrap();
        fs::write(record_dir.join("meta.json.tmp"), &full[..full.len() / 2]).unwrap();
        fs::write(record_dir.join("original.eml.tmp"), b"half").unwrap();
        assert_eq!(q.get(&id).unwrap().unwrap(), good);
        assert_eq!(q.original(&id).unwrap().unwrap(), b"m");
        assert_eq!(q.list(&Filter::default()).unwrap().len(), 1);
        // And the next write goes through.
        q.record(&id, Event::new(T0, EventKind::Held, "notice"))
            .unwrap();
        assert_eq!(q.get(&id).unwrap().unwrap().status, EventKind::Held);
        assert!(!record_dir.join("meta.json.tmp").exists());
    }

    #[test]
    fn unfinished_and_damaged_records() {
        let dir = tempfile::tempdir().unwrap();
        let (q, now) = open(dir.path());
        now.store(unix_now(), Ordering::SeqCst); // directory ages are real
        // A store that died before meta.json: no record.
        let unfinished = id();
        fs::create_dir(dir.path().join(unfinished.as_str())).unwrap();
        fs::write(dir.path().join(unfinished.as_str()).join(ORIGINAL), b"m").unwrap();
        assert_eq!(q.get(&unfinished).unwrap(), None);
        assert_eq!(q.original(&unfinished).unwrap(), None);
        // A damaged meta.json: an error for get, skipped by list.
        let damaged = id();
        fs::create_dir(dir.path().join(damaged.as_str())).unwrap();
        fs::write(dir.path().join(damaged.as_str()).join(META), b"{\"id\":").unwrap();
        assert!(matches!(q.get(&damaged), Err(Error::Corrupt { .. })));
        // Not queue IDs: ignored.
        fs::create_dir(dir.path().join("lost+found")).unwrap();
        fs::write(dir.path().join("README"), b"x").unwrap();
        let good = id();
        q.store(&good, &envelope("a@example.jp"), b"m", "sanitized", "{}")
            .unwrap();
        let listed = q.list(&Filter::default()).unwrap();
        assert_eq!(listed.iter().map(|s| &s.id).collect::<Vec<_>>(), [&good]);
        // Purge judges them by the directory's age.
        assert_eq!(q.purge(unix_now()).unwrap(), 0);
        // The good and the damaged record count; the unfinished one was none.
        assert_eq!(q.purge(unix_now() + 31 * DAY).unwrap(), 2);
        assert!(!dir.path().join(unfinished.as_str()).exists());
        assert!(!dir.path().join(damaged.as_str()).exists());
        assert!(dir.path().join("lost+found").exists());
    }

    #[test]
    fn a_report_that_is_not_json_is_kept_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = open(dir.path());
        let id = id();
        q.store(&id, &envelope(""), b"m", "rejected", "not json {")
            .unwrap();
        assert_eq!(
            q.get(&id).unwrap().unwrap().report,
            serde_json::json!("not json {")
        );
    }

    #[test]
    fn files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("q");
        let (q, _) = open(&root);
        let id = id();
        q.store(&id, &envelope("a@example.jp"), b"m", "held", "{}")
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join(id.as_str())), 0o700);
        assert_eq!(mode(&root.join(id.as_str()).join(ORIGINAL)), 0o600);
        assert_eq!(mode(&root.join(id.as_str()).join(META)), 0o600);
    }

    #[test]
    fn concurrent_events_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = open(dir.path());
        let q = Arc::new(q);
        let id = id();
        q.store(&id, &envelope("a@example.jp"), b"m", "sanitized", "{}")
            .unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (q, id) = (q.clone(), id.clone());
                std::thread::spawn(move || {
                    for i in 0..10 {
                        let event = Event::new(T0, EventKind::Deferred, format!("{t}/{i}"));
                        q.record(&id, event).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(q.get(&id).unwrap().unwrap().history.len(), 41);
    }

    #[test]
    fn quarantine_is_object_safe() {
        let dir = tempfile::tempdir().unwrap();
        let q: Arc<dyn Quarantine> = Arc::new(open(dir.path()).0);
        assert!(q.list(&Filter::default()).unwrap().is_empty());
    }
}
