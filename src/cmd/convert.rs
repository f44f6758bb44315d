//! `mukaika convert`: one LibreOffice conversion in the converter's
//! sandbox. Started by `serve` and `sanitize` for each legacy Office, RTF
//! or ODF attachment, never by hand: it switches user, locks itself down
//! and runs soffice on `DIR/in/input.*`, writing `DIR/out/input.pdf`; it
//! ends soffice's whole process group when its stdin closes (the daemon
//! went).

use std::path::PathBuf;

use crate::Failure;

#[derive(clap::Args)]
pub struct Args {
    /// The conversion's private directory (in/, out/, profile/, tmp/).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The soffice to run.
    #[arg(long, value_name = "PATH")]
    soffice: PathBuf,
    /// The limits to put on this process, as JSON.
    #[arg(long, value_name = "JSON")]
    limits: String,
    /// Switch to this uid and gid first (when started by root).
    #[arg(long, value_name = "UID:GID", value_parser = super::worker::ids)]
    user: Option<(u32, u32)>,
    /// Run LibreOffice even if the sandbox is not fully in force.
    #[arg(long)]
    allow_degraded: bool,
    /// Print what the sandbox lets this process do, as JSON, instead of
    /// converting.
    #[arg(long)]
    probe: bool,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let limits =
        serde_json::from_str(&args.limits).map_err(|e| Failure::Usage(format!("--limits: {e}")))?;
    let job = mukaika_worker::convert::Job {
        dir: &args.dir,
        soffice: &args.soffice,
        limits: &limits,
        user: args.user,
        allow_degraded: args.allow_degraded,
        probe: args.probe,
    };
    match mukaika_worker::convert::run(&job) {
        Ok(0) => Ok(()),
        Ok(code) => Err(Failure::Runtime(anyhow::anyhow!(
            "convert: LibreOffice exited with status {code}"
        ))),
        Err(e) => Err(Failure::Runtime(anyhow::anyhow!("convert: {e}"))),
    }
}
