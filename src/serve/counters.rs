//! Prometheus metrics: what the log lines say, as counters an operator can
//! alert on (`[metrics] listen`). The counters are incremented where the
//! matching log line is written.

use std::net::SocketAddr;

use anyhow::Context;
use metrics::describe_counter;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Received into the spool (250 sent).
pub const RECEIVED: &str = "mukaika_received_total";
/// Sanitized, by `verdict` (sanitized, held, rejected).
pub const SANITIZED: &str = "mukaika_sanitized_total";
/// Messages in which the scanner found a virus.
pub const INFECTED: &str = "mukaika_infected_total";
/// No scan verdict, by `reason` (scan-unavailable, scan-too-large) and
/// `then` (deferred, held).
pub const SCAN_NO_VERDICT: &str = "mukaika_scan_no_verdict_total";
/// Delivery outcomes per recipient, by `outcome` (delivered, deferred,
/// bounced, undeliverable).
pub const DELIVERIES: &str = "mukaika_deliveries_total";

/// Records the metrics, and serves `/metrics` on `listen` unless it is
/// empty (from inside the runtime). The handle renders them for the
/// console's `/metrics`.
pub fn install(listen: &str) -> anyhow::Result<PrometheusHandle> {
    let builder = PrometheusBuilder::new();
    let handle = if listen.is_empty() {
        let handle = builder
            .install_recorder()
            .context("installing the metrics recorder")?;
        let upkeep = handle.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                upkeep.run_upkeep();
            }
        });
        handle
    } else {
        let addr: SocketAddr = listen
            .parse()
            .with_context(|| format!("metrics.listen {listen:?}"))?;
        let (recorder, exporter) = builder
            .with_http_listener(addr)
            .build()
            .with_context(|| format!("serving metrics on {addr}"))?;
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).context("installing the metrics recorder")?;
        tokio::spawn(exporter);
        handle
    };
    describe_counter!(RECEIVED, "Messages accepted into the spool");
    describe_counter!(SANITIZED, "Messages sanitized, by verdict");
    describe_counter!(INFECTED, "Messages in which clamd found a virus");
    describe_counter!(
        SCAN_NO_VERDICT,
        "Messages clamd gave no verdict on, by reason and what happened then"
    );
    describe_counter!(DELIVERIES, "Delivery outcomes per recipient");
    describe_counter!(
        crate::scan::VERIFIER_VIOLATIONS,
        "Sanitized messages the output verifier refused (sanitizer bugs): alert on any"
    );
    Ok(handle)
}
