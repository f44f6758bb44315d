//! EXPN: mailing lists are not expanded here (nor anywhere: it would tell
//! an outsider who is on them).

use crate::Accept;
use crate::session::{Next, Session};

pub(crate) fn run<A: Accept>(s: &mut Session<A>) -> Next {
    if s.junk() == Next::Close {
        return Next::Close;
    }
    s.reply("502 5.5.1 EXPN command is disabled");
    Next::Continue
}
