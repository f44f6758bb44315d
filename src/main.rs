//! `mukaika`: the one binary. This file only parses the command line and
//! maps outcomes to exit codes; each subcommand lives in `cmd/`.
//!
//! Exit codes: 0 done; 1 I/O or internal error; 2 usage or config error;
//! 3 no such message (quarantine commands).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mukaika::{Failure, cmd};

#[derive(Parser)]
#[command(
    name = "mukaika",
    version,
    about = "Mail sanitization (無害化) relay for the Internet → LGWAN boundary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the relay: SMTP ingress, spool, sanitizer, quarantine, delivery.
    Serve {
        /// Config file; without it, the embedded default (loopback only).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// List, show, release, delete or purge quarantined originals.
    Quarantine(cmd::quarantine::Args),
    /// Manage the operator console's users: add, passwd, role, del, list.
    User(cmd::user::Args),
    /// Check the hash chain of the console's audit log.
    Audit(cmd::audit::Args),
    /// Sanitize one mail file: write the message that would be delivered.
    Sanitize(cmd::sanitize::Args),
    /// Validate a config file (or the embedded default) and report the first error.
    CheckConfig {
        /// Config file; without it, the embedded default.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Internal: a sandboxed worker process, started by serve and sanitize.
    #[command(hide = true)]
    Worker(cmd::worker::Args),
    /// Internal: one sandboxed LibreOffice conversion, started by serve and sanitize.
    #[command(hide = true)]
    Convert(cmd::convert::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config } => cmd::serve::run(config.as_deref()),
        Command::Quarantine(args) => cmd::quarantine::run(args),
        Command::Sanitize(args) => cmd::sanitize::run(args),
        Command::User(args) => cmd::user::run(args),
        Command::Audit(args) => cmd::audit::run(args),
        Command::CheckConfig { config } => cmd::check_config::run(config.as_deref()),
        Command::Worker(args) => cmd::worker::run(args),
        Command::Convert(args) => cmd::convert::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("mukaika: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(error)) => {
            eprintln!("mukaika: {error:#}");
            ExitCode::from(1)
        }
        Err(Failure::NotFound(message)) => {
            eprintln!("mukaika: {message}");
            ExitCode::from(3)
        }
    }
}
