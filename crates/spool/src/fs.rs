//! NAME
//!   fs - the file spool: one directory per state, one file per message
//!
//! DESCRIPTION
//!   The only module that moves spool files. Every transition is a
//!   `rename(2)` or `link(2)` within one file system, so an entry is always
//!   under one name; lib.rs lists the steps and their fsyncs.
//!
//!   An in-memory index (which entries are in which state, their sizes
//!   and due times) makes `counts()`, `incoming()` and `due()` cheap, and
//!   serializes claims: an ID is reserved in the index before its file is
//!   renamed, so two workers never race on the file system. The index is
//!   built by `open()` and rebuilt by `recover()`. It is why one process
//!   owns a spool: `open()` takes an exclusive lock on `DIR/lock`.
//!
//! SECURITY
//!   Directories are created 0700 and files 0600. File names are validated
//!   queue IDs.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tracing::{debug, warn};

use crate::format::{self, Peek};
use crate::unix_now;
use crate::{
    Config, Counts, Entry, Envelope, Error, QueueId, Queued, Recovery, Result, Spool, Stage, State,
    StateCount,
};

/// Extension of the file beside each `corrupt/` entry that says why.
const REASON_SUFFIX: &str = ".reason";

/// The file spool. See the crate docs for its states.
pub struct FsSpool {
    root: PathBuf,
    incoming: Dir,
    active: Dir,
    deferred: Dir,
    corrupt: Dir,
    tmp: Dir,
    fsync: bool,
    high_water: usize,
    index: Mutex<Index>,
    /// Serializes the choice of a free name in `corrupt/`.
    corrupt_names: Mutex<()>,
    /// Held open for the process's life: its `flock` keeps a second
    /// process (or a second FsSpool) off this spool.
    _lock: File,
}

/// A state directory and an open handle to fsync it with.
struct Dir {
    path: PathBuf,
    handle: File,
}

/// Where each entry is, with its size and due time.
#[derive(Debug, Default)]
struct Index {
    incoming: Queue,
    active: Queue,
    deferred: Queue,
    corrupt: StateCount,
}

/// The entries of one state, and their totals.
#[derive(Debug, Default)]
struct Queue {
    entries: BTreeMap<QueueId, Slot>,
    count: StateCount,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// File size.
    bytes: u64,
    /// The envelope's `next_attempt` (deferred entries only).
    next_attempt: u64,
}

impl Queue {
    fn insert(&mut self, id: QueueId, slot: Slot) {
        if let Some(old) = self.entries.insert(id, slot) {
            self.count.messages -= 1;
            self.count.bytes -= old.bytes;
        }
        self.count.messages += 1;
        self.count.bytes += slot.bytes;
    }

    fn remove(&mut self, id: &QueueId) -> Option<Slot> {
        let slot = self.entries.remove(id)?;
        self.count.messages -= 1;
        self.count.bytes -= slot.bytes;
        Some(slot)
    }
}

impl Index {
    fn queue(&mut self, state: State) -> &mut Queue {
        match state {
            State::Incoming => &mut self.incoming,
            State::Active => &mut self.active,
            State::Deferred => &mut self.deferred,
            State::Corrupt => unreachable!("corrupt entries are only counted"),
        }
    }

    fn add_corrupt(&mut self, bytes: u64) {
        self.corrupt.messages += 1;
        self.corrupt.bytes += bytes;
    }
}

