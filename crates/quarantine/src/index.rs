//! NAME
//!   index - the quarantine's search index: SQLite, one row per record
//!
//! DESCRIPTION
//!   The console lists, searches and counts 100,000 records a page at a
//!   time; reading every `meta.json` for that would take seconds. This
//!   index holds what the list shows and filters on, one row per record,
//!   with its reasons and threats in tables of their own for the stats.
//!   It is derived data: the records stay the truth, a row is written
//!   after its record is committed, and [`Index::rebuild`] (`mukaika
//!   quarantine reindex`) makes it again from them.
//!
//!   SQLite in WAL mode with a busy timeout: the daemon and the `mukaika
//!   quarantine` command each open it and may write at once.
//!
//! SECURITY
//!   The file is created 0600 (SQLite gives its -wal and -shm files the
//!   same mode). Every value reaches SQL as a bound parameter; search text
//!   is bounded to [`SEARCH_MAX_BYTES`].

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, params, params_from_iter, types::Value};

use crate::{Bucket, Error, EventKind, Filter, Record, Result, Sort, Stats, Summary};

/// The longest search text a filter may hold, per field: longer is
/// refused, not cut (a search for 1 MB of text is not a search).
pub const SEARCH_MAX_BYTES: usize = 1024;

/// Bumped when the tables change: an index of another version is rebuilt.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    stored_at INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    status TEXT NOT NULL,
    size INTEGER NOT NULL,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,   -- one per line
    subject TEXT,
    from_text TEXT,
    open_requests INTEGER NOT NULL,
    latency_secs INTEGER NOT NULL,
    core_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX records_by_time ON records (stored_at, id);
CREATE INDEX records_by_verdict ON records (verdict, stored_at);
CREATE INDEX records_by_size ON records (size);
CREATE INDEX records_open ON records (open_requests) WHERE open_requests > 0;
CREATE TABLE reasons (id TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (reason, id)) WITHOUT ROWID;
CREATE INDEX reasons_by_id ON reasons (id);
CREATE TABLE threats (id TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (name, id)) WITHOUT ROWID;
CREATE INDEX threats_by_id ON threats (id);
";

/// The reasons that mean a worker failed rather than the mail.
const WORKER_FAILURES: [&str; 3] = ["worker-timeout", "worker-crashed", "worker-reply-invalid"];

pub(crate) struct Index {
    // One connection per process: SQLite serializes writers anyway, and the
    // quarantine's calls already run on blocking threads.
    conn: Mutex<Connection>,
}

/// An SQLite failure, as a quarantine error naming the index.
fn db(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Index {
        path: path.into(),
        reason: e.to_string(),
    }
}

