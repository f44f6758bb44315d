//! `mukaika quarantine …`: the originals kept on the Internet side. Terse
//! and scriptable, like postqueue/postsuper.
//!
//! Exit codes: 0 done; 1 error (I/O, delivery failed); 2 usage or config;
//! 3 no such message.

use std::path::PathBuf;

use anyhow::Context;
use mukaika_config::Config;
use mukaika_quarantine::{Event, EventKind, Filter, FsQuarantine, Quarantine, Resent, resent};
use mukaika_relay::{Outcome, Relay};
use mukaika_spool::QueueId;

use crate::Failure;
use mukaika_spool::time::{iso_local, local_day_start};
use mukaika_spool::unix_now;

#[derive(clap::Args)]
pub struct Args {
    /// Config file; without it, the embedded default.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// One line per record, newest first: ID, stored (local time), verdict, status, size, sender, recipients, subject.
    List {
        /// Only this verdict: sanitized, held, rejected or infected.
        #[arg(long)]
        verdict: Option<String>,
        /// Only records stored since T: unix seconds, YYYY-MM-DD (local time), or an age like 24h or 7d.
        #[arg(long, value_name = "T")]
        since: Option<String>,
        /// JSON lines instead of columns.
        #[arg(long)]
        json: bool,
    },
    /// The envelope, verdict, report, part list and history of one record (JSON).
    Show { id: String },
    /// Deliver the original, unchanged but for resent fields on top, to the next hop: an administrator's decision, logged.
    Release {
        id: String,
        /// Who decides (logged); default: $SUDO_USER or $USER.
        #[arg(long)]
        by: Option<String>,
        /// Release even an original in which a virus was found.
        #[arg(long)]
        force: bool,
    },
    /// Delete one record and its original.
    Delete { id: String },
    /// Delete records past the retention period.
    Purge,
    /// Rebuild the search index from the records (after it was lost or damaged).
    Reindex,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let config = Config::load(args.config.as_deref())?;
    crate::logging::init(&config.log);
    let quarantine = FsQuarantine::open(&config.quarantine).context("opening the quarantine")?;
    match args.command {
        Command::List {
            verdict,
            since,
            json,
        } => {
            let since = since
                .map(|t| parse_since(&t, unix_now()))
                .transpose()
                .map_err(Failure::Usage)?;
            for summary in quarantine
                .list(&Filter {
                    verdict,
                    since,
                    ..Filter::default()
                })
                .context("listing")?
            {
                if json {
                    println!("{}", serde_json::to_string(&summary).context("encoding")?);
                } else {
                    println!(
                        "{}  {}  {:<9}  {:<17}  {:>9}  {} -> {}  {}",
                        summary.id,
                        iso_local(summary.stored_at),
                        summary.verdict,
                        summary.status,
                        summary.size,
                        if summary.sender.is_empty() {
                            "<>"
                        } else {
                            &summary.sender
                        },
                        summary.recipients.join(","),
                        summary
                            .subject
                            .as_deref()
                            .unwrap_or("")
                            .replace(char::is_control, " ")
                    );
                }
            }
            Ok(())
        }
        Command::Show { id } => {
            let id = parse_id(&id)?;
            let record = quarantine
                .get(&id)
                .context("reading")?
                .ok_or_else(|| not_found(&id))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&record).context("encoding")?
            );
            Ok(())
        }
        Command::Release { id, by, force } => {
            release(&config, &quarantine, &parse_id(&id)?, by, force)
        }
        Command::Delete { id } => {
            let id = parse_id(&id)?;
            if quarantine.delete(&id).context("deleting")? {
                tracing::info!(queue_id = %id, by = %operator(None), "quarantine record deleted");
                Ok(())
            } else {
                Err(not_found(&id))
            }
        }
        Command::Purge => {
            let purged = quarantine.purge(unix_now()).context("purging")?;
            println!("{purged} records purged");
            Ok(())
        }
        Command::Reindex => {
            let n = quarantine.reindex().context("rebuilding the index")?;
            println!("index rebuilt: {n} records");
            Ok(())
        }
    }
}

