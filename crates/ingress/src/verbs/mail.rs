//! MAIL FROM: opens a transaction.
//!
//! Checked in this order: HELO/EHLO given, no transaction open, TLS when
//! required, only the parameters we advertise, declared SIZE, a clean
//! address (UTF-8 only with SMTPUTF8), the sender patterns, and last the
//! spool's capacity.

use smtp_proto::{
    MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_BODY_BINARYMIME, MAIL_SMTPUTF8, MailFrom,
};

use super::clean_address;
use crate::Accept;
use crate::policy;
use crate::session::{Next, Session, Transaction, for_reply};

pub(crate) fn run<A: Accept>(s: &mut Session<A>, from: MailFrom<String>) -> Next {
    let Some(helo) = &s.helo else {
        return s.error("503 5.5.1 Error: send HELO/EHLO first");
    };
    let esmtp = helo.esmtp;
    if s.transaction.is_some() {
        return s.error("503 5.5.1 Error: nested MAIL command");
    }
    if s.tls_required() {
        return s.error("530 5.7.0 Must issue a STARTTLS command first");
    }
    if from.flags & MAIL_BODY_BINARYMIME != 0 {
        return s.error("555 5.5.4 Unsupported option: BODY=BINARYMIME");
    }
    let offered = MAIL_BODY_7BIT | MAIL_BODY_8BITMIME | MAIL_SMTPUTF8;
    let other_parameters = from.flags & !offered != 0
        || from.trans_id.is_some()
        || from.env_id.is_some()
        || from.solicit.is_some()
        || from.mtrk.is_some()
        || from.auth.is_some()
        || from.by != 0
        || from.hold_for != 0
        || from.hold_until != 0
        || from.mt_priority != 0;
    if other_parameters {
        return s.error("555 5.5.4 Unsupported option: only SIZE, BODY and SMTPUTF8 are offered");
    }
    if !esmtp && (from.flags != 0 || from.size != 0) {
        return s.error("555 5.5.4 Unsupported option: say EHLO to use ESMTP parameters");
    }
    if from.size > s.config.max_message_bytes {
        return s.error("552 5.3.4 Message size exceeds fixed limit");
    }
    let smtputf8 = from.flags & MAIL_SMTPUTF8 != 0;
    let sender = from.address;
    if !clean_address(&sender) {
        return s.error("501 5.1.7 Bad sender address syntax");
    }
    if !sender.is_ascii() && !smtputf8 {
        return s.error("553 5.6.7 Non-ASCII sender address needs the SMTPUTF8 parameter");
    }
    if !policy::sender_allowed(&s.config, &sender) {
        tracing::info!(client = %s.ip, sender = ?sender, "sender refused");
        let text = format!(
            "550 5.7.1 <{}>: Sender address rejected: Access denied",
            for_reply(&sender)
        );
        return s.error(&text);
    }
    if s.accept.over_capacity() {
        tracing::warn!(client = %s.ip, "spool over capacity: MAIL deferred");
        s.reply("451 4.3.1 Insufficient system storage");
        return Next::Continue;
    }
    s.transaction = Some(Transaction {
        sender,
        smtputf8,
        declared_size: from.size,
        recipients: Vec::new(),
    });
    s.reply("250 2.1.0 Ok");
    Next::Continue
}
