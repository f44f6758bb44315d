//! EHLO and HELO: the client names itself; any open transaction is reset
//! (RFC 5321 4.1.4). EHLO lists the extensions offered.

use crate::Accept;
use crate::received::printable;
use crate::session::{Helo, Next, Session};

pub(crate) fn run<A: Accept>(s: &mut Session<A>, host: String, esmtp: bool) -> Next {
    if s.junk() == Next::Close {
        return Next::Close;
    }
    s.transaction = None;
    s.helo = Some(Helo {
        name: printable(&host),
        esmtp,
    });
    let hostname = s.config.hostname.clone();
    if !esmtp {
        s.reply(&format!("250 {hostname}"));
        return Next::Continue;
    }
    let mut lines = vec![
        hostname,
        "PIPELINING".to_owned(),
        format!("SIZE {}", s.config.max_message_bytes),
        "8BITMIME".to_owned(),
        "ENHANCEDSTATUSCODES".to_owned(),
        "SMTPUTF8".to_owned(),
    ];
    if s.tls.is_some() && !s.conn.is_tls() {
        lines.push("STARTTLS".to_owned());
    }
    let last = lines.len() - 1;
    for (i, line) in lines.iter().enumerate() {
        let sep = if i == last { ' ' } else { '-' };
        s.reply(&format!("250{sep}{line}"));
    }
    Next::Continue
}
