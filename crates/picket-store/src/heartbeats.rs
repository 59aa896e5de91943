//! Heartbeats: most check-ins repeat the sensor's previous report. When the stored state says
//! nothing can come of one — same report, settings acknowledged, a settled status, no release to roll
//! out to it, fully evaluated less than [`reevaluate_after`] ago by this process — each engine
//! answers it from a read, and only its `last_seen` is kept, in memory, to be written for many
//! sensors at once every [`FLUSH_EVERY`] and before every sweep.
//!
//! Everything the answer depends on is read from the database each time (credential, deletion,
//! settings versions, statuses, the catalogue), so a change made by any process or replica sends
//! the next check-in down the full, written path. What a crash can lose is the `last_seen` of at
//! most the last [`FLUSH_EVERY`] (per replica on PostgreSQL): the sensor looks silent for that
//! much longer, far below every silence threshold.

use crate::fleet::{
    constant_time_eq, host_issues_json, AgentCommand, AgentRefusal, CheckInAnswer, CheckInReport,
    FleetPolicy, UpdateReport,
};
use crate::StoreError;
use picket_domain::fleet::releases::compare_versions;
use picket_domain::time::Timestamp;
use picket_domain::{DeploymentStatus, Sensor, SensorId, TenantId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};

/// How often heard-from times are written.
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A sensor is evaluated in full (status engine, health rules, rollout) at least this often
/// while it checks in, in the store's clock time. Sensors check in every 60 s by default, so
/// most check-ins of a steady fleet are heartbeats; what time alone changes (silence, expired
/// suppressions, new releases) is caught by the sweeps, which evaluate every sensor at least
/// every 10 minutes, and by the quiet answer's own checks.
pub fn reevaluate_after() -> chrono::Duration {
    chrono::Duration::seconds(REEVALUATE_AFTER)
}
const REEVALUATE_AFTER: i64 = 300;

type Key = (TenantId, SensorId);

#[derive(Default)]
pub struct Heartbeats {
    /// When each sensor's last full check-in was evaluated.
    evaluated: Mutex<HashMap<Key, Timestamp>>,
    /// Heard-from times not yet written.
    pending: Mutex<HashMap<Key, Timestamp>>,
}

impl Heartbeats {
    /// A check-in: answered by `quiet` (a read) when the sensor was evaluated in full lately
    /// and that read finds nothing to do, else by `full` (the written path), whose success
    /// starts a new quiet period.
    pub async fn check_in<Q, F>(
        &self,
        tenant: &TenantId,
        sensor: &SensorId,
        now: Timestamp,
        quiet: impl FnOnce() -> Q,
        full: impl FnOnce() -> F,
    ) -> Result<Result<CheckInAnswer, AgentRefusal>, StoreError>
    where
        Q: Future<Output = Result<Option<CheckInAnswer>, StoreError>>,
        F: Future<Output = Result<Result<CheckInAnswer, AgentRefusal>, StoreError>>,
    {
        if self.recently_evaluated(tenant, sensor, now) {
            if let Some(answer) = quiet().await? {
                self.seen(tenant, sensor, now);
                return Ok(Ok(answer));
            }
        }
        let outcome = full().await;
        if let Ok(Ok(_)) = &outcome {
            self.evaluated(tenant, sensor, now);
        }
        outcome
    }

    /// Whether a heartbeat may be answered without a full evaluation.
    pub fn recently_evaluated(&self, tenant: &TenantId, sensor: &SensorId, now: Timestamp) -> bool {
        let Ok(map) = self.evaluated.lock() else {
            return false;
        };
        map.get(&(tenant.clone(), sensor.clone()))
            .is_some_and(|at| now >= *at && now - *at < reevaluate_after())
    }

    pub fn evaluated(&self, tenant: &TenantId, sensor: &SensorId, now: Timestamp) {
        if let Ok(mut map) = self.evaluated.lock() {
            map.insert((tenant.clone(), sensor.clone()), now);
        }
    }

    pub fn seen(&self, tenant: &TenantId, sensor: &SensorId, now: Timestamp) {
        if let Ok(mut map) = self.pending.lock() {
            let at = map.entry((tenant.clone(), sensor.clone())).or_insert(now);
            if now > *at {
                *at = now;
            }
        }
    }

