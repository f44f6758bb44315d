//! The operator console inside `serve`: what the daemon gives it (the
//! stores, delivery through the relay, readiness, metrics) and its
//! listener. The console never reaches into the pipeline: it acts on the
//! quarantine and the spool, and delivers through [`RelayReleaser`].

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mukaika_config::Config;
use mukaika_console::{BoxFuture, Check, Console, Deps, Health, Releaser};
use mukaika_quarantine::Quarantine;
use mukaika_relay::{Outcome, Relay};
use mukaika_spool::Spool;
use tokio::sync::Notify;
use tracing::info;

/// Delivers the console's mail through the relay, like any sanitized mail.
pub struct RelayReleaser(pub Arc<Relay>);

impl Releaser for RelayReleaser {
    fn deliver<'a>(
        &'a self,
        sender: &'a str,
        to: &'a [String],
        message: Vec<u8>,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let delivery = self.0.deliver(sender, to, &message).await;
            let mut replies = Vec::new();
            let mut failed = Vec::new();
            for (rcpt, outcome) in delivery.outcomes {
                match outcome {
                    Outcome::Delivered(reply) => replies.push(reply),
                    Outcome::Temporary(why) | Outcome::Permanent(why) => {
                        failed.push(format!("{rcpt}: {why}"))
                    }
                }
            }
            if failed.is_empty() {
                Ok(replies.join("; "))
            } else {
                Err(failed.join("; "))
            }
        })
    }
}

/// `/readyz`: the spool answers, the workers were proven at start (else
/// serve would not run), clamd answers when one is configured.
struct Readiness {
    spool: Arc<dyn Spool>,
    scanner: mukaika_scan::Config,
    workers: usize,
}

impl Health for Readiness {
    fn checks(&self) -> BoxFuture<'_, Vec<Check>> {
        Box::pin(async move {
            let spool = self.spool.clone();
            let counts = tokio::task::spawn_blocking(move || spool.counts()).await;
            let spool = match counts {
                Ok(Ok(counts)) => Check {
                    name: "spool",
                    ok: true,
                    detail: format!("{} queued", counts.queued()),
                },
                Ok(Err(e)) => Check {
                    name: "spool",
                    ok: false,
                    detail: e.to_string(),
                },
                Err(e) => Check {
                    name: "spool",
                    ok: false,
                    detail: e.to_string(),
                },
            };
            let workers = Check {
                name: "workers",
                ok: true,
                detail: format!(
                    "{} sandboxed workers (sandbox proven at start)",
                    self.workers
                ),
            };
            let clamd = match mukaika_scan::Scanner::new(&self.scanner) {
                Ok(None) => Check {
                    name: "clamd",
                    ok: true,
                    detail: "not configured: mail is not scanned".into(),
                },
                Ok(Some(scanner)) => {
                    match tokio::time::timeout(Duration::from_secs(3), scanner.version()).await {
                        Ok(Ok(version)) => Check {
                            name: "clamd",
                            ok: true,
                            detail: version.engine,
                        },
                        Ok(Err(e)) => Check {
                            name: "clamd",
                            ok: false,
                            detail: e.to_string(),
                        },
                        Err(_) => Check {
                            name: "clamd",
                            ok: false,
                            detail: "no answer within 3 s".into(),
                        },
                    }
                }
                Err(e) => Check {
                    name: "clamd",
                    ok: false,
                    detail: e.to_string(),
                },
            };
            vec![spool, workers, clamd]
        })
    }
}

/// Opens the console and serves it until `stop`; returns it for the
/// links in notices.
pub async fn start(
    config: &Config,
    spool: Arc<dyn Spool>,
    quarantine: Arc<dyn Quarantine>,
    relay: Arc<Relay>,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    queue_run: Arc<Notify>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Option<Arc<Console>>> {
    let admin = &config.admin;
    if !admin.enabled() {
        info!("operator console off ([admin] listen = \"off\")");
        return Ok(None);
    }
    let ingress = config.ingress.clone();
    let deps = Deps {
        quarantine,
        spool: spool.clone(),
        releaser: Arc::new(RelayReleaser(relay)),
        health: Arc::new(Readiness {
            spool,
            scanner: config.scanner.clone(),
            workers: config.pipeline.workers(),
        }),
        metrics: Some(Arc::new(move || metrics.render())),
        queue_run,
        accepts: Arc::new(move |address| mukaika_ingress::recipient_allowed(&ingress, address)),
        postmaster: config.relay.postmaster_address(),
    };
    let console = Console::open(admin, deps).map_err(anyhow::Error::msg)?;
    let tls = match (&admin.tls_cert, &admin.tls_key) {
        (Some(cert), Some(key)) => {
            Some(mukaika_ingress::load_pem(cert, key).context("admin.tls_cert/tls_key")?)
        }
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(&admin.listen)
        .await
        .with_context(|| format!("admin.listen: binding {}", admin.listen))?;
    info!(listen = %admin.listen, tls = tls.is_some(), url = %admin.base_url(), "operator console served");
    let console = Arc::new(console);
    let serving = (*console).clone();
    tokio::spawn(async move {
        if let Err(e) = serving.serve(listener, tls, stop).await {
            tracing::error!(error = %e, "the operator console stopped");
        }
    });
    Ok(Some(console))
}