impl FsSpool {
    /// Opens the spool at `config.dir`, creating it and its state
    /// directories if needed, and takes the spool's lock. Builds the
    /// in-memory index from what is on disk but moves nothing: call
    /// [`Spool::recover`] before the first claim.
    pub fn open(config: &Config) -> Result<Self> {
        let root = config.dir.clone();
        make_dir(&root)?;
        let lock = lock(&root.join("lock"))?;
        let dir = |state: &str| -> Result<Dir> {
            let path = root.join(state);
            make_dir(&path)?;
            let handle = File::open(&path).map_err(Error::io("opening directory", &path))?;
            Ok(Dir { path, handle })
        };
        let spool = FsSpool {
            incoming: dir(State::Incoming.as_str())?,
            active: dir(State::Active.as_str())?,
            deferred: dir(State::Deferred.as_str())?,
            corrupt: dir(State::Corrupt.as_str())?,
            tmp: dir("tmp")?,
            fsync: config.fsync,
            high_water: config.high_water,
            index: Mutex::new(Index::default()),
            corrupt_names: Mutex::new(()),
            _lock: lock,
            root,
        };
        // The new directories themselves must survive a crash.
        if spool.fsync {
            let root =
                File::open(&spool.root).map_err(Error::io("opening directory", &spool.root))?;
            root.sync_all()
                .map_err(Error::io("fsyncing directory", &spool.root))?;
        }
        let index = spool.scan(None)?;
        *spool.index() = index;
        Ok(spool)
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        // The index is updated by plain assignments that cannot panic
        // halfway; a poisoned lock still guards a consistent index.
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn state_dir(&self, state: State) -> &Dir {
        match state {
            State::Incoming => &self.incoming,
            State::Active => &self.active,
            State::Deferred => &self.deferred,
            State::Corrupt => &self.corrupt,
        }
    }

    fn path(&self, state: State, id: &QueueId) -> PathBuf {
        self.state_dir(state).path.join(id.as_str())
    }

    fn sync_dir(&self, dir: &Dir) -> Result<()> {
        if self.fsync {
            dir.handle
                .sync_all()
                .map_err(Error::io("fsyncing directory", &dir.path))?;
        }
        Ok(())
    }

    /// Writes a whole spool file at `path` and fsyncs it; returns its size.
    fn write_file(
        &self,
        path: &Path,
        envelope: &Envelope,
        message: &[u8],
        create_new: bool,
    ) -> Result<u64> {
        let head = format::head(envelope, message.len());
        let mut options = OpenOptions::new();
        options.write(true).mode(0o600);
        if create_new {
            options.create_new(true);
        } else {
            options.create(true).truncate(true);
        }
        let mut file = options.open(path).map_err(Error::io("creating", path))?;
        let written = file
            .write_all(&head)
            .and_then(|()| file.write_all(message))
            .and_then(|()| file.write_all(format::trailer()))
            .and_then(|()| if self.fsync { file.sync_all() } else { Ok(()) });
        if let Err(e) = written {
            let _ = fs::remove_file(path);
            return Err(Error::Io {
                action: "writing",
                path: path.into(),
                source: e,
            });
        }
        Ok((head.len() + message.len() + format::trailer().len()) as u64)
    }

    /// Moves the file `name` of state `from` to `corrupt/`, under a free
    /// name, with the reason beside it. Returns the new path and the size.
    /// Leaves the index to the caller.
    fn move_to_corrupt(&self, from: State, name: &str, reason: &str) -> Result<(PathBuf, u64)> {
        let source = self.state_dir(from).path.join(name);
        let bytes = fs::symlink_metadata(&source)
            .map_err(Error::io("reading", &source))?
            .len();
        let _names = self
            .corrupt_names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let target = (0..)
            .map(|n| {
                if n == 0 {
                    name.to_owned()
                } else {
                    format!("{name}.{n}")
                }
            })
            .map(|name| self.corrupt.path.join(name))
            .find(|path| {
                fs::symlink_metadata(path).is_err()
                    && fs::symlink_metadata(reason_path(path)).is_err()
            })
            .expect("an unbounded search finds a free name");
        fs::rename(&source, &target).map_err(Error::io("moving to corrupt", &source))?;
        let note = format!(
            "{reason}\nfrom {from}/{name} at {} (unix time)\n",
            unix_now()
        );
        if let Err(e) = self.write_note(&reason_path(&target), note.as_bytes()) {
            warn!(path = %target.display(), error = %e, "could not write the reason beside a corrupt spool file");
        }
        self.sync_dir(&self.corrupt)?;
        self.sync_dir(self.state_dir(from))?;
        warn!(from = %from, file = %name, to = %target.display(), reason, "spool file moved to corrupt");
        Ok((target, bytes))
    }

    fn write_note(&self, path: &Path, text: &[u8]) -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(text)?;
        if self.fsync {
            file.sync_all()?;
        }
        Ok(())
    }

    /// Reads the state directories into a new index. With `fix` (during
    /// recover), misnamed and damaged files go to `corrupt/`; without it
    /// (open), they are only logged, or indexed for claim to find.
    fn scan(&self, mut fix: Option<&mut Recovery>) -> Result<Index> {
        let mut index = Index::default();
        for state in [State::Incoming, State::Active, State::Deferred] {
            for name in list(&self.state_dir(state).path)? {
                let Ok(id) = name.parse::<QueueId>() else {
                    match fix.as_deref_mut() {
                        Some(recovery) => {
                            self.move_to_corrupt(state, &name, "file name is not a queue ID")?;
                            recovery.corrupted += 1;
                        }
                        None => {
                            warn!(state = %state, file = %name, "not a queue ID: ignored until recover()")
                        }
                    }
                    continue;
                };
                let path = self.path(state, &id);
                let (bytes, peek) = match peek_file(&path)? {
                    Some(found) => found,
                    None => continue, // gone meanwhile
                };
                match (peek, fix.as_deref_mut()) {
                    (Peek::Ok(envelope), _) => {
                        index.queue(state).insert(
                            id,
                            Slot {
                                bytes,
                                next_attempt: envelope.next_attempt,
                            },
                        );
                    }
                    (Peek::Damaged(damage), Some(recovery)) => {
                        self.move_to_corrupt(state, &name, &damage)?;
                        recovery.corrupted += 1;
                    }
                    (Peek::Damaged(damage), None) => {
                        // claim() reads it whole and moves it to corrupt.
                        warn!(state = %state, queue_id = %id, damage, "damaged spool file");
                        index.queue(state).insert(
                            id,
                            Slot {
                                bytes,
                                next_attempt: 0,
                            },
                        );
                    }
                }
            }
        }
        // Last, so that what was just moved there is counted too.
        for name in list(&self.corrupt.path)? {
            if !name.ends_with(REASON_SUFFIX) {
                let path = self.corrupt.path.join(&name);
                let bytes = fs::symlink_metadata(&path).map(|m| m.len()).unwrap_or(0);
                index.add_corrupt(bytes);
            }
        }
        Ok(index)
    }
}

