//! Message-level limits checked on the raw bytes, before any parsing, so
//! that an oversized message costs one linear scan and no allocation.

use crate::policy::Limits;

/// Why a message is refused as a whole: a stable reason code.
pub fn check(raw: &[u8], limits: &Limits) -> Result<(), &'static str> {
    if raw.len() > limits.max_message_bytes {
        return Err("message-too-large");
    }
    if !starts_like_mail(raw) {
        return Err("unparseable");
    }
    let header = &raw[..header_len(raw)];
    if header.len() > limits.max_header_bytes {
        return Err("header-section-too-large");
    }
    let fields = memchr::memchr_iter(b'\n', header)
        .filter(|&i| header.get(i + 1).is_some_and(|&b| b != b' ' && b != b'\t'))
        .count()
        + 1;
    if fields > limits.max_headers {
        return Err("too-many-header-fields");
    }
    Ok(())
}

/// A mail starts with a header field (`Name:`), an mbox `From ` line, or an
/// empty line (no header at all). Anything else is not a mail, and parsing
/// it would only turn garbage into header fields and an empty body.
fn starts_like_mail(raw: &[u8]) -> bool {
    if raw.starts_with(b"\n") || raw.starts_with(b"\r\n") || raw.starts_with(b"From ") {
        return true;
    }
    let name_len = raw
        .iter()
        .take_while(|&&b| b.is_ascii_graphic() && b != b':')
        .count();
    let after = raw[name_len..].iter().find(|&&b| b != b' ' && b != b'\t');
    name_len > 0 && after == Some(&b':')
}

/// Length of the top-level header section (up to the first empty line).
pub fn header_len(raw: &[u8]) -> usize {
    memchr::memmem::find_iter(raw, b"\n")
        .find(|&i| {
            matches!(raw.get(i + 1..i + 2), Some(b"\n"))
                || matches!(raw.get(i + 1..i + 3), Some(b"\r\n"))
        })
        .map_or(raw.len(), |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_header_bytes: 100,
            max_headers: 3,
            ..Limits::default()
        };
        assert_eq!(check(b"A: 1\r\nB: 2\r\n\r\nbody", &limits), Ok(()));
        assert_eq!(
            check(b"A: 1\nB: 2\n folded\nC: 3\nD: 4\n\nbody", &limits),
            Err("too-many-header-fields")
        );
        let long = format!("Subject: {}\n\nbody", "x".repeat(200));
        assert_eq!(
            check(long.as_bytes(), &limits),
            Err("header-section-too-large")
        );
        assert_eq!(header_len(b"A: 1\r\n\r\nbody"), 6);
        assert_eq!(
            check(b"\x89\xfe\x01: \xff\x00\r\n", &limits),
            Err("unparseable")
        );
        assert_eq!(check(b"\r\nno headers, just a body", &limits), Ok(()));
        assert_eq!(check(b"Subject : x\r\n\r\n", &limits), Ok(()));
    }
}