    /// The heard-from times to write, leaving none pending.
    pub fn take_pending(&self) -> Vec<(TenantId, SensorId, Timestamp)> {
        let Ok(mut map) = self.pending.lock() else {
            return Vec::new();
        };
        map.drain().map(|((t, s), at)| (t, s, at)).collect()
    }

    /// Puts back heard-from times whose write failed (the database was away), keeping the
    /// later of two for a sensor, so the next flush writes them.
    pub fn restore(&self, items: Vec<(TenantId, SensorId, Timestamp)>) {
        for (t, s, at) in items {
            self.seen(&t, &s, at);
        }
    }

    /// Forgets every evaluation and every heard-from time not yet written: the rows they were
    /// about were replaced wholesale (a snapshot or backup restored), so the next check-in of
    /// each sensor is evaluated in full against what is stored now.
    pub fn forget_all(&self) {
        if let Ok(mut map) = self.evaluated.lock() {
            map.clear();
        }
        if let Ok(mut map) = self.pending.lock() {
            map.clear();
        }
    }

    /// How many heard-from times wait to be written.
    pub fn pending_len(&self) -> usize {
        self.pending.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// Runs `write` every [`FLUSH_EVERY`] until the heartbeats are dropped with their store.
pub fn spawn_writer<F, Fut>(heartbeats: Weak<Heartbeats>, write: F)
where
    F: Fn(Arc<Heartbeats>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), StoreError>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(heartbeats) = heartbeats.upgrade() else {
                return;
            };
            if let Err(e) = write(heartbeats.clone()).await {
                tracing::warn!(error = %e, pending = heartbeats.pending_len(), "cannot write heard-from times");
            }
        }
    });
}

/// An agent's stored state, as far as a heartbeat depends on it.
#[derive(Debug, Clone)]
pub struct StoredAgent {
    pub credential_hash: String,
    pub deleted: bool,
    pub desired_settings_version: i64,
    pub applied_settings_version: i64,
    pub reported_service: Option<String>,
    pub update_state: String,
    /// As [`host_issues_json`] writes them.
    pub reported_issues: String,
}

/// The statuses a repeated report derives again while time stands nearly still: every other
/// one depends on silence, an update under way or settings not yet acknowledged. (A role
/// server without its DC list stays `notConfigured` until a PATCH, which the settings versions
/// show; `outdated` changes with a release, which the first sweep after it evaluates in full.)
fn settled(status: DeploymentStatus) -> bool {
    matches!(
        status,
        DeploymentStatus::UpToDate | DeploymentStatus::NotConfigured | DeploymentStatus::Outdated
    )
}

