//! The sample corpus through the real command, and the command-line contract.
//!
//! Every `samples/NNN-name.eml` is run through `mukaika sanitize --out F
//! --report F`, with virus scanning by a real clamd (the project's test
//! signatures: EICAR and `Mukaika.Test.Sig`); the output is parsed with mail-parser and must meet both
//! the facts of its `samples/NNN-name.expect.toml` (schema in
//! `samples/README.md`) and the invariants every delivered mail shares:
//! exit 0; a parseable message; only the kept header fields, 7-bit and
//! CRLF-clean, none of them created by a raw CR, LF or NUL; no HTML (nor
//! anything but text) delivered; `mukaika-verify` accepting it;
//! `X-Mukaika-Sanitized` naming the profile
//! and verdict; and a report with one entry per leaf part of the input, each
//! with a SHA-256.
//!
//! All samples are checked before anything fails, and the failure lists
//! every sample with what differed. `MUKAIKA_SAMPLE=306 cargo test --test
//! samples` checks only the samples whose name contains "306".

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use mail_parser::{Addr, Message, MessageParser, MimeHeaders, PartType};
use serde::Deserialize;
use serde_json::Value;

#[path = "../crates/scan/tests/support/mod.rs"]
mod clamd;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_mukaika");

// What a delivered mail may carry: the output verifier's allow-lists.
use mukaika_verify::{
    ALLOWED_ATTACHMENTS as ALLOWED_OUTPUT_TYPES, ALLOWED_HEADERS, ALLOWED_PART_HEADERS,
};

const ACTIONS: &[&str] = &[
    "kept",
    "converted",
    "flattened",
    "cleaned",
    "removed",
    "held",
];

/// One sample's `.expect.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    about: String,
    /// `--config`, relative to the repository root.
    config: Option<String>,
    /// `--profile`; without it, the config's default, "standard".
    profile: Option<String>,
    verdict: String,
    /// The report's top-level reason; when absent, the report must have none.
    reason: Option<String>,
    /// Number of report entries.
    parts: Option<usize>,
    subject: Option<String>,
    from: Option<Mailbox>,
    reply_to: Option<Mailbox>,
    #[serde(default)]
    headers_absent: Vec<String>,
    /// The charset parameter of the delivered text body.
    body_charset: Option<String>,
    #[serde(default)]
    body_contains: Vec<String>,
    #[serde(default)]
    body_not_contains: Vec<String>,
    /// The body holds no HTML tag, comment or doctype (see `html_tag`).
    #[serde(default)]
    no_html_tags: bool,
    /// Names of the delivered attachments, in order; absent means none.
    #[serde(default)]
    attachments: Vec<String>,
    #[serde(default)]
    part: Vec<PartExpect>,
    #[serde(default)]
    attachment: Vec<AttachmentExpect>,
    /// What clamd must find, in any order; absent means nothing.
    #[serde(default)]
    threat: Vec<ThreatExpect>,
}

/// One report threat: its signature name starts with `name`, and it was
/// found in `part` (absent: in the message as a whole).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreatExpect {
    name: String,
    part: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mailbox {
    name: String,
    address: String,
}

/// Fields of one report entry: the entry at `path`, or, without a path,
/// at least one entry having them all.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartExpect {
    path: Option<String>,
    /// "" means the entry has no filename (null).
    filename: Option<String>,
    declared_type: Option<String>,
    detected_type: Option<String>,
    action: Option<String>,
    reason: Option<String>,
    charset: Option<String>,
    sha256: Option<String>,
    size: Option<u64>,
    replaced_chars: Option<u64>,
}

