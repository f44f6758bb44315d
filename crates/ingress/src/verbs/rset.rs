//! RSET: drops the open transaction, keeps the HELO/EHLO name.

use crate::Accept;
use crate::session::{Next, Session};

pub(crate) fn run<A: Accept>(s: &mut Session<A>) -> Next {
    if s.junk() == Next::Close {
        return Next::Close;
    }
    s.transaction = None;
    s.reply("250 2.0.0 Ok");
    Next::Continue
}
