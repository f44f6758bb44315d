//! Commands we do not run: unparsable lines, verbs not offered (AUTH, BDAT,
//! ETRN, ...), and anything from a client that is not allowed to connect.

use smtp_proto::{Error as ParseError, Request};

use crate::Accept;
use crate::session::{Next, Session, parse_error_reply};

/// A line smtp-proto could not parse.
pub(crate) fn parse_error<A: Accept>(s: &mut Session<A>, e: ParseError) -> Next {
    s.error(&parse_error_reply(&e))
}

/// A verb smtp-proto knows but this server does not offer. BDAT is among
/// them (CHUNKING is not advertised): its chunk is then read as commands,
/// which fail and count as errors.
pub(crate) fn not_implemented<A: Accept>(s: &mut Session<A>) -> Next {
    s.error("502 5.5.1 Error: command not implemented")
}

/// A client outside `allow_clients` got a 554 greeting: RFC 5321 3.1 has
/// it wait for QUIT and answer anything else with 503.
pub(crate) fn denied<A: Accept>(
    s: &mut Session<A>,
    parsed: Result<Request<String>, ParseError>,
) -> Next {
    if let Ok(Request::Quit) = parsed {
        return super::quit::run(s);
    }
    let text = format!("503 5.7.1 Error: access denied for [{}]", s.ip);
    s.error(&text)
}