impl PartExpect {
    fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut fields = Vec::new();
        let mut text = |key, value: &Option<String>| {
            if let Some(v) = value {
                fields.push((
                    key,
                    if key == "filename" && v.is_empty() {
                        Value::Null
                    } else {
                        Value::from(v.as_str())
                    },
                ));
            }
        };
        text("path", &self.path);
        text("filename", &self.filename);
        text("declared_type", &self.declared_type);
        text("detected_type", &self.detected_type);
        text("action", &self.action);
        text("reason", &self.reason);
        text("charset", &self.charset);
        text("sha256", &self.sha256);
        if let Some(size) = self.size {
            fields.push(("size", Value::from(size)));
        }
        if let Some(n) = self.replaced_chars {
            fields.push(("replaced_chars", Value::from(n)));
        }
        fields
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentExpect {
    name: String,
    content_type: Option<String>,
    #[serde(default)]
    contains: Vec<String>,
}

/// One sample, run once and shared by the tests that look at it.
struct Run {
    name: String,
    input: Vec<u8>,
    expect: Result<Expect, String>,
    outcome: Result<Outcome, String>,
}

/// What running the command on a sample gave.
struct Outcome {
    code: Option<i32>,
    stderr: String,
    /// The sanitized mail (`--out`).
    output: Vec<u8>,
    /// The JSON report (`--report`).
    report: Vec<u8>,
}

fn samples_dir() -> PathBuf {
    Path::new(ROOT).join("samples")
}

/// Names (without `.eml`) of every sample, sorted.
fn sample_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(samples_dir())
        .expect("samples/ is readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".eml").map(str::to_owned))
        .collect();
    names.sort();
    names
}

fn runs() -> &'static [Run] {
    static RUNS: OnceLock<Vec<Run>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let names = sample_names();
        assert!(
            !names.is_empty(),
            "no samples in {}",
            samples_dir().display()
        );
        let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("samples");
        fs::create_dir_all(&work).expect("creating the scratch directory");
        // One clamd for all samples, stopped once they have all run: every
        // test reads the runs, none scans again.
        let clamd = clamd::Clamd::start(&Path::new(ROOT).join("crates/scan/tests/signatures"));
        write_scanning_configs(&work, &clamd.unix());
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(8);
        let chunk = names.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = names
                .chunks(chunk)
                .map(|chunk| {
                    scope.spawn(|| {
                        chunk
                            .iter()
                            .map(|name| run_sample(name, &work))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a sample runner panicked"))
                .collect()
        })
    })
}

fn run_sample(name: &str, work: &Path) -> Run {
    let eml = samples_dir().join(format!("{name}.eml"));
    let input = fs::read(&eml).unwrap_or_default();
    let expect = fs::read_to_string(samples_dir().join(format!("{name}.expect.toml")))
        .map_err(|e| format!("reading {name}.expect.toml: {e}"))
        .and_then(|text| {
            toml::from_str::<Expect>(&text).map_err(|e| format!("{name}.expect.toml: {e}"))
        });
    let outcome = match &expect {
        Err(e) => Err(e.clone()),
        Ok(expect) => {
            let out = work.join(format!("{name}.out.eml"));
            let report = work.join(format!("{name}.report.json"));
            let _ = fs::remove_file(&out);
            let _ = fs::remove_file(&report);
            let mut command = Command::new(BIN);
            command
                .current_dir(ROOT)
                .arg("sanitize")
                .arg("--config")
                .arg(scanning_config(work, expect.config.as_deref()));
            if let Some(profile) = &expect.profile {
                command.arg("--profile").arg(profile);
            }
            command
                .arg("--out")
                .arg(&out)
                .arg("--report")
                .arg(&report)
                .arg(&eml);
            match command.output() {
                Err(e) => Err(format!("could not run {BIN}: {e}")),
                Ok(o) => Ok(Outcome {
                    code: o.status.code(),
                    stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                    output: fs::read(&out).unwrap_or_default(),
                    report: fs::read(&report).unwrap_or_default(),
                }),
            }
        }
    };
    Run {
        name: name.to_owned(),
        input,
        expect,
        outcome,
    }
}

/// The scratch copy of `config` (or of the embedded default) that scans
/// with the test clamd.
fn scanning_config(work: &Path, config: Option<&str>) -> PathBuf {
    let name = config.map_or("embedded.toml".into(), |c| c.replace('/', "_"));
    work.join(format!("scanning-{name}"))
}

/// Writes `scanning_config` for the embedded default and for each file of
/// `config/` that uses the production clamd: the same file, with
/// `[scanner] clamd` set to `address`.
fn write_scanning_configs(work: &Path, address: &str) {
    let line = format!("clamd = \"{address}\"");
    fs::write(scanning_config(work, None), format!("[scanner]\n{line}\n"))
        .expect("writing a config");
    let production = "clamd = \"unix:/var/run/clamav/clamd.ctl\"";
    for entry in fs::read_dir(Path::new(ROOT).join("config")).expect("config/") {
        let name = entry.expect("config/").file_name();
        let config = format!("config/{}", name.to_string_lossy());
        let text = fs::read_to_string(Path::new(ROOT).join(&config)).expect("reading a config");
        if text.contains(production) {
            fs::write(
                scanning_config(work, Some(&config)),
                text.replace(production, &line),
            )
            .expect("writing a config");
        }
    }
}

