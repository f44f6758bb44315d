//! `mukaika serve`: the relay. Ingress accepts mail into the spool; the
//! pipeline takes each message through the sanitizer, stores the original
//! in quarantine and hands the result to the relay; a scheduler retries
//! deferred deliveries and purges old quarantine records.
//!
//! ```text
//! ingress ──enqueue──▶ spool/incoming ──claim──▶ pipeline ──▶ relay ──▶ next hop
//!                          ▲                        │  └──▶ quarantine (original, report, events)
//!                          └──── spool/deferred ◀───┘ (temporary failure; scheduler re-claims when due)
//! ```
//!
//! Data flows one way: no stage calls back into the one before it; the
//! only loop is through the spool's `deferred` state.

mod console;
mod counters;
mod intake;
mod pipeline;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mukaika_config::Config;
use mukaika_quarantine::{FsQuarantine, Quarantine};
use mukaika_relay::Relay;
use mukaika_spool::{FsSpool, QueueId, Spool};
use tokio::sync::{Notify, Semaphore, mpsc};
use tracing::{info, warn};

use mukaika_spool::unix_now;

pub use pipeline::Pipeline;

use crate::scan::{Engine, Sanitizer};

pub async fn run(config: Config) -> anyhow::Result<()> {
    // The workers first: a daemon that cannot sandbox them touches nothing.
    let policy = config.profile(None)?.clone();
    let workers = config.pipeline.workers();
    let pool = crate::scan::start_workers(&config.workers, &policy, workers)
        .await
        .context("starting the sanitizer workers")?;
    let converter = crate::scan::start_converter(&config.workers, &policy).await?;
    let spool: Arc<dyn Spool> =
        Arc::new(FsSpool::open(&config.spool).context("opening the spool")?);
    let quarantine: Arc<dyn Quarantine> =
        Arc::new(FsQuarantine::open(&config.quarantine).context("opening the quarantine")?);
    let relay = Arc::new(Relay::new(&config.relay).context("setting up the relay")?);
    let metrics = counters::install(&config.metrics.listen)?;
    if !config.metrics.listen.is_empty() {
        info!(listen = %config.metrics.listen, "metrics served at /metrics");
    }
    let scanner = mukaika_scan::Scanner::new(&config.scanner).context("setting up the scanner")?;
    check_scanner(scanner.as_ref()).await;

    let recovery = {
        let spool = spool.clone();
        tokio::task::spawn_blocking(move || spool.recover()).await??
    };
    info!(?recovery, "spool recovered");

    // A restart is an operator's act: deferred mail is tried at once.
    let now = unix_now();
    spool.flush(None, now)?;
    let (work_tx, work_rx) = mpsc::unbounded_channel::<QueueId>();
    for id in spool.incoming()?.into_iter().chain(spool.due(now)?) {
        let _ = work_tx.send(id);
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // The console's "retry now" wakes the scheduler's queue run.
    let queue_run = Arc::new(Notify::new());
    let console = console::start(
        &config,
        spool.clone(),
        quarantine.clone(),
        relay.clone(),
        metrics,
        queue_run.clone(),
        wait_for(stop_rx.clone()),
    )
    .await?;
    let tls = mukaika_ingress::load_tls(&config.ingress).context("loading the TLS certificate")?;
    let listener = tokio::net::TcpListener::bind(&config.ingress.listen)
        .await
        .with_context(|| format!("binding {}", config.ingress.listen))?;
    info!(
        listen = %config.ingress.listen,
        next_hop = %config.relay.next_hop,
        profile = %policy.name,
        workers = config.pipeline.workers(),
        "mukaika serve started"
    );

    let pipeline = Arc::new(Pipeline {
        spool: spool.clone(),
        quarantine: quarantine.clone(),
        relay: relay.clone(),
        sanitizer: Sanitizer {
            policy: Arc::new(policy),
            scanner,
            engine: Engine::Workers(pool),
            converter,
        },
        relay_config: config.relay.clone(),
        scanner_config: config.scanner.clone(),
        request_link: console.map(|console| -> pipeline::RequestLink {
            Arc::new(move |id, recipients, from| console.request_url(id, recipients, from))
        }),
        auth: mukaika_auth::Authenticator::new(&config.auth, &config.ingress.hostname)
            .context("setting up sender authentication")?
            .map(Arc::new),
        auth_config: config.auth.clone(),
    });
    let intake = Arc::new(intake::Intake::new(spool.clone(), work_tx.clone()));

    let mut ingress = tokio::spawn(mukaika_ingress::serve(
        listener,
        Arc::new(config.ingress.clone()),
        tls,
        intake,
        wait_for(stop_rx.clone()),
    ));
    // Sanitizing is CPU work (one slot per worker); delivering mostly waits
    // on the next hop (the relay allows max_connections at once). Let
    // enough messages be in flight to keep both busy.
    let in_flight = config.pipeline.workers() + config.relay.max_connections as usize;
    let dispatcher = tokio::spawn(dispatch(work_rx, pipeline, in_flight, stop_rx.clone()));
    let scheduler = tokio::spawn(schedule(
        spool.clone(),
        quarantine,
        work_tx,
        config.pipeline.queue_run_secs,
        queue_run,
        stop_rx.clone(),
    ));

    tokio::select! {
        signal = shutdown_signal() => info!(%signal, "shutting down: no new sessions, finishing in-flight work"),
        result = &mut ingress => {
            result??;
            anyhow::bail!("ingress stopped unexpectedly");
        }
    }
    let _ = stop_tx.send(true);
    let grace = Duration::from_secs(config.pipeline.shutdown_grace_secs);
    let _ = tokio::time::timeout(grace, async {
        let _ = ingress.await;
        let _ = dispatcher.await;
    })
    .await;
    scheduler.abort();
    info!(
        "mukaika serve stopped; unfinished messages stay in the spool and resume at the next start"
    );
    Ok(())
}

/// Says loudly when mail is not scanned, and whether clamd answers now.
/// clamd being down is not fatal: mail waits in the spool until it is back.
async fn check_scanner(scanner: Option<&mukaika_scan::Scanner>) {
    let Some(scanner) = scanner else {
        warn!(
            "VIRUS SCANNING IS OFF: mail is sanitized but not scanned. Set [scanner] clamd in the config (see config/mukaika.toml)"
        );
        return;
    };
    match scanner.version().await {
        Ok(version) => {
            info!(engine = %version.engine, database = version.database.as_deref().unwrap_or("-"), "clamd answers")
        }
        Err(e) => {
            warn!(error = %e, "clamd does not answer yet: mail waits in the spool until it does")
        }
    }
}

/// Runs one pipeline task per queued message, at most `in_flight` at once.
async fn dispatch(
    mut work: mpsc::UnboundedReceiver<QueueId>,
    pipeline: Arc<Pipeline>,
    in_flight: usize,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(in_flight));
    loop {
        let id = tokio::select! {
            id = work.recv() => match id { Some(id) => id, None => break },
            _ = stop.changed() => break,
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let pipeline = pipeline.clone();
        tokio::spawn(async move {
            pipeline.process(id).await;
            drop(permit);
        });
    }
    // Wait for in-flight messages: each holds a permit until it is done.
    let _ = slots.acquire_many(in_flight as u32).await;
}

/// Every `interval` seconds, or at once when `now` is notified (a flush
/// in the console): deferred messages that are due go back to the
/// workers; once an hour, quarantine records past retention are purged.
async fn schedule(
    spool: Arc<dyn Spool>,
    quarantine: Arc<dyn Quarantine>,
    work: mpsc::UnboundedSender<QueueId>,
    interval: u64,
    now: Arc<Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(interval.max(1)));
    let mut last_purge = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = now.notified() => {}
            _ = stop.changed() => return,
        }
        let now = unix_now();
        let spool2 = spool.clone();
        match tokio::task::spawn_blocking(move || spool2.due(now)).await {
            Ok(Ok(ids)) => ids.into_iter().for_each(|id| {
                let _ = work.send(id);
            }),
            Ok(Err(e)) => warn!(error = %e, "listing deferred mail failed"),
            Err(e) => warn!(error = %e, "listing deferred mail panicked"),
        }
        if now >= last_purge + 3600 {
            last_purge = now;
            let quarantine = quarantine.clone();
            match tokio::task::spawn_blocking(move || quarantine.purge(now)).await {
                Ok(Ok(n)) if n > 0 => {
                    info!(purged = n, "quarantine records past retention deleted")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => warn!(error = %e, "quarantine purge failed"),
                Err(e) => warn!(error = %e, "quarantine purge panicked"),
            }
        }
    }
}

async fn wait_for(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Waits for SIGTERM or SIGINT. SIGHUP, which logrotate and admins send,
/// is logged and ignored: a mail server never exits silently on it.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    let mut hup = signal(SignalKind::hangup()).expect("installing a SIGHUP handler");
    loop {
        tokio::select! {
            _ = term.recv() => return "SIGTERM",
            _ = int.recv() => return "SIGINT",
            _ = hup.recv() => warn!(
                "SIGHUP received: reloading the configuration is not supported yet; restart to apply changes"
            ),
        }
    }
}
