//! HELP: the list of commands, nothing more.

use crate::Accept;
use crate::session::{Next, Session};

pub(crate) fn run<A: Accept>(s: &mut Session<A>) -> Next {
    if s.junk() == Next::Close {
        return Next::Close;
    }
    s.reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT STARTTLS");
    Next::Continue
}
