//! NAME
//!   dsn: delivery status notifications (RFC 3464).
//!
//! DESCRIPTION
//!   A bounce is `multipart/report; report-type=delivery-status` with three
//!   parts: a human-readable text/plain (Japanese first, then English), the
//!   machine-readable message/delivery-status, and the original's headers
//!   as text/rfc822-headers (RFC 6522). Its envelope sender must be null
//!   (`send_bounce` does that), and no DSN is ever sent about a message with
//!   a null sender: a bounce is not bounced (RFC 5321 §4.5.5).
//!
//! SECURITY
//!   Reasons come from the next hop: in the delivery-status part they are
//!   reduced to printable ASCII on one line, so that a reply cannot add
//!   fields or parts.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::MimePart;
use mukaika_spool::Envelope;

use crate::smtp::enhanced_code;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// An RFC 3464 multipart/report DSN to `envelope.sender` listing the
/// failed recipients and why, with the original's headers.
///
/// `failed` pairs a recipient with the reason from its last attempt (an
/// [`Outcome`](crate::Outcome)'s text, or the last temporary reason of an
/// expired message). `Status` is the reason's RFC 3463 code when it has
/// one (so an expired message reports e.g. 4.4.1, as Postfix does), else
/// derived from its reply code, else 5.0.0. `original_headers` is cut at
/// its first empty line. The From is `postmaster@<reporting_mta>`; use
/// [`Relay::dsn`](crate::Relay::dsn) for the configured `postmaster`.
///
/// Do not send it when `envelope.sender` is empty.
pub fn dsn(
    envelope: &Envelope,
    failed: &[(String, String)],
    original_headers: &[u8],
    reporting_mta: &str,
    now: u64,
) -> Vec<u8> {
    build(
        envelope,
        failed,
        original_headers,
        reporting_mta,
        &format!("postmaster@{reporting_mta}"),
        now,
    )
}

pub(crate) fn build(
    envelope: &Envelope,
    failed: &[(String, String)],
    original_headers: &[u8],
    reporting_mta: &str,
    postmaster: &str,
    now: u64,
) -> Vec<u8> {
    let arrival = Date::new(envelope.received_at as i64).to_rfc822();
    let arrival_ja = japanese_date(envelope.received_at);
    let list = failed
        .iter()
        .map(|(rcpt, reason)| format!("  <{rcpt}>\r\n      {}\r\n", one_line(reason)))
        .collect::<String>();

    let text = format!(
        "このメールは {reporting_mta} のメール配送システムが自動的に送信しています。\r\n\
         \r\n\
         {arrival_ja} に受け付けたあなたのメールは、次の宛先に配送できませんでした。\r\n\
         このメールの配送はこれ以上試みません。宛先を確認のうえ、必要であれば\r\n\
         送り直してください。\r\n\
         \r\n\
         {list}\
         \r\n\
         お送りいただいたメールのヘッダを添付します。ご不明な点は、このメールを\r\n\
         添えて <{postmaster}> までお問い合わせください。\r\n\
         \r\n\
         ----------------------------------------------------------------------\r\n\
         \r\n\
         This is the mail system at {reporting_mta}.\r\n\
         \r\n\
         Your message received on {arrival} could not be delivered to the\r\n\
         recipients below. It will not be retried: check the addresses and send\r\n\
         it again if needed.\r\n\
         \r\n\
         {list}\
         \r\n\
         The headers of your message are attached. For help, write to\r\n\
         <{postmaster}> and include this message.\r\n"
    );

    let mut status = String::new();
    let _ = write!(
        status,
        "Reporting-MTA: dns; {}\r\n",
        ascii_field(reporting_mta)
    );
    let _ = write!(status, "Arrival-Date: {arrival}\r\n");
    for (rcpt, reason) in failed {
        let reason = ascii_field(reason);
        status.push_str("\r\n");
        let _ = write!(status, "Final-Recipient: {}\r\n", address_field(rcpt));
        status.push_str("Action: failed\r\n");
        let _ = write!(status, "Status: {}\r\n", status_code(&reason));
        match smtp_reply_in(&reason) {
            Some(reply) => {
                let _ = write!(status, "Diagnostic-Code: smtp; {reply}\r\n");
            }
            None => {
                let _ = write!(status, "Diagnostic-Code: X-Mukaika; {reason}\r\n");
            }
        }
    }

    let headers = header_block(original_headers);

    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new(
                ContentType::new("text/plain").attribute("charset", "utf-8"),
                text,
            ),
            // ASCII, short lines: sent as is (mail-builder would base64 a
            // non-text type).
            MimePart::new(
                ContentType::new("message/delivery-status"),
                status.into_bytes(),
            )
            .transfer_encoding("7bit"),
            MimePart::new(ContentType::new("text/rfc822-headers"), headers),
        ],
    );

    let id_domain: String = reporting_mta
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    let id_domain = if id_domain.is_empty() {
        "localhost".into()
    } else {
        id_domain
    };
    let id = format!(
        "{now}.{}.{}.dsn@{id_domain}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    MessageBuilder::new()
        .from(Address::new_address(
            Some("Mail Delivery System"),
            postmaster.to_owned(),
        ))
        .to(Address::new_address(None::<&str>, envelope.sender.clone()))
        .subject(Text::new(
            "配送不能のお知らせ (Undelivered Mail Returned to Sender)",
        ))
        .date(Date::new(now as i64))
        .message_id(id)
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(report)
        .write_to_vec()
        .expect("writing to a Vec cannot fail")
}

