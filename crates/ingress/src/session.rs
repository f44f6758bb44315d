//! One SMTP conversation, from greeting to close.
//!
//! The session reads a command line (bounded by `max_command_line_length`
//! and `command_timeout_secs`), has `smtp-proto` parse it, and hands it to
//! the verb's module in `verbs/`. State is small: the HELO/EHLO name, the
//! open transaction (sender and recipients), and two counters, errors and
//! junk commands, each with a limit that ends the session with `421 4.7.0`.
//!
//! SECURITY: everything here comes from an unauthenticated Internet
//! client. Client-supplied text is never echoed unfiltered
//! ([`for_reply`]) and never logged unquoted.

use std::mem;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use smtp_proto::{Error as ParseError, Request};
use tokio_rustls::TlsAcceptor;

use crate::Accept;
use crate::config::Config;
use crate::connection::{Connection, Line};
use crate::policy;
use crate::shutdown::{Phase, Shutdown};
use crate::verbs;

/// What the session does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Continue,
    /// Send what is queued and close.
    Close,
}

/// The name the client gave, and whether it said EHLO (ESMTP) or HELO.
#[derive(Debug, Clone)]
pub(crate) struct Helo {
    pub(crate) name: String,
    pub(crate) esmtp: bool,
}

/// An open mail transaction: MAIL was accepted.
#[derive(Debug, Clone)]
pub(crate) struct Transaction {
    pub(crate) sender: String,
    /// MAIL FROM carried `SMTPUTF8`: addresses and headers may be UTF-8.
    pub(crate) smtputf8: bool,
    /// The `SIZE=` declared with MAIL (0: none), already checked against
    /// `max_message_bytes`: the message buffer is allocated once at that
    /// size.
    pub(crate) declared_size: usize,
    pub(crate) recipients: Vec<String>,
}

pub(crate) struct Session<A: Accept> {
    pub(crate) conn: Connection,
    pub(crate) config: Arc<Config>,
    pub(crate) accept: Arc<A>,
    /// Present when STARTTLS is offered (`tls.mode` not `"off"`).
    pub(crate) tls: Option<TlsAcceptor>,
    /// The client's address, IPv4-mapped IPv6 shown as IPv4.
    pub(crate) ip: IpAddr,
    pub(crate) helo: Option<Helo>,
    pub(crate) transaction: Option<Transaction>,
    pub(crate) shutdown: Shutdown,
    errors: u32,
    junk: u32,
    /// The current command line; reused.
    line: Vec<u8>,
}

impl<A: Accept> Session<A> {
    pub(crate) fn new(
        conn: Connection,
        config: Arc<Config>,
        accept: Arc<A>,
        tls: Option<TlsAcceptor>,
        ip: IpAddr,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            conn,
            config,
            accept,
            tls,
            ip,
            helo: None,
            transaction: None,
            shutdown,
            errors: 0,
            junk: 0,
            line: Vec::new(),
        }
    }

    /// Runs the conversation to its end and closes the connection.
    pub(crate) async fn run(mut self) {
        let allowed = policy::client_allowed(&self.config, self.ip);
        if allowed {
            let greeting = format!("220 {} ESMTP Mukaika\r\n", self.config.hostname);
            self.conn.reply(&greeting);
        } else {
            tracing::info!(client = %self.ip, "client not allowed: 554 greeting");
            let greeting = format!(
                "554 5.7.1 {} Client host [{}] rejected: Access denied\r\n",
                self.config.hostname, self.ip
            );
            self.conn.reply(&greeting);
        }
        let command_timeout = Duration::from_secs(self.config.command_timeout_secs);
        loop {
            let phase = self.shutdown.phase();
            if phase == Phase::Closing || (phase == Phase::Draining && self.transaction.is_none()) {
                self.shutting_down();
                break;
            }
            // Idle sessions stop as soon as shutdown starts; a session in a
            // transaction only when the grace period is over.
            let stop_at = if self.transaction.is_none() {
                Phase::Draining
            } else {
                Phase::Closing
            };
            let max = self.config.max_command_line_length;
            let read = tokio::select! {
                read = tokio::time::timeout(command_timeout, self.conn.read_line(max, &mut self.line)) => read,
                () = self.shutdown.reached(stop_at) => continue,
            };
            let next = match read {
                Err(_) => {
                    self.timed_out();
                    Next::Close
                }
                Ok(Err(e)) => {
                    tracing::debug!(client = %self.ip, error = %e, "connection lost");
                    Next::Close
                }
                Ok(Ok(Line::Eof)) => {
                    tracing::debug!(client = %self.ip, "client closed the connection");
                    Next::Close
                }
                Ok(Ok(Line::TooLong)) => self.error("500 5.5.2 Error: line too long"),
                Ok(Ok(Line::Complete)) => self.dispatch(allowed).await,
            };
            if next == Next::Close {
                break;
            }
        }
        self.conn.close().await;
    }

    async fn dispatch(&mut self, allowed: bool) -> Next {
        let line = mem::take(&mut self.line);
        let parsed = Request::parse(&mut line.iter()).map(Request::into_owned);
        self.line = line;
        if !allowed {
            return verbs::unknown::denied(self, parsed);
        }
        let request = match parsed {
            Ok(request) => request,
            Err(e) => return verbs::unknown::parse_error(self, e),
        };
        match request {
            Request::Ehlo { host } => verbs::ehlo::run(self, host, true),
            Request::Helo { host } => verbs::ehlo::run(self, host, false),
            Request::Mail { from } => verbs::mail::run(self, from),
            Request::Rcpt { to } => verbs::rcpt::run(self, to),
            Request::Data => verbs::data::run(self).await,
            Request::Rset => verbs::rset::run(self),
            Request::Noop { .. } => verbs::noop::run(self),
            Request::Quit => verbs::quit::run(self),
            Request::Vrfy { .. } => verbs::vrfy::run(self),
            Request::Expn { .. } => verbs::expn::run(self),
            Request::Help { .. } => verbs::help::run(self),
            Request::StartTls => verbs::starttls::run(self).await,
            Request::Lhlo { .. }
            | Request::Auth { .. }
            | Request::Bdat { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => verbs::unknown::not_implemented(self),
        }
    }

    /// Queues a reply (one line, without CRLF).
    pub(crate) fn reply(&mut self, text: &str) {
        self.conn.reply(text);
        self.conn.reply("\r\n");
    }

    /// Queues an error reply and counts it; at `max_errors`, adds
    /// `421 4.7.0` and ends the session.
    pub(crate) fn error(&mut self, text: &str) -> Next {
        self.reply(text);
        self.errors += 1;
        if self.errors >= self.config.max_errors {
            tracing::info!(client = %self.ip, errors = self.errors, "too many errors: closing");
            let text = format!("421 4.7.0 {} Error: too many errors", self.config.hostname);
            self.reply(&text);
            return Next::Close;
        }
        Next::Continue
    }

    /// Counts a command that moves no mail; past `max_junk_commands`,
    /// queues `421 4.7.0` and ends the session.
    pub(crate) fn junk(&mut self) -> Next {
        self.junk += 1;
        if self.junk > self.config.max_junk_commands {
            tracing::info!(client = %self.ip, "too many commands without mail: closing");
            let text = format!(
                "421 4.7.0 {} Error: too many commands without mail",
                self.config.hostname
            );
            self.reply(&text);
            return Next::Close;
        }
        Next::Continue
    }

    /// A message was accepted: junk commands are counted anew.
    pub(crate) fn delivered(&mut self) {
        self.junk = 0;
    }

    /// Queues `421 4.4.2`.
    pub(crate) fn timed_out(&mut self) {
        tracing::info!(client = %self.ip, "timeout: closing");
        let text = format!("421 4.4.2 {} Error: timeout exceeded", self.config.hostname);
        self.reply(&text);
    }

    /// Queues `421 4.3.2`.
    pub(crate) fn shutting_down(&mut self) {
        let text = format!("421 4.3.2 {} Service shutting down", self.config.hostname);
        self.reply(&text);
    }

    /// Whether MAIL must wait for STARTTLS.
    pub(crate) fn tls_required(&self) -> bool {
        self.config.tls.mode == crate::config::TlsMode::Required && !self.conn.is_tls()
    }
}

