//! NAME
//!   retry: when to try a deferred message again.
//!
//! DESCRIPTION
//!   Postfix's schedule: the delay starts at `initial_secs`, doubles after
//!   each failed attempt and is capped at `max_delay_secs`; a message older
//!   than `max_age_secs` is not retried but bounced. Unlike Postfix, the
//!   last retry is pulled in to the moment the message expires, so a
//!   message bounces at `max_age_secs`, not up to `max_delay_secs` later.
//!   Pure: the caller passes the clock.

use crate::config::RetryConfig;

/// When to try again after `attempts` failed attempts, in Unix seconds;
/// None once the message is `max_age_secs` old or older (then it bounces).
///
/// After attempt n (n ≥ 1) the delay is `initial_secs × 2^(n−1)`, capped at
/// `max_delay_secs`, and the result never lies past
/// `received_at + max_age_secs`. `attempts == 0` (nothing tried yet) means
/// now. A `received_at` in the future (clock step) counts as age 0.
pub fn next_retry(config: &RetryConfig, attempts: u32, received_at: u64, now: u64) -> Option<u64> {
    let age = now.saturating_sub(received_at);
    if age >= config.max_age_secs {
        return None;
    }
    let expires = received_at.saturating_add(config.max_age_secs);
    if attempts == 0 {
        return Some(now);
    }
    // 2^63 already overflows any delay; stop shifting before that.
    let shift = (attempts - 1).min(63);
    let delay = config
        .initial_secs
        .saturating_mul(1u64 << shift)
        .min(config.max_delay_secs);
    Some(now.saturating_add(delay).min(expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn postfix() -> RetryConfig {
        RetryConfig::default()
    }

    #[test]
    fn doubles_from_initial_and_caps_at_max_delay() {
        let c = postfix();
        let delays: Vec<u64> = (1..=8)
            .map(|n| next_retry(&c, n, T0, T0 + 1000).unwrap() - (T0 + 1000))
            .collect();
        assert_eq!(delays, [300, 600, 1200, 2400, 4000, 4000, 4000, 4000]);
    }

    #[test]
    fn none_once_older_than_max_age() {
        let c = postfix();
        assert!(next_retry(&c, 3, T0, T0 + c.max_age_secs - 1).is_some());
        assert_eq!(next_retry(&c, 3, T0, T0 + c.max_age_secs), None);
        assert_eq!(next_retry(&c, 3, T0, T0 + c.max_age_secs + 86_400), None);
    }

    #[test]
    fn last_retry_is_pulled_in_to_expiry() {
        let c = postfix();
        let now = T0 + c.max_age_secs - 100;
        assert_eq!(next_retry(&c, 10, T0, now), Some(T0 + c.max_age_secs));
        // And that attempt, if it fails, bounces.
        assert_eq!(next_retry(&c, 11, T0, T0 + c.max_age_secs), None);
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let c = postfix();
        assert_eq!(next_retry(&c, u32::MAX, T0, T0 + 10), Some(T0 + 10 + 4000));
        let big = RetryConfig {
            initial_secs: u64::MAX / 2,
            max_delay_secs: u64::MAX,
            max_age_secs: u64::MAX,
        };
        assert_eq!(next_retry(&big, 5, 0, 10), Some(u64::MAX));
    }

    #[test]
    fn zero_attempts_is_now_and_future_arrival_counts_as_new() {
        let c = postfix();
        assert_eq!(next_retry(&c, 0, T0, T0 + 5), Some(T0 + 5));
        assert_eq!(next_retry(&c, 1, T0 + 60, T0), Some(T0 + 300));
    }

    #[test]
    fn a_whole_schedule_ends_in_a_bounce_after_max_age() {
        let c = RetryConfig {
            initial_secs: 60,
            max_delay_secs: 600,
            max_age_secs: 3600,
        };
        let (mut now, mut attempts, mut times) = (T0, 0, Vec::new());
        loop {
            attempts += 1; // this attempt fails
            match next_retry(&c, attempts, T0, now) {
                Some(t) => {
                    assert!(t > now && t <= T0 + 3600);
                    times.push(t - T0);
                    now = t;
                }
                None => break,
            }
        }
        assert_eq!(now, T0 + 3600);
        assert_eq!(times[..5], [60, 180, 420, 900, 1500]);
        assert_eq!(*times.last().unwrap(), 3600);
    }
}
