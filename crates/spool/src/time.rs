//! Times as people here read and type them: the machine's local time zone
//! (JST on a municipality's host), for the commands' output, the console
//! and the dates given to `--since` and the search form. Every time kept
//! in the spool, the quarantine and the logs stays unix seconds
//! ([`unix_now`](crate::unix_now)); these only show and read them.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

fn zoned(secs: u64) -> Option<jiff::ZonedDateTime> {
    let secs = i64::try_from(secs).ok()?;
    Some(
        Timestamp::from_second(secs)
            .ok()?
            .to_zoned_datetime(TimeZone::system()),
    )
}

/// ISO 8601 with the local offset, `2026-12-05T19:40:12+09:00`: for
/// output a program reads.
pub fn iso_local(secs: u64) -> String {
    zoned(secs).map_or_else(
        || secs.to_string(),
        |z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
    )
}

/// `2026-12-05 19:40:12 JST`: for pages a person reads.
pub fn display_local(secs: u64) -> String {
    zoned(secs).map_or_else(
        || secs.to_string(),
        |z| z.strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
    )
}

/// The start of day `text` (`YYYY-MM-DD`, local time) in unix seconds. An
/// impossible date (`2026-02-31`) is an error, never moved to a real one.
pub fn local_day_start(text: &str) -> Result<u64, String> {
    let date: Date = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))?;
    let start = date
        .to_zoned_datetime(TimeZone::system())
        .map_err(|e| format!("{text:?}: {e}"))?;
    u64::try_from(start.timestamp().as_second()).map_err(|_| format!("{text:?} is before 1970"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_not_moved() {
        let day = local_day_start("2026-12-05").unwrap();
        assert_eq!(local_day_start("2026-12-06").unwrap() - day, 86_400);
        for bad in ["2026-02-31", "2026-13-01", "yesterday", "", "1969-12-31"] {
            assert!(local_day_start(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_show_in_local_time() {
        let iso = iso_local(1_790_000_000);
        assert!(iso.starts_with("2026-09-2"), "{iso}");
        assert_eq!(iso.len(), "2026-09-21T14:13:20+00:00".len());
        assert!(display_local(1_790_000_000).starts_with("2026-09-2"));
        assert_eq!(iso_local(u64::MAX), u64::MAX.to_string());
    }
}