impl Spool for FsSpool {
    fn enqueue(&self, envelope: &Envelope, message: &[u8]) -> Result<QueueId> {
        // A name already taken means an ID collision (or a stray file):
        // take a new ID rather than overwrite anything.
        for _ in 0..8 {
            let id = QueueId::generate();
            let tmp = self.tmp.path.join(id.as_str());
            let bytes = match self.write_file(&tmp, envelope, message, true) {
                Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
                    continue;
                }
                result => result?,
            };
            let target = self.path(State::Incoming, &id);
            if let Err(e) = fs::hard_link(&tmp, &target) {
                let _ = fs::remove_file(&tmp);
                if e.kind() == io::ErrorKind::AlreadyExists {
                    continue;
                }
                return Err(Error::Io {
                    action: "linking into incoming",
                    path: target,
                    source: e,
                });
            }
            if let Err(e) = self.sync_dir(&self.incoming) {
                // Not acknowledged, so not kept: the client will retry.
                let _ = fs::remove_file(&target);
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
            if let Err(e) = fs::remove_file(&tmp) {
                // Harmless: recover() clears tmp/.
                warn!(path = %tmp.display(), error = %e, "could not remove a temporary spool file");
            }
            self.index().incoming.insert(
                id.clone(),
                Slot {
                    bytes,
                    next_attempt: 0,
                },
            );
            debug!(queue_id = %id, bytes, "enqueued");
            return Ok(id);
        }
        Err(Error::Io {
            action: "choosing a free queue ID in",
            path: self.incoming.path.clone(),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "8 new IDs in a row were taken",
            ),
        })
    }

    fn claim(&self, id: &QueueId) -> Result<Option<Entry>> {
        // Reserve the entry in the index first: of two claims, only one
        // gets past this block.
        let (from, slot) = {
            let mut index = self.index();
            let found = [State::Incoming, State::Deferred]
                .into_iter()
                .find_map(|state| index.queue(state).remove(id).map(|slot| (state, slot)));
            let Some((from, slot)) = found else {
                return Ok(None);
            };
            index.active.insert(id.clone(), slot);
            (from, slot)
        };
        let source = self.path(from, id);
        let target = self.path(State::Active, id);
        if let Err(e) = fs::rename(&source, &target) {
            let mut index = self.index();
            index.active.remove(id);
            if e.kind() == io::ErrorKind::NotFound {
                warn!(queue_id = %id, state = %from, "spool file vanished (removed by hand?)");
                return Ok(None);
            }
            index.queue(from).insert(id.clone(), slot);
            return Err(Error::Io {
                action: "moving to active",
                path: source,
                source: e,
            });
        }
        // On a read error the entry stays in active; recover() puts it back.
        let bytes = fs::read(&target).map_err(Error::io("reading", &target))?;
        match format::decode(&bytes) {
            Ok((envelope, message)) => Ok(Some(Entry {
                id: id.clone(),
                envelope,
                message: message.to_vec(),
            })),
            Err(reason) => {
                let (path, size) = self.move_to_corrupt(State::Active, id.as_str(), &reason)?;
                let mut index = self.index();
                index.active.remove(id);
                index.add_corrupt(size);
                Err(Error::Corrupt {
                    id: id.clone(),
                    path,
                    reason,
                })
            }
        }
    }

    fn incoming(&self) -> Result<Vec<QueueId>> {
        Ok(self.index().incoming.entries.keys().cloned().collect())
    }

    fn due(&self, now: u64) -> Result<Vec<QueueId>> {
        let index = self.index();
        Ok(index
            .deferred
            .entries
            .iter()
            .filter(|(_, slot)| slot.next_attempt <= now)
            .map(|(id, _)| id.clone())
            .collect())
    }

    fn defer(&self, id: &QueueId, envelope: &Envelope, message: &[u8]) -> Result<()> {
        if !self.index().active.entries.contains_key(id) {
            return Err(Error::NotFound {
                id: id.clone(),
                action: "defer",
                wanted: &[State::Active],
            });
        }
        let tmp = self.tmp.path.join(id.as_str());
        let active = self.path(State::Active, id);
        let deferred = self.path(State::Deferred, id);
        let bytes = self.write_file(&tmp, envelope, message, false)?;
        if let Err(e) = fs::rename(&tmp, &active) {
            let _ = fs::remove_file(&tmp);
            return Err(Error::Io {
                action: "replacing",
                path: active,
                source: e,
            });
        }
        fs::rename(&active, &deferred).map_err(Error::io("moving to deferred", &active))?;
        {
            let mut index = self.index();
            index.active.remove(id);
            index.deferred.insert(
                id.clone(),
                Slot {
                    bytes,
                    next_attempt: envelope.next_attempt,
                },
            );
        }
        self.sync_dir(&self.deferred)?;
        self.sync_dir(&self.active)?;
        debug!(queue_id = %id, bytes, next_attempt = envelope.next_attempt, "deferred");
        Ok(())
    }

    fn complete(&self, id: &QueueId) -> Result<()> {
        if !self.index().active.entries.contains_key(id) {
            return Err(Error::NotFound {
                id: id.clone(),
                action: "complete",
                wanted: &[State::Active],
            });
        }
        let path = self.path(State::Active, id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                warn!(queue_id = %id, "active spool file already gone (removed by hand?)");
            }
            Err(e) => {
                return Err(Error::Io {
                    action: "removing",
                    path,
                    source: e,
                });
            }
        }
        self.index().active.remove(id);
        self.sync_dir(&self.active)?;
        debug!(queue_id = %id, "completed");
        Ok(())
    }

    fn corrupt(&self, id: &QueueId, reason: &str) -> Result<()> {
        const WANTED: &[State] = &[State::Active, State::Incoming, State::Deferred];
        // Out of the index first, so that nobody claims it meanwhile.
        let (from, slot) = {
            let mut index = self.index();
            let found = WANTED
                .iter()
                .find_map(|&state| index.queue(state).remove(id).map(|slot| (state, slot)));
            found.ok_or_else(|| Error::NotFound {
                id: id.clone(),
                action: "move to corrupt",
                wanted: WANTED,
            })?
        };
        match self.move_to_corrupt(from, id.as_str(), reason) {
            Ok((_, bytes)) => {
                self.index().add_corrupt(bytes);
                Ok(())
            }
            Err(e) => {
                self.index().queue(from).insert(id.clone(), slot);
                Err(e)
            }
        }
    }

    fn recover(&self) -> Result<Recovery> {
        // Start-up only; holding the index keeps claims out meanwhile.
        let mut index = self.index();
        let mut recovery = Recovery::default();

        for name in list(&self.tmp.path)? {
            let path = self.tmp.path.join(&name);
            let removed = match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
            removed.map_err(Error::io("removing stray temporary file", &path))?;
            recovery.tmp_removed += 1;
        }

        let mut due_now = Vec::new();
        for name in list(&self.active.path)? {
            let Ok(id) = name.parse::<QueueId>() else {
                self.move_to_corrupt(State::Active, &name, "file name is not a queue ID")?;
                recovery.corrupted += 1;
                continue;
            };
            let path = self.path(State::Active, &id);
            let file = fs::read(&path).map_err(Error::io("reading", &path))?;
            let stage = match format::decode(&file) {
                Ok((envelope, _)) => envelope.stage,
                Err(damage) => {
                    self.move_to_corrupt(State::Active, &name, &damage)?;
                    recovery.corrupted += 1;
                    continue;
                }
            };
            let (to, newer) = match stage {
                Stage::Original => (State::Incoming, State::Deferred),
                Stage::Sanitized => (State::Deferred, State::Incoming),
            };
            // Two names for one ID only if a rename was torn: keep the
            // copy already queued, and this one for a human.
            let twin = [to, newer]
                .into_iter()
                .find(|&state| fs::symlink_metadata(self.path(state, &id)).is_ok());
            if let Some(state) = twin {
                let reason = format!("duplicate: {state}/{id} also exists and was kept");
                self.move_to_corrupt(State::Active, &name, &reason)?;
                recovery.corrupted += 1;
                continue;
            }
            let target = self.path(to, &id);
            fs::rename(&path, &target).map_err(Error::io("moving back from active", &path))?;
            match to {
                State::Incoming => recovery.to_incoming += 1,
                _ => {
                    recovery.to_deferred += 1;
                    due_now.push(id);
                }
            }
        }
        for dir in [&self.incoming, &self.deferred, &self.active, &self.tmp] {
            self.sync_dir(dir)?;
        }

        let mut rebuilt = self.scan(Some(&mut recovery))?;
        for id in due_now {
            if let Some(slot) = rebuilt.deferred.entries.get_mut(&id) {
                slot.next_attempt = 0;
            }
        }
        recovery.incoming = rebuilt.incoming.count.messages;
        recovery.deferred = rebuilt.deferred.count.messages;
        *index = rebuilt;
        Ok(recovery)
    }

    fn counts(&self) -> Result<Counts> {
        let index = self.index();
        Ok(Counts {
            incoming: index.incoming.count,
            active: index.active.count,
            deferred: index.deferred.count,
            corrupt: index.corrupt,
            high_water: self.high_water,
        })
    }

    fn list(&self) -> Result<Vec<Queued>> {
        let ids: Vec<(State, QueueId)> = {
            let mut index = self.index();
            [State::Incoming, State::Active, State::Deferred]
                .into_iter()
                .flat_map(|state| {
                    let ids: Vec<QueueId> = index.queue(state).entries.keys().cloned().collect();
                    ids.into_iter().map(move |id| (state, id))
                })
                .collect()
        };
        let mut queued = Vec::with_capacity(ids.len());
        for (state, id) in ids {
            // An entry that moved meanwhile is listed where it went next time.
            if let Some((size, Peek::Ok(envelope))) = peek_file(&self.path(state, &id))? {
                queued.push(Queued {
                    id,
                    state,
                    envelope,
                    size,
                });
            }
        }
        queued.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(queued)
    }

    fn flush(&self, id: Option<&QueueId>, now: u64) -> Result<Vec<QueueId>> {
        let mut index = self.index();
        let mut made_due = Vec::new();
        for (entry, slot) in index.deferred.entries.iter_mut() {
            if id.is_none_or(|id| id == entry) && slot.next_attempt > now {
                slot.next_attempt = now;
                made_due.push(entry.clone());
            }
        }
        Ok(made_due)
    }

    fn remove(&self, id: &QueueId) -> Result<Option<Entry>> {
        // Out of the index first, so that nobody claims it meanwhile.
        let found = {
            let mut index = self.index();
            [State::Incoming, State::Deferred]
                .into_iter()
                .find_map(|state| index.queue(state).remove(id).map(|slot| (state, slot)))
        };
        let Some((from, slot)) = found else {
            return Ok(None);
        };
        let path = self.path(from, id);
        let restore = |e: Error| {
            self.index().queue(from).insert(id.clone(), slot);
            e
        };
        let bytes = fs::read(&path)
            .map_err(Error::io("reading", &path))
            .map_err(restore)?;
        let (envelope, message) = format::decode(&bytes).map_err(|reason| {
            restore(Error::Corrupt {
                id: id.clone(),
                path: path.clone(),
                reason,
            })
        })?;
        let entry = Entry {
            id: id.clone(),
            envelope,
            message: message.to_vec(),
        };
        fs::remove_file(&path)
            .map_err(Error::io("removing", &path))
            .map_err(restore)?;
        self.sync_dir(self.state_dir(from))?;
        debug!(queue_id = %id, state = %from, "removed from the queue");
        Ok(Some(entry))
    }
}

