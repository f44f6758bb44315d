//! Stats: mails per hour (48 hours) and per day (30 days) by verdict, the
//! commonest reasons and threats, processing times, worker failures, and
//! whether the daemon is ready now.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use mukaika_quarantine::Stats;

use super::{Chrome, render};
use crate::chart;
use crate::http::error::Failure;
use crate::http::session::User;
use crate::seams::Check;
use crate::state::Shared;
use mukaika_spool::time::display_local;

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// The two ranges the page shows, ending now.
pub async fn gather(state: &Shared) -> Result<(Stats, Stats), Failure> {
    let now = state.now();
    let q = state.deps.quarantine.clone();
    let stats = tokio::task::spawn_blocking(move || -> Result<_, mukaika_quarantine::Error> {
        // Whole hours and days, so the bars line up with the clock.
        let hour_end = now / HOUR * HOUR + HOUR;
        let day_end = now / DAY * DAY + DAY;
        Ok((
            q.stats(hour_end - 48 * HOUR, hour_end, HOUR)?,
            q.stats(day_end - 30 * DAY, day_end, DAY)?,
        ))
    })
    .await??;
    Ok(stats)
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    chrome: Chrome,
    checks: Vec<Check>,
    hourly_chart: String,
    hourly_total: u64,
    daily_chart: String,
    daily_total: u64,
    reasons: Vec<(String, u64)>,
    threats: Vec<(String, u64)>,
    latency_mean: String,
    latency_p95: u64,
    core_mean: String,
    core_p95: u64,
    worker_failures: u64,
}

/// `GET /stats`.
pub async fn show(State(state): State<Shared>, user: User) -> Response {
    let page = async {
        let (hourly, daily) = gather(&state).await?;
        let checks = state.deps.health.checks().await;
        let t = user.lang.t();
        let hour_label = |s: u64| display_local(s).get(11..16).unwrap_or_default().to_owned();
        let day_label = |s: u64| display_local(s).get(5..10).unwrap_or_default().to_owned();
        render(&StatsPage {
            chrome: Chrome::user(&user, "/stats", "stats"),
            checks,
            hourly_chart: chart::bars(&hourly.buckets, hour_label, 6, t.per_hour),
            hourly_total: hourly.total,
            daily_chart: chart::bars(&daily.buckets, day_label, 3, t.per_day),
            daily_total: daily.total,
            reasons: daily
                .reasons
                .iter()
                .map(|(r, n)| (user.lang.reason(r), *n))
                .collect(),
            threats: daily.threats.clone(),
            latency_mean: format!("{:.1}", daily.latency_secs.0),
            latency_p95: daily.latency_secs.1,
            core_mean: format!("{:.1}", daily.core_ms.0),
            core_p95: daily.core_ms.1,
            worker_failures: daily.worker_failures,
        })
    };
    page.await
        .map_or_else(|f| user.fail(f), IntoResponse::into_response)
}
