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
//! - [`mail`]: limits on raw bytes, the MIME walk, charsets, kept headers,
//!   the notice, and the output builder.
//! - [`text`]: HTML to plain text, links neutralized.
//! - [`pdf`]: PDF flattening: every page rendered to one image in a new PDF.
//! - [`policy`] and [`report`]: what comes in with the bytes, and what goes
//!   out with them.
#![forbid(unsafe_code)]

pub mod mail;
pub mod pdf;
pub mod policy;
pub mod report;
pub mod text;

use std::time::Instant;

use mail_parser::MessageParser;

pub use policy::{Limits, LinkMode, NoticeText, OutputCharset, Policy, TextAttachments};
pub use report::{Action, PartReport, Report, Threat, Timings, Verdict};

use mail::{build, headers::KeptHeaders, limits, mime, notice};

/// The result of sanitizing one message.
#[derive(Debug, Clone)]
pub struct Sanitized {
    /// The message to deliver: the sanitized mail, or for a held or
    /// rejected one, the notice that replaces it.
    pub message: Vec<u8>,
    pub report: Report,
}

/// Sanitizes one message. Never panics on any input; every outcome,
/// including a rejection, comes with a deliverable notice.
pub fn sanitize(raw: &[u8], policy: &Policy) -> Sanitized {
    let start = Instant::now();
    let mut timings = Timings::default();
    if let Err(reason) = limits::check(raw, &policy.limits) {
        // Read only the bounded header section, to address the notice.
        let head = &raw[..limits::header_len(raw).min(policy.limits.max_header_bytes)];
        let headers = guarded(|| MessageParser::new().parse_headers(head))
            .flatten()
            .map(|m| KeptHeaders::from_message(&m));
        return refused(
            headers.unwrap_or_default(),
            None,
            reason,
            policy,
            start,
            timings,
        );
    }
    let Some(message) = guarded(|| MessageParser::new().parse(raw)).flatten() else {
        return refused(
            KeptHeaders::default(),
            None,
            "unparseable",
            policy,
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
    let content = mime::walk(&message, policy);
    timings.bodies = micros(start) - timings.parse;
    if content.too_many_parts {
        return refused(
            headers,
            message_id,
            "too-many-parts",
            policy,
            start,
            timings,
        );
    }

    let verdict = Verdict::Sanitized;
    let mut text = notice::render(&content.changes, &policy.notice, verdict, None);
    text.push('\n');
    text.push_str(&content.body);
    let output = build::build(
        &build::Output {
            headers: &headers,
            text: &text,
            attachments: &content.attachments,
            verdict,
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
            reason: None,
            parts: content.parts,
            threats: Vec::new(),
            timings_us: timings,
        },
    }
}

/// The outcome for a message refused as a whole: a notice mail, no content.
fn refused(
    headers: KeptHeaders,
    message_id: Option<String>,
    reason: &'static str,
    policy: &Policy,
    start: Instant,
    mut timings: Timings,
) -> Sanitized {
    let verdict = Verdict::Rejected;
    let text = notice::render(
        &mime::Changes::default(),
        &policy.notice,
        verdict,
        Some(reason),
    );
    let message_id = message_id.or_else(|| headers.message_id.clone());
    let message = build::build(
        &build::Output {
            headers: &headers,
            text: &text,
            attachments: &[],
            verdict,
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
            reason: Some(reason.into()),
            parts: Vec::new(),
            threats: Vec::new(),
            timings_us: timings,
        },
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
