//! NAME
//!   throttle - failed logins, and the lockout after too many
//!
//! DESCRIPTION
//!   Failures count per user name and per client address, each within a
//!   window as long as the lockout. At `max_failures` of either, both are
//!   locked out until the lockout ends, even with the right password. A
//!   success clears the user's count (not the address's: one good account
//!   must not reset an attacker's guesses at others). Bounded memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Keys remembered at most (user names and addresses together).
const MAX_KEYS: usize = 100_000;

/// A lockout in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// Unix seconds when it ends.
    pub until: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Count {
    failures: u32,
    first: u64,
    locked_until: u64,
}

/// The login throttle.
#[derive(Debug)]
pub struct Throttle {
    max_failures: u32,
    lockout_secs: u64,
    counts: Mutex<HashMap<String, Count>>,
}

fn keys(user: &str, client: IpAddr) -> [String; 2] {
    [
        format!("user:{}", user.to_lowercase()),
        format!("ip:{client}"),
    ]
}

impl Throttle {
    /// Locks out after `max_failures` failures, for `lockout_secs`.
    pub fn new(max_failures: u32, lockout_secs: u64) -> Self {
        Self {
            max_failures: max_failures.max(1),
            lockout_secs,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Count>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses while `user` or `client` is locked out.
    pub fn check(&self, user: &str, client: IpAddr, now: u64) -> Result<(), Locked> {
        let counts = self.counts();
        let until = keys(user, client)
            .iter()
            .filter_map(|k| counts.get(k))
            .map(|c| c.locked_until)
            .max()
            .unwrap_or(0);
        if until > now {
            Err(Locked { until })
        } else {
            Ok(())
        }
    }

    /// Counts a failed login.
    pub fn failed(&self, user: &str, client: IpAddr, now: u64) {
        let mut counts = self.counts();
        if counts.len() >= MAX_KEYS {
            counts.retain(|_, c| {
                c.locked_until > now || now.saturating_sub(c.first) < self.lockout_secs
            });
            if counts.len() >= MAX_KEYS {
                // Still full of live entries: an attack by volume. Forget the
                // oldest half rather than grow.
                let mut firsts: Vec<u64> = counts.values().map(|c| c.first).collect();
                firsts.sort_unstable();
                let cut = firsts[firsts.len() / 2];
                counts.retain(|_, c| c.first > cut || c.locked_until > now);
            }
        }
        for key in keys(user, client) {
            let count = counts.entry(key).or_default();
            if now.saturating_sub(count.first) >= self.lockout_secs && count.locked_until <= now {
                *count = Count {
                    failures: 0,
                    first: now,
                    locked_until: 0,
                };
            }
            count.failures += 1;
            if count.failures >= self.max_failures {
                count.locked_until = now + self.lockout_secs;
            }
        }
    }

    /// Clears the user's failures after a good login.
    pub fn succeeded(&self, user: &str, client: IpAddr) {
        let [user_key, _] = keys(user, client);
        self.counts().remove(&user_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_out_user_stays_out_until_the_lockout_ends() {
        let throttle = Throttle::new(3, 600);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for t in 0..2 {
            throttle.failed("kanri", ip, 1000 + t);
        }
        assert!(throttle.check("kanri", ip, 1002).is_ok());
        throttle.failed("kanri", ip, 1002);
        assert_eq!(
            throttle.check("kanri", ip, 1003),
            Err(Locked { until: 1602 })
        );
        assert!(
            throttle.check("KANRI", other, 1003).is_err(),
            "the user, from anywhere"
        );
        assert!(
            throttle.check("someone", ip, 1003).is_err(),
            "the address, for anyone"
        );
        assert!(throttle.check("someone", other, 1003).is_ok());
        throttle.succeeded("kanri", ip);
        assert!(
            throttle.check("someone", ip, 1003).is_err(),
            "a success does not clear the address"
        );
        assert!(
            throttle.check("kanri", ip, 1602).is_ok(),
            "the lockout ended"
        );
    }

    #[test]
    fn old_failures_expire() {
        let throttle = Throttle::new(2, 60);
        let ip: IpAddr = "::1".parse().unwrap();
        throttle.failed("a", ip, 0);
        throttle.failed("a", ip, 100);
        assert!(
            throttle.check("a", ip, 100).is_ok(),
            "the first failure was too long ago"
        );
    }
}
