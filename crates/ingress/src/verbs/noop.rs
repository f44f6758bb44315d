//! NOOP: does nothing, counted as a junk command.

use crate::Accept;
use crate::session::{Next, Session};

pub(crate) fn run<A: Accept>(s: &mut Session<A>) -> Next {
    if s.junk() == Next::Close {
        return Next::Close;
    }
    s.reply("250 2.0.0 Ok");
    Next::Continue
}
