//! What the console does, for the pages and the API alike. Every act
//! checks who may do it, is written to the quarantine's history and to the
//! audit log, and is refused rather than done by halves.
//!
//! Releases: a request (by a recipient through the link in a notice, or by
//! a console user) waits for an approver; with `release_approval =
//! "two-person"`, the approver must be someone other than the requester,
//! and an approver's own "release" is only a request. An original in which
//! a virus was found is never released from here.

use std::net::IpAddr;

use mukaika_access::Role;
use mukaika_audit::Action;
use mukaika_quarantine::{Event, EventKind, Record, Release, Resent, resent, sha256_hex};
use mukaika_spool::QueueId;

use crate::ReleaseApproval;
use crate::http::error::Failure;
use crate::state::Shared;

/// Open requests one record may have: more is someone pressing a button.
const MAX_OPEN_REQUESTS: usize = 5;

/// The longest reason a requester or approver may give, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

/// Who acts: a console user, or a recipient through their link.
#[derive(Debug, Clone)]
pub struct Actor {
    /// As recorded: the user name, or `recipient:ADDRESS`.
    pub name: String,
    /// The console role; none for a recipient.
    pub role: Option<Role>,
    pub client: IpAddr,
}

impl Actor {
    pub fn require_role(&self, needed: Role) -> Result<(), Failure> {
        match self.role {
            Some(role) if role.allows(needed) => Ok(()),
            _ => Err(Failure::Forbidden(format!(
                "this needs the {} role",
                needed.as_str()
            ))),
        }
    }
}

/// What a release click did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Released {
    /// The original was delivered; the SHA-256 of what was sent.
    Delivered { request: u32, sha256: String },
    /// Two-person approval: the click became a request for another approver.
    Requested { request: u32 },
}

/// Runs blocking quarantine work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, mukaika_quarantine::Error> + Send + 'static,
) -> Result<T, Failure> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

/// The record of `id`.
pub async fn record(state: &Shared, id: &QueueId) -> Result<Record, Failure> {
    let (q, id) = (state.deps.quarantine.clone(), id.clone());
    blocking(move || q.get(&id)).await?.ok_or(Failure::NotFound)
}

/// The original of `id`, byte for byte.
pub async fn original(state: &Shared, id: &QueueId) -> Result<Vec<u8>, Failure> {
    let (q, id) = (state.deps.quarantine.clone(), id.clone());
    blocking(move || q.original(&id))
        .await?
        .ok_or(Failure::NotFound)
}

async fn add_event(state: &Shared, id: &QueueId, event: Event) -> Result<(), Failure> {
    let (q, id) = (state.deps.quarantine.clone(), id.clone());
    blocking(move || q.record(&id, event)).await
}

/// Whether an original may never leave through the console.
pub fn infected(record: &Record) -> bool {
    record.verdict == "infected" || !record.threats().is_empty()
}

/// A requester's or approver's words, checked: bounded, one paragraph of
/// text (no control characters but line breaks).
pub fn reason(text: &str) -> Result<String, Failure> {
    let text = text.trim();
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(Failure::BadRequest(format!(
            "a reason is at most {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(text
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect())
}

/// The addresses a release goes to: the original recipients, or the one
/// an approver typed, which must be an address the relay accepts mail for.
fn targets(state: &Shared, record: &Record, typed: Option<&str>) -> Result<Vec<String>, Failure> {
    let Some(typed) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(record.envelope.recipients.clone());
    };
    let plausible = typed.len() <= 254
        && typed
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
        && typed
            .chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c));
    if !plausible || !(state.deps.accepts)(typed) {
        return Err(Failure::BadRequest(format!(
            "{typed:?} is not an address inside the zone (ingress.accept_domains)"
        )));
    }
    Ok(vec![typed.to_owned()])
}

