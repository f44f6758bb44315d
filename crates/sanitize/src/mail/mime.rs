//! Walks the MIME tree of a parsed message: every leaf is read, judged and
//! reported once; body text is collected, attachments are converted or
//! removed. Recursion is bounded by `Limits::max_depth`.

use std::borrow::Cow;

use encoding_rs::{BIG5, EUC_JP, EUC_KR, GB18030, GBK, ISO_2022_JP, SHIFT_JIS, UTF_8};
use mail_parser::{
    Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType, parsers::MessageStream,
};
use sha2::{Digest, Sha256};

use super::{charset, encoded_words, filename, headers::clean_text};
use crate::archive;
use crate::attachment::{self, ArchiveRule, Class, Detected, LegacyOfficeRule, OfficeRule};
use crate::policy::Policy;
use crate::report::{Action, PartReport};
use crate::scanning::{Extracted, Scan, ToConvert};
use crate::text::{html, links};

/// What the walk produced, for the notice and the builder.
#[derive(Debug, Default)]
pub struct Content {
    /// The sanitized body text, parts joined in order.
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub parts: Vec<PartReport>,
    pub changes: Changes,
    /// Set when the message has more leaf parts than the policy allows.
    pub too_many_parts: bool,
    /// The decoded leaf parts, when the caller asked for them to scan.
    pub extracted: Vec<Extracted>,
    /// The documents for the caller's converter, when it has one.
    pub to_convert: Vec<ToConvert>,
}

/// A delivered attachment: text re-encoded as UTF-8, or bytes a format
/// module rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: &'static str,
    pub body: attachment::Body,
}

/// What the notice has to tell the recipient.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub html_converted: usize,
    pub active_html_removed: usize,
    pub images_removed: usize,
    pub links: links::LinkStats,
    pub replaced_chars: usize,
    pub forwarded_messages: usize,
    /// (delivered name, reason code) of attachments delivered changed.
    pub converted_attachments: Vec<(String, &'static str)>,
    /// (name shown to the user, reason code)
    pub removed_parts: Vec<(String, &'static str)>,
    /// Parts kept back in quarantine while the rest is delivered: (name
    /// shown to the user, reason code).
    pub held_parts: Vec<(String, &'static str)>,
    /// Parts removed because the scanner found a virus: (name shown to
    /// the user, signature names).
    pub infected_parts: Vec<(String, String)>,
    /// For a message held because of a virus: the original's sender,
    /// subject, and each threat with where it was found.
    pub held_infected: Option<HeldInfected>,
}

/// What the notice of a message held for a virus tells the recipients.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HeldInfected {
    pub from: String,
    pub subject: String,
    /// (signature name, where it was found)
    pub threats: Vec<(String, String)>,
}

pub fn walk(message: &Message<'_>, policy: &Policy, scan: &Scan<'_>) -> Content {
    let mut walker = Walker {
        policy,
        scan,
        content: Content::default(),
        leaves: 0,
        conversions: 0,
    };
    walker.message(message, "", 0);
    walker.content
}

struct Walker<'p> {
    policy: &'p Policy,
    scan: &'p Scan<'p>,
    content: Content,
    leaves: usize,
    /// Documents converted or listed to convert so far.
    conversions: usize,
}

