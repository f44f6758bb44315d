//! The sanitizer core with the virus scan around it and the output
//! verifier after it, as `serve` and `sanitize` both run it. The core stays
//! pure: it sanitizes once and hands out the decoded parts; clamd scans the
//! raw message and every part at once; only when it finds something does
//! the core run again with the threats (hold, or remove the part, per the
//! profile's `on_infected`). What would cross is then checked by
//! `mukaika-verify`; a violation (a sanitizer bug) holds the message.
//!
//! The core runs in sandboxed worker processes ([`Engine::Workers`]): a
//! worker that times out, dies or answers garbage holds the message, with
//! the reason in its report. In-process runs ([`Engine::InProcess`]) are
//! for benches and tests that measure the core itself.

use std::sync::Arc;

use futures_util::future::join_all;
use mukaika_sanitize::{
    Context, Converted, HoldReason, OnInfected, Policy, Sanitized, Scan, Threat, ToConvert,
};
use mukaika_scan::{Error as ScanError, Scanner, Verdict};
use mukaika_worker::Pool;
use mukaika_worker::convert::Converter;
use tokio::sync::Semaphore;

/// Messages whose sanitized form failed output verification.
pub const VERIFIER_VIOLATIONS: &str = "mukaika_verifier_violations_total";

/// Sanitizes messages, scanning them when a scanner is configured.
pub struct Sanitizer {
    pub policy: Arc<Policy>,
    pub scanner: Option<Scanner>,
    pub engine: Engine,
    /// LibreOffice, when it is installed and its sandbox proven: without
    /// it, legacy Office attachments are removed as unavailable.
    pub converter: Option<Converter>,
}

/// The converter's PDFs a message may bring back in all: they travel to a
/// worker in one frame.
const MAX_CONVERTED_BYTES: usize = 512 << 20;

/// Where the core runs.
pub enum Engine {
    /// In sandboxed worker processes: what `serve` and `sanitize` use.
    Workers(Pool),
    /// In this process, on blocking threads, `slots` at once: for benches
    /// and tests of the core alone. Never for untrusted mail in `serve`.
    InProcess { slots: Semaphore },
}

/// Messages held because their worker failed, by reason.
pub const WORKER_FAILURES: &str = "mukaika_worker_failures_total";

/// Why there is no scan verdict. Never read as clean.
#[derive(Debug)]
pub enum NoVerdict {
    /// clamd is down, timed out or answered garbage: retrying may help.
    Unavailable(String),
    /// Something is larger than clamd accepts: retrying cannot help.
    TooLarge(String),
}