impl Index {
    /// Opens the index at `path`, creating it (0600) if needed. Returns
    /// whether it is new or of another schema, and so must be rebuilt.
    pub(crate) fn open(path: &Path) -> Result<(Self, bool)> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(Error::io("creating", path))?;
        let conn = Connection::open(path).map_err(db(path))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(db(path))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db(path))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db(path))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(db(path))?;
        let stale = version != SCHEMA_VERSION;
        if stale {
            conn.execute_batch(
                "DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS reasons; DROP TABLE IF EXISTS threats;",
            )
            .map_err(db(path))?;
            conn.execute_batch(SCHEMA).map_err(db(path))?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(db(path))?;
        }
        Ok((
            Self {
                conn: Mutex::new(conn),
            },
            stale,
        ))
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (it has
        // its own transactions): go on with the connection.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn path(conn: &Connection) -> std::path::PathBuf {
        conn.path().unwrap_or_default().into()
    }

    /// Writes the row of `record`, replacing the old one.
    pub(crate) fn put(&self, record: &Record) -> Result<()> {
        let mut conn = self.conn();
        let path = Self::path(&conn);
        let tx = conn.transaction().map_err(db(&path))?;
        put(&tx, record).map_err(db(&path))?;
        tx.commit().map_err(db(&path))
    }

    /// Removes the row of `id`.
    pub(crate) fn remove(&self, id: &str) -> Result<()> {
        let mut conn = self.conn();
        let path = Self::path(&conn);
        let tx = conn.transaction().map_err(db(&path))?;
        remove(&tx, id).map_err(db(&path))?;
        tx.commit().map_err(db(&path))
    }

    /// Replaces every row with those of `records`, in one transaction:
    /// readers see the old index or the new one.
    pub(crate) fn rebuild(&self, records: impl Iterator<Item = Record>) -> Result<usize> {
        let mut conn = self.conn();
        let path = Self::path(&conn);
        let tx = conn.transaction().map_err(db(&path))?;
        tx.execute_batch("DELETE FROM records; DELETE FROM reasons; DELETE FROM threats;")
            .map_err(db(&path))?;
        let mut n = 0;
        for record in records {
            put(&tx, &record).map_err(db(&path))?;
            n += 1;
        }
        tx.commit().map_err(db(&path))?;
        Ok(n)
    }

    /// The page of summaries `filter` asks for.
    pub(crate) fn list(&self, filter: &Filter) -> Result<Vec<Summary>> {
        let (condition, mut values) = condition(filter)?;
        let order = match filter.sort {
            Sort::Newest => "stored_at DESC, id DESC",
            Sort::Oldest => "stored_at ASC, id ASC",
            Sort::Largest => "size DESC, id DESC",
        };
        values.push(Value::Integer(
            filter.limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64),
        ));
        values.push(Value::Integer(filter.offset.min(i64::MAX as u64) as i64));
        let sql = format!(
            "SELECT id, stored_at, verdict, status, size, sender, recipients, subject, from_text, open_requests,
                    (SELECT group_concat(name, char(10)) FROM threats t WHERE t.id = r.id)
             FROM records r WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?"
        );
        let conn = self.conn();
        let path = Self::path(&conn);
        let mut statement = conn.prepare_cached(&sql).map_err(db(&path))?;
        let rows = statement
            .query_map(params_from_iter(values), |row| {
                let lines = |s: Option<String>| -> Vec<String> {
                    let s = s.unwrap_or_default();
                    s.split('\n')
                        .filter(|l| !l.is_empty())
                        .map(Into::into)
                        .collect()
                };
                Ok(Summary {
                    id: parsed(row, 0, |s| s.parse().ok())?,
                    stored_at: row.get::<_, i64>(1)? as u64,
                    verdict: row.get(2)?,
                    status: parsed(row, 3, EventKind::parse)?,
                    size: row.get::<_, i64>(4)? as u64,
                    sender: row.get(5)?,
                    recipients: lines(row.get(6)?),
                    subject: row.get(7)?,
                    from: row.get(8)?,
                    open_requests: row.get::<_, i64>(9)? as u32,
                    threats: lines(row.get(10)?),
                })
            })
            .map_err(db(&path))?;
        let mut summaries = Vec::new();
        for row in rows {
            match row {
                Ok(summary) => summaries.push(summary),
                // Rows are written from records, so they parse; one that
                // does not (an index edited by hand) is skipped, not fatal.
                Err(e @ rusqlite::Error::FromSqlConversionFailure(..)) => {
                    tracing::warn!(error = %e, "skipped a damaged quarantine index row: run `mukaika quarantine reindex`")
                }
                Err(e) => return Err(db(&path)(e)),
            }
        }
        Ok(summaries)
    }

    /// How many rows match `filter`.
    pub(crate) fn count(&self, filter: &Filter) -> Result<u64> {
        let (condition, values) = condition(filter)?;
        let sql = format!("SELECT count(*) FROM records r WHERE {condition}");
        let conn = self.conn();
        let path = Self::path(&conn);
        let mut statement = conn.prepare_cached(&sql).map_err(db(&path))?;
        let n: i64 = statement
            .query_row(params_from_iter(values), |row| row.get(0))
            .map_err(db(&path))?;
        Ok(n as u64)
    }

    /// The counts behind the console's charts.
    pub(crate) fn stats(&self, since: u64, until: u64, bucket_secs: u64) -> Result<Stats> {
        let bucket_secs = bucket_secs.max(1);
        let (since, until) = (since.min(until), until);
        let range = params![since as i64, until as i64];
        let conn = self.conn();
        let path = Self::path(&conn);
        let e = db(&path);
        let total: i64 = conn
            .query_row(
                "SELECT count(*) FROM records WHERE stored_at >= ?1 AND stored_at < ?2",
                range,
                |row| row.get(0),
            )
            .map_err(&e)?;
        let n_buckets = until
            .saturating_sub(since)
            .div_ceil(bucket_secs)
            .min(10_000);
        let mut buckets: Vec<Bucket> = (0..n_buckets)
            .map(|i| Bucket {
                start: since + i * bucket_secs,
                ..Bucket::default()
            })
            .collect();
        let mut statement = conn
            .prepare_cached(
                "SELECT (stored_at - ?1) / ?3, verdict, count(*) FROM records
                 WHERE stored_at >= ?1 AND stored_at < ?2 GROUP BY 1, 2",
            )
            .map_err(&e)?;
        let rows = statement
            .query_map(
                params![since as i64, until as i64, bucket_secs as i64],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                },
            )
            .map_err(&e)?;
        for row in rows {
            let (i, verdict, n) = row.map_err(&e)?;
            if let Some(bucket) = buckets.get_mut(i as usize) {
                *bucket.verdicts.entry(verdict).or_default() += n as u64;
            }
        }
        let top = |table: &str, column: &str| -> Result<Vec<(String, u64)>> {
            let sql = format!(
                "SELECT x.{column}, count(*) FROM {table} x JOIN records r ON r.id = x.id
                 WHERE r.stored_at >= ?1 AND r.stored_at < ?2
                 GROUP BY x.{column} ORDER BY 2 DESC, 1 LIMIT 10"
            );
            let mut statement = conn.prepare_cached(&sql).map_err(&e)?;
            let rows = statement
                .query_map(range, |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u64)))
                .map_err(&e)?;
            rows.collect::<rusqlite::Result<_>>().map_err(&e)
        };
        let reasons = top("reasons", "reason")?;
        let threats = top("threats", "name")?;
        let worker_failures: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(DISTINCT x.id) FROM reasons x JOIN records r ON r.id = x.id
                     WHERE r.stored_at >= ?1 AND r.stored_at < ?2 AND x.reason IN ({})",
                    WORKER_FAILURES.map(|r| format!("'{r}'")).join(",")
                ),
                range,
                |row| row.get(0),
            )
            .map_err(&e)?;
        let mean_p95 = |column: &str| -> Result<(f64, u64)> {
            let mean: Option<f64> = conn
                .query_row(
                    &format!(
                        "SELECT avg({column}) FROM records WHERE stored_at >= ?1 AND stored_at < ?2"
                    ),
                    range,
                    |row| row.get(0),
                )
                .map_err(&e)?;
            let rank = ((total * 95 + 99) / 100).max(1) - 1;
            let p95: Option<i64> = conn
                .query_row(
                    &format!(
                        "SELECT {column} FROM records WHERE stored_at >= ?1 AND stored_at < ?2
                         ORDER BY {column} LIMIT 1 OFFSET ?3"
                    ),
                    params![since as i64, until as i64, rank],
                    |row| row.get(0),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })
                .map_err(&e)?;
            Ok((mean.unwrap_or(0.0), p95.unwrap_or(0).max(0) as u64))
        };
        let latency_secs = mean_p95("latency_secs")?;
        let (core_mean, core_p95) = mean_p95("core_us")?;
        Ok(Stats {
            total: total as u64,
            buckets,
            reasons,
            threats,
            worker_failures: worker_failures as u64,
            latency_secs,
            core_ms: (core_mean / 1000.0, core_p95 / 1000),
        })
    }
}

