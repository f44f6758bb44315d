//! Connection limits: how many sessions at once, overall and per client
//! address. A session holds a [`Slot`]; dropping it gives the place back,
//! however the session ends (reply, error, panic).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Counts sessions, overall and per client address.
#[derive(Debug)]
pub(crate) struct Connections {
    max_total: usize,
    max_per_ip: usize,
    /// Sessions per address. Entries are removed at zero, so the map never
    /// holds more than `max_total` entries.
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a connection got no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    Total,
    PerIp,
}

/// A session's place; released on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    connections: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    pub(crate) fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_ip,
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a place for a session from `ip`, or says which limit is hit.
    pub(crate) fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Full> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let total: usize = counts.values().sum();
        if total >= self.max_total {
            return Err(Full::Total);
        }
        let count = counts.entry(ip).or_insert(0);
        if *count >= self.max_per_ip {
            return Err(Full::PerIp);
        }
        *count += 1;
        Ok(Slot {
            connections: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .connections
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_release() {
        let c = Connections::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let s1 = c.try_acquire(a).unwrap();
        let _s2 = c.try_acquire(a).unwrap();
        assert_eq!(c.try_acquire(a).unwrap_err(), Full::PerIp);
        let _s3 = c.try_acquire(b).unwrap();
        assert_eq!(c.try_acquire(b).unwrap_err(), Full::Total);
        drop(s1);
        let _s4 = c.try_acquire(b).unwrap();
        assert_eq!(c.counts.lock().unwrap().len(), 2);
    }
}
