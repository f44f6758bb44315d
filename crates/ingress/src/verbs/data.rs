//! DATA: reads the message, then hands it to [`Accept::accept`] and answers
//! `250` only when it is stored.
//!
//! The [`Reader`] turns the dot-stuffed stream into the stored message:
//!
//! - a line's leading `.` is removed (RFC 5321 4.5.2);
//! - every line is stored with CRLF, whether it ended in CRLF, a bare LF or
//!   a bare CR (a CR not followed by LF);
//! - the data ends only at a `.` line that ends in CRLF and follows a line
//!   that ended in CRLF. After a bare line ending, or with one, a `.` line
//!   is content (stored as an empty line): SMTP smuggling
//!   (`<LF>.<LF>MAIL FROM...`) cannot end the message early;
//! - more than `max_message_bytes` octets: the rest is read and dropped,
//!   memory is freed, and the reply is `552 5.3.4`;
//! - a line longer than `max_line_length` (with its CRLF): the message is
//!   read to its end and refused with `554 5.6.0`.
//!
//! Memory: the buffer is allocated once at the declared `SIZE=` when the
//! client gave one, else grown by doubling; either way it never exceeds
//! the `Received:` header plus `max_message_bytes`, and it is freed as soon
//! as the message is over the limit. Reading goes through the connection's
//! fixed buffer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mukaika_spool::{Envelope, Stage};

use crate::received::Trace;
use crate::session::{Next, Session, for_reply};
use crate::shutdown::Phase;
use crate::{Accept, Refusal};

pub(crate) async fn run<A: Accept>(s: &mut Session<A>) -> Next {
    let Some(transaction) = &s.transaction else {
        return s.error("503 5.5.1 Error: need MAIL command");
    };
    if transaction.recipients.is_empty() {
        return s.error("554 5.5.1 Error: no valid recipients");
    }
    let Some(helo) = &s.helo else {
        return s.error("503 5.5.1 Error: send HELO/EHLO first");
    };
    let tls = s.conn.tls_info();
    let protocol = match (helo.esmtp, transaction.smtputf8, tls.is_some()) {
        (false, _, false) => "SMTP",
        (false, _, true) => "SMTPS",
        (true, false, false) => "ESMTP",
        (true, false, true) => "ESMTPS",
        (true, true, false) => "UTF8SMTP",
        (true, true, true) => "UTF8SMTPS",
    };
    let now = SystemTime::now();
    let header = Trace {
        helo: &helo.name,
        ip: s.ip,
        hostname: &s.config.hostname,
        protocol,
        tls: tls.as_ref(),
        recipients: &transaction.recipients,
        now,
    }
    .header();
    let size_hint = transaction.declared_size;
    let mut reader = Reader::new(
        header,
        size_hint,
        s.config.max_message_bytes,
        s.config.max_line_length,
    );
    s.reply("354 End data with <CR><LF>.<CR><LF>");

    let data_timeout = Duration::from_secs(s.config.data_timeout_secs);
    loop {
        let (consumed, done) = reader.feed(s.conn.buffered());
        s.conn.consume(consumed);
        if done {
            break;
        }
        let read = tokio::select! {
            read = tokio::time::timeout(data_timeout, s.conn.fill()) => read,
            () = s.shutdown.reached(Phase::Closing) => {
                tracing::info!(client = %s.ip, "shutdown grace period over during DATA: message dropped");
                s.shutting_down();
                return Next::Close;
            }
        };
        match read {
            Err(_) => {
                s.timed_out();
                return Next::Close;
            }
            Ok(Err(e)) => {
                tracing::info!(client = %s.ip, error = %e, "connection lost during DATA");
                return Next::Close;
            }
            Ok(Ok(0)) => {
                tracing::info!(client = %s.ip, "client closed the connection during DATA");
                return Next::Close;
            }
            Ok(Ok(_)) => {}
        }
    }

    // The transaction ends with this reply, whatever it is.
    let Some(transaction) = s.transaction.take() else {
        return Next::Continue;
    };
    match reader.outcome() {
        Outcome::TooBig => {
            tracing::info!(client = %s.ip, sender = ?transaction.sender, "message too big");
            return s.error("552 5.3.4 Error: message file too big");
        }
        Outcome::LineTooLong => {
            tracing::info!(client = %s.ip, sender = ?transaction.sender, "message line too long");
            let text = format!(
                "554 5.6.0 Error: message line longer than {} octets",
                s.config.max_line_length
            );
            return s.error(&text);
        }
        Outcome::NoMemory => {
            tracing::warn!(client = %s.ip, "out of memory while receiving a message");
            s.reply("451 4.3.0 Error: insufficient system resources");
            return Next::Continue;
        }
        Outcome::Message => {}
    }
    let body_size = reader.body_len;
    let message = reader.message;
    let helo = s.helo.as_ref().map(|h| h.name.clone()).unwrap_or_default();
    let envelope = Envelope {
        sender: transaction.sender,
        recipients: transaction.recipients,
        received_at: now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        client_ip: s.ip.to_string(),
        helo,
        stage: Stage::Original,
        attempts: 0,
        next_attempt: 0,
        last_error: None,
    };
    let (sender, recipients) = (envelope.sender.clone(), envelope.recipients.clone());
    match s.accept.accept(envelope, message).await {
        Ok(id) => {
            tracing::info!(
                client = %s.ip,
                sender = ?sender,
                recipients = ?recipients,
                size = body_size,
                queue_id = %id,
                "message accepted"
            );
            s.delivered();
            s.reply(&format!("250 2.0.0 Ok: queued as {id}"));
        }
        Err(Refusal::Temporary(why)) => {
            tracing::warn!(client = %s.ip, sender = ?sender, reason = ?why, "message deferred by the spool");
            s.reply(&format!("451 4.3.0 {}", one_line(&why)));
        }
        Err(Refusal::Permanent(why)) => {
            tracing::info!(client = %s.ip, sender = ?sender, reason = ?why, "message refused by the spool");
            s.reply(&format!("554 5.3.0 {}", one_line(&why)));
        }
    }
    Next::Continue
}

