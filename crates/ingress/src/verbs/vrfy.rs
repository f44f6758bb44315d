//! VRFY: refused, as with Postfix's `disable_vrfy_command = yes`. This relay
//! knows no mailboxes, and answering would help address harvesting.

use crate::Accept;
use crate::session::{Next, Session};

pub(crate) fn run<A: Accept>(s: &mut Session<A>) -> Next {
    if s.junk() == Next::Close {
        return Next::Close;
    }
    s.reply("502 5.5.1 VRFY command is disabled");
    Next::Continue
}
