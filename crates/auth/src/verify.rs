//! Running mail-auth on one original, within bounds: the header section
//! and body sizes, the number of signatures, the time, and a panic.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use mail_auth::dkim::DkimError;
use mail_auth::dmarc::Policy;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, Error, MessageAuthenticator, SpfResult,
    dmarc::verify::DmarcParameters, spf::verify::SpfParameters,
};

use crate::results::{DmarcPolicy, Results, Signature, Verdict, plain_domain};

/// What the SMTP session said about the message.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// The connecting IP address.
    pub ip: IpAddr,
    /// The EHLO/HELO name.
    pub helo: &'a str,
    /// MAIL FROM, empty for `<>`.
    pub sender: &'a str,
}

/// SPF, DKIM, DMARC and ARC of `message`. Must run inside a task of its
/// own (the caller spawns it): a panic in the crate is then a `JoinError`.
pub(crate) async fn run(
    resolver: &MessageAuthenticator,
    host: &str,
    message: &[u8],
    client: Client<'_>,
) -> Results {
    let mut results = Results::unknown(host, Verdict::PermError);
    let sender_domain = client
        .sender
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty());
    results.spf_helo = sender_domain.is_none();
    results.spf_domain = plain_domain(sender_domain.unwrap_or(client.helo));
    let spf = resolver
        .verify_spf(SpfParameters::verify(
            client.ip,
            client.helo,
            host,
            client.sender,
        ))
        .await;
    results.spf = match spf.result() {
        SpfResult::Pass => Verdict::Pass,
        SpfResult::Fail => Verdict::Fail,
        SpfResult::SoftFail => Verdict::SoftFail,
        SpfResult::Neutral => Verdict::Neutral,
        SpfResult::TempError => Verdict::TempError,
        SpfResult::PermError => Verdict::PermError,
        SpfResult::None => Verdict::None,
    };
    // strict: a DKIM `l=` (body length) signature is refused, which also
    // bounds the body hashes computed at parse time to one per
    // canonicalization and algorithm.
    let parsed =
        std::panic::catch_unwind(|| AuthenticatedMessage::parse_with_opts(message, None, true));
    let Ok(Some(mut parsed)) = parsed else {
        results.dkim.clear();
        results.dmarc = Verdict::PermError;
        results.arc = Verdict::None;
        return results;
    };
    results.from_domain = from_domain(&parsed.from);
    // Each signature costs a DNS query and a public-key operation.
    parsed.dkim_headers.truncate(crate::MAX_SIGNATURES);
    let dkim = resolver.verify_dkim(&parsed).await;
    results.dkim = dkim
        .iter()
        .map(|output| Signature {
            result: dkim_verdict(output.result()),
            domain: output.signature().and_then(|s| plain_domain(&s.d)),
            selector: output.signature().and_then(|s| plain_domain(&s.s)),
        })
        .collect();
    results.arc = dkim_verdict(resolver.verify_arc(&parsed).await.result());
    let mail_from_domain = sender_domain.unwrap_or(client.helo);
    let dmarc = resolver
        .verify_dmarc(DmarcParameters::new(&parsed, &dkim, mail_from_domain, &spf))
        .await;
    results.dmarc = match dmarc.result() {
        DmarcResult::Pass => Verdict::Pass,
        DmarcResult::Fail(_) => Verdict::Fail,
        DmarcResult::TempError(_) => Verdict::TempError,
        DmarcResult::PermError(_) => Verdict::PermError,
        DmarcResult::None => Verdict::None,
    };
    if dmarc.dmarc_record().is_some() {
        results.dmarc_policy = match dmarc.policy() {
            Policy::Reject => Some(DmarcPolicy::Reject),
            Policy::Quarantine => Some(DmarcPolicy::Quarantine),
            Policy::None => Some(DmarcPolicy::None),
            Policy::Unspecified => None,
        };
    }
    results
}

fn dkim_verdict(result: &DkimResult) -> Verdict {
    match result {
        DkimResult::Pass => Verdict::Pass,
        // RFC 6376 6.1.3: a body hash that does not match is PERMFAIL,
        // which RFC 8601 writes as `fail` (mail-auth says neutral).
        DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)) => Verdict::Fail,
        DkimResult::Neutral(_) => Verdict::Neutral,
        DkimResult::Fail(_) => Verdict::Fail,
        DkimResult::PermError(_) => Verdict::PermError,
        DkimResult::TempError(_) => Verdict::TempError,
        DkimResult::None => Verdict::None,
    }
}

/// The one From domain (several different ones: none, as DMARC does).
fn from_domain(from: &[String]) -> Option<String> {
    let mut domains = from
        .iter()
        .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d));
    let first = domains.next()?;
    domains
        .all(|d| d.eq_ignore_ascii_case(first))
        .then_some(())?;
    plain_domain(first)
}

/// Runs [`run`] in its own task under `timeout`.
#[allow(clippy::too_many_arguments)] // one call site, in lib.rs
pub(crate) async fn bounded(
    resolver: MessageAuthenticator,
    host: Arc<str>,
    message: Arc<Vec<u8>>,
    start: usize,
    ip: IpAddr,
    helo: String,
    sender: String,
    timeout: Duration,
) -> Results {
    let host2 = host.clone();
    let task = tokio::spawn(async move {
        let client = Client {
            ip,
            helo: &helo,
            sender: &sender,
        };
        run(&resolver, &host2, &message[start..], client).await
    });
    let abort = task.abort_handle();
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(results)) => results,
        // A panic in the crate: nothing is known, nothing passes.
        Ok(Err(_)) => Results::unknown(&host, Verdict::PermError),
        Err(_) => {
            abort.abort();
            let mut results = Results::unknown(&host, Verdict::TempError);
            results.timed_out = true;
            results
        }
    }
}
