//! Heartbeats on PostgreSQL (see [`crate::heartbeats`]): the quiet answers of check-ins that
//! arrive together read in one statement, and the heard-from times of every sensor this
//! replica heard since the last flush written in one `UPDATE`.
//! Each replica keeps its own pending times, so what one replica's crash can lose is bounded by
//! its own flush interval.

use super::batched::{tenant_of, Batched};
use super::rows::{sensor_from_row, ts, SENSOR_SELECT};
use super::{execute, Tx};
use crate::fleet::{CheckInAnswer, CheckInReport, FleetPolicy};
use crate::heartbeats::{self, StoredAgent};
use crate::StoreError;
use deadpool_postgres::Pool;
use picket_domain::time::Timestamp;
use picket_domain::{Sensor, SensorId, TenantId};

/// Heartbeat lookups, batched (see `batched`): the agents and their sensors by key.
pub type QuietReads = Batched<(StoredAgent, Sensor)>;

pub fn quiet_reads(pool: Pool) -> QuietReads {
    // The sensor's select list first, where `sensor_from_row` reads it by position; the
    // agent's columns after it under names of their own.
    let sql = format!(
        "SELECT {SENSOR_SELECT}, a.a_tenant, a.a_hash, a.a_deleted, a.a_desired, a.a_applied, \
         a.a_service, a.a_update, a.a_issues FROM sensors JOIN \
         (SELECT tenant_id AS a_tenant, sensor_id AS a_sensor, credential_hash AS a_hash, \
          deleted_at IS NOT NULL AS a_deleted, desired_settings_version AS a_desired, \
          applied_settings_version AS a_applied, reported_service AS a_service, \
          update_state AS a_update, reported_issues AS a_issues FROM sensor_agents \
          WHERE (tenant_id, sensor_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))) AS a \
         ON sensors.tenant_id = a.a_tenant AND sensors.id = a.a_sensor"
    );
    Batched::spawn(pool, sql, |row| {
        let agent = StoredAgent {
            credential_hash: row.try_get("a_hash")?,
            deleted: row.try_get("a_deleted")?,
            desired_settings_version: row.try_get("a_desired")?,
            applied_settings_version: row.try_get("a_applied")?,
            reported_service: row.try_get("a_service")?,
            update_state: row.try_get("a_update")?,
            reported_issues: row.try_get("a_issues")?,
        };
        let sensor = sensor_from_row(row)?;
        Ok((
            (tenant_of(row, "a_tenant")?, sensor.id.clone()),
            (agent, sensor),
        ))
    })
}

/// The answer to a check-in that changes nothing but `last_seen` (see
/// [`heartbeats::quiet_answer`]), from a batched read.
pub async fn quiet_answer(
    reads: &QuietReads,
    tenant: &TenantId,
    sensor: &SensorId,
    credential_hash: &str,
    report: &CheckInReport,
    policy: &FleetPolicy,
) -> Result<Option<CheckInAnswer>, StoreError> {
    let Some((agent, stored)) = reads.get(tenant, sensor).await? else {
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

/// Writes heard-from times in one statement, in key order (so two flushes, or a flush and a
/// sweep, lock rows in one order), never moving one backwards: a full check-in on any replica
/// may have written a later one meanwhile.
pub async fn write_seen(
    tx: &Tx<'_>,
    items: &mut [(TenantId, SensorId, Timestamp)],
) -> Result<u64, StoreError> {
    items.sort_by(|a, b| (a.0.as_str(), a.1.as_str()).cmp(&(b.0.as_str(), b.1.as_str())));
    let tenants: Vec<&str> = items.iter().map(|(t, _, _)| t.as_str()).collect();
    let sensors: Vec<&str> = items.iter().map(|(_, s, _)| s.as_str()).collect();
    let times: Vec<String> = items.iter().map(|(_, _, at)| ts(at)).collect();
    execute(
        tx,
        "UPDATE sensor_agents AS a SET last_seen = v.at, last_config_pull = v.at \
         FROM unnest($1::text[], $2::text[], $3::text[]) AS v(tenant_id, sensor_id, at) \
         WHERE a.tenant_id = v.tenant_id AND a.sensor_id = v.sensor_id AND a.deleted_at IS NULL \
         AND (a.last_seen IS NULL OR a.last_seen < v.at)",
        &[&tenants, &sensors, &times],
    )
    .await
}