/// Client-supplied text made fit for a reply line: printable ASCII and
/// spaces are kept, anything else becomes `?`; at most 256 characters.
pub(crate) fn for_reply(untrusted: &str) -> String {
    untrusted
        .chars()
        .take(256)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Maps an `smtp-proto` error to its reply.
pub(crate) fn parse_error_reply(e: &ParseError) -> String {
    match e {
        ParseError::UnknownCommand => "500 5.5.1 Error: command not recognized".into(),
        ParseError::SyntaxError { syntax } => format!("501 5.5.4 Syntax: {syntax}"),
        ParseError::InvalidSenderAddress => "501 5.1.7 Bad sender address syntax".into(),
        ParseError::InvalidRecipientAddress => "501 5.1.3 Bad recipient address syntax".into(),
        ParseError::InvalidParameter { param } => format!("501 5.5.4 Bad {param} parameter syntax"),
        ParseError::UnsupportedParameter { param } => {
            format!("555 5.5.4 Unsupported option: {}", for_reply(param))
        }
        _ => "500 5.5.2 Error: bad syntax".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// smtp-proto's parser is given complete lines only; whatever they
    /// hold, it must not panic. A cheap stand-in for a fuzz target.
    #[test]
    fn parser_survives_garbage_lines() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let prefixes: [&[u8]; 8] = [
            b"MAIL FROM:<",
            b"RCPT TO:<",
            b"EHLO ",
            b"BDAT ",
            b"MAIL FROM:<a@b> ",
            b"RCPT TO:<a@b> ",
            b"AUTH ",
            b"",
        ];
        for _ in 0..20_000 {
            let mut line = prefixes[(next() % 8) as usize].to_vec();
            let len = next() % 80;
            for _ in 0..len {
                let alphabet = b"<>@:=\" \r\\.,;AZaz09+-\x00\xff\xc3";
                let r = next();
                line.push(if r % 3 == 0 {
                    (r >> 8) as u8
                } else {
                    alphabet[(r >> 8) as usize % alphabet.len()]
                });
            }
            line.retain(|&b| b != b'\n');
            line.extend_from_slice(b"\r\n");
            let parsed = Request::parse(&mut line.iter()).map(Request::into_owned);
            if let Err(e) = &parsed {
                let reply = parse_error_reply(e);
                assert!(
                    reply.is_ascii() && !reply.contains(['\r', '\n']),
                    "{reply:?}"
                );
            }
        }
    }

    #[test]
    fn replies_never_carry_control_characters() {
        assert_eq!(for_reply("a\r\nb\u{7f}é"), "a??b??");
    }
}
