//! Mukaika's sanitizer core: one untrusted mail in, the mail that may cross
//! into the LGWAN zone out, with a per-part report.
//!
//! The core is pure: bytes and a [`Policy`] in, bytes and a [`Report`] out.
//! It opens no file or socket and reads no environment, so the daemon can
//! run it inside a locked-down worker and the CLI can run it on a file.
//!
//! ```
//! let policy = mukaika_sanitize::Policy::default();
//! let out = mukaika_sanitize::sanitize(b"Subject: hi\r\n\r\n<b>hello</b>\r\n", &policy);
//! assert_eq!(out.report.verdict, mukaika_sanitize::Verdict::Sanitized);
//! ```
//!
//! # Layout
//! - [`archive`]: zips unpacked in memory within bounds, nested ones too.
//! - [`attachment`]: what an attachment really is, and what crosses for it.
//! - [`context`]: what the caller knows that the message does not say (its
//!   queue id, envelope sender, arrival), passed in [`Scan::context`].
//! - [`image`]: images re-encoded from their pixels.
//! - [`mail`]: limits on raw bytes, the MIME walk, charsets, kept headers,
//!   the notice, and the output builder.
//! - [`text`]: HTML to plain text, links neutralized.
//! - [`ooxml`]: docx, xlsx and pptx rebuilt without macros, objects or links out.
//! - [`pdf`]: PDF flattening: every page rendered to one image in a new PDF.
//! - [`policy`] and [`report`]: what comes in with the bytes, and what goes
//!   out with them.
//! - [`svg`]: SVG drawn to a PNG, nothing outside loaded, every size bounded.
//! - [`scanning`]: the seam for a virus scanner: decoded parts out, threats
//!   in (see [`sanitize_with`]).
#![forbid(unsafe_code)]

pub mod archive;
pub mod attachment;
pub mod context;
pub mod image;
pub mod mail;
pub mod ooxml;
pub mod pdf;
pub mod policy;
pub mod report;
pub mod scanning;
pub mod svg;
pub mod text;

use std::time::Instant;

use mail_parser::MessageParser;

pub use context::{Context, Warning};
pub use policy::{
    Limits, LinkMode, NoticeText, OnInfected, OutputCharset, Policy, TextAttachments,
};
pub use report::{Action, EntryReport, PartReport, Report, Threat, Timings, Verdict};
pub use scanning::{CONVERT_EXTENSIONS, Converted, Extracted, Scan, ToConvert};

use mail::{build, headers::KeptHeaders, limits, mime, notice, supply};

/// The result of sanitizing one message.
#[derive(Debug, Clone)]
pub struct Sanitized {
    /// The message to deliver: the sanitized mail, or for a held or
    /// rejected one, the notice that replaces it.
    pub message: Vec<u8>,
    pub report: Report,
    /// The decoded leaf parts, when [`Scan::extract`] asked for them.
    pub extracted: Vec<Extracted>,
    /// The documents to convert, when [`Scan::convert`] said the caller
    /// can: run the core again with their PDFs in [`Scan::converted`].
    pub to_convert: Vec<ToConvert>,
}

/// Sanitizes one message. Never panics on any input; every outcome,
/// including a rejection, comes with a deliverable notice.
pub fn sanitize(raw: &[u8], policy: &Policy) -> Sanitized {
    sanitize_with(raw, policy, &Scan::default())
}