impl Walker<'_> {
    fn message(&mut self, message: &Message<'_>, prefix: &str, depth: usize) {
        let Some(root) = message.parts.first() else {
            return;
        };
        match &root.body {
            PartType::Multipart(_) => self.multipart(message, 0, prefix, depth, None),
            _ => self.part(message, 0, &child_path(prefix, 1), depth, None),
        }
    }

    /// Walks the children of multipart `id`, whose own path is `prefix`.
    fn multipart(
        &mut self,
        message: &Message<'_>,
        id: usize,
        prefix: &str,
        depth: usize,
        skip: Option<&'static str>,
    ) {
        let part = &message.parts[id];
        let Some(children) = part.sub_parts() else {
            return;
        };
        let subtype = part
            .content_type()
            .and_then(|ct| ct.subtype())
            .unwrap_or("mixed");
        let chosen = (subtype.eq_ignore_ascii_case("alternative") && skip.is_none())
            .then(|| choose_alternative(message, children))
            .flatten();
        for (n, &child) in children.iter().enumerate() {
            let child_skip = match chosen {
                Some(c) if c != child as usize => Some("alternative-not-delivered"),
                _ => skip,
            };
            self.part(
                message,
                child as usize,
                &child_path(prefix, n + 1),
                depth + 1,
                child_skip,
            );
        }
    }

    fn part(
        &mut self,
        message: &Message<'_>,
        id: usize,
        path: &str,
        depth: usize,
        skip: Option<&'static str>,
    ) {
        let Some(part) = message.parts.get(id) else {
            return;
        };
        let is_container = matches!(part.body, PartType::Multipart(_) | PartType::Message(_));
        if is_container && depth >= self.policy.limits.max_depth {
            self.leaf(message, part, path, Some("nesting-too-deep"));
            return;
        }
        match &part.body {
            PartType::Multipart(_) => self.multipart(message, id, path, depth, skip),
            PartType::Message(nested) => {
                if skip.is_none() {
                    self.content.changes.forwarded_messages += 1;
                    self.push_body(&forwarded_header(nested));
                }
                let before = self.content.body.len();
                self.message(nested, path, depth + 1);
                if skip.is_none() && self.content.body.len() > before {
                    self.content.body.push_str("\n---------- 転送メッセージここまで / End of forwarded message ----------\n");
                }
            }
            _ => self.leaf(message, part, path, skip),
        }
    }

    fn leaf(
        &mut self,
        message: &Message<'_>,
        part: &MessagePart<'_>,
        path: &str,
        skip: Option<&'static str>,
    ) {
        self.leaves += 1;
        if self.leaves > self.policy.limits.max_parts {
            self.content.too_many_parts = true;
            return;
        }
        let declared_type = declared_type(part);
        let filename = attachment_name(message, part);
        let bytes = content_bytes(message, part);
        let detected = attachment::detect(&bytes, &declared_type, filename.as_deref());
        let mut entry = PartReport {
            path: path.to_owned(),
            filename: filename.clone(),
            declared_type: declared_type.clone(),
            detected_type: detected.mime.clone(),
            action: Action::Removed,
            reason: String::new(),
            sha256: hex_sha256(&bytes),
            size: bytes.len(),
            output_sha256: None,
            charset: None,
            replaced_chars: 0,
            entries: Vec::new(),
        };
        let shown_name = || {
            filename
                .clone()
                .unwrap_or_else(|| format!("{declared_type} ({path})"))
        };

        let threats: Vec<&str> = self
            .scan
            .threats_in(path)
            .map(|t| t.name.as_str())
            .collect();
        if !threats.is_empty() {
            entry.reason = "virus-found".into();
            self.content
                .changes
                .infected_parts
                .push((shown_name(), threats.join(", ")));
        } else if let Some(reason) = skip {
            entry.reason = reason.into();
            if reason != "alternative-not-delivered" {
                self.content
                    .changes
                    .removed_parts
                    .push((shown_name(), reason));
            }
        } else if is_body(part, &declared_type, filename.is_some()) {
            self.body_text(part, &bytes, &declared_type, &mut entry);
        } else if declared_type.starts_with("multipart/") || declared_type.starts_with("message/") {
            // A container mail-parser could not open (no boundary,
            // unparseable): never delivered as raw MIME.
            entry.reason = "malformed-mime".into();
            self.content
                .changes
                .removed_parts
                .push((shown_name(), "malformed-mime"));
        } else if declared_type.starts_with("image/") && filename.is_none() {
            // An image of the HTML body: the body is delivered as text.
            entry.reason = "inline-image".into();
            self.content.changes.images_removed += 1;
        } else {
            self.attachment(part, &bytes, &detected, &mut entry, shown_name());
        }
        self.content.parts.push(entry);
        if self.scan.extract {
            let name = filename.as_deref().unwrap_or_default();
            self.extract(path, name, bytes.into_owned(), detected.class);
        }
    }

    fn body_text(
        &mut self,
        part: &MessagePart<'_>,
        bytes: &[u8],
        declared_type: &str,
        entry: &mut PartReport,
    ) {
        let decoded = read_text(part, bytes, declared_type);
        let text = if declared_type == "text/html" {
            let converted = html::html_to_text(&decoded.text, self.policy.links);
            let s = &converted.stats;
            self.content.changes.html_converted += 1;
            self.content.changes.active_html_removed += s.scripts + s.forms + s.embedded + s.hidden;
            self.content.changes.images_removed += s.images + s.tracking_pixels;
            add_links(&mut self.content.changes.links, s.links);
            entry.action = Action::Converted;
            entry.reason = "html-to-text".into();
            converted.text
        } else {
            let mut stats = links::LinkStats::default();
            let text = links::neutralize_text(&decoded.text, self.policy.links, &mut stats);
            let changed = stats.defanged + stats.removed > 0;
            add_links(&mut self.content.changes.links, stats);
            entry.action = if changed {
                Action::Cleaned
            } else {
                Action::Kept
            };
            entry.reason = if changed {
                "links-neutralized"
            } else {
                "plain-text"
            }
            .into();
            text
        };
        let (text, controls) = clean_control_chars(&text);
        entry.output_sha256 = Some(hex_sha256(text.as_bytes()));
        entry.charset = Some(decoded.charset.into());
        entry.replaced_chars = decoded.replaced + controls;
        self.content.changes.replaced_chars += entry.replaced_chars;
        self.push_body(&text);
    }

    /// Any attachment, by the rules of its class.
    fn attachment(
        &mut self,
        part: &MessagePart<'_>,
        bytes: &[u8],
        detected: &Detected,
        entry: &mut PartReport,
        shown_name: String,
    ) {
        let name = filename::clean(entry.filename.as_deref().unwrap_or("attachment"));
        let input = attachment::Input {
            bytes,
            name: &name,
            declared_type: &entry.declared_type,
            charset: part.content_type().and_then(|ct| ct.attribute("charset")),
            detected,
        };
        let policy = self.policy;
        let archives = policy.attachments.archives;
        let outcome = if converts(policy, detected.class) {
            self.conversion(&input, &entry.path, None)
        } else if detected.class.is_archive() && archives != ArchiveRule::Remove {
            // Entries are converted like attachments: the walk holds the
            // converter's results.
            let path = entry.path.clone();
            let entries = attachment::sanitize_entries(&input, policy, &mut |inner, place| {
                converts(policy, inner.detected.class)
                    .then(|| self.conversion(inner, &path, Some(place)))
            });
            match entries {
                Ok(entries) if archives == ArchiveRule::Attachments => {
                    return self.split(&name, entries, entry);
                }
                Ok(entries) => attachment::rebuild(&name, entries),
                Err(refused) => refused.into(),
            }
        } else {
            attachment::sanitize(&input, policy)
        };
        match outcome {
            attachment::Outcome::Deliver(mut delivered) => {
                entry.action = delivered.action;
                entry.reason = delivered.reason.into();
                entry.output_sha256 = Some(hex_sha256(delivered.body.as_bytes()));
                entry.charset = delivered.charset.map(Into::into);
                entry.replaced_chars = delivered.replaced_chars;
                entry.entries = std::mem::take(&mut delivered.entries);
                self.deliver(delivered);
            }
            attachment::Outcome::Remove(reason) => {
                entry.reason = reason.into();
                self.content
                    .changes
                    .removed_parts
                    .push((shown_name, reason));
            }
            attachment::Outcome::Hold(reason) => {
                entry.action = Action::Held;
                entry.reason = reason.into();
                self.content.changes.held_parts.push((shown_name, reason));
            }
        }
    }

    /// An archive the profile delivers as its entries, each an attachment
    /// of its own, under a name no earlier attachment has.
    fn split(&mut self, name: &str, entries: attachment::Entries, entry: &mut PartReport) {
        let reason = "archive-split-into-attachments";
        entry.action = Action::Converted;
        entry.reason = reason.into();
        entry.entries = entries.report;
        let changes = &mut self.content.changes;
        changes
            .converted_attachments
            .push((name.to_owned(), reason));
        changes.removed_parts.extend(
            entries
                .removed
                .into_iter()
                .map(|(inner, why)| (format!("{name}/{inner}"), why)),
        );
        for (_, mut file) in entries.files {
            file.filename = self.unused_name(&file.filename);
            self.deliver(file);
        }
    }

    /// `name`, or `name (2).ext`, `name (3).ext`… when an attachment
    /// already has it: entries of different folders may share a name.
    fn unused_name(&self, name: &str) -> String {
        let taken = |candidate: &str| {
            self.content
                .attachments
                .iter()
                .any(|a| a.filename == candidate)
        };
        if !taken(name) {
            return name.to_owned();
        }
        let (stem, extension) = match name.rfind('.') {
            Some(dot) if dot > 0 => name.split_at(dot),
            _ => (name, ""),
        };
        (2..)
            .map(|n| format!("{stem} ({n}){extension}"))
            .find(|candidate| !taken(candidate))
            .unwrap_or_else(|| name.to_owned())
    }

    /// A delivered attachment, and what the notice says of it.
    fn deliver(&mut self, delivered: attachment::Delivered) {
        let changes = &mut self.content.changes;
        changes.replaced_chars += delivered.replaced_chars;
        add_links(&mut changes.links, delivered.links);
        changes
            .converted_attachments
            .push((delivered.filename.clone(), delivered.reason));
        changes.removed_parts.extend(
            delivered
                .removed_inside
                .into_iter()
                .map(|(inner, why)| (format!("{}/{inner}", delivered.filename), why)),
        );
        self.content.attachments.push(Attachment {
            filename: delivered.filename,
            content_type: delivered.content_type,
            body: delivered.body,
        });
    }

    /// A legacy Office, RTF, ODF (or, by `office = "pdf"`, Office Open
    /// XML) attachment or archive entry the profile converts: the
    /// converter's PDF when this run has it, else listed for the caller's
    /// converter when there is one, else removed. Past
    /// `limits.max_conversions` in the message, removed.
    fn conversion(
        &mut self,
        input: &attachment::Input<'_>,
        path: &str,
        entry: Option<&str>,
    ) -> attachment::Outcome {
        use attachment::Outcome;
        if attachment::is_encrypted_package(input.bytes) {
            return Outcome::Hold("office-password");
        }
        if input.detected.class == attachment::Class::LegacyOffice
            && attachment::legacy_crypto::is_encrypted(input.bytes)
        {
            return Outcome::Hold("office-legacy-password");
        }
        // Counted the same way in both runs, so the same documents pass.
        if self.conversions == self.policy.limits.max_conversions {
            return Outcome::Remove("office-conversion-limit");
        }
        self.conversions += 1;
        if let Some(converted) = self.scan.converted_for(path, entry) {
            return match &converted.pdf {
                Ok(pdf) => attachment::converted_pdf(input, pdf, self.policy),
                Err(_) => Outcome::Remove("office-conversion-failed"),
            };
        }
        if !self.scan.convert {
            return Outcome::Remove("office-conversion-unavailable");
        }
        let (extension, bytes) = if input.detected.class == Class::Ooxml {
            // Cleaned first: LibreOffice never sees its macros, objects or
            // links out.
            match crate::ooxml::clean(input.bytes, &self.policy.limits.office) {
                Ok(cleaned) => (cleaned.kind.extension(), cleaned.bytes),
                Err(e) => return attachment::office_refused(e),
            }
        } else {
            match attachment::conversion_extension(input.bytes, input.detected.class) {
                Some(extension) => (extension, input.bytes.to_vec()),
                None => return Outcome::Remove("attachment-type-not-allowed"),
            }
        };
        self.content.to_convert.push(ToConvert {
            part: path.to_owned(),
            entry: entry.map(str::to_owned),
            filename: Some(input.name.to_owned()),
            extension,
            bytes,
        });
        Outcome::Remove("office-conversion-pending")
    }

    /// Hands a leaf to the scanner, and the entries of an archive part
    /// (zip-packaged, tar, gzip, 7z; or the attachments of a TNEF one) one
    /// by one. An archive that does not unpack is still scanned whole
    /// (clamd looks inside what it can).
    fn extract(&mut self, path: &str, name: &str, bytes: Vec<u8>, class: Class) {
        let packaged = class.is_unpacked_archive()
            || matches!(
                class,
                Class::Ooxml | Class::Odf | Class::Dangerous("java-archive")
            );
        let limits = &self.policy.limits.archive;
        let unpacked = match class {
            Class::Tnef => archive::unpack_tnef(&bytes, limits).ok(),
            _ if packaged => archive::unpack(&bytes, name, limits).ok(),
            _ => None,
        };
        if let Some(unpacked) = unpacked {
            for entry in unpacked.entries {
                self.content.extracted.push(Extracted {
                    part: path.to_owned(),
                    entry: Some(entry.path.join(" > ")),
                    bytes: entry.bytes,
                });
            }
        }
        self.content.extracted.push(Extracted {
            part: path.to_owned(),
            entry: None,
            bytes,
        });
    }

    fn push_body(&mut self, text: &str) {
        let body = &mut self.content.body;
        if !body.is_empty() && !body.ends_with("\n\n") {
            body.push_str(if body.ends_with('\n') { "\n" } else { "\n\n" });
        }
        body.push_str(text.trim_end());
        body.push('\n');
    }
}

