//! Parsing clamd's replies. Fail closed: anything but the exact clean
//! reply is never [`Verdict::Clean`](crate::Verdict::Clean).

use crate::{Error, Verdict, Version};

/// Longest signature name we pass on; longer ones are cut.
const MAX_NAME: usize = 200;
/// Longest piece of a reply quoted in an error.
const MAX_QUOTE: usize = 200;

/// Splits a reply into its records. With the `z` prefix each record ends
/// in NUL; newlines are accepted too, for safety.
fn records(untrusted_reply: &[u8]) -> Result<Vec<&str>, Error> {
    let text = std::str::from_utf8(untrusted_reply)
        .map_err(|_| Error::Garbage(format!("reply is not UTF-8: {}", quote(untrusted_reply))))?;
    Ok(text
        .split(['\0', '\n'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect())
}

/// A printable, bounded copy of untrusted bytes for error messages.
pub(crate) fn quote(untrusted: &[u8]) -> String {
    let text = String::from_utf8_lossy(&untrusted[..untrusted.len().min(MAX_QUOTE)]);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if untrusted.len() > MAX_QUOTE {
        out.push('…');
    }
    format!("{out:?}")
}

/// The reply to `zINSTREAM`.
///
/// - `stream: OK` (alone) is [`Verdict::Clean`];
/// - one or more `stream: NAME FOUND` (several with `AllMatchScans`) are
///   [`Verdict::Infected`];
/// - `... ERROR` (e.g. `INSTREAM size limit exceeded. ERROR`) is
///   [`Error::Unavailable`]: clamd gave no verdict;
/// - anything else, including an empty reply, is [`Error::Garbage`].
pub(crate) fn scan(untrusted_reply: &[u8]) -> Result<Verdict, Error> {
    let records = records(untrusted_reply)?;
    if records.is_empty() {
        return Err(Error::Garbage("empty reply to INSTREAM".into()));
    }
    if let Some(error) = records.iter().find(|r| r.ends_with(" ERROR")) {
        return Err(Error::Unavailable(format!(
            "clamd error: {}",
            quote(error.as_bytes())
        )));
    }
    if records == ["stream: OK"] {
        return Ok(Verdict::Clean);
    }
    let mut names = Vec::with_capacity(records.len());
    for record in &records {
        let name = record
            .strip_prefix("stream: ")
            .and_then(|r| r.strip_suffix(" FOUND"))
            .map(str::trim)
            .filter(|n| !n.is_empty() && !n.chars().any(char::is_control));
        let Some(name) = name else {
            return Err(Error::Garbage(format!(
                "unexpected reply to INSTREAM: {}",
                quote(untrusted_reply)
            )));
        };
        names.push(name.chars().take(MAX_NAME).collect());
    }
    Ok(Verdict::Infected(names))
}

/// The reply to `zVERSION`, e.g. `ClamAV 1.4.6/27812/Tue Nov 12 08:35:26 2024`:
/// engine, then database version and date (absent when clamd runs on
/// local signature files only).
pub(crate) fn version(untrusted_reply: &[u8]) -> Result<Version, Error> {
    match records(untrusted_reply)?.as_slice() {
        [v] if v.starts_with("ClamAV ") && !v.chars().any(char::is_control) => {
            let v: String = v.chars().take(MAX_QUOTE).collect();
            let (engine, database) = match v.split_once('/') {
                Some((engine, database)) => (engine.to_owned(), Some(database.to_owned())),
                None => (v, None),
            };
            Ok(Version { engine, database })
        }
        _ => Err(Error::Garbage(format!(
            "unexpected reply to VERSION: {}",
            quote(untrusted_reply)
        ))),
    }
}

/// The reply to `zPING`.
pub(crate) fn ping(untrusted_reply: &[u8]) -> Result<(), Error> {
    match records(untrusted_reply)?.as_slice() {
        ["PONG"] => Ok(()),
        _ => Err(Error::Garbage(format!(
            "unexpected reply to PING: {}",
            quote(untrusted_reply)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infected(names: &[&str]) -> Verdict {
        Verdict::Infected(names.iter().map(|n| n.to_string()).collect())
    }

    #[test]
    fn scan_replies() {
        assert_eq!(scan(b"stream: OK\0").unwrap(), Verdict::Clean);
        assert_eq!(scan(b"stream: OK\n").unwrap(), Verdict::Clean);
        assert_eq!(
            scan(b"stream: Custom.EICAR.NDB.UNOFFICIAL FOUND\0").unwrap(),
            infected(&["Custom.EICAR.NDB.UNOFFICIAL"])
        );
        assert_eq!(
            scan(b"stream: A FOUND\0stream: B FOUND\0").unwrap(),
            infected(&["A", "B"])
        );
    }

    #[test]
    fn scan_fails_closed() {
        for garbage in [
            &b""[..],
            b"\0",
            b"stream: OK stream: OK",
            b"stream: OK\0stream: OK\0",
            b"stream: OK\0stream: A FOUND\0",
            b"stream:  FOUND\0",
            b"stream: FOUND\0",
            b"OK\0",
            b"PONG\0",
            b"stream: \xff FOUND\0",
            b"UNKNOWN COMMAND\0",
        ] {
            assert!(
                matches!(scan(garbage), Err(Error::Garbage(_))),
                "{garbage:?} -> {:?}",
                scan(garbage)
            );
        }
        assert!(matches!(
            scan(b"INSTREAM size limit exceeded. ERROR\0"),
            Err(Error::Unavailable(_))
        ));
        assert!(matches!(
            scan(b"stream: Can't allocate memory ERROR\0"),
            Err(Error::Unavailable(_))
        ));
    }

    #[test]
    fn version_and_ping() {
        assert_eq!(
            version(b"ClamAV 1.4.6/27812/Tue Nov 12 08:35:26 2024\0").unwrap(),
            Version {
                engine: "ClamAV 1.4.6".into(),
                database: Some("27812/Tue Nov 12 08:35:26 2024".into())
            }
        );
        assert_eq!(
            version(b"ClamAV 1.4.6\0").unwrap(),
            Version {
                engine: "ClamAV 1.4.6".into(),
                database: None
            }
        );
        assert!(version(b"").is_err());
        assert!(version(b"clamd 1.0\0").is_err());
        assert!(ping(b"PONG\0").is_ok());
        assert!(ping(b"PONG\0PONG\0").is_err());
        assert!(ping(b"").is_err());
    }

    #[test]
    fn quote_is_bounded_and_printable() {
        let q = quote(&[b'\x1b'; 1000]);
        assert!(q.chars().count() < MAX_QUOTE + 10);
        assert!(!q.contains('\x1b'));
    }
}
