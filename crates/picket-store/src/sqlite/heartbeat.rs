//! Heartbeats: most check-ins repeat the sensor's previous report. When the stored state says
//! nothing can come of one — same report, settings acknowledged, `upToDate`, no release to roll
//! out to it, fully evaluated less than [`REEVALUATE_AFTER`] ago by this process — it is answered
//! from a read (on the read pool, beside the writer) and only its `last_seen` is kept, in memory,
//! to be written for many sensors at once every [`FLUSH_EVERY`] and before every sweep.
//!
//! Everything the answer depends on is read from the database each time (credential, deletion,
//! settings versions, statuses, the catalogue), so a change made by any process or replica sends
//! the next check-in down the full, written path. What a crash can lose is the `last_seen` of at
//! most the last [`FLUSH_EVERY`]: the sensor looks silent for that much longer.

use super::fleet::{constant_time_eq, host_issues_json};
use super::rows::ts;
use super::sensors;
use crate::fleet::{AgentCommand, CheckInAnswer, CheckInReport, FleetPolicy, UpdateReport};
use crate::StoreError;
use deadpool_sqlite::rusqlite::{params, Connection, OptionalExtension, Transaction};
use picket_domain::fleet::releases::compare_versions;
use picket_domain::time::Timestamp;
use picket_domain::{DeploymentStatus, SensorId, TenantId};
use std::collections::HashMap;
use std::sync::Mutex;

/// How often heard-from times are written.
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A sensor is evaluated in full (status engine, health rules, rollout) at least this often
/// while it checks in, in the store's clock time; far below every silence threshold.
pub fn reevaluate_after() -> chrono::Duration {
    chrono::Duration::seconds(REEVALUATE_AFTER)
}
const REEVALUATE_AFTER: i64 = 30;

type Key = (TenantId, SensorId);

#[derive(Default)]
pub struct Heartbeats {
    /// When each sensor's last full check-in was evaluated.
    evaluated: Mutex<HashMap<Key, Timestamp>>,
    /// Heard-from times not yet written.
    pending: Mutex<HashMap<Key, Timestamp>>,
}

impl Heartbeats {
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
}

/// The answer to a check-in that changes nothing but `last_seen`, from a read; `None` when
/// anything differs or could change, and for refusals (the full path answers those).
pub fn quiet_answer(
    c: &Connection,
    tenant: &TenantId,
    sensor: &SensorId,
    credential_hash: &str,
    report: &CheckInReport,
    policy: &FleetPolicy,
) -> Result<Option<CheckInAnswer>, StoreError> {
    type Row = (
        String,
        Option<String>,
        i64,
        i64,
        Option<String>,
        String,
        String,
    );
    let row: Option<Row> = c
        .prepare_cached(
            "SELECT credential_hash, deleted_at, desired_settings_version, applied_settings_version, \
             reported_service, update_state, reported_issues FROM sensor_agents \
             WHERE tenant_id = ?1 AND sensor_id = ?2",
        )?
        .query_row(params![tenant.as_str(), sensor.as_str()], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .optional()?;
    let Some((hash, deleted_at, desired, applied, service, update_state, issues)) = row else {
        return Ok(None);
    };
    let repeated = constant_time_eq(&hash, credential_hash)
        && deleted_at.is_none()
        && desired == applied
        && i64::try_from(report.applied_settings_version) == Ok(applied)
        && matches!(report.update, UpdateReport::Idle)
        && update_state == "idle"
        && service.as_deref() == Some(report.service_status.as_str())
        && issues == host_issues_json(&report.host_issues);
    if !repeated {
        return Ok(None);
    }
    let Some(stored) = sensors::find(c, tenant, sensor.as_str())? else {
        return Ok(None);
    };
    let rollout_due = policy.releases.latest().is_some_and(|latest| {
        stored.major_version() < 3 && compare_versions(latest, &stored.version).is_gt()
    });
    if stored.version != report.version
        || stored.deployment_status != DeploymentStatus::UpToDate
        || stored.service_status != report.service_status
        || rollout_due
    {
        return Ok(None);
    }
    Ok(Some(CheckInAnswer {
        sensor: Some(stored),
        desired_settings_version: u64::try_from(desired).unwrap_or(0),
        command: AgentCommand::None,
    }))
}

/// Writes heard-from times (never moving one backwards: a full check-in may have written a
/// later one meanwhile).
pub fn write_seen(
    tx: &Transaction<'_>,
    items: &[(TenantId, SensorId, Timestamp)],
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "UPDATE sensor_agents SET last_seen = ?3, last_config_pull = ?3 \
         WHERE tenant_id = ?1 AND sensor_id = ?2 AND deleted_at IS NULL \
         AND (last_seen IS NULL OR last_seen < ?3)",
    )?;
    for (tenant, sensor, at) in items {
        stmt.execute(params![tenant.as_str(), sensor.as_str(), ts(at)])?;
    }
    Ok(())
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
        assert!(hb.recently_evaluated(&t, &s, at(29)));
        assert!(!hb.recently_evaluated(&t, &s, at(30)), "due again");
        assert!(
            !hb.recently_evaluated(&t, &s, at(-1)),
            "the clock went back"
        );

        hb.seen(&t, &s, at(5));
        hb.seen(&t, &s, at(3));
        assert_eq!(hb.take_pending(), vec![(t.clone(), s.clone(), at(5))]);
        assert!(hb.take_pending().is_empty());
    }
}