impl NoVerdict {
    /// Why a message is held for this.
    pub fn reason(&self) -> HoldReason {
        match self {
            NoVerdict::Unavailable(_) => HoldReason::ScanUnavailable,
            NoVerdict::TooLarge(_) => HoldReason::ScanTooLarge,
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
// One per message, moved once: boxing the common variant buys nothing.
#[allow(clippy::large_enum_variant)]
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
    /// `context` is what the caller knows of the message besides its bytes
    /// (none of it for the offline command).
    pub async fn run(&self, raw: Arc<Vec<u8>>, context: &Context) -> anyhow::Result<Outcome> {
        // The raw message is scanned while the core works on it.
        let first = self.core(raw.clone(), context, true, Vec::new(), Vec::new());
        let (whole, first) = match &self.scanner {
            Some(scanner) => {
                let (whole, first) = tokio::join!(scan_one(scanner, &raw, None), first);
                (Some(whole), first)
            }
            None => (None, first.await),
        };
        let mut sanitized = first?;
        let found = match (&self.scanner, whole) {
            (Some(scanner), Some(whole)) => {
                let extracted = std::mem::take(&mut sanitized.extracted);
                match scan_parts(scanner, whole, extracted).await {
                    Ok(found) => found,
                    Err(failure) => return Ok(Outcome::NoVerdict(failure)),
                }
            }
            _ => Vec::new(),
        };
        let to_convert = std::mem::take(&mut sanitized.to_convert);
        if found.is_empty() && to_convert.is_empty() {
            return Ok(Outcome::Done(sanitized));
        }
        // A message held for a virus delivers nothing: convert nothing.
        let held = !found.is_empty() && self.policy.on_infected == OnInfected::Hold;
        let converted = if held {
            Vec::new()
        } else {
            self.convert(to_convert, &found).await
        };
        Ok(Outcome::Done(
            self.core(raw, context, false, found, converted).await?,
        ))
    }

    /// The documents' PDFs, `[workers] conversions` at once; an infected
    /// document is not converted (it is removed anyway).
    async fn convert(&self, documents: Vec<ToConvert>, threats: &[Threat]) -> Vec<Converted> {
        let Some(converter) = &self.converter else {
            return Vec::new();
        };
        let documents: Vec<ToConvert> = documents
            .into_iter()
            .filter(|d| !threats.iter().any(|t| t.part.as_ref() == Some(&d.part)))
            .collect();
        let results = join_all(
            documents
                .iter()
                .map(|d| converter.convert(&d.bytes, d.extension)),
        )
        .await;
        let mut total = 0;
        documents
            .into_iter()
            .zip(results)
            .map(|(document, result)| {
                let result = result.and_then(|pdf| {
                    total += pdf.len();
                    if total > MAX_CONVERTED_BYTES {
                        return Err(format!(
                            "the message's PDFs are over {} MiB in all",
                            MAX_CONVERTED_BYTES >> 20
                        ));
                    }
                    Ok(pdf)
                });
                if let Err(error) = &result {
                    let name = document.filename.as_deref().unwrap_or("");
                    tracing::warn!(stage = "convert", part = %document.part,
                        filename = %name.escape_debug(), error = %error.escape_debug(),
                        "LibreOffice could not convert an attachment; it is removed");
                }
                Converted {
                    part: document.part,
                    entry: document.entry,
                    pdf: result,
                }
            })
            .collect()
    }

    /// The notice that holds `raw` for `reason`.
    pub async fn hold(
        &self,
        raw: Arc<Vec<u8>>,
        reason: HoldReason,
        context: &Context,
    ) -> Sanitized {
        if let Engine::Workers(pool) = &self.engine {
            match pool.hold(&raw, reason, context).await {
                Ok(held) if mukaika_verify::verify(&held.message).is_ok() => return held,
                Ok(_) => tracing::error!(
                    stage = "verifier",
                    "a worker's hold notice failed output verification"
                ),
                Err(e) => {
                    tracing::error!(stage = "worker", error = %e, "a worker could not write the hold notice")
                }
            }
            // The daemon parses nothing of the mail: a notice without its
            // sender and subject; the envelope still routes it.
            return mukaika_sanitize::held(b"", &self.policy, reason, context);
        }
        let (policy, owned) = (self.policy.clone(), context.clone());
        tokio::task::spawn_blocking(move || mukaika_sanitize::held(&raw, &policy, reason, &owned))
            .await
            .unwrap_or_else(|_| mukaika_sanitize::held(b"", &self.policy, reason, context))
    }

    /// One run of the core, then the verifier on what it made: the first
    /// run hands out the decoded parts when there is a scanner to give them
    /// to, and the documents to convert when there is a converter; the
    /// second applies the threats and the conversions.
    async fn core(
        &self,
        raw: Arc<Vec<u8>>,
        context: &Context,
        first: bool,
        threats: Vec<Threat>,
        converted: Vec<Converted>,
    ) -> anyhow::Result<Sanitized> {
        let extract = first && self.scanner.is_some();
        let convert = first && self.converter.is_some();
        let sanitized = match &self.engine {
            Engine::Workers(pool) => {
                let scan = Scan {
                    extract,
                    threats: &threats,
                    convert,
                    converted: &converted,
                    context: context.clone(),
                };
                match pool.sanitize(&raw, &scan).await {
                    Ok(sanitized) => sanitized,
                    Err(failure) => {
                        let reason = failure.hold_reason();
                        metrics::counter!(WORKER_FAILURES, "reason" => reason.as_str())
                            .increment(1);
                        tracing::error!(stage = "worker", reason = reason.as_str(), error = %failure,
                            "the worker failed on this message; it is held");
                        return Ok(self.hold(raw, reason, context).await);
                    }
                }
            }
            Engine::InProcess { slots } => {
                let _slot = slots.acquire().await?;
                let (raw, policy, context) = (raw.clone(), self.policy.clone(), context.clone());
                tokio::task::spawn_blocking(move || {
                    let scan = Scan {
                        extract,
                        threats: &threats,
                        convert,
                        converted: &converted,
                        context,
                    };
                    mukaika_sanitize::sanitize_with(&raw, &policy, &scan)
                })
                .await?
            }
        };
        let policy = self.policy.clone();
        let checked = tokio::task::spawn_blocking(move || verify(sanitized, &policy)).await?;
        match checked {
            Ok(sanitized) => Ok(sanitized),
            Err(extracted) => Ok(Sanitized {
                extracted,
                ..self
                    .hold(raw, HoldReason::OutputVerificationFailed, context)
                    .await
            }),
        }
    }
}

/// The threats clamd found in the raw message (`whole`, already scanned)
/// and in every decoded part, or why there is no verdict.
async fn scan_parts(
    scanner: &Scanner,
    whole: Result<Vec<Threat>, NoVerdict>,
    extracted: Vec<mukaika_sanitize::Extracted>,
) -> Result<Vec<Threat>, NoVerdict> {
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
        return Err(failure);
    }
    if !found.is_empty()
        && let Ok(version) = scanner.version().await
    {
        for threat in &mut found {
            threat.engine.clone_from(&version.engine);
            threat.database.clone_from(&version.database);
        }
    }
    Ok(found)
}

/// Finds LibreOffice and proves the converter's sandbox, when `policy`
/// converts legacy Office files. `None`, said once in the log, when there
/// is no LibreOffice or its sandbox cannot be proven under `sandbox =
/// "required"`: such attachments are then removed as unavailable.
pub async fn start_converter(
    config: &mukaika_worker::Config,
    policy: &Policy,
) -> anyhow::Result<Option<Converter>> {
    use mukaika_sanitize::attachment::LegacyOfficeRule;
    if policy.attachments.legacy_office != LegacyOfficeRule::Pdf {
        return Ok(None);
    }
    let program = mukaika_worker::Program {
        path: std::env::current_exe()?,
        args: vec!["convert".into()],
    };
    match Converter::start(program, config).await {
        Ok((converter, probe)) => {
            let shortfalls = probe.shortfalls();
            if shortfalls.is_empty() {
                tracing::info!(stage = "sandbox", soffice = %converter.soffice().display(),
                    conversions = config.conversions, timeout_s = config.convert_timeout_secs,
                    memory_mb = config.convert_memory_mb, uid = probe.applied.uid,
                    "legacy Office conversion available; converter sandbox proven: no network, files only in its own directory");
            } else {
                tracing::error!(
                    stage = "sandbox",
                    ?shortfalls,
                    "THE LIBREOFFICE CONVERTER IS NOT FULLY SANDBOXED (workers.sandbox = \"allow-degraded\")"
                );
            }
            match mukaika_worker::convert::japanese_fonts() {
                Ok(fonts) if !fonts.is_empty() => {
                    tracing::info!(stage = "convert", ?fonts, "Japanese fonts for conversions");
                }
                found => tracing::warn!(stage = "convert", fonts = ?found,
                    "no Japanese font: converted documents will show Japanese text as empty boxes; install one (Debian: fonts-ipaexfont-gothic fonts-ipaexfont-mincho)"),
            }
            Ok(Some(converter))
        }
        Err(why) => {
            tracing::warn!(stage = "convert", reason = %why,
                "legacy Office conversion is unavailable: doc, xls, ppt, rtf and odt attachments are removed (office-conversion-unavailable)");
            Ok(None)
        }
    }
}

/// Starts the worker pool for `policy`, `size` workers at most, and proves
/// its sandbox: an error says what is missing, unless the config allows
/// running degraded, which is then logged as an error.
pub async fn start_workers(
    config: &mukaika_worker::Config,
    policy: &Policy,
    size: usize,
) -> anyhow::Result<Pool> {
    let program = mukaika_worker::Program {
        path: std::env::current_exe()?,
        args: vec!["worker".into()],
    };
    // The mail, its decoded parts and archive entries for the scanner.
    let max_reply = policy.limits.max_message_bytes * 4
        + policy.limits.archive.max_total_bytes as usize * 2
        + (16 << 20);
    let (pool, proof) = Pool::start(program, config, size, policy, max_reply).await?;
    if proof.shortfalls.is_empty() {
        tracing::info!(stage = "sandbox", workers = size, landlock = ?proof.applied.landlock,
            seccomp = proof.applied.seccomp, uid = proof.applied.uid,
            memory_mb = config.memory_mb, timeout_s = config.timeout_secs,
            "worker sandbox proven: no files, no network, no exec, limits in force");
    } else {
        tracing::error!(stage = "sandbox", shortfalls = ?proof.shortfalls,
            "WORKERS ARE NOT FULLY SANDBOXED (workers.sandbox = \"allow-degraded\")");
    }
    if proof.cjk_fonts.is_empty() {
        tracing::warn!(
            stage = "sandbox",
            "no CJK font: Japanese text in a PDF that does not embed its font is lost when the PDF is flattened; install one (Debian: fonts-ipaexfont-mincho fonts-ipaexfont-gothic)"
        );
    } else {
        tracing::info!(stage = "sandbox", fonts = ?proof.cjk_fonts, "CJK fonts for PDFs that do not embed theirs");
    }
    Ok(pool)
}

/// `sanitized` if the verifier lets it cross; else an error line (this is
/// a sanitizer bug) and the decoded parts, which the scanner still gets.
/// Cleaned PDFs pass only when the profile cleans PDFs.
fn verify(
    sanitized: Sanitized,
    policy: &Policy,
) -> Result<Sanitized, Vec<mukaika_sanitize::Extracted>> {
    let allow = mukaika_verify::Allow {
        cleaned_pdfs: policy.attachments.pdf == mukaika_sanitize::attachment::PdfRule::Clean,
    };
    let Err(violations) = mukaika_verify::verify_with(&sanitized.message, &allow) else {
        return Ok(sanitized);
    };
    metrics::counter!(VERIFIER_VIOLATIONS).increment(1);
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    tracing::error!(stage = "verifier", message_id = sanitized.report.message_id.as_deref().unwrap_or(""),
        violations = ?list, "the sanitized message failed output verification (a sanitizer bug); it is held");
    Err(sanitized.extracted)
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

    #[tokio::test]
    async fn a_sanitized_message_the_verifier_refuses_is_held() {
        let sanitizer = Sanitizer {
            policy: Arc::new(Policy::default()),
            scanner: None,
            engine: Engine::InProcess {
                slots: Semaphore::new(1),
            },
            converter: None,
        };
        let raw = b"From: a@example.jp\r\nSubject: s\r\n\r\nbody\r\n";
        let good = mukaika_sanitize::sanitize(raw, &sanitizer.policy);
        assert_eq!(
            verify(good.clone(), &sanitizer.policy).unwrap().message,
            good.message
        );
        // As if the core had a bug and let HTML through.
        let mut bad = good;
        bad.message = b"From: a@example.jp\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n".to_vec();
        assert!(verify(bad, &sanitizer.policy).is_err());
        let held = sanitizer
            .hold(
                Arc::new(raw.to_vec()),
                HoldReason::OutputVerificationFailed,
                &Context::default(),
            )
            .await;
        assert_eq!(held.report.verdict, mukaika_sanitize::Verdict::Held);
        assert_eq!(
            held.report.reason.as_deref(),
            Some("output-verification-failed")
        );
        assert!(mukaika_verify::verify(&held.message).is_ok());
    }
}
