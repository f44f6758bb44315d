//! What the console is given by the daemon that runs it: the stores it
//! reads and acts on, and the few things it cannot do by itself (deliver a
//! mail, tell whether the daemon is ready, render the metrics). Traits, so
//! that the console never reaches into the pipeline.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mukaika_quarantine::Quarantine;
use mukaika_spool::Spool;
use tokio::sync::Notify;

/// A boxed future, for the object-safe async traits below.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Delivers mail for the console, through the relay to the next hop.
pub trait Releaser: Send + Sync {
    /// Delivers `message` from `sender` to every address in `to`. `Ok` with
    /// the next hop's reply when all were accepted, else `Err` naming each
    /// recipient that failed and why.
    fn deliver<'a>(
        &'a self,
        sender: &'a str,
        to: &'a [String],
        message: Vec<u8>,
    ) -> BoxFuture<'a, Result<String, String>>;
}

/// One readiness check of `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// What was checked: `spool`, `workers`, `clamd`…
    pub name: &'static str,
    /// Whether it is ready.
    pub ok: bool,
    /// What was seen, for the operator.
    pub detail: String,
}

/// Tells whether the daemon can take mail now.
pub trait Health: Send + Sync {
    /// Every readiness check, run now (each bounded in time by its maker).
    fn checks(&self) -> BoxFuture<'_, Vec<Check>>;
}

/// The Prometheus text of the daemon's metrics.
pub type Metrics = Arc<dyn Fn() -> String + Send + Sync>;

/// Everything the console works with, given by `mukaika serve`.
#[derive(Clone)]
pub struct Deps {
    /// The originals and their records.
    pub quarantine: Arc<dyn Quarantine>,
    /// The queue, for the queue page.
    pub spool: Arc<dyn Spool>,
    /// Delivery of released originals and of notices to requesters.
    pub releaser: Arc<dyn Releaser>,
    /// `/readyz`.
    pub health: Arc<dyn Health>,
    /// `/metrics`, when the daemon records metrics.
    pub metrics: Option<Metrics>,
    /// Wakes the daemon's queue run (after a flush).
    pub queue_run: Arc<Notify>,
    /// Whether an address is one the relay accepts mail for (ingress's
    /// `accept_domains` rule): an address an approver types must be.
    pub accepts: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    /// The envelope and From address of the console's own mails (a
    /// refused request's notice).
    pub postmaster: String,
}