/// The answer to a check-in that changes nothing but `last_seen`; `None` when anything differs
/// or could change, and for refusals (the full path answers those).
pub fn quiet_answer(
    agent: &StoredAgent,
    stored: Sensor,
    credential_hash: &str,
    report: &CheckInReport,
    policy: &FleetPolicy,
) -> Option<CheckInAnswer> {
    let repeated = constant_time_eq(&agent.credential_hash, credential_hash)
        && !agent.deleted
        && agent.desired_settings_version == agent.applied_settings_version
        && i64::try_from(report.applied_settings_version) == Ok(agent.applied_settings_version)
        && matches!(report.update, UpdateReport::Idle)
        && agent.update_state == "idle"
        && agent.reported_service.as_deref() == Some(report.service_status.as_str())
        && agent.reported_issues == host_issues_json(&report.host_issues);
    let rollout_due = policy.releases.latest().is_some_and(|latest| {
        stored.major_version() < 3 && compare_versions(latest, &stored.version).is_gt()
    });
    if !repeated
        || stored.version != report.version
        || !settled(stored.deployment_status)
        || stored.service_status != report.service_status
        || rollout_due
    {
        return None;
    }
    Some(CheckInAnswer {
        sensor: Some(stored),
        desired_settings_version: u64::try_from(agent.desired_settings_version).unwrap_or(0),
        command: AgentCommand::None,
        heartbeat: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_domain::time::parse_timestamp;

    fn at(seconds: i64) -> Timestamp {
        parse_timestamp("2026-05-01T12:00:00Z").expect("time") + chrono::Duration::seconds(seconds)
    }

    #[test]
    fn evaluations_expire_and_heard_from_times_only_move_forward() {
        let hb = Heartbeats::default();
        let t = TenantId::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779f").expect("tenant");
        let s = SensorId::new("s-1");
        assert!(!hb.recently_evaluated(&t, &s, at(0)), "never evaluated");
        hb.evaluated(&t, &s, at(0));
        assert!(hb.recently_evaluated(&t, &s, at(299)));
        assert!(!hb.recently_evaluated(&t, &s, at(300)), "due again");
        assert!(
            !hb.recently_evaluated(&t, &s, at(-1)),
            "the clock went back"
        );

        hb.seen(&t, &s, at(5));
        hb.seen(&t, &s, at(3));
        assert_eq!(hb.take_pending(), vec![(t.clone(), s.clone(), at(5))]);
        assert!(hb.take_pending().is_empty());

        // A failed write puts its times back, behind any later one heard meanwhile.
        hb.seen(&t, &s, at(9));
        hb.restore(vec![(t.clone(), s.clone(), at(7))]);
        assert_eq!(hb.pending_len(), 1);
        assert_eq!(hb.take_pending(), vec![(t.clone(), s.clone(), at(9))]);
    }

    fn sensor(status: DeploymentStatus, version: &str) -> Sensor {
        Sensor {
            id: SensorId::new("s-1"),
            created_date_time: at(0),
            deployment_status: status,
            display_name: "dc1".into(),
            domain_name: "contoso.com".into(),
            health_status: picket_domain::SensorHealthStatus::Healthy,
            open_health_issues_count: 0,
            sensor_type: picket_domain::SensorType::AdfsIntegrated,
            service_status: picket_domain::ServiceStatus::Running,
            settings: picket_domain::SensorSettings::default(),
            version: version.into(),
        }
    }

    #[test]
    fn only_a_repeated_report_of_a_settled_sensor_is_a_heartbeat() {
        let agent = StoredAgent {
            credential_hash: "h".into(),
            deleted: false,
            desired_settings_version: 2,
            applied_settings_version: 2,
            reported_service: Some("running".into()),
            update_state: "idle".into(),
            reported_issues: "[]".into(),
        };
        let report = CheckInReport {
            service_status: picket_domain::ServiceStatus::Running,
            version: "2.239.1.1".into(),
            applied_settings_version: 2,
            update: UpdateReport::Idle,
            host_issues: vec![],
        };
        let policy = FleetPolicy::default();
        let quiet = |agent: &StoredAgent, status, report: &CheckInReport| {
            quiet_answer(agent, sensor(status, "2.239.1.1"), "h", report, &policy).is_some()
        };
        for settled in [
            DeploymentStatus::UpToDate,
            DeploymentStatus::NotConfigured,
            DeploymentStatus::Outdated,
        ] {
            assert!(quiet(&agent, settled, &report), "{settled:?}");
        }
        for moving in [
            DeploymentStatus::Syncing,
            DeploymentStatus::Disconnected,
            DeploymentStatus::Updating,
            DeploymentStatus::StartFailure,
        ] {
            assert!(!quiet(&agent, moving, &report), "{moving:?}");
        }
        let up = DeploymentStatus::UpToDate;
        let wrong_hash = StoredAgent {
            credential_hash: "other".into(),
            ..agent.clone()
        };
        assert!(!quiet(&wrong_hash, up, &report), "a wrong credential");
        let deleted = StoredAgent {
            deleted: true,
            ..agent.clone()
        };
        assert!(!quiet(&deleted, up, &report), "a deleted sensor");
        let pending = StoredAgent {
            desired_settings_version: 3,
            ..agent.clone()
        };
        assert!(!quiet(&pending, up, &report), "settings to send");
        let mut stopped = report.clone();
        stopped.service_status = picket_domain::ServiceStatus::Stopped;
        assert!(!quiet(&agent, up, &stopped), "a new service state");
        let mut newer = report.clone();
        newer.version = "2.240.1.1".into();
        assert!(!quiet(&agent, up, &newer), "a new version");
    }
}