/// Creates a directory (and its parents) 0700 if missing.
fn make_dir(path: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(Error::io("creating directory", path))
}

/// Takes the spool's exclusive lock and writes our PID in it, for admins.
fn lock(path: &Path) -> Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(Error::io("opening lock file", path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked { path: path.into() }),
        Err(fs::TryLockError::Error(e)) => {
            return Err(Error::Io {
                action: "locking",
                path: path.into(),
                source: e,
            });
        }
    }
    let pid = format!("{}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.write_all(pid.as_bytes()))
        .map_err(Error::io("writing", path))?;
    Ok(file)
}

/// The names in a directory, sorted.
fn list(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::io("listing", dir))? {
        let entry = entry.map_err(Error::io("listing", dir))?;
        match entry.file_name().into_string() {
            Ok(name) => names.push(name),
            Err(name) => {
                warn!(dir = %dir.display(), file = ?name, "file name is not UTF-8: ignored")
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Size and a cheap check of one file; None if it is gone.
fn peek_file(path: &Path) -> Result<Option<(u64, Peek)>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Io {
                action: "opening",
                path: path.into(),
                source: e,
            });
        }
    };
    let meta = file.metadata().map_err(Error::io("reading", path))?;
    if !meta.is_file() {
        return Ok(Some((
            meta.len(),
            Peek::Damaged("not a regular file".into()),
        )));
    }
    let peek = format::peek(&mut file, meta.len()).map_err(Error::io("reading", path))?;
    Ok(Some((meta.len(), peek)))
}

