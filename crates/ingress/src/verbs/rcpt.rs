//! RCPT TO: adds a recipient, only in `accept_domains`: this is what keeps
//! the relay closed.

use super::clean_address;
use crate::Accept;
use crate::policy;
use crate::session::{Next, Session, for_reply};
use smtp_proto::RcptTo;

pub(crate) fn run<A: Accept>(s: &mut Session<A>, to: RcptTo<String>) -> Next {
    let Some(transaction) = &s.transaction else {
        return s.error("503 5.5.1 Error: need MAIL command");
    };
    let smtputf8 = transaction.smtputf8;
    let count = transaction.recipients.len();
    if to.flags != 0 || to.orcpt.is_some() || to.rrvs != 0 {
        return s.error("555 5.5.4 Unsupported option: no RCPT parameters are offered");
    }
    let recipient = to.address;
    // smtp-proto gives "" for both <> and <postmaster>; a relay has no
    // local postmaster, so both are a bad recipient here.
    if recipient.is_empty() || !clean_address(&recipient) {
        return s.error("501 5.1.3 Bad recipient address syntax");
    }
    if !recipient.is_ascii() && !smtputf8 {
        return s.error("553 5.6.7 Non-ASCII recipient address needs the SMTPUTF8 parameter");
    }
    if !policy::recipient_allowed(&s.config, &recipient) {
        tracing::info!(client = %s.ip, recipient = ?recipient, "relay access denied");
        let text = format!("550 5.7.1 <{}>: Relay access denied", for_reply(&recipient));
        return s.error(&text);
    }
    if count >= s.config.max_recipients {
        // Not an error of the client's: RFC 5321 4.5.3.1.10 has it send
        // the rest in another transaction.
        s.reply("452 4.5.3 Error: too many recipients");
        return Next::Continue;
    }
    if let Some(transaction) = &mut s.transaction
        && !transaction.recipients.contains(&recipient)
    {
        transaction.recipients.push(recipient);
    }
    s.reply("250 2.1.5 Ok");
    Next::Continue
}
