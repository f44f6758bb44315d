//! NAME
//!   users - the console's users file
//!
//! DESCRIPTION
//!   JSON: `{"users": [{"name", "role", "hash", "created_at"}]}`, the hash
//!   an argon2id PHC string. Written whole: `FILE.tmp` (0600), fsync,
//!   rename, fsync of the directory. `mukaika user` edits it while the
//!   daemon runs; the daemon calls [`Users::reload`], which re-reads it
//!   when its size or time changed.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

use crate::{Error, Result, Role};

/// The users file is small: a larger one is not ours.
const MAX_FILE: u64 = 4 << 20;
/// Passwords: at least this many characters…
const MIN_PASSWORD_CHARS: usize = 12;
/// …and at most this many bytes (argon2 takes any length; a megabyte
/// password is an attack on the CPU, not a password).
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    name: String,
    role: Role,
    hash: String,
    created_at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File_ {
    users: Vec<Stored>,
}

/// What `mukaika user list` shows of a user: never the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// The login name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// Unix seconds when the user was added.
    pub created_at: u64,
}

/// The users file, loaded.
#[derive(Debug)]
pub struct Users {
    path: PathBuf,
    users: Vec<Stored>,
    /// Size and time of the file as last read, to see a change.
    seen: Option<(u64, SystemTime)>,
}

/// OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane (about 30 ms).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash no password matches, verified against when the user does not
/// exist, so that a login costs the same either way.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let random = crate::random_token();
        argon2()
            .hash_password(random.as_bytes())
            .expect("hashing")
            .to_string()
    })
}

/// A user name: 1 to 64 of `A-Z a-z 0-9 . _ @ -`.
pub fn check_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{name:?}: a user name is 1 to 64 letters, digits, '.', '_', '@' or '-'"
        )))
    }
}

/// A password for `name`: 12 characters or more, at most 1,024 bytes, not
/// the name.
pub fn check_password(name: &str, password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::Invalid(format!(
            "a password has at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if password.eq_ignore_ascii_case(name) {
        return Err(Error::Invalid("a password is not the user name".into()));
    }
    Ok(())
}

fn hash(password: &str) -> Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Invalid(format!("hashing the password: {e}")))
}

impl Users {
    /// The users in `path`; a missing file is no users.
    pub fn open(path: &Path) -> Result<Self> {
        let mut users = Self {
            path: path.into(),
            users: Vec::new(),
            seen: None,
        };
        users.read()?;
        Ok(users)
    }

    fn stamp(&self) -> Option<(u64, SystemTime)> {
        let meta = fs::metadata(&self.path).ok()?;
        Some((meta.len(), meta.modified().ok()?))
    }

