//! How sessions learn that the server is stopping.
//!
//! The caller of [`crate::serve`] injects a future; when it completes the
//! listener moves the shared [`Phase`] from `Running` to `Draining`, and
//! after `shutdown_grace_secs` to `Closing`. A session reads it through a
//! [`Shutdown`] handle:
//!
//! - `Draining`: a session with no transaction open says
//!   `421 4.3.2 Service shutting down` and closes; one inside a
//!   transaction finishes it first (its 250 or error reply is sent).
//! - `Closing`: every session waiting for its client says 421 and closes;
//!   the message being received, if any, is dropped unacknowledged so the
//!   client retries it. A session inside [`crate::Accept::accept`] is not
//!   interrupted: a message being written to the spool is either stored
//!   and acknowledged or refused, never cut off halfway.

use tokio::sync::watch;

/// Where the server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Running,
    Draining,
    Closing,
}

/// A session's view of the phase.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown {
    rx: watch::Receiver<Phase>,
}

impl Shutdown {
    pub(crate) fn new(rx: watch::Receiver<Phase>) -> Self {
        Self { rx }
    }

    /// The phase now.
    pub(crate) fn phase(&self) -> Phase {
        *self.rx.borrow()
    }

    /// Completes once the phase is `at_least` or later. Never completes if
    /// the sender is gone without getting there (the listener owns it for
    /// as long as any session runs).
    pub(crate) async fn reached(&mut self, at_least: Phase) {
        if self.rx.wait_for(|p| *p >= at_least).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
