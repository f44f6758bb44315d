//! NAME
//!   queue_id - making new queue IDs
//!
//! DESCRIPTION
//!   A new ID is 20 characters: 11 of time (microseconds since the Unix
//!   epoch, base 36 with digits `0-9A-Z`, zero-padded: good until the year
//!   6100) then 9 random ones (base 62, `0-9A-Za-z`, about 53 bits).
//!
//!   - Sortable: the time part is fixed-width and its digits sort the same
//!     in ASCII and in case-insensitive collations (`ls`), so a sort by
//!     name is a sort by arrival.
//!   - Unique within a process: the time part never repeats or goes back
//!     (a clock step backwards or two IDs in the same microsecond borrow
//!     the next microsecond), so IDs from one process strictly increase.
//!   - Unique across restarts and nodes: the random part. The spool also
//!     refuses to overwrite an existing name (it links, never renames,
//!     into `incoming/`), so even a collision would not lose a message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::QueueId;

/// Width of the time part.
const TIME_DIGITS: usize = 11;
/// Width of the random part.
const RANDOM_DIGITS: usize = 9;
/// Digits in ASCII order, so that fixed-width numbers sort as strings.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The time part of the last ID made by this process.
static LAST_MICROS: AtomicU64 = AtomicU64::new(0);

impl QueueId {
    /// Makes a new ID: unique, and greater than every ID this process made
    /// before.
    pub fn generate() -> QueueId {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let next = |last: u64| now.max(last + 1);
        let micros = match LAST_MICROS
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| Some(next(last)))
        {
            Ok(last) | Err(last) => next(last),
        };
        let mut id = String::with_capacity(TIME_DIGITS + RANDOM_DIGITS);
        push_digits(&mut id, micros, 36, TIME_DIGITS);
        push_digits(&mut id, random_u64(micros), 62, RANDOM_DIGITS);
        id.parse()
            .expect("a generated queue ID is 20 letters and digits")
    }

    /// When an ID made by [`QueueId::generate`] was made, in microseconds
    /// since the Unix epoch. None for IDs of another form.
    pub fn micros(&self) -> Option<u64> {
        let time = self.as_str().get(..TIME_DIGITS)?;
        if self.as_str().len() != TIME_DIGITS + RANDOM_DIGITS {
            return None;
        }
        time.bytes().try_fold(0u64, |acc, b| {
            let digit = DIGITS[..36].iter().position(|&d| d == b)? as u64;
            acc.checked_mul(36)?.checked_add(digit)
        })
    }
}

/// Appends `value` in `base`, zero-padded (or cut to its low digits) to
/// `width` characters.
fn push_digits(out: &mut String, mut value: u64, base: u64, width: usize) {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = DIGITS[(value % base) as usize];
        value /= base;
    }
    out.extend(digits.into_iter().map(char::from));
}

/// 64 random bits from the operating system. Should that ever fail, a
/// keyed hash of the time, the process and a counter (std seeds its hash
/// keys from the OS once per thread) still differs between processes.
fn random_u64(micros: u64) -> u64 {
    if let Ok(random) = getrandom::u64() {
        return random;
    }
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(micros);
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_sorted_over_100k() {
        let ids: Vec<QueueId> = (0..100_000).map(|_| QueueId::generate()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "IDs from one process strictly increase"
        );
        let unique: HashSet<&QueueId> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        for id in ids.iter().step_by(997) {
            assert_eq!(id.as_str().len(), 20);
            assert!(id.as_str().parse::<QueueId>().is_ok());
        }
    }

    #[test]
    fn ids_sort_by_time_across_calls_and_decode() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        let first = QueueId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = QueueId::generate();
        assert!(first < second);
        let (t1, t2) = (first.micros().unwrap(), second.micros().unwrap());
        // Other tests in this process may have borrowed microseconds ahead
        // of the clock, so only the order is certain, not the 2 ms gap.
        assert!(before <= t1 && t1 < t2, "{before} {t1} {t2}");
        // The time part sorts case-insensitively too.
        assert_eq!(
            first.as_str()[..11].to_ascii_uppercase(),
            first.as_str()[..11]
        );
    }

    #[test]
    fn ids_are_unique_across_threads() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..10_000).map(|_| QueueId::generate()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for handle in handles {
            for id in handle.join().unwrap() {
                assert!(all.insert(id));
            }
        }
        assert_eq!(all.len(), 40_000);
    }

    #[test]
    fn foreign_ids_have_no_time() {
        assert_eq!(
            "0193A4F2C1D8E7B6a1b2c".parse::<QueueId>().unwrap().micros(),
            None
        );
        assert_eq!(
            "0000000000a0000000000"
                .get(..20)
                .unwrap()
                .parse::<QueueId>()
                .unwrap()
                .micros(),
            None
        );
        assert_eq!(
            "00000000010aaaaaaaaa".parse::<QueueId>().unwrap().micros(),
            Some(36)
        );
    }

    #[test]
    fn digits_pad_and_order() {
        let mut s = String::new();
        push_digits(&mut s, 35, 36, 3);
        assert_eq!(s, "00Z");
        let mut a = String::new();
        let mut b = String::new();
        push_digits(&mut a, 61, 62, 2);
        push_digits(&mut b, 62, 62, 2);
        assert!(a < b);
    }
}
