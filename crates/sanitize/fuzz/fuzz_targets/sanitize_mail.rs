//! Arbitrary bytes as a mail: parse + sanitize under both built-in
//! profiles' rules (links, archives, SVG, Office) and both output charsets, and the scanner seam (parts handed out,
//! a threat on the first one held or removed) and the converter seam
//! (documents handed out, a failed conversion removes them). Must never
//! panic, hang or blow up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mukaika_sanitize::attachment::{ArchiveRule, MarkupRule, OfficeRule, Rules};
use mukaika_sanitize::{
    Converted, LinkMode, OnInfected, OutputCharset, Policy, Scan, Threat, Verdict, sanitize,
    sanitize_with,
};

fuzz_target!(|data: &[u8]| {
    let mut policy = Policy::default();
    let first = sanitize_with(
        data,
        &policy,
        &Scan {
            extract: true,
            convert: true,
            ..Scan::default()
        },
    );
    assert!(!first.message.is_empty());
    if !first.to_convert.is_empty() {
        let converted: Vec<Converted> = first
            .to_convert
            .iter()
            .map(|c| Converted {
                part: c.part.clone(),
                entry: c.entry.clone(),
                pdf: Err("fuzz".into()),
            })
            .collect();
        let second = sanitize_with(
            data,
            &policy,
            &Scan {
                converted: &converted,
                ..Scan::default()
            },
        );
        assert!(second.to_convert.is_empty());
        for c in &converted {
            assert!(
                second
                    .report
                    .parts
                    .iter()
                    .any(|p| p.path == c.part && p.reason == "office-conversion-failed")
            );
        }
    }
    if let Some(part) = first.extracted.first() {
        let threats = [Threat {
            name: "Fuzz.Test".into(),
            part: Some(part.part.clone()),
            entry: None,
            engine: "fuzz".into(),
            database: None,
        }];
        let scan = Scan {
            threats: &threats,
            ..Scan::default()
        };
        let held = sanitize_with(data, &policy, &scan);
        assert_eq!(held.report.verdict, Verdict::Held);
        policy.on_infected = OnInfected::RemovePart;
        let removed = sanitize_with(data, &policy, &scan);
        // The infected part is never delivered.
        assert!(removed.report.parts.iter().all(|p| p.path != part.part
            || p.reason == "virus-found"
            || removed.report.verdict != Verdict::Sanitized));
    }
    // The strict profile's rules: links removed, archives split into
    // attachments, SVG drawn, Office documents to be converted.
    policy.links = LinkMode::Remove;
    policy.output_charset = OutputCharset::Iso2022Jp;
    policy.attachments = Rules {
        office: OfficeRule::Pdf,
        archives: ArchiveRule::Attachments,
        markup: MarkupRule::Image,
        ..policy.attachments
    };
    let _ = sanitize(data, &policy);
    // The output is itself a mail; sanitizing it again must work too.
    let _ = sanitize(&first.message, &Policy::default());
});
