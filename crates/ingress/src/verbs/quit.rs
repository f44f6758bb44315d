//! QUIT: says goodbye and closes.

use crate::Accept;
use crate::session::{Next, Session};

pub(crate) fn run<A: Accept>(s: &mut Session<A>) -> Next {
    s.reply("221 2.0.0 Bye");
    Next::Close
}