/// The next hop's reply within a reason: the whole reason if it starts with
/// a 4xx/5xx code, else from a code followed by a matching enhanced code
/// (`gave up after 9 attempts: 450 4.2.1 busy` → `450 4.2.1 busy`).
fn smtp_reply_in(reason: &str) -> Option<&str> {
    use crate::smtp::starts_with_reply;
    if starts_with_reply(reason, b'4') || starts_with_reply(reason, b'5') {
        return Some(reason);
    }
    let mut offset = 0;
    for word in reason.split(' ') {
        let rest = &reason[offset..];
        let b = word.as_bytes();
        if b.len() == 3 && matches!(b[0], b'4' | b'5') && b[1..].iter().all(u8::is_ascii_digit) {
            let next = rest[3..].trim_start();
            if next.len() > 1 && next.as_bytes()[0] == b[0] && next.as_bytes()[1] == b'.' {
                return Some(rest);
            }
        }
        offset += word.len() + 1;
    }
    None
}

/// The Status field: the reason's enhanced code, else its reply class.
fn status_code(reason: &str) -> String {
    if let Some((class, subject, detail)) = enhanced_code(reason).filter(|(c, _, _)| *c != 2) {
        return format!("{class}.{subject}.{detail}");
    }
    if crate::smtp::starts_with_reply(reason, b'4') {
        return "4.0.0".into();
    }
    "5.0.0".into()
}

/// `2023年11月15日 07:13:20 (JST)`: Unix seconds in Japan time (UTC+9, no
/// daylight saving).
fn japanese_date(unix: u64) -> String {
    let t = unix.saturating_add(9 * 3600);
    let (days, secs) = (t / 86_400, t % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year}年{month}月{day}日 {:02}:{:02}:{:02} (JST)",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Printable ASCII on one line, at most 900 bytes: safe in a header-like
/// field whatever the next hop replied.
fn ascii_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(900));
    for c in s.chars() {
        if out.len() >= 900 {
            out.push_str("...");
            break;
        }
        match c {
            ' '..='~' => out.push(c),
            '\t' | '\r' | '\n' => out.push(' '),
            _ => out.push('?'),
        }
    }
    out.trim().to_owned()
}

