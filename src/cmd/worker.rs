//! `mukaika worker`: one sandboxed worker process. Started by `serve` and
//! `sanitize` with pipes on stdin and stdout, never by hand: it locks
//! itself down, then answers the daemon's jobs until its stdin closes.

use crate::Failure;

#[derive(clap::Args)]
pub struct Args {
    /// The limits to put on this process, as JSON (the daemon's
    /// `[workers]` settings).
    #[arg(long, value_name = "JSON")]
    limits: String,
    /// Switch to this uid and gid first (when started by root).
    #[arg(long, value_name = "UID:GID", value_parser = ids)]
    user: Option<(u32, u32)>,
}

pub(crate) fn ids(text: &str) -> Result<(u32, u32), String> {
    let parse = |n: &str| n.parse::<u32>().map_err(|e| format!("{text:?}: {e}"));
    let (uid, gid) = text.split_once(':').ok_or("expected UID:GID")?;
    Ok((parse(uid)?, parse(gid)?))
}

pub fn run(args: Args) -> Result<(), Failure> {
    let limits =
        serde_json::from_str(&args.limits).map_err(|e| Failure::Usage(format!("--limits: {e}")))?;
    mukaika_worker::serve::serve(&limits, args.user)
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("worker: {e}")))
}
