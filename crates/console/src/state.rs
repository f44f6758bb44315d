//! What every request handler shares: the settings, the stores, the
//! accounts and sessions, the signing key and the audit log.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};

use mukaika_access::{Secret, Sessions, Throttle, Users};
use mukaika_audit::{Action, AuditLog, Entry};
use mukaika_spool::{QueueId, unix_now};

use crate::Config;
use crate::http::error::Failure;
use crate::seams::Deps;

/// The console's shared state.
pub struct State {
    pub config: Config,
    pub deps: Deps,
    /// The users file, re-read when `mukaika user` changed it.
    pub users: RwLock<Users>,
    pub sessions: Sessions,
    pub throttle: Throttle,
    /// Signs recipient links and their forms.
    pub secret: Secret,
    pub audit: AuditLog,
    /// Records whose release is being delivered right now: a second
    /// approver's click meanwhile is a conflict, never a second delivery.
    busy: Mutex<HashSet<QueueId>>,
    /// Cookies get `Secure` when the console speaks HTTPS.
    pub secure_cookies: bool,
    /// Unix seconds, replaceable for tests of expiry.
    pub clock: fn() -> u64,
}

/// The state as handlers get it.
pub type Shared = Arc<State>;

impl State {
    /// Opens the users file, the secret and the audit log named by `config`.
    pub fn open(config: &Config, deps: Deps) -> Result<Self, String> {
        let users =
            Users::open(&config.users_file).map_err(|e| format!("admin.users_file: {e}"))?;
        let secret = Secret::load_or_create(&config.secret_file)
            .map_err(|e| format!("admin.secret_file: {e}"))?;
        let audit =
            AuditLog::open(&config.audit_log).map_err(|e| format!("admin.audit_log: {e}"))?;
        Ok(Self {
            users: RwLock::new(users),
            sessions: Sessions::new(config.session_idle_secs),
            throttle: Throttle::new(config.login_max_failures, config.login_lockout_secs),
            secret,
            audit,
            busy: Mutex::new(HashSet::new()),
            secure_cookies: config.tls_cert.is_some(),
            clock: unix_now,
            config: config.clone(),
            deps,
        })
    }

    /// Now, in unix seconds.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Appends to the audit log. An action that cannot be recorded must
    /// not happen: the caller turns the failure into a refusal.
    pub fn audit(&self, entry: Entry) -> Result<(), Failure> {
        self.audit
            .append(&entry)
            .map_err(|e| Failure::Internal(format!("audit log: {e}")))
    }

    /// Appends to the audit log after the fact: a failure is logged loudly
    /// (the act happened and cannot be undone).
    pub fn audit_after(&self, entry: Entry) {
        if let Err(e) = self.audit.append(&entry) {
            tracing::error!(error = %e, action = entry.action.as_str(), "AUDIT LOG NOT WRITTEN");
        }
    }

    /// An entry for `action` by `user` from `client`, at now.
    pub fn entry(&self, user: &str, client: IpAddr, action: Action) -> Entry {
        let mut entry = Entry::new(user, client.to_string(), action);
        entry.at = self.now();
        entry
    }

    /// Marks `id` as being released; false if it already is.
    pub fn claim(&self, id: &QueueId) -> Option<Claim<'_>> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        busy.insert(id.clone()).then(|| Claim {
            state: self,
            id: id.clone(),
        })
    }

    /// Re-reads the users file if `mukaika user` changed it meanwhile; the
    /// sessions of users whose password or role changed, or who were
    /// removed, end.
    pub fn reload_users(&self) {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        match users.reload() {
            Ok(changed) => {
                for name in changed {
                    self.sessions.remove_user(&name);
                    tracing::info!(user = %name, "console user changed: their sessions ended");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "re-reading the console's users file failed; the old list stays")
            }
        }
    }
}

/// A release in progress on one record, ended when dropped.
pub struct Claim<'a> {
    state: &'a State,
    id: QueueId,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut busy = self.state.busy.lock().unwrap_or_else(|e| e.into_inner());
        busy.remove(&self.id);
    }
}
