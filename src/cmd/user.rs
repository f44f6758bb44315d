//! `mukaika user …`: the operator console's accounts, in `[admin]
//! users_file`. The daemon re-reads the file at each login: no restart.
//!
//! Exit codes: 0 done; 1 I/O error; 2 usage (bad name, weak password,
//! existing user, mismatched passwords); 3 no such user.

use std::io::{BufRead, IsTerminal, Read};
use std::path::PathBuf;

use mukaika_access::{Error, Role, Users};
use mukaika_audit::{Action, AuditLog, Entry};
use mukaika_config::Config;
use zeroize::Zeroizing;

use super::quarantine::operator;
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
    /// Add a user; the password is read from standard input (asked twice on a terminal).
    Add {
        /// viewer (read), approver (release), admin (delete, queue, originals).
        #[arg(long, default_value = "viewer")]
        role: Role,
        name: String,
    },
    /// Set a user's password, read from standard input (asked twice on a terminal).
    Passwd { name: String },
    /// Set a user's role.
    Role { name: String, role: Role },
    /// Delete a user.
    Del { name: String },
    /// One line per user: name, role, added (local time).
    List {
        /// JSON lines instead of columns.
        #[arg(long)]
        json: bool,
    },
}

fn failure(e: Error) -> Failure {
    match e {
        Error::Invalid(why) => Failure::Usage(why),
        Error::NoSuchUser(name) => Failure::NotFound(format!("no user {name:?}")),
        e => Failure::Runtime(anyhow::anyhow!("{e}")),
    }
}

/// The password: one line of standard input, or asked twice on a terminal.
fn password() -> Result<Zeroizing<String>, Failure> {
    if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(
            rpassword::prompt_password("Password: ").map_err(|e| Failure::Runtime(e.into()))?,
        );
        let again = Zeroizing::new(
            rpassword::prompt_password("Again: ").map_err(|e| Failure::Runtime(e.into()))?,
        );
        if *first != *again {
            return Err(Failure::Usage("the two passwords differ".into()));
        }
        return Ok(first);
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .take(4096)
        .read_line(&mut line)
        .map_err(|e| Failure::Runtime(e.into()))?;
    let trimmed = line.trim_end_matches(['\r', '\n']);
    Ok(Zeroizing::new(trimmed.to_owned()))
}

pub fn run(args: Args) -> Result<(), Failure> {
    let config = Config::load(args.config.as_deref())?;
    crate::logging::init(&config.log);
    let admin = &config.admin;
    let mut users = Users::open(&admin.users_file).map_err(failure)?;
    let audit = |action: Action, detail: String| -> Result<(), Failure> {
        let log = AuditLog::open(&admin.audit_log)
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("admin.audit_log: {e}")))?;
        log.append(&Entry::new(format!("cli:{}", operator(None)), "local", action).detail(detail))
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))
    };
    match args.command {
        Command::Add { role, name } => {
            mukaika_access::check_name(&name).map_err(failure)?;
            let password = password()?;
            users.add(&name, role, &password).map_err(failure)?;
            audit(Action::UserAdd, format!("{name} ({role})"))?;
            println!("user {name} added as {role}");
        }
        Command::Passwd { name } => {
            if !users.list().iter().any(|u| u.name == name) {
                return Err(Failure::NotFound(format!("no user {name:?}")));
            }
            let password = password()?;
            users.set_password(&name, &password).map_err(failure)?;
            audit(Action::UserPasswd, name.clone())?;
            println!("password of {name} changed");
        }
        Command::Role { name, role } => {
            users.set_role(&name, role).map_err(failure)?;
            audit(Action::UserRole, format!("{name} ({role})"))?;
            println!("{name} is now {role}");
        }
        Command::Del { name } => {
            if !users.remove(&name).map_err(failure)? {
                return Err(Failure::NotFound(format!("no user {name:?}")));
            }
            audit(Action::UserDel, name.clone())?;
            println!("user {name} deleted");
        }
        Command::List { json } => {
            for user in users.list() {
                if json {
                    println!(
                        "{}",
                        serde_json::to_string(&user).map_err(|e| Failure::Runtime(e.into()))?
                    );
                } else {
                    println!(
                        "{:<24}  {:<8}  {}",
                        user.name,
                        user.role,
                        mukaika_spool::time::iso_local(user.created_at)
                    );
                }
            }
        }
    }
    Ok(())
}
