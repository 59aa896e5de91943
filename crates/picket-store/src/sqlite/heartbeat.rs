//! Heartbeats on SQLite (see [`crate::heartbeats`]): the quiet answer, read on the read pool
//! beside the writer, and the batched write of heard-from times.

use super::rows::ts;
use super::sensors;
use crate::fleet::{CheckInAnswer, CheckInReport, FleetPolicy};
use crate::heartbeats::{self, StoredAgent};
use crate::StoreError;
use deadpool_sqlite::rusqlite::{params, Connection, OptionalExtension, Transaction};
use picket_domain::time::Timestamp;
use picket_domain::{SensorId, TenantId};

/// The answer to a check-in that changes nothing but `last_seen`, from a read (see
/// [`heartbeats::quiet_answer`]).
pub fn quiet_answer(
    c: &Connection,
    tenant: &TenantId,
    sensor: &SensorId,
    credential_hash: &str,
    report: &CheckInReport,
    policy: &FleetPolicy,
) -> Result<Option<CheckInAnswer>, StoreError> {
    let agent = c
        .prepare_cached(
            "SELECT credential_hash, deleted_at, desired_settings_version, applied_settings_version, \
             reported_service, update_state, reported_issues FROM sensor_agents \
             WHERE tenant_id = ?1 AND sensor_id = ?2",
        )?
        .query_row(params![tenant.as_str(), sensor.as_str()], |r| {
            Ok(StoredAgent {
                credential_hash: r.get(0)?,
                deleted: r.get::<_, Option<String>>(1)?.is_some(),
                desired_settings_version: r.get(2)?,
                applied_settings_version: r.get(3)?,
                reported_service: r.get(4)?,
                update_state: r.get(5)?,
                reported_issues: r.get(6)?,
            })
        })
        .optional()?;
    let Some(agent) = agent else {
        return Ok(None);
    };
    let Some(stored) = sensors::find(c, tenant, sensor.as_str())? else {
        return Ok(None);
    };
    Ok(heartbeats::quiet_answer(
        &agent,
        stored,
        credential_hash,
        report,
        policy,
    ))
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