/// For the text part: one line, no control characters.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `rfc822; addr`, or RFC 6533's `utf-8; addr` with `\x{HEX}` escapes for
/// a non-ASCII address (the part stays ASCII).
fn address_field(addr: &str) -> String {
    if addr.chars().all(|c| c.is_ascii_graphic()) {
        return format!("rfc822; {addr}");
    }
    let mut out = String::from("utf-8; ");
    for c in addr.chars() {
        if c.is_ascii_graphic() && c != '\\' {
            out.push(c);
        } else {
            let _ = write!(out, "\\x{{{:X}}}", c as u32);
        }
    }
    out
}

/// The header section only, ending in CRLF.
fn header_block(original: &[u8]) -> Vec<u8> {
    let mut end = original.len();
    for (i, w) in original.windows(2).enumerate() {
        if w == b"\n\n" {
            end = i + 1;
            break;
        }
        if w == b"\n\r" && original.get(i + 2) == Some(&b'\n') {
            end = i + 1;
            break;
        }
    }
    let mut out = original[..end].to_vec();
    if original.starts_with(b"\r\n") || original.starts_with(b"\n") {
        out.clear();
    }
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_dates() {
        assert_eq!(japanese_date(0), "1970年1月1日 09:00:00 (JST)");
        assert_eq!(
            japanese_date(1_700_000_000),
            "2023年11月15日 07:13:20 (JST)"
        );
        assert_eq!(japanese_date(951_782_400), "2000年2月29日 09:00:00 (JST)");
        assert_eq!(
            japanese_date(1_735_657_199),
            "2024年12月31日 23:59:59 (JST)"
        );
    }

    #[test]
    fn smtp_replies_are_found_in_reasons() {
        assert_eq!(smtp_reply_in("550 5.1.1 no"), Some("550 5.1.1 no"));
        assert_eq!(smtp_reply_in("554 no code"), Some("554 no code"));
        assert_eq!(
            smtp_reply_in("gave up after 9 attempts: 450 4.2.1 busy"),
            Some("450 4.2.1 busy")
        );
        assert_eq!(smtp_reply_in("4.4.1 connect to mx:25: refused"), None);
        assert_eq!(smtp_reply_in("connect to port 450 failed"), None);
    }

    #[test]
    fn status_codes() {
        assert_eq!(
            status_code("550 5.1.1 <a@b>: Recipient address rejected"),
            "5.1.1"
        );
        assert_eq!(
            status_code("4.4.1 connect to mx:25: Connection refused"),
            "4.4.1"
        );
        assert_eq!(status_code("554 Transaction failed"), "5.0.0");
        assert_eq!(status_code("450 try later"), "4.0.0");
        assert_eq!(status_code("weird"), "5.0.0");
    }

    #[test]
    fn fields_stay_one_ascii_line() {
        assert_eq!(
            ascii_field("550 no\r\nAction: delivered"),
            "550 no  Action: delivered"
        );
        assert_eq!(ascii_field("550 宛先なし"), "550 ????");
        assert!(ascii_field(&"x".repeat(5000)).len() <= 903);
        assert_eq!(address_field("a@lg.jp"), "rfc822; a@lg.jp");
        assert_eq!(
            address_field("山田@例え.jp"),
            "utf-8; \\x{5C71}\\x{7530}@\\x{4F8B}\\x{3048}.jp"
        );
    }

    #[test]
    fn header_block_is_cut_at_the_body() {
        assert_eq!(
            header_block(b"A: 1\r\nB: 2\r\n\r\nbody"),
            b"A: 1\r\nB: 2\r\n"
        );
        assert_eq!(header_block(b"A: 1\nB: 2\n\nbody"), b"A: 1\nB: 2\n");
        assert_eq!(header_block(b"A: 1\r\nB: 2"), b"A: 1\r\nB: 2\r\n");
        assert_eq!(header_block(b"\r\nbody"), b"");
    }
}
