//! One file per SMTP verb. Each `run` takes the session and the parsed
//! arguments, queues its reply and says whether the session goes on.

pub(crate) mod data;
pub(crate) mod ehlo;
pub(crate) mod expn;
pub(crate) mod help;
pub(crate) mod mail;
pub(crate) mod noop;
pub(crate) mod quit;
pub(crate) mod rcpt;
pub(crate) mod rset;
pub(crate) mod starttls;
pub(crate) mod unknown;
pub(crate) mod vrfy;

/// Whether an address from the wire is fit to store: smtp-proto replaces
/// invalid UTF-8 with U+FFFD and lets quoted local parts carry control
/// characters; neither goes into the spool.
pub(crate) fn clean_address(address: &str) -> bool {
    !address
        .chars()
        .any(|c| c.is_control() || c == char::REPLACEMENT_CHARACTER)
}
