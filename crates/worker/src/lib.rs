//! Untrusted content is parsed only in worker processes: the same binary
//! started as `mukaika worker`, locked down before it reads its first job.
//!
//! # Layout
//! - [`sandbox`]: what a worker does to itself before its first job
//!   (rlimits, `no_new_privs`, Landlock, seccomp) and the probe that proves
//!   it.

pub mod sandbox;
