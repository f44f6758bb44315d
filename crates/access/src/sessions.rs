//! NAME
//!   sessions - who is logged in to the console, in memory
//!
//! DESCRIPTION
//!   A session is a 256-bit random id (the cookie) with its user, role and
//!   CSRF token; it ends after `idle_secs` without a request. Memory only:
//!   a restart logs everyone out. Bounded: past `MAX_SESSIONS` the session
//!   idle longest is dropped.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::Role;
use crate::secret::random_token;

/// Sessions kept at most.
const MAX_SESSIONS: usize = 10_000;

/// One logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user name.
    pub user: String,
    /// The role at login.
    pub role: Role,
    /// The token every state-changing request must carry.
    pub csrf: String,
    /// Unix seconds of the login.
    pub created_at: u64,
    last_seen: u64,
}

/// A session just made: its id for the cookie and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session id (the cookie's value).
    pub id: String,
    /// The CSRF token.
    pub csrf: String,
}

/// The console's sessions.
#[derive(Debug)]
pub struct Sessions {
    idle_secs: u64,
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// No sessions yet; each ends after `idle_secs` without a request.
    pub fn new(idle_secs: u64) -> Self {
        Self {
            idle_secs,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session for `user` at `now`.
    pub fn create(&self, user: &str, role: Role, now: u64) -> NewSession {
        let new = NewSession {
            id: random_token(),
            csrf: random_token(),
        };
        let mut map = self.map();
        map.retain(|_, s| now.saturating_sub(s.last_seen) <= self.idle_secs);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(id, _)| id.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            new.id.clone(),
            Session {
                user: user.into(),
                role,
                csrf: new.csrf.clone(),
                created_at: now,
                last_seen: now,
            },
        );
        new
    }

    /// The session `id`, touched at `now`; none if unknown or idle too long.
    pub fn get(&self, id: &str, now: u64) -> Option<Session> {
        let mut map = self.map();
        let session = map.get_mut(id)?;
        if now.saturating_sub(session.last_seen) > self.idle_secs {
            map.remove(id);
            return None;
        }
        session.last_seen = now.max(session.last_seen);
        Some(session.clone())
    }

    /// Ends session `id`.
    pub fn remove(&self, id: &str) {
        self.map().remove(id);
    }

    /// Ends every session of `user` (after a password change or deletion).
    pub fn remove_user(&self, user: &str) {
        self.map().retain(|_, s| s.user != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_or_removed() {
        let sessions = Sessions::new(60);
        let a = sessions.create("a", Role::Viewer, 1000);
        let b = sessions.create("b", Role::Admin, 1000);
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, b.csrf);
        assert_eq!(sessions.get(&a.id, 1050).unwrap().role, Role::Viewer);
        assert!(sessions.get(&a.id, 1110).is_some(), "touched at 1050");
        assert!(sessions.get(&a.id, 1171).is_none(), "idle for 61 s");
        assert!(sessions.get(&a.id, 1172).is_none(), "and gone");
        sessions.remove_user("b");
        assert!(sessions.get(&b.id, 1000).is_none());
        let c = sessions.create("c", Role::Viewer, 2000);
        sessions.remove(&c.id);
        assert!(sessions.get(&c.id, 2000).is_none());
        assert!(sessions.get("made-up", 2000).is_none());
    }
}
