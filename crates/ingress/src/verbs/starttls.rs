//! STARTTLS (RFC 3207): offered when `tls.mode` is not `"off"`. After the
//! handshake the session starts over: no HELO/EHLO name, no transaction,
//! and nothing the client sent in the clear after STARTTLS is read.

use std::time::Duration;

use crate::Accept;
use crate::session::{Next, Session};

pub(crate) async fn run<A: Accept>(s: &mut Session<A>) -> Next {
    let Some(acceptor) = s.tls.clone() else {
        return s.error("502 5.5.1 Error: command not implemented");
    };
    if s.conn.is_tls() {
        return s.error("503 5.5.1 Error: TLS already active");
    }
    if s.transaction.is_some() {
        return s.error("503 5.5.1 Error: MAIL transaction in progress");
    }
    s.reply("220 2.0.0 Ready to start TLS");
    let timeout = Duration::from_secs(s.config.command_timeout_secs);
    match tokio::time::timeout(timeout, s.conn.start_tls(&acceptor)).await {
        Ok(Ok(discarded)) => {
            if discarded > 0 {
                tracing::warn!(client = %s.ip, bytes = discarded, "discarded input pipelined after STARTTLS");
            }
            s.helo = None;
            s.transaction = None;
            Next::Continue
        }
        Ok(Err(e)) => {
            tracing::info!(client = %s.ip, error = %e, "TLS handshake failed");
            Next::Close
        }
        Err(_) => {
            tracing::info!(client = %s.ip, "TLS handshake timed out");
            Next::Close
        }
    }
}