/// Asks for the original of `id` to be sent to `to` (default: its
/// recipients). Returns the request's number.
pub async fn request(
    state: &Shared,
    actor: &Actor,
    id: &QueueId,
    to: Option<&str>,
    why: &str,
) -> Result<u32, Failure> {
    let why = reason(why)?;
    let record = record(state, id).await?;
    if infected(&record) {
        return Err(Failure::Forbidden(
            "a virus was found in this original: it cannot be released from the console".into(),
        ));
    }
    if record.open_requests().len() >= MAX_OPEN_REQUESTS {
        return Err(Failure::TooMany(
            "this mail already has requests waiting for an approver".into(),
        ));
    }
    let to = match (&actor.role, to) {
        // A recipient asks for themselves, whatever the form said.
        (None, _) => vec![actor.name.trim_start_matches("recipient:").to_owned()],
        (Some(_), typed) => targets(state, &record, typed)?,
    };
    let n = record.next_request();
    let entry = state
        .entry(&actor.name, actor.client, Action::Request)
        .queue_id(id.as_str())
        .detail(format!("request {n} to {}", to.join(", ")));
    state.audit(entry)?;
    let mut event =
        Event::new(state.now(), EventKind::ReleaseRequested, why.clone()).by(&actor.name);
    event.release = Some(Release {
        request: n,
        part: None,
        to: to.clone(),
        reason: why,
        sha256: None,
    });
    add_event(state, id, event).await?;
    tracing::info!(stage = "release-requested", queue_id = %id, by = %actor.name, request = n, to = ?to, "release requested");
    Ok(n)
}

/// An approver's "release": with one-person approval the original goes
/// now; with two, the click is a request another approver must approve.
pub async fn release(
    state: &Shared,
    actor: &Actor,
    id: &QueueId,
    to: Option<&str>,
    why: &str,
) -> Result<Released, Failure> {
    actor.require_role(Role::Approver)?;
    let n = request(state, actor, id, to, why).await?;
    match state.config.release_approval {
        ReleaseApproval::TwoPerson => Ok(Released::Requested { request: n }),
        ReleaseApproval::Single => {
            let sha256 = approve(state, actor, id, n).await?;
            Ok(Released::Delivered { request: n, sha256 })
        }
    }
}

/// The open request `n` of `record`, or why it cannot be answered.
fn open_request(record: &Record, n: u32) -> Result<(Event, Release), Failure> {
    let open = record.open_requests();
    let event = open
        .into_iter()
        .find(|e| e.release.as_ref().is_some_and(|r| r.request == n))
        .ok_or_else(|| {
            Failure::Conflict(format!("request {n} is not waiting (answered meanwhile?)"))
        })?;
    let release = event
        .release
        .clone()
        .expect("open requests carry a release");
    Ok((event.clone(), release))
}

/// Approves request `n`: the original goes to its addresses. Returns the
/// SHA-256 of what was delivered.
pub async fn approve(
    state: &Shared,
    actor: &Actor,
    id: &QueueId,
    n: u32,
) -> Result<String, Failure> {
    actor.require_role(Role::Approver)?;
    let Some(_claim) = state.claim(id) else {
        return Err(Failure::Conflict(
            "this mail is being released right now".into(),
        ));
    };
    let record = record(state, id).await?;
    if infected(&record) {
        return Err(Failure::Forbidden(
            "a virus was found in this original: it cannot be released from the console".into(),
        ));
    }
    let (asked, release) = open_request(&record, n)?;
    let requester = asked.by.clone().unwrap_or_default();
    let own_release = state.config.release_approval == ReleaseApproval::Single;
    if requester == actor.name && !own_release {
        return Err(Failure::Forbidden(
            "two-person approval: a request must be approved by someone else".into(),
        ));
    }
    let original = original(state, id).await?;
    let copy = resent(
        &original,
        &Resent {
            from: &state.deps.postmaster,
            to: &release.to,
            by: &actor.name,
            at: state.now(),
            queue_id: id.as_str(),
            request: Some(n),
            domain: state
                .deps
                .postmaster
                .rsplit_once('@')
                .map_or("mukaika.invalid", |d| d.1),
        },
    );
    let sha256 = sha256_hex(&copy);
    let delivery = state
        .deps
        .releaser
        .deliver(&record.envelope.sender, &release.to, copy)
        .await;
    let (kind, action, detail) = match &delivery {
        Ok(reply) => (
            EventKind::Released,
            Action::Release,
            format!(
                "request {n} (by {requester}) approved; delivered to {}: {reply}",
                release.to.join(", ")
            ),
        ),
        Err(why) => (
            EventKind::ReleaseFailed,
            Action::ReleaseFailed,
            format!("request {n}: {why}"),
        ),
    };
    let mut event = Event::new(state.now(), kind, detail.clone()).by(&actor.name);
    event.release = Some(Release {
        sha256: Some(sha256.clone()),
        ..release.clone()
    });
    let recorded = add_event(state, id, event).await;
    state.audit_after(
        state
            .entry(&actor.name, actor.client, action)
            .queue_id(id.as_str())
            .sha256(&sha256)
            .detail(detail),
    );
    recorded?;
    match delivery {
        Ok(_) => {
            tracing::warn!(stage = "released", queue_id = %id, by = %actor.name, request = n, requested_by = %requester, to = ?release.to, sha256 = %sha256, "original released");
            Ok(sha256)
        }
        Err(why) => Err(Failure::Conflict(format!(
            "the release could not be delivered: {why}"
        ))),
    }
}