fn one_line(text: &str) -> String {
    let text = for_reply(text);
    if text.trim().is_empty() {
        "Error: message not accepted".into()
    } else {
        text
    }
}

/// How the data ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Message,
    TooBig,
    LineTooLong,
    NoMemory,
}

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Crlf,
    Bare,
}

/// Turns the DATA stream into the stored message; see the module docs.
struct Reader {
    /// The `Received:` header, then the message, CRLF throughout.
    message: Vec<u8>,
    /// Octets of message after the header.
    body_len: usize,
    max_body: usize,
    /// Longest line, line ending excluded.
    max_line: usize,
    /// Octets of the current line received so far (its dot included).
    line_len: usize,
    /// The current line began with a dot, which was dropped.
    dotted: bool,
    /// The last byte was a CR whose LF may still come.
    pending_cr: bool,
    /// The previous line ended in CRLF (true at the start: the DATA
    /// command line did).
    previous_crlf: bool,
    outcome: Outcome,
}

impl Reader {
    /// `size_hint` is the declared SIZE (0 for none): room for it (and a
    /// little for line-ending repairs) is taken at once.
    fn new(header: String, size_hint: usize, max_body: usize, max_line_length: usize) -> Self {
        let mut message = header.into_bytes();
        let initial = if size_hint > 0 {
            size_hint.saturating_add(size_hint / 64)
        } else {
            64 * 1024
        };
        // Allocation failure here shows up as NoMemory at the first push.
        let _ = message.try_reserve_exact(initial.min(max_body));
        Self {
            message,
            body_len: 0,
            max_body,
            max_line: max_line_length.saturating_sub(2),
            line_len: 0,
            dotted: false,
            pending_cr: false,
            previous_crlf: true,
            outcome: Outcome::Message,
        }
    }

    fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// Takes in what came from the client. Returns how much of it was
    /// consumed and whether the terminating `.` line was reached; bytes
    /// after it are left for the command reader.
    fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < input.len() {
            if self.pending_cr {
                self.pending_cr = false;
                if input[i] == b'\n' {
                    i += 1;
                    if self.end_line(Ending::Crlf) {
                        return (i, true);
                    }
                    continue;
                }
                self.end_line(Ending::Bare);
            }
            match input[i] {
                b'\r' => {
                    self.pending_cr = true;
                    i += 1;
                }
                b'\n' => {
                    i += 1;
                    self.end_line(Ending::Bare);
                }
                _ => {
                    let end =
                        memchr::memchr2(b'\r', b'\n', &input[i..]).map_or(input.len(), |p| i + p);
                    let mut run = &input[i..end];
                    if self.line_len == 0 && run[0] == b'.' {
                        self.dotted = true;
                        self.line_len = 1;
                        run = &run[1..];
                    }
                    self.line_len += run.len();
                    if self.line_len > self.max_line && self.outcome == Outcome::Message {
                        self.outcome = Outcome::LineTooLong;
                    }
                    self.push(run);
                    i = end;
                }
            }
        }
        (i, false)
    }

    /// Ends the current line; true if it was the terminating `.`.
    fn end_line(&mut self, ending: Ending) -> bool {
        if self.dotted && self.line_len == 1 && ending == Ending::Crlf && self.previous_crlf {
            return true;
        }
        self.push(b"\r\n");
        self.previous_crlf = ending == Ending::Crlf;
        self.line_len = 0;
        self.dotted = false;
        false
    }

    /// Stores bytes of the message, or drops them once it is refused.
    fn push(&mut self, bytes: &[u8]) {
        if self.outcome != Outcome::Message || bytes.is_empty() {
            return;
        }
        if self.body_len + bytes.len() > self.max_body {
            self.refuse(Outcome::TooBig);
            return;
        }
        if self.message.capacity() - self.message.len() < bytes.len() {
            // Grow by doubling, but never past header + max_body.
            let limit = self.message.len() - self.body_len + self.max_body;
            let wanted = (self.message.capacity() * 2)
                .max(self.message.len() + bytes.len())
                .min(limit);
            if self
                .message
                .try_reserve_exact(wanted - self.message.len())
                .is_err()
            {
                self.refuse(Outcome::NoMemory);
                return;
            }
        }
        self.message.extend_from_slice(bytes);
        self.body_len += bytes.len();
    }

    fn refuse(&mut self, outcome: Outcome) {
        self.outcome = outcome;
        self.message = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(chunks: &[&[u8]]) -> (Vec<u8>, Outcome, usize) {
        let mut r = Reader::new("H: x\r\n".into(), 0, 1000, 1000);
        let mut rest = 0;
        for chunk in chunks {
            let (n, done) = r.feed(chunk);
            if done {
                rest = chunk.len() - n;
                let outcome = r.outcome();
                return (r.message, outcome, rest);
            }
            assert_eq!(n, chunk.len());
        }
        panic!("not terminated ({rest})");
    }

    #[test]
    fn unstuffs_and_terminates() {
        let (m, o, rest) = read(&[b"a\r\n..b\r\n.\r\nQUIT\r\n"]);
        assert_eq!(m, b"H: x\r\na\r\n.b\r\n");
        assert_eq!(o, Outcome::Message);
        assert_eq!(rest, 6);
        let (m, _, _) = read(&[b".\r\n"]);
        assert_eq!(m, b"H: x\r\n");
    }

    #[test]
    fn terminator_split_across_reads() {
        let (m, _, _) = read(&[b"a\r", b"\n", b".", b"\r", b"\n"]);
        assert_eq!(m, b"H: x\r\na\r\n");
    }

    #[test]
    fn bare_endings_are_normalized_and_cannot_terminate() {
        let (m, _, _) = read(&[b"a\nb\rc\r\n.\nMAIL\r\n\n.\r\nx\r\n.\r\n"]);
        assert_eq!(m, b"H: x\r\na\r\nb\r\nc\r\n\r\nMAIL\r\n\r\n\r\nx\r\n");
    }

    #[test]
    fn limits() {
        let mut r = Reader::new(String::new(), 0, 10, 1000);
        assert_eq!(r.feed(b"0123456789\r\n.\r\n"), (15, true));
        assert_eq!(r.outcome(), Outcome::TooBig);
        assert!(r.message.capacity() == 0);
        let mut r = Reader::new(String::new(), 0, 10_000, 1000);
        let long = vec![b'x'; 999];
        r.feed(&long);
        assert_eq!(r.feed(b"\r\n.\r\n"), (5, true));
        assert_eq!(r.outcome(), Outcome::LineTooLong);
        let mut r = Reader::new(String::new(), 0, 10_000, 1000);
        r.feed(&long[..998]);
        assert_eq!(r.feed(b"\r\n.\r\n"), (5, true));
        assert_eq!(r.outcome(), Outcome::Message);
        assert!(r.message.capacity() <= 10_000);
    }
}
