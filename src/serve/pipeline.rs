//! One message through the stages: sanitize and scan the original, keep it
//! in quarantine, deliver the result; retry, bounce or hold on failure.

use std::sync::Arc;
use std::time::Instant;

use mukaika_quarantine::{Event, EventKind, Quarantine};
use mukaika_relay::{Outcome, Relay};
use mukaika_sanitize::{Action, HoldReason, Verdict};
use mukaika_scan::OnUnavailable;
use mukaika_spool::{Entry, Envelope, QueueId, Spool, Stage};
use tracing::{error, info, warn};

use super::counters::{DELIVERIES, INFECTED, SANITIZED, SCAN_NO_VERDICT};
use crate::scan::{self, NoVerdict, Sanitizer};
use mukaika_spool::unix_now;

/// The console's link for a message's recipients to ask for its
/// original, valid from the given time (the message's arrival).
pub type RequestLink = Arc<dyn Fn(&QueueId, &[String], u64) -> String + Send + Sync>;

pub struct Pipeline {
    pub spool: Arc<dyn Spool>,
    pub quarantine: Arc<dyn Quarantine>,
    pub relay: Arc<Relay>,
    pub sanitizer: Sanitizer,
    pub relay_config: mukaika_relay::Config,
    pub scanner_config: mukaika_scan::Config,
    /// Set when the operator console runs: notices then carry the link.
    pub request_link: Option<RequestLink>,
    /// Sender authentication of the original; `None`: `[auth] mode = "off"`.
    pub auth: Option<Arc<mukaika_auth::Authenticator>>,
    pub auth_config: mukaika_auth::Config,
}

impl Pipeline {
    /// Takes `id` from the spool and moves it on. Every path ends in the
    /// spool (deferred, or completed after delivery, bounce or quarantine):
    /// an error here leaves the entry in `active`, recovered at next start.
    pub async fn process(self: Arc<Self>, id: QueueId) {
        let spool = self.spool.clone();
        let claim_id = id.clone();
        let entry = match tokio::task::spawn_blocking(move || spool.claim(&claim_id)).await {
            Ok(Ok(Some(entry))) => entry,
            Ok(Ok(None)) => return, // another worker has it, or it is done
            Ok(Err(e)) => {
                return error!(queue_id = %id, error = %e, "claiming from the spool failed");
            }
            Err(e) => return error!(queue_id = %id, error = %e, "claiming from the spool panicked"),
        };
        let result = match entry.envelope.stage {
            Stage::Original => self.sanitize_and_deliver(entry).await,
            Stage::Sanitized => self.deliver(entry.id, entry.envelope, entry.message).await,
        };
        if let Err(e) = result {
            error!(queue_id = %id, error = %e, "processing failed; the message stays in the spool and is retried at next start");
        }
    }