/// Whether the profile has documents of `class` converted to PDF by the
/// caller's converter.
fn converts(policy: &Policy, class: Class) -> bool {
    let rules = &policy.attachments;
    match class {
        Class::LegacyOffice | Class::Rtf | Class::Odf => {
            rules.legacy_office == LegacyOfficeRule::Pdf
        }
        Class::Ooxml => rules.office == OfficeRule::Pdf,
        _ => false,
    }
}

fn add_links(total: &mut links::LinkStats, more: links::LinkStats) {
    total.defanged += more.defanged;
    total.removed += more.removed;
    total.kept += more.kept;
}

fn child_path(prefix: &str, n: usize) -> String {
    if prefix.is_empty() {
        n.to_string()
    } else {
        format!("{prefix}.{n}")
    }
}

/// The text of a text part. mail-parser has already read it with its label;
/// when that reading is certainly the one `charset::decode` would make,
/// take it instead of decoding twice: nothing was replaced, no escape or
/// SO/SI kana is left, and the label is UTF-8 (or none: mail-parser then
/// reads UTF-8) or a multi-byte CJK charset it decodes with encoding_rs as
/// we do. Otherwise decode the bytes, detecting the charset when the label
/// is missing or wrong (HTML: its `<meta>` label).
fn read_text(part: &MessagePart<'_>, bytes: &[u8], declared_type: &str) -> charset::Decoded {
    let label = part.content_type().and_then(|ct| ct.attribute("charset"));
    if let PartType::Text(text) | PartType::Html(text) = &part.body
        && !part.is_encoding_problem
        && memchr::memchr2(0x1b, 0x0e, text.as_bytes()).is_none()
        && memchr::memmem::find(text.as_bytes(), "\u{FFFD}".as_bytes()).is_none()
        && let Some(encoding) = parsed_charset(label)
    {
        let detected = label.is_none() && !text.is_ascii();
        return charset::Decoded {
            text: text.to_string(),
            charset: encoding.name(),
            detected,
            replaced: 0,
        };
    }
    let label = match label {
        None if declared_type == "text/html" => charset::html_meta_charset(bytes),
        label => label,
    };
    charset::decode(bytes, label)
}

