//! The `Received:` trace header (RFC 5321 4.4) that ingress prepends to
//! every message, in Postfix's layout so that admins read it at a glance:
//!
//! ```text
//! (continuation lines begin with a tab)
//! Received: from client.example ([192.0.2.1])
//!     (using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384)
//!     by mukaika.localdomain (Mukaika) with ESMTPS
//!     for <user@lgwan.example.jp>; Fri, 21 Nov 2025 23:57:00 +0000
//! ```
//!
//! There is no `id` clause: the queue ID is given by the spool, after the
//! message is stored. `for` is given only with a single recipient, so that
//! one recipient's copy does not name the others (Bcc).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::connection::TlsInfo;

/// What the header says about the session.
pub(crate) struct Trace<'a> {
    pub(crate) helo: &'a str,
    pub(crate) ip: IpAddr,
    pub(crate) hostname: &'a str,
    /// `SMTP`, `ESMTP`, `ESMTPS`, `UTF8SMTP` or `UTF8SMTPS` (RFC 3848, 6531).
    pub(crate) protocol: &'static str,
    pub(crate) tls: Option<&'a TlsInfo>,
    pub(crate) recipients: &'a [String],
    pub(crate) now: SystemTime,
}

impl Trace<'_> {
    /// The header field, folded, ending in CRLF.
    pub(crate) fn header(&self) -> String {
        let mut h = String::with_capacity(256);
        let ip = match self.ip {
            IpAddr::V4(v4) => format!("[{v4}]"),
            IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
        };
        let _ = write!(h, "Received: from {} ({ip})\r\n", printable(self.helo));
        if let Some(tls) = self.tls {
            let _ = write!(
                h,
                "\t(using {} with cipher {})\r\n",
                tls.version, tls.cipher
            );
        }
        let _ = write!(h, "\tby {} (Mukaika) with {}", self.hostname, self.protocol);
        if let [only] = self.recipients {
            let _ = write!(h, "\r\n\tfor <{only}>");
        }
        let _ = write!(h, "; {}\r\n", rfc5322_date(self.now));
        h
    }
}

/// A client-supplied name made safe for a header and a log line: printable
/// ASCII except parentheses and backslash (which would change the
/// structure of the header) is kept, anything else becomes `?`.
pub(crate) fn printable(untrusted: &str) -> String {
    untrusted
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '(' | ')' | '\\' | ';') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// `Fri, 21 Nov 2025 23:57:00 +0000` (RFC 5322 3.3), in UTC.
pub(crate) fn rfc5322_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    mail_builder::headers::date::Date::new(secs as i64).to_rfc822()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(UNIX_EPOCH), "Thu, 1 Jan 1970 00:00:00 +0000");
        let t = UNIX_EPOCH + Duration::from_secs(1_763_769_420);
        assert_eq!(rfc5322_date(t), "Fri, 21 Nov 2025 23:57:00 +0000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc5322_date(leap), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn header_layout() {
        let tls = TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_128_GCM_SHA256".into(),
        };
        let recipients = vec!["u@lgwan.example.jp".to_owned()];
        let trace = Trace {
            helo: "client.example",
            ip: "2001:db8::1".parse().unwrap(),
            hostname: "mx.example.jp",
            protocol: "ESMTPS",
            tls: Some(&tls),
            recipients: &recipients,
            now: UNIX_EPOCH,
        };
        assert_eq!(
            trace.header(),
            "Received: from client.example ([IPv6:2001:db8::1])\r\n\
             \t(using TLSv1.3 with cipher TLS13_AES_128_GCM_SHA256)\r\n\
             \tby mx.example.jp (Mukaika) with ESMTPS\r\n\
             \tfor <u@lgwan.example.jp>; Thu, 1 Jan 1970 00:00:00 +0000\r\n"
        );
        let two = vec!["a@x".to_owned(), "b@x".to_owned()];
        let trace = Trace {
            helo: "evil)\u{7}(",
            tls: None,
            recipients: &two,
            protocol: "SMTP",
            ..trace
        };
        assert_eq!(
            trace.header(),
            "Received: from evil??? ([IPv6:2001:db8::1])\r\n\
             \tby mx.example.jp (Mukaika) with SMTP; Thu, 1 Jan 1970 00:00:00 +0000\r\n"
        );
    }
}