/// Column `i` of `row` as text, turned into a `T` by `parse`.
fn parsed<T>(
    row: &rusqlite::Row<'_>,
    i: usize,
    parse: impl Fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = row.get(i)?;
    parse(&text).ok_or_else(|| {
        let why = format!("column {i}: {text:?} does not parse");
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, why.into())
    })
}

fn put(tx: &rusqlite::Transaction<'_>, record: &Record) -> rusqlite::Result<()> {
    let id = record.id.as_str();
    remove(tx, id)?;
    let core_us = record
        .report
        .pointer("/timings_us/total")
        .and_then(|t| t.as_u64())
        .unwrap_or(0);
    tx.prepare_cached(
        "INSERT INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        id,
        record.stored_at as i64,
        record.verdict,
        record.status.as_str(),
        record.size as i64,
        record.envelope.sender,
        record.envelope.recipients.join("\n"),
        record.subject(),
        record.from(),
        record.open_requests().len() as i64,
        record.stored_at.saturating_sub(record.envelope.received_at) as i64,
        core_us.min(i64::MAX as u64) as i64,
    ])?;
    let mut reason = tx.prepare_cached("INSERT OR IGNORE INTO reasons VALUES (?1, ?2)")?;
    for r in record.reasons() {
        reason.execute(params![id, r])?;
    }
    let mut threat = tx.prepare_cached("INSERT OR IGNORE INTO threats VALUES (?1, ?2)")?;
    for t in record.threats() {
        threat.execute(params![id, t])?;
    }
    Ok(())
}