/// The charset mail-parser read a part with, when it is one whose reading
/// `read_text` can trust.
fn parsed_charset(label: Option<&str>) -> Option<&'static encoding_rs::Encoding> {
    let Some(label) = label else {
        return Some(UTF_8);
    };
    let encoding = charset::encoding_for_label(label)?;
    let trusted = encoding == UTF_8
        || ([ISO_2022_JP, SHIFT_JIS, EUC_JP, GBK, GB18030, BIG5, EUC_KR].contains(&encoding)
            && mail_parser::decoders::charsets::map::charset_decoder(label.as_bytes()).is_some());
    trusted.then_some(encoding)
}

/// The text/plain alternative when there is a non-empty one (HTML is never
/// delivered as HTML), else the last HTML or structured alternative.
fn choose_alternative(message: &Message<'_>, children: &[u32]) -> Option<usize> {
    let kind = |id: u32| {
        message
            .parts
            .get(id as usize)
            .map(|p| (declared_type(p), p))
    };
    let plain = children.iter().rev().copied().find(|&id| {
        kind(id).is_some_and(|(t, p)| {
            t == "text/plain" && p.attachment_name().is_none() && !is_blank(p)
        })
    });
    let other = children.iter().rev().copied().find(|&id| {
        kind(id).is_some_and(|(t, p)| t == "text/html" || matches!(p.body, PartType::Multipart(_)))
    });
    plain
        .or(other)
        .or(children.first().copied())
        .map(|id| id as usize)
}