    fn read(&mut self) -> Result<()> {
        let stamp = self.stamp();
        let Some((len, _)) = stamp else {
            self.users.clear();
            self.seen = None;
            return Ok(());
        };
        let damaged = |reason: String| Error::Damaged {
            path: self.path.clone(),
            reason,
        };
        if len > MAX_FILE {
            return Err(damaged(format!("{len} bytes: not a users file")));
        }
        let mode = fs::metadata(&self.path)
            .map_err(Error::io("reading", &self.path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(damaged("readable by group or others: chmod 600 it".into()));
        }
        let bytes = fs::read(&self.path).map_err(Error::io("reading", &self.path))?;
        let file: File_ = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
        self.users = file.users;
        self.seen = stamp;
        Ok(())
    }

    /// Re-reads the file if it changed since it was read. Returns the users
    /// whose password or role changed, or who were removed: their sessions
    /// must end.
    pub fn reload(&mut self) -> Result<Vec<String>> {
        if self.stamp() == self.seen {
            return Ok(Vec::new());
        }
        let before = std::mem::take(&mut self.users);
        self.read()?;
        let changed = before
            .into_iter()
            .filter(|old| {
                !self
                    .users
                    .iter()
                    .any(|new| new.name == old.name && new.hash == old.hash && new.role == old.role)
            })
            .map(|old| old.name)
            .collect();
        Ok(changed)
    }

    fn write(&mut self) -> Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(Error::io("creating the directory of", &self.path))?;
        }
        let tmp = self.path.with_extension("tmp");
        let json = serde_json::to_vec_pretty(&File_ {
            users: self.users.clone(),
        })
        .expect("users always encode");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(Error::io("creating", &tmp))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(Error::io("writing", &tmp))?;
        fs::rename(&tmp, &self.path).map_err(Error::io("renaming into place", &tmp))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(Error::io("fsyncing", dir))?;
        }
        self.seen = self.stamp();
        Ok(())
    }

    /// Runs a change under the file's lock, on the file as it is now: the
    /// CLI and the daemon (or two CLIs) never overwrite each other.
    fn change<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(Error::io("creating the directory of", &self.path))?;
        }
        let lock_path = self.path.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(Error::io("opening", &lock_path))?;
        lock.lock().map_err(Error::io("locking", &lock_path))?;
        self.read()?;
        f(self)
        // The lock goes with `lock`.
    }

    fn find(&mut self, name: &str) -> Result<&mut Stored> {
        self.users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| Error::NoSuchUser(name.into()))
    }

    /// Adds `name` with `role`; refuses an existing name or a weak password.
    pub fn add(&mut self, name: &str, role: Role, password: &str) -> Result<()> {
        check_name(name)?;
        check_password(name, password)?;
        let hash = hash(password)?;
        self.change(|users| {
            if users.users.iter().any(|u| u.name == name) {
                return Err(Error::Invalid(format!("user {name:?} exists already")));
            }
            let created_at = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            users.users.push(Stored {
                name: name.into(),
                role,
                hash,
                created_at,
            });
            users.write()
        })
    }

    /// Sets `name`'s password.
    pub fn set_password(&mut self, name: &str, password: &str) -> Result<()> {
        check_password(name, password)?;
        let hash = hash(password)?;
        self.change(|users| {
            users.find(name)?.hash = hash;
            users.write()
        })
    }

    /// Sets `name`'s role.
    pub fn set_role(&mut self, name: &str, role: Role) -> Result<()> {
        self.change(|users| {
            users.find(name)?.role = role;
            users.write()
        })
    }

    /// Removes `name`; false if there was none.
    pub fn remove(&mut self, name: &str) -> Result<bool> {
        self.change(|users| {
            let before = users.users.len();
            users.users.retain(|u| u.name != name);
            if users.users.len() == before {
                return Ok(false);
            }
            users.write()?;
            Ok(true)
        })
    }

    /// Every user, by name.
    pub fn list(&self) -> Vec<UserInfo> {
        let mut list: Vec<UserInfo> = self
            .users
            .iter()
            .map(|u| UserInfo {
                name: u.name.clone(),
                role: u.role,
                created_at: u.created_at,
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// `name`'s role if `password` is theirs. One argon2id verification
    /// whether or not the user exists.
    pub fn verify(&self, name: &str, password: &str) -> Option<Role> {
        let user = self.users.iter().find(|u| u.name == name);
        let stored = user.map_or(decoy(), |u| u.hash.as_str());
        let matches = password.len() <= MAX_PASSWORD_BYTES
            && PasswordHash::new(stored)
                .is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok());
        user.filter(|_| matches).map(|u| u.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_round_trip_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin/users.json");
        let mut users = Users::open(&path).unwrap();
        assert!(users.list().is_empty());
        users
            .add("kanri", Role::Admin, "correct horse battery")
            .unwrap();
        users
            .add("shonin", Role::Approver, "another long password")
            .unwrap();
        assert!(
            users
                .add("kanri", Role::Viewer, "whatever it is now")
                .is_err(),
            "exists"
        );
        assert!(users.add("x", Role::Viewer, "short").is_err(), "weak");
        assert!(
            users
                .add("bad name", Role::Viewer, "long enough password")
                .is_err()
        );
        assert!(
            users
                .add("longenoughname", Role::Viewer, "LONGENOUGHNAME")
                .is_err(),
            "the name"
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "{text}");
        assert!(!text.contains("correct horse"), "never the password");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        assert_eq!(
            users.verify("kanri", "correct horse battery"),
            Some(Role::Admin)
        );
        assert_eq!(users.verify("kanri", "correct horse batterY"), None);
        assert_eq!(users.verify("nobody", "correct horse battery"), None);
        users
            .set_password("kanri", "a brand new passphrase")
            .unwrap();
        assert_eq!(users.verify("kanri", "correct horse battery"), None);
        users.set_role("shonin", Role::Viewer).unwrap();

        // Another handle (the CLI) changes the file; reload sees it.
        let mut other = Users::open(&path).unwrap();
        assert_eq!(
            other.verify("kanri", "a brand new passphrase"),
            Some(Role::Admin)
        );
        assert!(other.remove("shonin").unwrap());
        assert!(!other.remove("shonin").unwrap());
        users.reload().unwrap();
        assert_eq!(
            users
                .list()
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>(),
            ["kanri"]
        );
        assert!(matches!(
            users.set_password("ghost", "long enough password"),
            Err(Error::NoSuchUser(_))
        ));
    }

    #[test]
    fn a_damaged_or_open_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");
        fs::write(&path, b"{not json").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Users::open(&path).is_err());
        fs::write(&path, b"{\"users\": []}").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Users::open(&path).is_err(), "readable by others");
    }
}