fn selected(run: &Run) -> bool {
    std::env::var("MUKAIKA_SAMPLE").map_or(true, |filter| run.name.contains(&filter))
}

/// Runs `check` on every selected sample; fails listing every sample that
/// had a problem, with all of its problems.
fn check_all(what: &str, check: impl Fn(&Run, &Expect, &mut Vec<String>)) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for run in runs().iter().filter(|r| selected(r)) {
        checked += 1;
        let mut problems = Vec::new();
        match &run.expect {
            Ok(expect) => check(run, expect, &mut problems),
            Err(e) => problems.push(e.clone()),
        }
        if !problems.is_empty() {
            let about = run.expect.as_ref().map_or("", |e| e.about.as_str());
            failures.push(format!(
                "{} ({about}):\n  - {}",
                run.name,
                problems.join("\n  - ")
            ));
        }
    }
    assert!(checked > 0, "MUKAIKA_SAMPLE matches no sample");
    assert!(
        failures.is_empty(),
        "{} of {checked} samples fail ({what}):\n{}\n",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_sample_has_expectations_and_a_readme_line() {
    let readme =
        fs::read_to_string(samples_dir().join("README.md")).expect("samples/README.md exists");
    let mut problems = Vec::new();
    for name in sample_names() {
        if !samples_dir().join(format!("{name}.expect.toml")).is_file() {
            problems.push(format!("{name}.eml has no {name}.expect.toml"));
        }
        if !readme.contains(&name) {
            problems.push(format!("{name} is not listed in samples/README.md"));
        }
        let valid = name.len() > 4
            && name.as_bytes()[..3].iter().all(u8::is_ascii_digit)
            && name.as_bytes()[3] == b'-';
        if !valid {
            problems.push(format!("{name}.eml is not named NNN-short-name.eml"));
        }
    }
    for entry in fs::read_dir(samples_dir())
        .expect("samples/ is readable")
        .flatten()
    {
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = file.strip_suffix(".expect.toml")
            && !samples_dir().join(format!("{stem}.eml")).is_file()
        {
            problems.push(format!("{file} has no {stem}.eml"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn samples_meet_their_expectations_and_the_invariants() {
    check_all("expectations and invariants", |run, expect, problems| {
        let Outcome {
            code,
            stderr,
            output,
            report,
        } = match &run.outcome {
            Ok(outcome) => outcome,
            Err(e) => return problems.push(e.clone()),
        };
        if *code != Some(0) {
            problems.push(format!(
                "exit code {code:?}, expected 0; stderr: {}",
                stderr.trim()
            ));
            return;
        }
        let report: Value = match serde_json::from_slice(report) {
            Ok(v) => v,
            Err(e) => return problems.push(format!("the report is not JSON: {e}")),
        };
        check_report(&run.input, expect, &report, problems);
        check_raw_header_section(output, expect, &report, problems);
        // The production output verifier must let every sample's output cross.
        if let Err(violations) = mukaika_verify::verify(output) {
            for v in violations {
                problems.push(format!("output verifier: {v}"));
            }
        }
        let Some(message) = MessageParser::new().parse(output) else {
            return problems.push("the output does not parse as a mail".into());
        };
        check_message(&message, expect, &report, problems);
    });
}

/// Attachment names are written as RFC 2231 `filename*=` (the standard,
/// what Thunderbird and Apple Mail read) *and* in the Outlook form, an
/// RFC 2047 encoded word in a quoted `name=` (not standard, but what
/// Outlook and older Japanese clients read), so every client shows the
/// Japanese name. Kept apart from the test above so that this one gap
/// does not hide others.
#[test]
fn delivered_attachments_carry_both_name_forms() {
    check_all("attachment name forms", |run, _, problems| {
        let Ok(Outcome {
            code: Some(0),
            output,
            ..
        }) = &run.outcome
        else {
            return;
        };
        let Some(message) = MessageParser::new().parse(output) else {
            return;
        };
        for part in message.parts.iter().filter(|p| is_attachment(p)) {
            let filename = part
                .content_disposition()
                .and_then(|d| d.attribute("filename"));
            let name = part.content_type().and_then(|c| c.attribute("name"));
            if filename.is_none() || filename != name {
                problems.push(format!(
                    "attachment has Content-Disposition filename {filename:?} but Content-Type name {name:?}"
                ));
            }
        }
    });
}

/// The report's threats are exactly the expected ones, each with an engine.
fn check_threats(expect: &Expect, report: &Value, problems: &mut Vec<String>) {
    let threats = report["threats"].as_array().cloned().unwrap_or_default();
    let matches = |t: &Value, e: &ThreatExpect| {
        t["name"].as_str().is_some_and(|n| n.starts_with(&e.name))
            && t["part"] == e.part.as_deref().map_or(Value::Null, Value::from)
    };
    for e in &expect.threat {
        if !threats.iter().any(|t| matches(t, e)) {
            problems.push(format!("no threat {e:?} in {threats:?}"));
        }
    }
    for t in &threats {
        if !expect.threat.iter().any(|e| matches(t, e)) {
            problems.push(format!("unexpected threat {t}"));
        }
        if !t["engine"]
            .as_str()
            .is_some_and(|e| e.starts_with("ClamAV "))
        {
            problems.push(format!("threat without the engine version: {t}"));
        }
    }
}

fn check_report(input: &[u8], expect: &Expect, report: &Value, problems: &mut Vec<String>) {
    let profile = expect.profile.as_deref().unwrap_or("standard");
    if report["verdict"] != expect.verdict.as_str() {
        problems.push(format!(
            "report verdict {}, expected {:?}",
            report["verdict"], expect.verdict
        ));
    }
    if report["profile"] != profile {
        problems.push(format!(
            "report profile {}, expected {profile:?}",
            report["profile"]
        ));
    }
    let reason = report.get("reason").cloned().unwrap_or(Value::Null);
    let expected_reason = expect.reason.as_deref().map_or(Value::Null, Value::from);
    if reason != expected_reason {
        problems.push(format!(
            "report reason {reason}, expected {expected_reason}"
        ));
    }
    check_threats(expect, report, problems);
    let Some(parts) = report["parts"].as_array() else {
        return problems.push("the report has no parts array".into());
    };
    if let Some(n) = expect.parts
        && parts.len() != n
    {
        let paths: Vec<&str> = parts.iter().filter_map(|p| p["path"].as_str()).collect();
        problems.push(format!(
            "report has {} parts {paths:?}, expected {n}",
            parts.len()
        ));
    }

    // Each entry is well-formed.
    let mut seen = HashSet::new();
    for entry in parts {
        let path = entry["path"].as_str().unwrap_or_default();
        let path_ok = !path.is_empty()
            && path
                .split('.')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !path_ok {
            problems.push(format!(
                "report part path {} is not an IMAP section number",
                entry["path"]
            ));
        }
        if !seen.insert(path.to_owned()) {
            problems.push(format!("report part path {path} appears twice"));
        }
        for key in ["sha256", "output_sha256"] {
            let value = &entry[key];
            let required = key == "sha256";
            if (required || !value.is_null()) && !value.as_str().is_some_and(is_sha256_hex) {
                problems.push(format!(
                    "report part {path}: {key} {value} is not 64 lowercase hex digits"
                ));
            }
        }
        if !entry["action"]
            .as_str()
            .is_some_and(|a| ACTIONS.contains(&a))
        {
            problems.push(format!(
                "report part {path}: unknown action {}",
                entry["action"]
            ));
        }
        if entry["reason"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("report part {path}: empty reason"));
        }
        if !entry["size"].is_u64() {
            problems.push(format!(
                "report part {path}: size {} is not a number",
                entry["size"]
            ));
        }
    }

    // One entry per leaf of the input, in MIME order. A subtree the report
    // cut off as too deep counts as one leaf.
    if expect.verdict != "rejected" && report["verdict"] != "rejected" {
        let cut: HashSet<&str> = parts
            .iter()
            .filter(|e| e["reason"] == "nesting-too-deep")
            .filter_map(|e| e["path"].as_str())
            .collect();
        let reported: Vec<&str> = parts.iter().filter_map(|e| e["path"].as_str()).collect();
        match MessageParser::new().parse(input) {
            Some(input) => {
                let mut leaves = Vec::new();
                leaf_paths(&input, "", &cut, &mut leaves);
                if leaves != reported {
                    problems.push(format!(
                        "report parts {reported:?} are not the input's leaf parts {leaves:?}"
                    ));
                }
            }
            None if !parts.is_empty() => {
                problems.push("report has parts but the input does not parse".into())
            }
            None => {}
        }
    }

    // The selected entries.
    for want in &expect.part {
        let fields = want.fields();
        let matches = |entry: &Value| {
            fields.iter().all(|(key, value)| {
                let got = match (&entry[*key], *key) {
                    (Value::Null, "replaced_chars") => Value::from(0),
                    (got, _) => got.clone(),
                };
                &got == value
            })
        };
        match &want.path {
            Some(path) => match parts.iter().find(|e| e["path"] == path.as_str()) {
                None => problems.push(format!("report has no part {path}")),
                Some(entry) => {
                    for (key, value) in &fields {
                        let got = match (&entry[*key], *key) {
                            (Value::Null, "replaced_chars") => Value::from(0),
                            (got, _) => got.clone(),
                        };
                        if &got != value {
                            problems.push(format!(
                                "report part {path}: {key} is {got}, expected {value}"
                            ));
                        }
                    }
                }
            },
            None if !parts.iter().any(matches) => {
                problems.push(format!("no report part has all of {}", describe(&fields)));
            }
            None => {}
        }
    }
}

fn describe(fields: &[(&str, Value)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// IMAP section numbers of the leaves of `message`, whose own number is
/// `prefix` ("" at the top).
fn leaf_paths(message: &Message<'_>, prefix: &str, cut: &HashSet<&str>, out: &mut Vec<String>) {
    let Some(root) = message.parts.first() else {
        return;
    };
    match &root.body {
        PartType::Multipart(children) => {
            for (n, &child) in children.iter().enumerate() {
                part_paths(message, child as usize, &section(prefix, n + 1), cut, out);
            }
        }
        _ => part_paths(message, 0, &section(prefix, 1), cut, out),
    }
}

fn part_paths(
    message: &Message<'_>,
    id: usize,
    path: &str,
    cut: &HashSet<&str>,
    out: &mut Vec<String>,
) {
    let Some(part) = message.parts.get(id) else {
        return;
    };
    if cut.contains(path) {
        out.push(path.to_owned());
        return;
    }
    match &part.body {
        PartType::Multipart(children) => {
            for (n, &child) in children.iter().enumerate() {
                part_paths(message, child as usize, &section(path, n + 1), cut, out);
            }
        }
        PartType::Message(nested) => leaf_paths(nested, path, cut, out),
        _ => out.push(path.to_owned()),
    }
}

fn section(prefix: &str, n: usize) -> String {
    if prefix.is_empty() {
        n.to_string()
    } else {
        format!("{prefix}.{n}")
    }
}

/// The entry names of a delivered zip (its content is the verifier's).
fn zip_names(bytes: &[u8]) -> Vec<String> {
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map(|z| {
            z.file_names()
                .filter_map(|n| n.ok())
                .map(|n| n.into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The header section as bytes on the wire: every field allowed, none
/// created by a raw CR, LF or NUL, 7-bit, CRLF, lines within 998 octets.
fn check_raw_header_section(
    output: &[u8],
    expect: &Expect,
    report: &Value,
    problems: &mut Vec<String>,
) {
    let Some(end) = output.windows(4).position(|w| w == b"\r\n\r\n") else {
        return problems.push("the output has no CRLF CRLF ending its header section".into());
    };
    let section = &output[..end];
    if !section.is_ascii() {
        problems.push("the output header section is not 7-bit ASCII".into());
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for (n, line) in split_crlf(section).into_iter().enumerate() {
        if line.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
            problems.push(format!("header line {} holds a raw CR, LF or NUL", n + 1));
        }
        if line.len() > 998 {
            problems.push(format!(
                "header line {} is {} octets long",
                n + 1,
                line.len()
            ));
        }
        let text = String::from_utf8_lossy(line);
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            match fields.last_mut() {
                Some((_, value)) => value.push_str(&text),
                None => problems.push("the header section starts with a continuation line".into()),
            }
        } else if let Some((name, value)) = text.split_once(':') {
            fields.push((name.to_owned(), value.trim().to_owned()));
        } else {
            problems.push(format!(
                "header line {} is not a field: {:?}",
                n + 1,
                truncate(&text)
            ));
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (name, _) in &fields {
        if !ALLOWED_HEADERS.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            problems.push(format!(
                "the output has a header field not on the list: {:?}",
                truncate(name)
            ));
        }
        *counts.entry(name.to_ascii_lowercase()).or_default() += 1;
    }
    for (name, count) in counts {
        if count > 1 {
            problems.push(format!("the output has {count} {name} fields"));
        }
    }
    for absent in &expect.headers_absent {
        if fields
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(absent))
        {
            problems.push(format!("the output has a {absent} field"));
        }
    }
    let profile = expect.profile.as_deref().unwrap_or("standard");
    let wanted = format!(
        "profile={profile}; verdict={}",
        report["verdict"].as_str().unwrap_or("?")
    );
    match fields
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("X-Mukaika-Sanitized"))
    {
        Some((_, value)) if *value == wanted => {}
        Some((_, value)) => problems.push(format!(
            "X-Mukaika-Sanitized is {value:?}, expected {wanted:?}"
        )),
        None => problems.push("the output has no X-Mukaika-Sanitized field".into()),
    }
}

/// `bytes` cut at each CRLF (bare CR and LF stay inside the pieces).
fn split_crlf(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if &bytes[i..i + 2] == b"\r\n" {
            lines.push(&bytes[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    lines.push(&bytes[start..]);
    lines
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// The delivered message as mail-parser reads it.
fn check_message(
    message: &Message<'_>,
    expect: &Expect,
    report: &Value,
    problems: &mut Vec<String>,
) {
    // Structure: one text body, then text attachments; nothing else.
    let mut body = None;
    let mut attachments = Vec::new();
    for (id, part) in message.parts.iter().enumerate() {
        if id > 0 {
            for header in part.headers() {
                if !ALLOWED_PART_HEADERS
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(header.name()))
                {
                    problems.push(format!("output part {id} has a {} field", header.name()));
                }
            }
        }
        let content_type = content_type(part);
        match &part.body {
            PartType::Multipart(_) if id == 0 && content_type == "multipart/mixed" => continue,
            PartType::Multipart(_) => {
                problems.push(format!("output part {id} is a nested {content_type}"));
                continue;
            }
            PartType::Message(_) => {
                problems.push(format!("output part {id} is a message/rfc822"));
                continue;
            }
            PartType::Html(_) => problems.push(format!("output part {id} is text/html")),
            _ => {}
        }
        if !ALLOWED_OUTPUT_TYPES.contains(&content_type.as_str()) {
            problems.push(format!("output part {id} is {content_type}"));
        }
        let mut text = part.text_contents().map(|t| t.replace("\r\n", "\n"));
        if content_type == "application/zip" {
            // For `contains`, a zip's "text" is its entry names, one a line.
            text = Some(zip_names(part.contents()).join("\n"));
        }
        if is_attachment(part) {
            attachments.push((
                part.attachment_name().unwrap_or_default().to_owned(),
                content_type,
                text,
            ));
        } else if body.is_none() && attachments.is_empty() {
            body = Some((
                text.unwrap_or_default(),
                part.content_type().and_then(|c| c.attribute("charset")),
            ));
        } else {
            problems.push(format!(
                "output part {id} is neither the first text nor an attachment"
            ));
        }
    }
    let Some((body, charset)) = body else {
        return problems.push("the output has no text body".into());
    };

    // Header facts.
    if let Some(subject) = &expect.subject
        && message.subject() != Some(subject.as_str())
    {
        problems.push(format!(
            "subject is {:?}, expected {subject:?}",
            message.subject()
        ));
    }
    for (field, want, got) in [
        ("From", &expect.from, message.from().and_then(|a| a.first())),
        (
            "Reply-To",
            &expect.reply_to,
            message.reply_to().and_then(|a| a.first()),
        ),
    ] {
        if let Some(want) = want {
            let got_pair = got.map(|a: &Addr<'_>| {
                (
                    a.name().unwrap_or_default(),
                    a.address().unwrap_or_default(),
                )
            });
            if got_pair != Some((want.name.as_str(), want.address.as_str())) {
                problems.push(format!(
                    "{field} is {got_pair:?}, expected ({:?}, {:?})",
                    want.name, want.address
                ));
            }
        }
    }
    if let Some(id) = report["message_id"].as_str()
        && message.message_id() != Some(id)
    {
        problems.push(format!(
            "Message-ID is {:?}, the report says {id:?}",
            message.message_id()
        ));
    }

    // Body facts.
    if let Some(want) = &expect.body_charset
        && !charset.is_some_and(|c| c.eq_ignore_ascii_case(want))
    {
        problems.push(format!("body charset is {charset:?}, expected {want:?}"));
    }
    for needle in &expect.body_contains {
        if !body.contains(needle.as_str()) {
            problems.push(format!("body lacks {needle:?}"));
        }
    }
    for needle in &expect.body_not_contains {
        if let Some(at) = body.find(needle.as_str()) {
            let context: String = body[body[..at]
                .char_indices()
                .rev()
                .nth(30)
                .map_or(0, |(i, _)| i)..]
                .chars()
                .take(80)
                .collect();
            problems.push(format!("body contains {needle:?}: …{context:?}…"));
        }
    }
    if expect.no_html_tags
        && let Some(tag) = html_tag(&body)
    {
        problems.push(format!("body holds an HTML tag: {tag:?}"));
    }
    if body.contains('\0') && !expect.body_not_contains.iter().any(|n| n == "\0") {
        problems.push("body contains a NUL".into());
    }

    // Attachment facts.
    let names: Vec<&str> = attachments.iter().map(|(n, _, _)| n.as_str()).collect();
    if names != expect.attachments {
        problems.push(format!(
            "delivered attachments {names:?}, expected {:?}",
            expect.attachments
        ));
    }
    for want in &expect.attachment {
        let Some((_, content_type, text)) = attachments.iter().find(|(n, _, _)| *n == want.name)
        else {
            continue; // already reported by the name list
        };
        if let Some(ct) = &want.content_type
            && ct != content_type
        {
            problems.push(format!(
                "attachment {:?} is {content_type}, expected {ct}",
                want.name
            ));
        }
        for needle in &want.contains {
            if !text
                .as_deref()
                .unwrap_or_default()
                .contains(needle.as_str())
            {
                problems.push(format!("attachment {:?} lacks {needle:?}", want.name));
            }
        }
    }
}

/// The first thing in `text` that reads as HTML markup: `<name` or
/// `</name` followed by a space, `>`, `/` or the end, or `<!`. Angle
/// brackets around a URL or an address (`<hxxps://…>`, `<a@example.jp>`)
/// are not markup.
fn html_tag(text: &str) -> Option<String> {
    text.match_indices('<').find_map(|(at, _)| {
        let rest = &text[at + 1..];
        let name = rest.strip_prefix('/').unwrap_or(rest);
        let len = name.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let is_tag = rest.starts_with('!')
            || (name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name[len..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace() || c == '>' || c == '/'));
        is_tag.then(|| text[at..].chars().take(40).collect())
    })
}

fn content_type(part: &mail_parser::MessagePart<'_>) -> String {
    part.content_type().map_or_else(
        || "text/plain".into(),
        |ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase(),
    )
}

fn is_attachment(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.is_attachment())
}

/// The checks above find what they are meant to find.
#[test]
fn the_invariant_checks_catch_bad_outputs() {
    let expect: Expect =
        toml::from_str("about = \"self-test\"\nverdict = \"sanitized\"\n").unwrap();
    let mut problems = Vec::new();

    // A Bcc line, a bare LF that hides X-Mukaika-Sanitized inside it, HTML.
    let output = b"From: a@example.jp\r\nBcc: evil@example.com\nX-Mukaika-Sanitized: profile=standard; \
verdict=sanitized\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<b>x</b>\r\n--b--\r\n";
    let report = serde_json::json!({"verdict": "sanitized", "profile": "standard", "parts": []});
    check_raw_header_section(output, &expect, &report, &mut problems);
    check_message(
        &MessageParser::new().parse(output).unwrap(),
        &expect,
        &report,
        &mut problems,
    );

    // A report that misses a leaf and has a short hash.
    let input = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\n";
    let report = serde_json::json!({"verdict": "sanitized", "profile": "standard", "parts": [
        {"path": "1", "action": "kept", "reason": "plain-text", "sha256": "abc", "size": 3}
    ]});
    check_report(input, &expect, &report, &mut problems);

    assert_eq!(html_tag("a <hxxps://x[.]jp> <a@b.jp> 1 < 2"), None);
    assert_eq!(html_tag("x <br/> y").as_deref(), Some("<br/> y"));
    assert_eq!(html_tag("</td>").as_deref(), Some("</td>"));
    assert_eq!(html_tag("<!-- c -->").as_deref(), Some("<!-- c -->"));
    assert_eq!(html_tag("<p").as_deref(), Some("<p"));

    for wanted in [
        "not on the list: \"Bcc\"",
        "raw CR, LF or NUL",
        "no X-Mukaika-Sanitized",
        "is text/html",
        "are not the input's leaf parts [\"1\", \"2\"]",
        "sha256 \"abc\"",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(wanted)),
            "no problem mentions {wanted:?}: {problems:#?}"
        );
    }
}

// --- the command-line contract -------------------------------------------------

fn mukaika(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .current_dir(ROOT)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running mukaika");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(bytes).expect("writing stdin");
    }
    child.wait_with_output().expect("waiting for mukaika")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli");
    fs::create_dir_all(&dir).expect("creating the scratch directory");
    dir.join(name)
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SAMPLE: &str = "samples/004-utf8-base64.eml";

#[test]
fn dash_means_stdin_and_stdout() {
    let input = fs::read(Path::new(ROOT).join(SAMPLE)).expect("reading the sample");

    // Mail from stdin, sanitized mail to stdout (the default --out).
    let output = mukaika(&["sanitize", "-"], Some(&input));
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        stderr_of(&output)
    );
    let message = MessageParser::new()
        .parse(&output.stdout)
        .expect("stdout is a mail");
    assert_eq!(message.subject(), Some("資料送付のお知らせ 😀"));
    assert_eq!(
        message.header_raw("X-Mukaika-Sanitized").map(str::trim),
        Some("profile=standard; verdict=sanitized")
    );

    // The report to stdout while the mail goes to a file.
    let out = scratch("dash.out.eml");
    let output = mukaika(
        &[
            "sanitize",
            "--out",
            out.to_str().unwrap(),
            "--report",
            "-",
            "-",
        ],
        Some(&input),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        stderr_of(&output)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("stdout is the JSON report");
    assert_eq!(report["verdict"], "sanitized");
    assert_eq!(report["message_id"], "sample-004@samples.mukaika.invalid");
    assert!(
        MessageParser::new()
            .parse(&fs::read(&out).unwrap())
            .is_some()
    );
}

#[test]
fn out_and_report_cannot_both_be_stdout() {
    let output = mukaika(&["sanitize", "--out", "-", "--report", "-", SAMPLE], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn unknown_profile_is_a_usage_error() {
    let output = mukaika(&["sanitize", "--profile", "nope", SAMPLE], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        output.stdout.is_empty(),
        "nothing is written on a usage error"
    );
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr:?}");
    assert!(
        stderr.contains("\"nope\""),
        "stderr names the profile: {stderr:?}"
    );
}

#[test]
fn missing_input_is_an_io_error() {
    let output = mukaika(&["sanitize", "samples/does-not-exist.eml"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr:?}");
    assert!(
        stderr.contains("samples/does-not-exist.eml"),
        "stderr names the file: {stderr:?}"
    );
}

#[test]
fn bad_config_names_file_line_and_key() {
    for (file, text, located) in [
        (
            "unknown-key.toml",
            "[profiles.x]\nlinks = \"defang\"\nlinkz = 1\n",
            ":3: profiles.x.linkz: ",
        ),
        (
            "out-of-range.toml",
            "# comment\n[profiles.x.limits]\nmax_depth = 0\n",
            ":3: profiles.x.limits.max_depth: 0 is out of range",
        ),
    ] {
        let path = scratch(file);
        fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap();
        for args in [
            vec!["sanitize", "--config", path, SAMPLE],
            vec!["check-config", "--config", path],
        ] {
            let output = mukaika(&args, None);
            let stderr = stderr_of(&output);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert_eq!(
                stderr.lines().count(),
                1,
                "{args:?}: one line on stderr: {stderr:?}"
            );
            let expected = format!("mukaika: {path}{located}");
            assert!(
                stderr.starts_with(&expected),
                "{args:?}: {stderr:?} does not start with {expected:?}"
            );
        }
    }
}

#[test]
fn check_config_accepts_the_shipped_configs() {
    for args in [
        &["check-config", "--config", "config/mukaika.toml"][..],
        &["check-config"][..],
    ] {
        let output = mukaika(args, None);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr_of(&output)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("ok"), "{args:?}: {stdout:?}");
    }
}