fn is_blank(part: &MessagePart<'_>) -> bool {
    part.text_contents().is_some_and(|t| t.trim().is_empty())
}

/// Lowercase `type/subtype`; RFC 2045's default when absent.
fn declared_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => {
            let sub = ct.subtype().unwrap_or("octet-stream");
            format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase()
        }
        None => "text/plain".into(),
    }
}

fn is_body(part: &MessagePart<'_>, declared: &str, has_name: bool) -> bool {
    let attachment = part
        .content_disposition()
        .is_some_and(|d| d.is_attachment());
    !attachment && !has_name && (declared == "text/plain" || declared == "text/html")
}

/// The decoded attachment name, re-read from the raw header when
/// mail-parser's decoding broke a character: encoded-words split inside a
/// character (joined, see [`encoded_words`]), or RFC 2231 sections.
fn attachment_name(message: &Message<'_>, part: &MessagePart<'_>) -> Option<String> {
    let name = part.attachment_name()?;
    let raw = message.raw_message();
    let base = message
        .parts
        .first()
        .map_or(0, |root| root.offset_header as usize);
    let raw_values = || {
        part.headers.iter().filter_map(|h| {
            let param = match h.name().to_ascii_lowercase().as_str() {
                "content-disposition" => "filename",
                "content-type" => "name",
                _ => return None,
            };
            let start = (h.offset_start as usize).saturating_sub(base);
            let end = (h.offset_end as usize).saturating_sub(base);
            let value = std::str::from_utf8(raw.get(start..end)?).ok()?;
            Some((h.name(), param, value))
        })
    };
    let joined = raw_values().find_map(|(field, param, value)| {
        let joined = encoded_words::join_adjacent(value)?;
        let block = format!("{field}: {}\r\n\r\n", joined.trim_start());
        let reread = MessageParser::new().parse_headers(block.as_bytes())?;
        reread
            .headers()
            .first()
            .and_then(|h| h.value().as_content_type())
            .and_then(|ct| ct.attribute(param))
            .map(str::to_owned)
    });
    let rejoined = joined.or_else(|| {
        name.contains('\u{FFFD}')
            .then(|| {
                raw_values().find_map(|(_, param, value)| filename::rfc2231_joined(value, param))
            })
            .flatten()
    });
    Some(clean_text(rejoined.as_deref().unwrap_or(name))).filter(|n| !n.is_empty())
}