/// Refuses request `n`, with the approver's reason; a recipient who asked
/// gets a notice.
pub async fn refuse(
    state: &Shared,
    actor: &Actor,
    id: &QueueId,
    n: u32,
    why: &str,
) -> Result<(), Failure> {
    actor.require_role(Role::Approver)?;
    let why = reason(why)?;
    let Some(_claim) = state.claim(id) else {
        return Err(Failure::Conflict(
            "this mail is being released right now".into(),
        ));
    };
    let record = record(state, id).await?;
    let (asked, release) = open_request(&record, n)?;
    state.audit(
        state
            .entry(&actor.name, actor.client, Action::Refuse)
            .queue_id(id.as_str())
            .detail(format!("request {n}: {why}")),
    )?;
    let mut event = Event::new(state.now(), EventKind::ReleaseRefused, why.clone()).by(&actor.name);
    event.release = Some(Release {
        reason: why.clone(),
        ..release
    });
    add_event(state, id, event).await?;
    if let Some(address) = asked
        .by
        .as_deref()
        .and_then(|b| b.strip_prefix("recipient:"))
    {
        let notice =
            crate::notice::refused(&state.deps.postmaster, address, &record, &why, state.now());
        let to = [address.to_owned()];
        if let Err(e) = state
            .deps
            .releaser
            .deliver(&state.deps.postmaster, &to, notice)
            .await
        {
            tracing::warn!(queue_id = %id, to = %address, error = %e, "the refusal notice could not be delivered");
        }
    }
    tracing::info!(stage = "release-refused", queue_id = %id, by = %actor.name, request = n, "release request refused");
    Ok(())
}

/// Deletes a record and its original (admin).
pub async fn delete(state: &Shared, actor: &Actor, id: &QueueId) -> Result<(), Failure> {
    actor.require_role(Role::Admin)?;
    let record = record(state, id).await?;
    state.audit(
        state
            .entry(&actor.name, actor.client, Action::Delete)
            .queue_id(id.as_str())
            .sha256(&record.sha256),
    )?;
    let (q, id2) = (state.deps.quarantine.clone(), id.clone());
    blocking(move || q.delete(&id2)).await?;
    tracing::warn!(stage = "quarantine-deleted", queue_id = %id, by = %actor.name, "quarantine record deleted");
    Ok(())
}

/// Notes a look at (or a download of) an original in the audit log first:
/// if that cannot be written, the original is not shown.
pub fn note_view(
    state: &Shared,
    actor: &Actor,
    record: &Record,
    download: bool,
) -> Result<(), Failure> {
    let action = if download {
        Action::DownloadOriginal
    } else {
        Action::ViewOriginal
    };
    state.audit(
        state
            .entry(&actor.name, actor.client, action)
            .queue_id(record.id.as_str())
            .sha256(&record.sha256),
    )
}