fn remove(tx: &rusqlite::Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    for sql in [
        "DELETE FROM records WHERE id = ?1",
        "DELETE FROM reasons WHERE id = ?1",
        "DELETE FROM threats WHERE id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([id])?;
    }
    Ok(())
}

/// The WHERE clause of `filter` and its bound values. Text matches with
/// `instr` on lowercased text: a substring anywhere, Japanese included
/// (SQLite's `lower` folds ASCII only, which is what is wanted here), and
/// no LIKE wildcards to escape.
fn condition(filter: &Filter) -> Result<(String, Vec<Value>)> {
    let mut clauses = vec!["1".to_owned()];
    let mut values = Vec::new();
    let text = |value: &str| -> Result<Value> {
        if value.len() > SEARCH_MAX_BYTES {
            return Err(Error::Search(format!(
                "a search text is at most {SEARCH_MAX_BYTES} bytes"
            )));
        }
        Ok(Value::Text(value.to_lowercase()))
    };
    if let Some(verdict) = &filter.verdict {
        clauses.push("verdict = ?".into());
        values.push(text(verdict)?);
    }
    if let Some(since) = filter.since {
        clauses.push("stored_at >= ?".into());
        values.push(Value::Integer(since.min(i64::MAX as u64) as i64));
    }
    if let Some(until) = filter.until {
        clauses.push("stored_at < ?".into());
        values.push(Value::Integer(until.min(i64::MAX as u64) as i64));
    }
    if let Some(sender) = filter.sender.as_deref().filter(|s| !s.is_empty()) {
        clauses.push(
            "(instr(lower(sender), ?) > 0 OR instr(lower(coalesce(from_text, '')), ?) > 0)".into(),
        );
        let value = text(sender)?;
        values.extend([value.clone(), value]);
    }
    if let Some(recipient) = filter.recipient.as_deref().filter(|s| !s.is_empty()) {
        clauses.push("instr(lower(recipients), ?) > 0".into());
        values.push(text(recipient)?);
    }
    if let Some(subject) = &filter.subject {
        text(subject)?;
        for word in subject.split_whitespace() {
            clauses.push("instr(lower(coalesce(subject, '')), ?) > 0".into());
            values.push(text(word)?);
        }
    }
    if let Some(reason) = filter.reason.as_deref().filter(|s| !s.is_empty()) {
        clauses.push("id IN (SELECT id FROM reasons WHERE reason = ?)".into());
        values.push(text(reason)?);
    }
    if let Some(threat) = filter.threat.as_deref().filter(|s| !s.is_empty()) {
        clauses.push("id IN (SELECT id FROM threats WHERE instr(lower(name), ?) > 0)".into());
        values.push(text(threat)?);
    }
    if filter.open_requests {
        clauses.push("open_requests > 0".into());
    }
    Ok((clauses.join(" AND "), values))
}