fn release(
    config: &Config,
    quarantine: &FsQuarantine,
    id: &QueueId,
    by: Option<String>,
    force: bool,
) -> Result<(), Failure> {
    let record = quarantine
        .get(id)
        .context("reading")?
        .ok_or_else(|| not_found(id))?;
    if record.verdict == "infected" && !force {
        return Err(Failure::Usage(format!(
            "{id}: a virus was found in this original (see `mukaika quarantine show {id}`); add --force to release it anyway"
        )));
    }
    let original = quarantine
        .original(id)
        .context("reading the original")?
        .ok_or_else(|| not_found(id))?;
    let by = operator(by);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let relay = Relay::new(&config.relay).context("setting up the relay")?;
    let envelope = &record.envelope;
    // The same resent fields as a release from the console: a client that
    // de-duplicates by Message-ID keeps it, an auditor can tell it apart.
    let postmaster = config.relay.postmaster_address();
    let copy = resent(
        &original,
        &Resent {
            from: &postmaster,
            to: &envelope.recipients,
            by: &format!("cli:{by}"),
            at: unix_now(),
            queue_id: id.as_str(),
            request: None,
            domain: postmaster
                .rsplit_once('@')
                .map_or("mukaika.invalid", |d| d.1),
        },
    );
    let delivery = runtime.block_on(relay.deliver(&envelope.sender, &envelope.recipients, &copy));
    let failed: Vec<String> = delivery
        .outcomes
        .iter()
        .filter_map(|(rcpt, outcome)| match outcome {
            Outcome::Delivered(_) => None,
            Outcome::Temporary(why) | Outcome::Permanent(why) => Some(format!("{rcpt}: {why}")),
        })
        .collect();
    let (kind, detail) = if failed.is_empty() {
        (
            EventKind::Released,
            format!("original delivered to {}", config.relay.next_hop),
        )
    } else {
        (EventKind::ReleaseFailed, failed.join("; "))
    };
    quarantine
        .record(
            id,
            Event::new(unix_now(), kind, detail.clone()).by(by.clone()),
        )
        .context("recording the release")?;
    if failed.is_empty() {
        tracing::warn!(stage = "released", queue_id = %id, by = %by, to = ?envelope.recipients, "original released unchanged");
        println!("{id} released by {by}");
        Ok(())
    } else {
        Err(Failure::Runtime(anyhow::anyhow!(
            "release of {id} failed: {detail}"
        )))
    }
}

fn parse_id(id: &str) -> Result<QueueId, Failure> {
    id.parse()
        .map_err(|e: mukaika_spool::InvalidQueueId| Failure::Usage(e.to_string()))
}

fn not_found(id: &QueueId) -> Failure {
    Failure::NotFound(format!("no quarantine record {id}"))
}

/// Who is acting, for the log: --by, else the user behind sudo, else $USER.
pub(crate) fn operator(by: Option<String>) -> String {
    by.or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// `--since`: unix seconds, a local date (YYYY-MM-DD), or an age (90m, 24h, 7d).
fn parse_since(text: &str, now: u64) -> Result<u64, String> {
    let bad =
        || format!("--since {text:?}: give unix seconds, YYYY-MM-DD, or an age like 24h or 7d");
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(secs);
    }
    if let Some((number, unit)) = text.split_at_checked(text.len().saturating_sub(1)) {
        let scale = match unit {
            "m" => Some(60),
            "h" => Some(3600),
            "d" => Some(86_400),
            _ => None,
        };
        if let (Some(scale), Ok(n)) = (scale, number.parse::<u64>()) {
            return Ok(now.saturating_sub(n.saturating_mul(scale)));
        }
    }
    local_day_start(text).map_err(|why| format!("{}: {why}", bad()))
}

#[cfg(test)]
mod tests {
    use super::parse_since;
    use mukaika_spool::time::local_day_start;

    #[test]
    fn since_accepts_seconds_dates_and_ages() {
        assert_eq!(parse_since("1700000000", 0), Ok(1_700_000_000));
        assert_eq!(parse_since("2026-11-22", 0), local_day_start("2026-11-22"));
        assert!(parse_since("2026-02-31", 0).is_err(), "no such day");
        assert_eq!(parse_since("24h", 100_000), Ok(100_000 - 86_400));
        assert_eq!(parse_since("7d", 1_000_000), Ok(1_000_000 - 604_800));
        assert!(parse_since("yesterday", 0).is_err());
        assert!(parse_since("2026-13-01", 0).is_err());
    }
}