/// [`sanitize`] for a caller that scans for viruses. Run it once with
/// `extract` to get the decoded parts to scan (besides the raw message);
/// if the scanner finds anything, run it again with the `threats`: the
/// result then removes the infected parts or holds the message, following
/// [`Policy::on_infected`]. A threat no reported part accounts for always
/// holds the message (fail closed).
pub fn sanitize_with(raw: &[u8], policy: &Policy, scan: &Scan<'_>) -> Sanitized {
    let start = Instant::now();
    let mut timings = Timings::default();
    if let Err(reason) = limits::check(raw, &policy.limits) {
        return refused(
            header_only(raw, policy),
            None,
            Verdict::Rejected,
            reason,
            policy,
            &scan.context,
            start,
            timings,
        );
    }
    let Some(message) = guarded(|| MessageParser::new().parse(raw)).flatten() else {
        return refused(
            KeptHeaders::default(),
            None,
            Verdict::Rejected,
            "unparseable",
            policy,
            &scan.context,
            start,
            timings,
        );
    };
    timings.parse = micros(start);
    let mut headers = KeptHeaders::from_message(&message);
    let message_id = message.message_id().map(str::to_owned);
    // Without one, mail-builder would make a Message-ID from the host name;
    // derive it from the content instead, so the output is reproducible.
    if headers.message_id.is_none() {
        headers.message_id = Some(format!("{}@mukaika.invalid", &mime::hex_sha256(raw)[..32]));
    }
    let mut content = mime::walk(&message, policy, scan);
    timings.bodies = micros(start) - timings.parse;
    if content.too_many_parts {
        return refused(
            headers,
            message_id,
            Verdict::Rejected,
            "too-many-parts",
            policy,
            &scan.context,
            start,
            timings,
        );
    }

    // The report names the original's sender, not the one supplied.
    let original_from = Some(headers.from_text()).filter(|f| !f.is_empty());
    let supplied = supply::missing(&mut headers, &scan.context);
    let held = must_hold(scan, &content.parts, policy);
    let (verdict, reason) = if held {
        hold_for_virus(&mut content, &headers, scan);
        (Verdict::Held, Some("virus-found"))
    } else {
        (Verdict::Sanitized, None)
    };
    // Every part's hash, so the sender cannot know the boundary in advance
    // (the text that would have to contain it is hashed into it).
    let seed: String = content.parts.iter().map(|p| p.sha256.as_str()).collect();
    let boundary = format!("mukaika-{}", &mime::hex_sha256(seed.as_bytes())[..32]);
    let about = supply::about(&scan.context, &supplied);
    let mut text = notice::render(&content.changes, &policy.notice, verdict, reason, &about);
    if !held {
        text.push('\n');
        text.push_str(&content.body);
    }
    let output = build::build(
        &build::Output {
            headers: &headers,
            text: &text,
            attachments: if held { &[] } else { &content.attachments },
            verdict,
            boundary: &boundary,
            queue_id: scan.context.header_queue_id(),
        },
        policy,
    );
    timings.build = micros(start) - timings.parse - timings.bodies;
    timings.total = micros(start);
    Sanitized {
        message: output,
        report: Report {
            verdict,
            profile: policy.name.clone(),
            message_id,
            subject: headers.subject.clone(),
            from: original_from,
            reason: reason.map(Into::into),
            supplied_headers: supplied.names(),
            parts: content.parts,
            threats: scan.threats.to_vec(),
            timings_us: timings,
        },
        extracted: content.extracted,
        to_convert: if held { Vec::new() } else { content.to_convert },
    }
}

/// Whether the threats hold the whole message: by policy, or because one
/// cannot be pinned on a part that the walk reported.
fn must_hold(scan: &Scan<'_>, parts: &[PartReport], policy: &Policy) -> bool {
    !scan.threats.is_empty()
        && (policy.on_infected == OnInfected::Hold
            || scan.threats.iter().any(|t| !scan.is_pinned(t, parts)))
}

/// Turns a walked message into a held one: nothing is delivered, every
/// part says so, and the notice names the sender, subject and threats.
fn hold_for_virus(content: &mut mime::Content, headers: &KeptHeaders, scan: &Scan<'_>) {
    for part in &mut content.parts {
        part.action = Action::Held;
        if part.reason != "virus-found" {
            part.reason = "message-held".into();
        }
        part.output_sha256 = None;
    }
    let part_name = |path: &Option<String>| {
        content
            .parts
            .iter()
            .find(|p| Some(&p.path) == path.as_ref())
            .and_then(|p| p.filename.clone())
    };
    // A match on the whole message that a part explains is said once.
    let threats = scan
        .threats
        .iter()
        .filter(|t| t.part.is_some() || !scan.is_pinned(t, &content.parts))
        .map(|t| {
            let name = part_name(&t.part);
            (t.name.clone(), scanning::location(t, name.as_deref()))
        })
        .collect();
    content.changes = mime::Changes {
        held_infected: Some(mime::HeldInfected {
            from: headers.from_text(),
            subject: headers.subject.clone().unwrap_or_default(),
            threats,
        }),
        ..mime::Changes::default()
    };
}

