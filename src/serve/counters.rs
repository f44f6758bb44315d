//! Prometheus metrics: what the log lines say, as counters an operator can
//! alert on (`[metrics] listen`). The counters are incremented where the
//! matching log line is written.

use std::net::SocketAddr;

use anyhow::Context;
use metrics::describe_counter;

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

/// Serves `/metrics` on `listen` (from inside the runtime).
pub fn install(listen: &str) -> anyhow::Result<()> {
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("metrics.listen {listen:?}"))?;
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .with_context(|| format!("serving metrics on {addr}"))?;
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
    Ok(())
}
