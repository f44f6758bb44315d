//! Ingress's hand-off: a message is accepted once the spool has it on disk;
//! then its ID goes to the workers.

use std::sync::Arc;

use mukaika_ingress::{Accept, Refusal};
use mukaika_spool::{Envelope, QueueId, Spool};
use tokio::sync::mpsc;
use tracing::{error, info};

pub struct Intake {
    spool: Arc<dyn Spool>,
    work: mpsc::UnboundedSender<QueueId>,
}

impl Intake {
    pub fn new(spool: Arc<dyn Spool>, work: mpsc::UnboundedSender<QueueId>) -> Self {
        Self { spool, work }
    }
}

impl Accept for Intake {
    async fn accept(&self, envelope: Envelope, message: Vec<u8>) -> Result<QueueId, Refusal> {
        let spool = self.spool.clone();
        let (sender, recipients, size) = (
            envelope.sender.clone(),
            envelope.recipients.clone(),
            message.len(),
        );
        let stored = tokio::task::spawn_blocking(move || spool.enqueue(&envelope, &message)).await;
        match stored {
            Ok(Ok(id)) => {
                metrics::counter!(super::counters::RECEIVED).increment(1);
                info!(stage = "received", queue_id = %id, from = %sender, to = ?recipients, size, "message queued");
                // The receiver only goes away at shutdown; the message then
                // waits in the spool for the next start.
                let _ = self.work.send(id.clone());
                Ok(id)
            }
            Ok(Err(e)) => {
                error!(error = %e, from = %sender, "spool write failed: message refused with 451");
                Err(Refusal::Temporary(
                    "Local error in processing: queue write failed".into(),
                ))
            }
            Err(e) => {
                error!(error = %e, "spool writer panicked");
                Err(Refusal::Temporary("Local error in processing".into()))
            }
        }
    }

    fn over_capacity(&self) -> bool {
        match self.spool.counts() {
            Ok(counts) => counts.over_high_water(),
            // Fail closed: if the queue cannot be read, accept nothing more.
            Err(_) => true,
        }
    }
}