fn reason_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(REASON_SUFFIX);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::{Arc, Barrier};

    use super::*;

    fn envelope(stage: Stage) -> Envelope {
        Envelope {
            sender: "a@example.jp".into(),
            recipients: vec!["b@city.lg.jp".into()],
            received_at: 1_700_000_000,
            client_ip: "192.0.2.1".into(),
            helo: "mx.example.jp".into(),
            stage,
            attempts: 0,
            next_attempt: 0,
            last_error: None,
        }
    }

    fn config(dir: &Path) -> Config {
        Config {
            dir: dir.into(),
            ..Config::default()
        }
    }

    fn open(dir: &Path) -> FsSpool {
        FsSpool::open(&config(dir)).unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        list(dir).unwrap()
    }

    #[test]
    fn enqueue_claim_complete() {
        let dir = tempfile::tempdir().unwrap();
        let spool = open(dir.path());
        let message = b"Subject: hi\r\n\r\nhello\r\n";
        let id = spool.enqueue(&envelope(Stage::Original), message).unwrap();
        assert_eq!(names(&dir.path().join("incoming")), [id.as_str()]);
        assert!(
            names(&dir.path().join("tmp")).is_empty(),
            "tmp/ is cleaned after a commit"
        );
        assert_eq!(spool.incoming().unwrap(), std::slice::from_ref(&id));
        let counts = spool.counts().unwrap();
        assert_eq!(counts.incoming.messages, 1);
        assert_eq!(
            counts.incoming.bytes,
            fs::metadata(dir.path().join("incoming").join(id.as_str()))
                .unwrap()
                .len()
        );

        let entry = spool.claim(&id).unwrap().unwrap();
        assert_eq!(
            entry,
            Entry {
                id: id.clone(),
                envelope: envelope(Stage::Original),
                message: message.to_vec()
            }
        );
        assert!(spool.incoming().unwrap().is_empty());
        assert_eq!(names(&dir.path().join("active")), [id.as_str()]);
        assert_eq!(spool.counts().unwrap().active.messages, 1);
        assert!(
            spool.claim(&id).unwrap().is_none(),
            "an active entry cannot be claimed again"
        );

        spool.complete(&id).unwrap();
        assert!(names(&dir.path().join("active")).is_empty());
        assert_eq!(
            spool.counts().unwrap(),
            Counts {
                high_water: 10_000,
                ..Counts::default()
            }
        );
        assert!(matches!(spool.complete(&id), Err(Error::NotFound { .. })));
    }

    #[test]
    fn ids_are_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let spool = open(dir.path());
        let ids: Vec<QueueId> = (0..20)
            .map(|_| spool.enqueue(&envelope(Stage::Original), b"x").unwrap())
            .collect();
        assert_eq!(spool.incoming().unwrap(), ids);
    }

    #[test]
    fn claim_race_has_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Arc::new(open(dir.path()));
        let ids: Vec<QueueId> = (0..50)
            .map(|_| spool.enqueue(&envelope(Stage::Original), b"m").unwrap())
            .collect();
        let barrier = Arc::new(Barrier::new(2));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (spool, ids, barrier) = (spool.clone(), ids.clone(), barrier.clone());
                std::thread::spawn(move || {
                    ids.iter()
                        .map(|id| {
                            barrier.wait();
                            spool.claim(id).unwrap().is_some()
                        })
                        .collect::<Vec<bool>>()
                })
            })
            .collect();
        let results: Vec<Vec<bool>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        for (i, (first, second)) in results[0].iter().zip(&results[1]).enumerate() {
            assert!(first ^ second, "entry {i}: exactly one claim wins");
        }
        assert_eq!(spool.counts().unwrap().active.messages, ids.len());
        assert_eq!(names(&dir.path().join("active")).len(), ids.len());
    }

    #[test]
    fn defer_then_due_respects_next_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let spool = open(dir.path());
        let id = spool
            .enqueue(&envelope(Stage::Original), b"original")
            .unwrap();
        spool.claim(&id).unwrap().unwrap();
        let mut later = envelope(Stage::Sanitized);
        later.next_attempt = 1_000;
        later.attempts = 1;
        spool.defer(&id, &later, b"sanitized").unwrap();
        assert!(names(&dir.path().join("active")).is_empty());
        assert_eq!(names(&dir.path().join("deferred")), [id.as_str()]);
        assert!(spool.due(999).unwrap().is_empty());
        assert_eq!(spool.due(1_000).unwrap(), std::slice::from_ref(&id));
        assert_eq!(spool.counts().unwrap().deferred.messages, 1);
        assert!(spool.incoming().unwrap().is_empty());

        // The due time survives a restart: it is in the file.
        drop(spool);
        let spool = open(dir.path());
        assert!(spool.due(999).unwrap().is_empty());
        assert_eq!(spool.due(1_000).unwrap(), std::slice::from_ref(&id));

        let entry = spool.claim(&id).unwrap().unwrap();
        assert_eq!(entry.envelope, later);
        assert_eq!(entry.message, b"sanitized");
        assert!(spool.due(u64::MAX).unwrap().is_empty());
        spool.complete(&id).unwrap();
        assert_eq!(spool.counts().unwrap().queued(), 0);
    }

    #[test]
    fn defer_needs_a_claim() {
        let dir = tempfile::tempdir().unwrap();
        let spool = open(dir.path());
        let id = spool.enqueue(&envelope(Stage::Original), b"m").unwrap();
        let err = spool
            .defer(&id, &envelope(Stage::Sanitized), b"s")
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotFound {
                    action: "defer",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("not in active"), "{err}");
        assert_eq!(spool.incoming().unwrap(), [id]);
    }

    #[test]
    fn recover_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c, d);
        {
            let spool = open(dir.path());
            a = spool.enqueue(&envelope(Stage::Original), b"a").unwrap();
            b = spool.enqueue(&envelope(Stage::Original), b"b").unwrap();
            c = spool.enqueue(&envelope(Stage::Original), b"c").unwrap();
            d = spool.enqueue(&envelope(Stage::Original), b"d").unwrap();
            // a: a worker was sanitizing it.
            spool.claim(&a).unwrap().unwrap();
            // b: crashed inside defer(), after the sanitized copy replaced
            // the original in active/.
            spool.claim(&b).unwrap().unwrap();
            let mut sanitized = envelope(Stage::Sanitized);
            sanitized.next_attempt = u64::MAX;
            fs::write(
                dir.path().join("active").join(b.as_str()),
                format::encode(&sanitized, b"b, sanitized"),
            )
            .unwrap();
            // c: a sanitized entry being delivered.
            spool.claim(&c).unwrap().unwrap();
            spool
                .defer(&c, &envelope(Stage::Sanitized), b"c, sanitized")
                .unwrap();
            spool.claim(&c).unwrap().unwrap();
            // Writes that never completed, and junk.
            fs::write(
                dir.path().join("tmp").join(QueueId::generate().as_str()),
                b"MUKAIKA-SPOOL 1 100 1",
            )
            .unwrap();
            fs::write(dir.path().join("tmp").join("x"), b"").unwrap();
            fs::write(dir.path().join("active").join("not-an-id"), b"junk").unwrap();
            fs::write(
                dir.path().join("active").join(QueueId::generate().as_str()),
                b"MUKAIKA-SPOOL 1 5",
            )
            .unwrap();
            // The process dies here: no complete(), no cleanup.
        }
        let spool = open(dir.path());
        // open() moves nothing: a, b, c and the damaged file are still active.
        assert_eq!(spool.counts().unwrap().active.messages, 4);
        let recovery = spool.recover().unwrap();
        assert_eq!(
            recovery,
            Recovery {
                to_incoming: 1,
                to_deferred: 2,
                tmp_removed: 2,
                corrupted: 2,
                incoming: 2,
                deferred: 2
            },
            "{recovery}"
        );
        assert!(names(&dir.path().join("active")).is_empty());
        assert!(names(&dir.path().join("tmp")).is_empty());
        assert_eq!(spool.incoming().unwrap(), [a.clone(), d.clone()]);
        assert_eq!(
            spool.due(0).unwrap(),
            [b.clone(), c.clone()],
            "recovered sanitized entries are due now"
        );
        let counts = spool.counts().unwrap();
        assert_eq!((counts.active.messages, counts.corrupt.messages), (0, 2));
        assert_eq!(spool.claim(&a).unwrap().unwrap().message, b"a");
        assert_eq!(spool.claim(&b).unwrap().unwrap().message, b"b, sanitized");
        assert_eq!(spool.claim(&c).unwrap().unwrap().message, b"c, sanitized");
        assert_eq!(spool.claim(&d).unwrap().unwrap().message, b"d");
        assert!(
            names(&dir.path().join("corrupt"))
                .iter()
                .any(|n| n == "not-an-id.reason")
        );
    }

    #[test]
    fn recover_keeps_the_queued_twin() {
        let dir = tempfile::tempdir().unwrap();
        let id;
        {
            let spool = open(dir.path());
            id = spool
                .enqueue(&envelope(Stage::Original), b"original")
                .unwrap();
            spool.claim(&id).unwrap().unwrap();
            spool
                .defer(&id, &envelope(Stage::Sanitized), b"sanitized")
                .unwrap();
            // A torn rename on a file system without atomic rename.
            fs::write(
                dir.path().join("active").join(id.as_str()),
                format::encode(&envelope(Stage::Original), b"original"),
            )
            .unwrap();
        }
        let spool = open(dir.path());
        let recovery = spool.recover().unwrap();
        assert_eq!(
            (recovery.corrupted, recovery.to_incoming, recovery.deferred),
            (1, 0, 1)
        );
        assert_eq!(spool.claim(&id).unwrap().unwrap().message, b"sanitized");
        let reason =
            fs::read_to_string(dir.path().join("corrupt").join(format!("{id}.reason"))).unwrap();
        assert!(reason.starts_with("duplicate: deferred/"), "{reason}");
    }

    #[test]
    fn truncated_file_goes_to_corrupt_on_claim() {
        let dir = tempfile::tempdir().unwrap();
        let spool = open(dir.path());
        let id = spool
            .enqueue(
                &envelope(Stage::Original),
                b"Subject: x\r\n\r\nlong enough body\r\n",
            )
            .unwrap();
        let path = dir.path().join("incoming").join(id.as_str());
        let len = fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 10)
            .unwrap();

        let err = spool.claim(&id).unwrap_err();
        let Error::Corrupt {
            id: bad,
            path: moved,
            reason,
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(bad, &id);
        assert_eq!(moved, &dir.path().join("corrupt").join(id.as_str()));
        assert!(reason.contains("cut short"), "{reason}");
        assert!(moved.exists());
        let note =
            fs::read_to_string(dir.path().join("corrupt").join(format!("{id}.reason"))).unwrap();
        assert!(
            note.contains("cut short") && note.contains("from active/"),
            "{note}"
        );
        let counts = spool.counts().unwrap();
        assert_eq!(
            (
                counts.queued(),
                counts.corrupt.messages,
                counts.corrupt.bytes
            ),
            (0, 1, len - 10)
        );
        assert!(spool.claim(&id).unwrap().is_none());
    }

    #[test]
    fn truncated_file_goes_to_corrupt_on_recover() {
        let dir = tempfile::tempdir().unwrap();
        let (good, bad);
        {
            let spool = open(dir.path());
            good = spool.enqueue(&envelope(Stage::Original), b"good").unwrap();
            bad = spool
                .enqueue(&envelope(Stage::Original), b"bad message")
                .unwrap();
        }
        let path = dir.path().join("incoming").join(bad.as_str());
        let len = fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 1)
            .unwrap();
        let spool = open(dir.path());
        let recovery = spool.recover().unwrap();
        assert_eq!((recovery.corrupted, recovery.incoming), (1, 1));
        assert_eq!(spool.incoming().unwrap(), [good]);
        assert!(dir.path().join("corrupt").join(bad.as_str()).exists());
        // And it stays counted as corrupt after a restart.
        drop(spool);
        assert_eq!(open(dir.path()).counts().unwrap().corrupt.messages, 1);
    }

    #[test]
    fn corrupt_moves_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let spool = open(dir.path());
        let id = spool.enqueue(&envelope(Stage::Original), b"m").unwrap();
        // A previous entry of the same name in corrupt/ is kept.
        fs::write(dir.path().join("corrupt").join(id.as_str()), b"older").unwrap();
        spool.corrupt(&id, "the worker could not parse it").unwrap();
        assert!(spool.incoming().unwrap().is_empty());
        assert_eq!(
            fs::read(dir.path().join("corrupt").join(id.as_str())).unwrap(),
            b"older"
        );
        let moved = dir.path().join("corrupt").join(format!("{id}.1"));
        assert!(fs::read(&moved).unwrap().starts_with(b"MUKAIKA-SPOOL 1 "));
        assert!(
            fs::read_to_string(reason_path(&moved))
                .unwrap()
                .starts_with("the worker could not parse it\n")
        );
        assert_eq!(spool.counts().unwrap().corrupt.messages, 1);
        assert!(matches!(
            spool.corrupt(&id, "again"),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn second_open_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let spool = open(dir.path());
        let err = FsSpool::open(&config(dir.path()))
            .err()
            .expect("a second open must fail");
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        drop(spool);
        open(dir.path());
    }

    #[test]
    fn high_water_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let spool = FsSpool::open(&Config {
            high_water: 2,
            ..config(dir.path())
        })
        .unwrap();
        let a = spool.enqueue(&envelope(Stage::Original), b"aa").unwrap();
        spool.enqueue(&envelope(Stage::Original), b"b").unwrap();
        assert!(!spool.counts().unwrap().over_high_water());
        spool.enqueue(&envelope(Stage::Original), b"c").unwrap();
        assert!(spool.counts().unwrap().over_high_water());
        spool.claim(&a).unwrap().unwrap();
        assert!(
            spool.counts().unwrap().over_high_water(),
            "active entries count"
        );
        spool.complete(&a).unwrap();
        let counts = spool.counts().unwrap();
        assert!(!counts.over_high_water());
        assert_eq!(counts.incoming.messages, 2);
        // Counts after a restart match the running ones.
        drop(spool);
        let reopened = FsSpool::open(&Config {
            high_water: 2,
            ..config(dir.path())
        })
        .unwrap();
        assert_eq!(reopened.counts().unwrap(), counts);
    }

    #[test]
    fn files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("spool");
        let spool = open(&root);
        let id = spool.enqueue(&envelope(Stage::Original), b"m").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("incoming")), 0o700);
        assert_eq!(mode(&root.join("incoming").join(id.as_str())), 0o600);
    }

    #[test]
    fn works_without_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let spool = FsSpool::open(&Config {
            fsync: false,
            ..config(dir.path())
        })
        .unwrap();
        let id = spool.enqueue(&envelope(Stage::Original), b"m").unwrap();
        assert_eq!(spool.claim(&id).unwrap().unwrap().message, b"m");
        spool.complete(&id).unwrap();
    }

    #[test]
    fn spool_is_object_safe() {
        let dir = tempfile::tempdir().unwrap();
        let spool: Arc<dyn Spool> = Arc::new(open(dir.path()));
        assert_eq!(spool.recover().unwrap(), Recovery::default());
    }

    #[test]
    fn list_flush_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let spool = open(dir.path());
        let waiting = spool.enqueue(&envelope(Stage::Original), b"first").unwrap();
        let later = spool
            .enqueue(&envelope(Stage::Original), b"second")
            .unwrap();
        spool.claim(&later).unwrap().unwrap();
        let mut sanitized = envelope(Stage::Sanitized);
        sanitized.next_attempt = 5_000;
        sanitized.last_error = Some("451 try later".into());
        spool.defer(&later, &sanitized, b"sanitized").unwrap();

        let listed = spool.list().unwrap();
        let states: Vec<(QueueId, State)> =
            listed.iter().map(|q| (q.id.clone(), q.state)).collect();
        assert_eq!(
            states,
            [
                (waiting.clone(), State::Incoming),
                (later.clone(), State::Deferred)
            ]
        );
        assert_eq!(
            listed[1].envelope.last_error.as_deref(),
            Some("451 try later")
        );
        assert!(listed[1].size > 9);

        // Flush makes it due now, once; a named flush touches only that one.
        assert!(spool.due(1_000).unwrap().is_empty());
        assert!(
            spool.flush(Some(&waiting), 1_000).unwrap().is_empty(),
            "not deferred"
        );
        assert_eq!(
            spool.flush(None, 1_000).unwrap(),
            std::slice::from_ref(&later)
        );
        assert_eq!(spool.due(1_000).unwrap(), std::slice::from_ref(&later));
        assert!(spool.flush(None, 1_000).unwrap().is_empty(), "already due");

        // Remove gives back what it removes, durably; an active entry stays.
        let removed = spool.remove(&later).unwrap().unwrap();
        assert_eq!(removed.message, b"sanitized");
        assert_eq!(removed.envelope.stage, Stage::Sanitized);
        assert!(!spool.path(State::Deferred, &later).exists());
        assert_eq!(spool.remove(&later).unwrap(), None);
        spool.claim(&waiting).unwrap().unwrap();
        assert_eq!(
            spool.remove(&waiting).unwrap(),
            None,
            "active: being worked on"
        );
        assert_eq!(spool.counts().unwrap().queued(), 1);
    }
}