/// The transfer-decoded bytes of a leaf, exactly as sent (charset untouched).
fn content_bytes<'a>(message: &'a Message<'_>, part: &'a MessagePart<'_>) -> Cow<'a, [u8]> {
    match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => Cow::Borrowed(b.as_ref()),
        PartType::Text(text) | PartType::Html(text) => {
            // mail-parser reads unlabelled and UTF-8 parts as lossy UTF-8:
            // when nothing was lost, its text is exactly the decoded bytes,
            // and decoding them again would only cost time.
            let label = part.content_type().and_then(|ct| ct.attribute("charset"));
            let read_as_utf8 = label
                .is_none_or(|l| l.eq_ignore_ascii_case("utf-8") || l.eq_ignore_ascii_case("utf8"));
            if read_as_utf8 && !part.is_encoding_problem && !text.contains('\u{FFFD}') {
                return Cow::Borrowed(text.as_bytes());
            }
            // Otherwise mail-parser has already applied a charset; go back to
            // the raw bytes so a missing or wrong label can be fixed.
            // A message/rfc822 parsed in place keeps offsets into the outer
            // mail while its raw_message() starts at its own header.
            let raw = message.raw_message();
            let base = message
                .parts
                .first()
                .map_or(0, |root| root.offset_header as usize);
            let start = (part.offset_body as usize).saturating_sub(base);
            let end = (part.offset_end as usize).saturating_sub(base);
            let Some(body) = raw.get(start..end.max(start)) else {
                return Cow::Borrowed(part.contents());
            };
            // After a decoding error mail-parser resets `encoding` to None and
            // keeps the raw text; the header still says what it was.
            let encoding = if part.is_encoding_problem {
                match part
                    .content_transfer_encoding()
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("base64") => Encoding::Base64,
                    Some("quoted-printable") => Encoding::QuotedPrintable,
                    _ => Encoding::None,
                }
            } else {
                part.encoding
            };
            match encoding {
                Encoding::Base64 => Cow::Owned(
                    decode_base64(body).unwrap_or_else(|| lenient_decode(body, encoding)),
                ),
                Encoding::QuotedPrintable => {
                    match MessageStream::new(body).decode_quoted_printable_mime(b"") {
                        (usize::MAX, _) => Cow::Owned(lenient_decode(body, encoding)),
                        (_, bytes) => Cow::Owned(bytes.into_owned()),
                    }
                }
                Encoding::None => Cow::Borrowed(body),
            }
        }
        _ => Cow::Borrowed(part.contents()),
    }
}