    async fn sanitize_and_deliver(&self, entry: Entry) -> anyhow::Result<()> {
        let Entry {
            id,
            mut envelope,
            message: original,
        } = entry;
        let started = Instant::now();
        // A record already in quarantine means this message was being worked
        // on when the daemon stopped: it is done again (at-least-once), and
        // its recipients may get it twice. Say so, countably.
        let seen = self.blocking({
            let (quarantine, id) = (self.quarantine.clone(), id.clone());
            move || quarantine.get(&id)
        });
        if let Some(record) = seen.await? {
            warn!(stage = "redelivery", queue_id = %id, status = ?record.status,
                "processing again after a restart: a duplicate delivery is possible");
        }
        let original = Arc::new(original);
        let auth = match self.authenticate(&id, &mut envelope, &original).await {
            Ok(auth) => auth,
            Err(()) => {
                let (spool, id) = (self.spool.clone(), id.clone());
                return self
                    .blocking(move || spool.defer(&id, &envelope, &original))
                    .await;
            }
        };
        let context = mukaika_sanitize::Context {
            queue_id: Some(id.to_string()),
            envelope_sender: Some(envelope.sender.clone()),
            received_at: Some(envelope.received_at),
            request_url: self
                .request_link
                .as_ref()
                .map(|link| link(&id, &envelope.recipients, envelope.received_at)),
            sender_warning: auth
                .as_ref()
                .and_then(|a| a.warning())
                .map(|w| mukaika_sanitize::Warning { ja: w.ja, en: w.en }),
        };
        let sanitized = match self.sanitizer.run(original.clone(), &context).await? {
            scan::Outcome::Done(sanitized) => sanitized,
            scan::Outcome::NoVerdict(why) => match self.without_verdict(&id, &mut envelope, why) {
                Some(reason) => {
                    self.sanitizer
                        .hold(original.clone(), reason, &context)
                        .await
                }
                None => {
                    let (spool, id) = (self.spool.clone(), id.clone());
                    return self
                        .blocking(move || spool.defer(&id, &envelope, &original))
                        .await;
                }
            },
        };
        // The sanitizer keeps no trace header; carry over the one ingress
        // wrote, so the next hop sees where the mail crossed (and loops
        // stay detectable).
        let mut delivered = own_received(&original).to_vec();
        // Ours, after the core dropped every such field from outside.
        if let Some(auth) = &auth {
            let eol = if sanitized.message.windows(2).any(|w| w == b"\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            delivered.extend_from_slice(auth.header_field(eol).as_bytes());
        }
        delivered.extend_from_slice(&sanitized.message);
        let report = &sanitized.report;
        let mut report_json = serde_json::to_value(report)?;
        if let (Some(auth), Some(fields)) = (&auth, report_json.as_object_mut()) {
            fields.insert("auth".into(), serde_json::to_value(auth)?);
        }
        let report_json = report_json.to_string();
        let threats: Vec<&str> = report.threats.iter().map(|t| t.name.as_str()).collect();
        let held_parts = report
            .parts
            .iter()
            .filter(|p| p.action == Action::Held)
            .count();
        info!(
            stage = "sanitized",
            queue_id = %id,
            from = %envelope.sender,
            to = ?envelope.recipients,
            size = original.len(),
            verdict = report.verdict.as_str(),
            reason = report.reason.as_deref().unwrap_or(""),
            parts = report.parts.len(),
            threats = ?threats,
            auth = %auth.as_ref().map_or_else(|| "off".to_owned(), |a| a.summary()),
            duration_us = started.elapsed().as_micros() as u64,
            "message sanitized"
        );
        metrics::counter!(SANITIZED, "verdict" => report.verdict.as_str()).increment(1);
        if !threats.is_empty() {
            metrics::counter!(INFECTED).increment(1);
            warn!(stage = "infected", queue_id = %id, from = %envelope.sender, threats = ?threats,
                verdict = report.verdict.as_str(), "virus found; the original is quarantined as infected");
        }
        self.blocking({
            let (quarantine, id, envelope) =
                (self.quarantine.clone(), id.clone(), envelope.clone());
            // The original holds a virus, whatever was delivered: say so. A
            // part held (an encrypted archive, say) waits for release like
            // a held message: list it with them.
            let verdict = if !threats.is_empty() {
                "infected"
            } else if held_parts > 0 {
                "held"
            } else {
                report.verdict.as_str()
            };
            let delivered = delivered.clone();
            move || {
                quarantine.store(&id, &envelope, &original, verdict, &report_json)?;
                quarantine.keep_delivered(&id, &delivered)
            }
        })
        .await?;
        if held_parts > 0 && report.verdict == Verdict::Sanitized {
            self.event(
                &id,
                EventKind::Held,
                format!("{held_parts} part(s) held: the recipients got the rest with a notice"),
            )
            .await;
        }
        if report.verdict != Verdict::Sanitized {
            self.event(
                &id,
                EventKind::Held,
                format!(
                    "verdict {} ({}): a notice goes to the recipients",
                    report.verdict.as_str(),
                    report.reason.as_deref().unwrap_or("-")
                ),
            )
            .await;
        }
        envelope.stage = Stage::Sanitized;
        self.deliver(id, envelope, delivered).await
    }

    /// Sender authentication of the original (`None`: off). `Err` when a
    /// DNS failure defers the message (`envelope` set for the next try).
    async fn authenticate(
        &self,
        id: &QueueId,
        envelope: &mut Envelope,
        original: &Arc<Vec<u8>>,
    ) -> Result<Option<mukaika_auth::Results>, ()> {
        let Some(auth) = &self.auth else {
            return Ok(None);
        };
        let limits = &self.sanitizer.policy.limits;
        let results = auth
            .verify(
                original.clone(),
                own_received(original).len(),
                &envelope.client_ip,
                &envelope.helo,
                &envelope.sender,
                mukaika_auth::Limits {
                    max_header_bytes: limits.max_header_bytes,
                    max_message_bytes: limits.max_message_bytes,
                },
            )
            .await;
        let now = unix_now();
        if results.has_temperror()
            && self.auth_config.on_dns_failure == mukaika_auth::OnDnsFailure::Defer
            && now.saturating_sub(envelope.received_at) < self.relay_config.retry.max_age_secs
        {
            let retry = self.auth_config.retry_secs;
            warn!(stage = "auth-deferred", queue_id = %id, auth = %results.summary(), retry_in_s = retry,
                "sender authentication got no DNS answer; the message waits in the spool");
            envelope.next_attempt = now + retry;
            envelope.last_error = Some(format!("sender authentication: {}", results.summary()));
            return Err(());
        }
        if results.suspected_spoofing() {
            warn!(stage = "auth", queue_id = %id, from = %envelope.sender, auth = %results.summary(),
                from_domain = results.from_domain.as_deref().unwrap_or("-"), "suspected spoofing");
        }
        Ok(Some(results))
    }

    /// No scan verdict: why the message is held, or `None` when it waits in the spool (with `envelope` set for the next try) for
    /// clamd to come back.
    fn without_verdict(
        &self,
        id: &QueueId,
        envelope: &mut Envelope,
        why: NoVerdict,
    ) -> Option<HoldReason> {
        let now = unix_now();
        let age = now.saturating_sub(envelope.received_at);
        let wait = matches!(why, NoVerdict::Unavailable(_))
            && self.scanner_config.on_unavailable == OnUnavailable::Defer
            && age < self.relay_config.retry.max_age_secs;
        if wait {
            let retry = self.scanner_config.retry_secs;
            warn!(stage = "scan-deferred", queue_id = %id, reason = %why, retry_in_s = retry,
                "no virus scan verdict; the message waits in the spool");
            metrics::counter!(SCAN_NO_VERDICT, "reason" => why.reason().as_str(), "then" => "deferred")
                .increment(1);
            envelope.next_attempt = now + retry;
            envelope.last_error = Some(format!("virus scan: {why}"));
            return None;
        }
        metrics::counter!(SCAN_NO_VERDICT, "reason" => why.reason().as_str(), "then" => "held")
            .increment(1);
        error!(stage = "scan-held", queue_id = %id, reason = %why, age_s = age,
            "no virus scan verdict; the message is held and the recipients get a notice");
        Some(why.reason())
    }

    /// Delivers the sanitized message (or notice) to the next hop.
    async fn deliver(
        &self,
        id: QueueId,
        mut envelope: Envelope,
        message: Vec<u8>,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let delivery = self
            .relay
            .deliver(&envelope.sender, &envelope.recipients, &message)
            .await;
        let mut temporary = Vec::new();
        let mut permanent = Vec::new();
        for (rcpt, outcome) in delivery.outcomes {
            match outcome {
                Outcome::Delivered(reply) => {
                    metrics::counter!(DELIVERIES, "outcome" => "delivered").increment(1);
                    info!(stage = "delivered", queue_id = %id, to = %rcpt, relay = %self.relay_config.next_hop, reply = %reply,
                        delay_s = unix_now().saturating_sub(envelope.received_at), duration_ms = started.elapsed().as_millis() as u64, "delivered");
                    self.event(&id, EventKind::Delivered, format!("{rcpt}: {reply}"))
                        .await;
                }
                Outcome::Temporary(reason) => temporary.push((rcpt, reason)),
                Outcome::Permanent(reason) => permanent.push((rcpt, reason)),
            }
        }

        envelope.attempts += 1;
        let now = unix_now();
        if !temporary.is_empty() {
            match mukaika_relay::next_retry(
                &self.relay_config.retry,
                envelope.attempts,
                envelope.received_at,
                now,
            ) {
                Some(at) => {
                    let reason = temporary
                        .iter()
                        .map(|(r, why)| format!("{r}: {why}"))
                        .collect::<Vec<_>>()
                        .join("; ");
                    metrics::counter!(DELIVERIES, "outcome" => "deferred")
                        .increment(temporary.len() as u64);
                    warn!(stage = "deferred", queue_id = %id, to = ?temporary.iter().map(|t| &t.0).collect::<Vec<_>>(),
                        attempts = envelope.attempts, retry_in_s = at.saturating_sub(now), reason = %reason, "delivery deferred");
                    self.event(&id, EventKind::Deferred, reason.clone()).await;
                    // Bounce what failed for good now; keep only the rest.
                    self.bounce(&id, &envelope, &permanent, &message).await;
                    envelope.recipients = temporary.into_iter().map(|t| t.0).collect();
                    envelope.next_attempt = at;
                    envelope.last_error = Some(reason);
                    let (spool, id) = (self.spool.clone(), id.clone());
                    return self
                        .blocking(move || spool.defer(&id, &envelope, &message))
                        .await;
                }
                None => permanent.extend(temporary.into_iter().map(|(r, why)| {
                    (
                        r,
                        format!("gave up after {} attempts: {why}", envelope.attempts),
                    )
                })),
            }
        }
        self.bounce(&id, &envelope, &permanent, &message).await;
        let (spool, id) = (self.spool.clone(), id.clone());
        self.blocking(move || spool.complete(&id)).await
    }

    /// Tells the sender about recipients that failed for good, through the
    /// bounce route; without one (or for a null sender), the quarantine
    /// record says so and keeps the original.
    async fn bounce(
        &self,
        id: &QueueId,
        envelope: &Envelope,
        failed: &[(String, String)],
        message: &[u8],
    ) {
        if failed.is_empty() {
            return;
        }
        let detail = failed
            .iter()
            .map(|(r, why)| format!("{r}: {why}"))
            .collect::<Vec<_>>()
            .join("; ");
        let headers_end = mukaika_sanitize::mail::limits::header_len(message);
        let dsn = self
            .relay
            .dsn(envelope, failed, &message[..headers_end], unix_now());
        let bounced = if envelope.sender.is_empty() {
            Err("null sender: no DSN is sent".to_owned())
        } else {
            self.relay
                .send_bounce(&envelope.sender, &dsn)
                .await
                .map_err(|e| e.to_string())
        };
        match bounced {
            Ok(()) => {
                metrics::counter!(DELIVERIES, "outcome" => "bounced")
                    .increment(failed.len() as u64);
                warn!(stage = "bounced", queue_id = %id, to = %envelope.sender, failed = %detail, "delivery failed; DSN sent");
                self.event(id, EventKind::Bounced, detail).await;
            }
            Err(why) => {
                metrics::counter!(DELIVERIES, "outcome" => "undeliverable")
                    .increment(failed.len() as u64);
                error!(stage = "undeliverable", queue_id = %id, failed = %detail, dsn = %why, "delivery failed; original kept in quarantine");
                self.event(
                    id,
                    EventKind::Undeliverable,
                    format!("{detail} (no DSN: {why})"),
                )
                .await;
            }
        }
    }

    async fn event(&self, id: &QueueId, kind: EventKind, detail: String) {
        let (quarantine, id) = (self.quarantine.clone(), id.clone());
        let event = Event::new(unix_now(), kind, detail);
        if let Err(e) = self.blocking(move || quarantine.record(&id, event)).await {
            warn!(error = %e, "recording a quarantine event failed");
        }
    }

    async fn blocking<T: Send + 'static, E: std::error::Error + Send + Sync + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> anyhow::Result<T> {
        Ok(tokio::task::spawn_blocking(f).await??)
    }
}

/// The `Received:` field ingress put at the top of the original (ours, so
/// trusted), or nothing if the message does not start with it.
fn own_received(original: &[u8]) -> &[u8] {
    if !original.starts_with(b"Received: from ") {
        return &[];
    }
    // The field ends at the first line break not followed by folding space.
    let end = memchr::memchr_iter(b'\n', original)
        .find(|&i| !matches!(original.get(i + 1), Some(b' ' | b'\t')))
        .map_or(0, |i| i + 1);
    let field = &original[..end];
    if memchr::memmem::find(field, b"(Mukaika)").is_some() {
        field
    } else {
        &[]
    }
}
