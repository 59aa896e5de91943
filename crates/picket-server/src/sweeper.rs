//! Time in the fleet: the sweeper evaluates the sensors time can change (the silent ones)
//! every interval of wall time, and the release catalogue is re-read into the policy that
//! check-ins and sweeps use. With `--clock manual`, `/admin/v1/clock/advance` moves time and
//! sweeps at once instead.

use crate::state::AppState;
use picket_store::fleet::SweepSummary;

/// Sweeps every `interval` of wall time, so statuses follow silence without any request.
/// Replicas on one database take turns: each round is claimed in the store first, and a
/// replica that loses the claim skips it.
pub fn spawn_sweeper(
    state: AppState,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    let holder = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.store.claim_sweep(&holder, interval).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    state.metrics.store_error(&e);
                    tracing::warn!(error = %e, "cannot claim a fleet sweep");
                    continue;
                }
            }
            let now = state.clock.now();
            match sweep(&state, now).await {
                Ok(s)
                    if s.status_changes + s.issues_raised + s.issues_closed + s.issues_reopened
                        > 0 =>
                {
                    tracing::info!(
                        sensors = s.sensors,
                        status_changes = s.status_changes,
                        raised = s.issues_raised,
                        reopened = s.issues_reopened,
                        closed = s.issues_closed,
                        "fleet sweep"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    state.metrics.store_error(&e);
                    tracing::warn!(error = %e, "fleet sweep failed");
                }
            }
        }
    })
}

/// One sweep, timed for `/metrics`.
pub(crate) async fn sweep(
    state: &AppState,
    now: picket_domain::time::Timestamp,
) -> Result<SweepSummary, picket_store::StoreError> {
    let started = std::time::Instant::now();
    let summary = state.store.sweep(now, &state.fleet.policy()).await?;
    state.metrics.sweep(summary.sensors, started.elapsed());
    Ok(summary)
}

/// Re-reads the release catalogue (published with `picket releases publish`, maybe by another
/// process) into the policy check-ins and sweeps use.
pub async fn reload_releases(state: &AppState) {
    match state.store.releases().await {
        Ok(mut releases) => {
            if let Some(base) = &state.fleet.base_release {
                if !releases.iter().any(|(v, _)| v == base) {
                    // Known since start; treated as published long ago (due for every ring).
                    releases.push((base.clone(), chrono::DateTime::<chrono::Utc>::MIN_UTC));
                }
            }
            let catalogue = picket_domain::fleet::ReleaseCatalogue::with_dates(releases);
            if let Ok(mut policy) = state.fleet.policy.write() {
                policy.releases = catalogue;
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the release catalogue"),
    }
}