/// Strict base64 of a MIME body (line breaks and other whitespace skipped),
/// with the base64 crate: several times faster than mail-parser's
/// byte-at-a-time decoder, which matters on every base64 HTML body.
fn decode_base64(body: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const MIME: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    MIME.decode(&compact).ok()
}

/// Broken base64 or quoted-printable, read as far as it can be: mail-parser
/// gives up on the whole part at the first bad byte, but the recipient
/// should get what is readable. Base64: characters outside the alphabet are
/// skipped. Quoted-printable: an `=` not followed by two hex digits or a
/// line break stays a literal `=`.
fn lenient_decode(body: &[u8], encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Base64 => {
            let sextets: Vec<u8> = body.iter().filter_map(|&b| base64_value(b)).collect();
            let mut out = Vec::with_capacity(sextets.len() / 4 * 3 + 3);
            for chunk in sextets.chunks(4) {
                let word = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |w, (i, &v)| w | (u32::from(v) << (18 - 6 * i)));
                let bytes = word.to_be_bytes();
                out.extend_from_slice(&bytes[1..chunk.len().max(1)]);
            }
            out
        }
        Encoding::QuotedPrintable => {
            let mut out = Vec::with_capacity(body.len());
            let mut i = 0;
            while i < body.len() {
                let rest = &body[i..];
                match rest {
                    [b'=', b'\r', b'\n', ..] => i += 3,
                    [b'=', b'\n', ..] => i += 2,
                    [b'=', h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                        let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                        out.push(hex(*h) << 4 | hex(*l));
                        i += 3;
                    }
                    [b, ..] => {
                        out.push(*b);
                        i += 1;
                    }
                    [] => break,
                }
            }
            out
        }
        Encoding::None => body.to_vec(),
    }
}

fn base64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// The block that introduces a forwarded message inside the body.
fn forwarded_header(message: &Message<'_>) -> String {
    let kept = super::headers::KeptHeaders::from_message(message);
    let list = |m: &[super::headers::Mailbox]| {
        m.iter()
            .map(|b| match &b.name {
                Some(n) => format!("{n} <{}>", b.address),
                None => b.address.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::from("---------- 転送メッセージ / Forwarded message ----------\n");
    for (label, value) in [
        ("From", list(&kept.from)),
        ("Date", kept.date.unwrap_or_default()),
        ("Subject", kept.subject.unwrap_or_default()),
        ("To", list(&kept.to)),
        ("Cc", list(&kept.cc)),
    ] {
        if !value.is_empty() {
            out.push_str(&format!("{label}: {value}\n"));
        }
    }
    out
}

/// Delivered text has LF line ends and no control characters but tab: a
/// NUL or an ESC sequence must not reach a mail client or a terminal. Each
/// one becomes U+FFFD and is counted with the undecodable bytes.
pub(crate) fn clean_control_chars(text: &str) -> (String, usize) {
    let text = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    };
    // Byte scan first: C0 and DEL are single bytes, C1 is 0xC2 0x80-0x9F.
    let bytes = text.as_bytes();
    let suspect = bytes.iter().any(|&b| matches!(b, 0..=8 | 11..=31 | 0x7f))
        || memchr::memchr_iter(0xc2, bytes)
            .any(|i| bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)));
    if !suspect {
        return (text.into_owned(), 0);
    }
    let mut replaced = 0;
    let cleaned = text
        .chars()
        .map(|c| match c {
            '\r' => '\n',
            '\n' | '\t' => c,
            c if c.is_control() => {
                replaced += 1;
                '\u{FFFD}'
            }
            c => c,
        })
        .collect();
    (cleaned, replaced)
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        out.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    out
}
