/*!
Mukaika's audit log: who did what, from where, to which message, one JSON
line per action, each line chained to the one before it by its SHA-256.

The operator console (logins, views and downloads of originals, requests,
approvals, refusals, releases, deletions) and the `mukaika user` command
append to the same file through [`AuditLog::append`]; `mukaika audit
verify` checks the chain with [`verify`].

# The file

One line per [`Entry`], as JSON, with two fields added: `time` (RFC 3339,
UTC, derived from `at`, for people reading the file) and `prev`, the
lowercase hex SHA-256 of the previous line's bytes without its newline
(64 zeros on the first line):

```text
{"at":1764961835,"time":"2025-12-05T19:10:35Z","user":"cli:taro","client":"local","action":"user-add","queue_id":null,"sha256":null,"detail":"hanako (approver)","prev":"0000…0000"}
{"at":1764961900,"time":"2025-12-05T19:11:40Z","user":"hanako","client":"192.0.2.7","action":"login","queue_id":null,"sha256":null,"detail":"","prev":"9f2c…"}
```

An edited, removed, inserted or reordered line breaks the chain at the
first line after the change, and [`verify`] names that line. A line cut
short (a crash in the middle of an append) is named too. What the chain
cannot show on its own is the loss of the *last* lines, or of the whole
file: every append also goes to the daemon's log (`target: "audit"`, with
the new line's hash), which can be kept elsewhere.

# Appends

The daemon and the CLI append at the same time, each with its own handle.
An append takes an `flock` on the file, reads the last line actually in
the file (never a hash cached from an earlier append: another process may
have written since), writes one line with `O_APPEND` and fsyncs before it
returns. Lines are at most [`MAX_LINE`] bytes; [`verify`] never reads more
than that into memory at once.

# Example

```
use mukaika_audit::{Action, AuditLog, Entry, verify};

let dir = tempfile::tempdir()?;
let path = dir.path().join("audit.log");
let log = AuditLog::open(&path)?;
log.append(&Entry::new("cli:taro", "local", Action::UserAdd).detail("hanako (approver)"))?;
log.append(&Entry::new("hanako", "192.0.2.7", Action::Login))?;
assert_eq!(verify(&path)?.lines, 2);
# Ok::<(), Box<dyn std::error::Error>>(())
```

# What this crate is not

It does not decide what is logged: callers write an entry for each action,
and they never put a password, a session id or a token in `detail`.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod line;
mod log;
mod verify;

use serde::{Deserialize, Serialize};

pub use error::{Error, Result};
pub use line::rfc3339;
pub use log::AuditLog;
pub use verify::{Broken, Verified, VerifyError, verify};

/// Longest line written or read, in bytes, without its newline.
pub const MAX_LINE: usize = 64 * 1024;

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One action, as the caller describes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// Unix seconds.
    pub at: u64,
    /// A console user, `cli:<os user>`, or `recipient:<address>`.
    pub user: String,
    /// The client's IP address, or `local` for the CLI.
    pub client: String,
    /// What was done.
    pub action: Action,
    /// The quarantined message it was done to.
    pub queue_id: Option<String>,
    /// SHA-256 (lowercase hex) of what was released or downloaded.
    pub sha256: Option<String>,
    /// Free text: the user name and role changed, the next hop's reply.
    /// Never a password, a session id or a token.
    pub detail: String,
}

impl Entry {
    /// An entry for now, without message, hash or detail.
    pub fn new(user: impl Into<String>, client: impl Into<String>, action: Action) -> Self {
        Self {
            at: unix_now(),
            user: user.into(),
            client: client.into(),
            action,
            queue_id: None,
            sha256: None,
            detail: String::new(),
        }
    }

    /// With this queue id.
    pub fn queue_id(mut self, id: impl Into<String>) -> Self {
        self.queue_id = Some(id.into());
        self
    }

    /// With this hash of what was released or downloaded.
    pub fn sha256(mut self, hex: impl Into<String>) -> Self {
        self.sha256 = Some(hex.into());
        self
    }

    /// With this detail.
    pub fn detail(mut self, text: impl Into<String>) -> Self {
        self.detail = text.into();
        self
    }
}

/// What was done. Written in kebab-case: `login-failed`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A console login.
    Login,
    /// A refused console login (wrong password, unknown user, locked out).
    LoginFailed,
    /// A console logout.
    Logout,
    /// An original shown in the console.
    ViewOriginal,
    /// An original downloaded from the console.
    DownloadOriginal,
    /// A recipient asked for an original (from a notice's link).
    Request,
    /// An approver approved a release.
    Approve,
    /// An approver refused a release.
    Refuse,
    /// An original was delivered to the next hop.
    Release,
    /// A release was tried and failed.
    ReleaseFailed,
    /// A quarantine record was deleted.
    Delete,
    /// The queue was flushed (deferred messages retried now).
    Flush,
    /// A queued message was deleted.
    QueueDelete,
    /// A console user was created.
    UserAdd,
    /// A console user's password was changed.
    UserPasswd,
    /// A console user was deleted.
    UserDel,
    /// A console user's role was changed.
    UserRole,
    /// A file was uploaded to the console.
    Upload,
}

impl Action {
    /// The action as written in the log: `login-failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login-failed",
            Action::Logout => "logout",
            Action::ViewOriginal => "view-original",
            Action::DownloadOriginal => "download-original",
            Action::Request => "request",
            Action::Approve => "approve",
            Action::Refuse => "refuse",
            Action::Release => "release",
            Action::ReleaseFailed => "release-failed",
            Action::Delete => "delete",
            Action::Flush => "flush",
            Action::QueueDelete => "queue-delete",
            Action::UserAdd => "user-add",
            Action::UserPasswd => "user-passwd",
            Action::UserDel => "user-del",
            Action::UserRole => "user-role",
            Action::Upload => "upload",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_the_serde_names() {
        for action in [
            Action::Login,
            Action::LoginFailed,
            Action::ViewOriginal,
            Action::QueueDelete,
            Action::UserPasswd,
            Action::UserRole,
            Action::Upload,
        ] {
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
        }
    }
}
