//! `mukaika audit verify`: checks the hash chain of the console's audit
//! log (`[admin] audit_log`). Exit 0 intact, 1 broken (the first bad line
//! is named) or unreadable.

use std::path::PathBuf;

use mukaika_audit::VerifyError;
use mukaika_config::Config;

use crate::Failure;

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
    /// Check that no line was edited, removed, inserted or reordered.
    Verify,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let config = Config::load(args.config.as_deref())?;
    let path = &config.admin.audit_log;
    match args.command {
        Command::Verify => match mukaika_audit::verify(path) {
            Ok(verified) => {
                println!(
                    "audit log {}: {} lines, chain intact",
                    path.display(),
                    verified.lines
                );
                Ok(())
            }
            Err(VerifyError::Broken(broken)) => Err(Failure::Runtime(anyhow::anyhow!(
                "{}:{}: {}",
                path.display(),
                broken.line,
                broken.reason
            ))),
            Err(VerifyError::Io(e)) => Err(Failure::Runtime(anyhow::anyhow!("{e}"))),
        },
    }
}
