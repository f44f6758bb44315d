//! The sanitizer core with the virus scan around it and the output
//! verifier after it, as `serve` and `sanitize` both run it. The core stays
//! pure: it sanitizes once and hands out the decoded parts; clamd scans the
//! raw message and every part at once; only when it finds something does
//! the core run again with the threats (hold, or remove the part, per the
//! profile's `on_infected`). What would cross is then checked by
//! `mukaika-verify`; a violation (a sanitizer bug) holds the message.

use std::sync::Arc;

use futures_util::future::join_all;
use mukaika_sanitize::{Policy, Sanitized, Scan, Threat};
use mukaika_scan::{Error as ScanError, Scanner, Verdict};
use tokio::sync::Semaphore;

/// Messages whose sanitized form failed output verification.
pub const VERIFIER_VIOLATIONS: &str = "mukaika_verifier_violations_total";

/// Sanitizes messages, scanning them when a scanner is configured.
pub struct Sanitizer {
    pub policy: Arc<Policy>,
    pub scanner: Option<Scanner>,
    /// Sanitizations at once: CPU-bound, so one per worker (core).
    pub slots: Semaphore,
}

/// Why there is no scan verdict. Never read as clean.
#[derive(Debug)]
pub enum NoVerdict {
    /// clamd is down, timed out or answered garbage: retrying may help.
    Unavailable(String),
    /// Something is larger than clamd accepts: retrying cannot help.
    TooLarge(String),
}

impl NoVerdict {
    /// The core's reason code for a message held for this.
    pub fn reason(&self) -> &'static str {
        match self {
            NoVerdict::Unavailable(_) => "scan-unavailable",
            NoVerdict::TooLarge(_) => "scan-too-large",
        }
    }
}

impl std::fmt::Display for NoVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoVerdict::Unavailable(m) | NoVerdict::TooLarge(m) => f.write_str(m),
        }
    }
}

/// What became of one message.
pub enum Outcome {
    /// Sanitized, and scanned when a scanner is configured: deliver it.
    Done(Sanitized),
    /// clamd gave no verdict; nothing may be delivered yet.
    NoVerdict(NoVerdict),
}

impl Sanitizer {
    /// The message to deliver and its report; with a scanner, only once
    /// clamd has given a verdict on the raw message and every part. An
    /// error means the core panicked (a bug): the caller keeps the mail.
    pub async fn run(&self, raw: Arc<Vec<u8>>) -> anyhow::Result<Outcome> {
        let Some(scanner) = &self.scanner else {
            return Ok(Outcome::Done(self.core(raw, Vec::new()).await?));
        };
        // The raw message is scanned while the core works on it.
        let (whole, first) = tokio::join!(
            scan_one(scanner, &raw, None),
            self.core(raw.clone(), Vec::new())
        );
        let mut sanitized = first?;
        let extracted = std::mem::take(&mut sanitized.extracted);
        let parts = join_all(extracted.iter().map(|p| {
            let place = (p.part.as_str(), p.entry.as_deref());
            scan_one(scanner, &p.bytes, Some(place))
        }))
        .await;
        drop(extracted);
        let mut found = Vec::new();
        let mut failure = None;
        for result in std::iter::once(whole).chain(parts) {
            match result {
                Ok(threats) => found.extend(threats),
                // Too large is final: it wins over a passing outage.
                Err(e @ NoVerdict::TooLarge(_)) => failure = Some(e),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Some(failure) = failure {
            return Ok(Outcome::NoVerdict(failure));
        }
        if found.is_empty() {
            return Ok(Outcome::Done(sanitized));
        }
        if let Ok(version) = scanner.version().await {
            for threat in &mut found {
                threat.engine.clone_from(&version.engine);
                threat.database.clone_from(&version.database);
            }
        }
        Ok(Outcome::Done(self.core(raw, found).await?))
    }

    /// One run of the core and the verifier on a blocking thread, under a
    /// slot: the first (no threats yet) hands out the decoded parts when
    /// there is a scanner to give them to.
    async fn core(&self, raw: Arc<Vec<u8>>, threats: Vec<Threat>) -> anyhow::Result<Sanitized> {
        let _slot = self.slots.acquire().await?;
        let policy = self.policy.clone();
        let extract = threats.is_empty() && self.scanner.is_some();
        let run = tokio::task::spawn_blocking(move || {
            let scan = Scan {
                extract,
                threats: &threats,
            };
            verified(
                &raw,
                &policy,
                mukaika_sanitize::sanitize_with(&raw, &policy, &scan),
            )
        });
        Ok(run.await?)
    }
}

/// `sanitized` if the verifier lets it cross; else the notice that holds
/// the message, and an error line: this is a sanitizer bug. The decoded
/// parts for the scanner go along either way.
fn verified(raw: &[u8], policy: &Policy, sanitized: Sanitized) -> Sanitized {
    let allow = mukaika_verify::Allow {
        cleaned_pdfs: policy.attachments.pdf == mukaika_sanitize::attachment::PdfRule::Clean,
    };
    let Err(violations) = mukaika_verify::verify_with(&sanitized.message, &allow) else {
        return sanitized;
    };
    metrics::counter!(VERIFIER_VIOLATIONS).increment(1);
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    tracing::error!(stage = "verifier", message_id = sanitized.report.message_id.as_deref().unwrap_or(""),
        violations = ?list, "the sanitized message failed output verification (a sanitizer bug); it is held");
    Sanitized {
        extracted: sanitized.extracted,
        ..mukaika_sanitize::held(raw, policy, "output-verification-failed")
    }
}

/// Scans one buffer; the threats carry `place` (part, entry), or none for
/// the raw message. The caller fills in engine and database.
async fn scan_one(
    scanner: &Scanner,
    bytes: &[u8],
    place: Option<(&str, Option<&str>)>,
) -> Result<Vec<Threat>, NoVerdict> {
    match scanner.scan(bytes).await {
        Ok(Verdict::Clean) => Ok(Vec::new()),
        Ok(Verdict::Infected(names)) => Ok(names
            .into_iter()
            .map(|name| Threat {
                name,
                part: place.map(|(part, _)| part.to_owned()),
                entry: place.and_then(|(_, entry)| entry.map(str::to_owned)),
                engine: "clamd".into(),
                database: None,
            })
            .collect()),
        Err(e) => {
            let what = match place {
                None => "the message".to_owned(),
                Some((part, None)) => format!("part {part}"),
                Some((part, Some(entry))) => format!("part {part} > {entry}"),
            };
            Err(match e {
                ScanError::TooLarge(_) => NoVerdict::TooLarge(format!("{what}: {e}")),
                _ => NoVerdict::Unavailable(format!("{what}: {e}")),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sanitized_message_the_verifier_refuses_is_held() {
        let policy = Policy::default();
        let raw = b"From: a@example.jp\r\nSubject: s\r\n\r\nbody\r\n";
        let good = mukaika_sanitize::sanitize(raw, &policy);
        assert_eq!(verified(raw, &policy, good.clone()).message, good.message);
        // As if the core had a bug and let HTML through.
        let mut bad = good;
        bad.message = b"From: a@example.jp\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n".to_vec();
        let held = verified(raw, &policy, bad);
        assert_eq!(held.report.verdict, mukaika_sanitize::Verdict::Held);
        assert_eq!(
            held.report.reason.as_deref(),
            Some("output-verification-failed")
        );
        assert!(mukaika_verify::verify(&held.message).is_ok());
    }
}