/// Why a message is held as a whole by a decision outside the core: the
/// code in its report, and the line of its notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HoldReason {
    /// clamd gave no verdict (down, timed out, garbled).
    ScanUnavailable,
    /// More than clamd accepts.
    ScanTooLarge,
    /// The output verifier refused the sanitized message: a sanitizer bug.
    OutputVerificationFailed,
    /// The worker did not finish within its wall-clock limit.
    WorkerTimeout,
    /// The worker died: a crash, or a memory or CPU limit reached.
    WorkerCrashed,
    /// The worker answered something that is not a valid result.
    WorkerReplyInvalid,
}

impl HoldReason {
    /// The stable reason code (docs/REPORT.md).
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::ScanUnavailable => "scan-unavailable",
            HoldReason::ScanTooLarge => "scan-too-large",
            HoldReason::OutputVerificationFailed => "output-verification-failed",
            HoldReason::WorkerTimeout => "worker-timeout",
            HoldReason::WorkerCrashed => "worker-crashed",
            HoldReason::WorkerReplyInvalid => "worker-reply-invalid",
        }
    }
}

/// The notice for a message held as a whole without being sanitized, for
/// a `reason` found outside the core. Reads the bounded header section
/// only, to address the notice.
pub fn held(raw: &[u8], policy: &Policy, reason: HoldReason, context: &Context) -> Sanitized {
    let headers = header_only(raw, policy);
    let message_id = headers.message_id.clone();
    refused(
        headers,
        message_id,
        Verdict::Held,
        reason.as_str(),
        policy,
        context,
        Instant::now(),
        Timings::default(),
    )
}

/// The kept fields of the bounded header section alone, to address a
/// notice about a message whose body is not read.
fn header_only(raw: &[u8], policy: &Policy) -> KeptHeaders {
    let head = &raw[..limits::header_len(raw).min(policy.limits.max_header_bytes)];
    guarded(|| MessageParser::new().parse_headers(head))
        .flatten()
        .map(|m| KeptHeaders::from_message(&m))
        .unwrap_or_default()
}

/// The outcome for a message refused as a whole: a notice mail, no content.
#[allow(clippy::too_many_arguments)]
fn refused(
    mut headers: KeptHeaders,
    message_id: Option<String>,
    verdict: Verdict,
    reason: &'static str,
    policy: &Policy,
    context: &Context,
    start: Instant,
    mut timings: Timings,
) -> Sanitized {
    let original_from = Some(headers.from_text()).filter(|f| !f.is_empty());
    let supplied = supply::missing(&mut headers, context);
    let text = notice::render(
        &mime::Changes::default(),
        &policy.notice,
        verdict,
        Some(reason),
        &supply::about(context, &supplied),
    );
    let message_id = message_id.or_else(|| headers.message_id.clone());
    let message = build::build(
        &build::Output {
            headers: &headers,
            text: &text,
            attachments: &[],
            verdict,
            boundary: "",
            queue_id: context.header_queue_id(),
        },
        policy,
    );
    timings.total = micros(start);
    Sanitized {
        message,
        report: Report {
            verdict,
            profile: policy.name.clone(),
            message_id,
            subject: headers.subject.clone(),
            from: original_from,
            reason: Some(reason.into()),
            supplied_headers: supplied.names(),
            parts: Vec::new(),
            threats: Vec::new(),
            timings_us: timings,
        },
        extracted: Vec::new(),
        to_convert: Vec::new(),
    }
}

/// Runs the MIME parser, turning a panic inside it into "unparseable".
/// mail-parser promises not to panic, but fuzzing found a `debug_assert!`
/// it trips on malformed nesting (mail-parser 0.11.9, message.rs:485; off
/// in release builds). A dependency bug must not take the caller down.
fn guarded<T>(parse: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).ok()
}

fn micros(since: Instant) -> u64 {
    since.elapsed().as_micros().try_into().unwrap_or(u64::MAX)
}
