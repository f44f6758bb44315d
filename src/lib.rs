//! The `mukaika` binary's code, as a library so that the top-level tests
//! and benches can drive the same steps the daemon runs.
//!
//! # Layout
//! - [`cmd`]: one module per subcommand (`serve`, `sanitize`,
//!   `check-config`, `quarantine`); `main.rs` only parses the command line.
//! - [`serve`]: the daemon: intake, pipeline, scheduler, counters.
//! - [`scan`]: the sanitizer core with the clamd scan around it.
//! - [`logging`]: human or JSON log lines.

pub mod cmd;
pub mod logging;
pub mod scan;
pub mod serve;

/// How a command failed, which decides the exit code.
pub enum Failure {
    /// Bad usage or config: exit 2.
    Usage(String),
    /// I/O or internal error: exit 1.
    Runtime(anyhow::Error),
    /// No such message: exit 3.
    NotFound(String),
}

impl From<mukaika_config::Error> for Failure {
    fn from(e: mukaika_config::Error) -> Self {
        Failure::Usage(e.to_string())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Runtime(e)
    }
}
