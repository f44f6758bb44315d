//! Untrusted content is parsed only in worker processes: the same binary
//! started as `mukaika worker`, locked down before it reads its first job.
//! The daemon keeps the listener, the spool and the relay, and sees only
//! what a worker returns, which it checks as untrusted.
//!
//! # Layout
//! - [`sandbox`]: what a worker does to itself before its first job
//!   (rlimits, `no_new_privs`, Landlock, seccomp) and the probe that proves
//!   it.
//! - [`protocol`]: the framed, versioned, bounded messages on the pipes.
//! - [`serve`]: the worker's loop (`mukaika worker`).
//! - [`pool`]: the daemon's pool: timeouts, crashes, recycling.
//! - [`convert`]: legacy Office to PDF with LibreOffice, one sandboxed
//!   process per document (`mukaika convert`).

pub mod convert;
pub mod pool;
pub mod protocol;
pub mod sandbox;
pub mod serve;

pub use pool::{Config, Failure, Pool, Program, Proof, SandboxMode};
