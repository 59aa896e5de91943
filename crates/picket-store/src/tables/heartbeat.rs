//! Heartbeats' rows (see [`crate::heartbeats`]): what a quiet answer reads of an agent, and the
//! heard-from times written for many sensors at once.

use super::rows::ts;
use super::sensors;
use crate::heartbeats::StoredAgent;
use crate::sql::{Db, Engine, RowRef};
use crate::{args, sql, StoreError};
use picket_domain::time::Timestamp;
use picket_domain::{Sensor, SensorId, TenantId};

/// The agent's columns a quiet answer compares, in [`agent_from_row`]'s order.
pub const AGENT_SELECT: &str = "credential_hash, deleted_at IS NOT NULL, \
    desired_settings_version, applied_settings_version, reported_service, update_state, \
    reported_issues";

/// An agent's stored state from [`AGENT_SELECT`]'s columns, the first at `first`.
pub fn agent_from_row(row: &dyn RowRef, first: usize) -> Result<StoredAgent, StoreError> {
    Ok(StoredAgent {
        credential_hash: row.get(first)?,
        deleted: row.get(first + 1)?,
        desired_settings_version: row.get(first + 2)?,
        applied_settings_version: row.get(first + 3)?,
        reported_service: row.get(first + 4)?,
        update_state: row.get(first + 5)?,
        reported_issues: row.get(first + 6)?,
    })
}

/// What a check-in that changes nothing but `last_seen` is answered from (see
/// [`heartbeats::quiet_answer`]): the sensor's agent and its row, read by key. (PostgreSQL
/// reads these in batches instead: `postgres/batched.rs`.)
pub async fn quiet_read(
    db: &impl Db,
    tenant: &TenantId,
    sensor: &SensorId,
) -> Result<Option<(StoredAgent, Sensor)>, StoreError> {
    let agent = db
        .query_opt(
            sql!(
                "SELECT {AGENT_SELECT} FROM sensor_agents WHERE tenant_id = $1 AND sensor_id = $2"
            ),
            args![tenant.as_str(), sensor.as_str()],
            |r| agent_from_row(r, 0),
        )
        .await?;
    let Some(agent) = agent else {
        return Ok(None);
    };
    Ok(sensors::find(db, tenant, sensor.as_str())
        .await?
        .map(|stored| (agent, stored)))
}

/// Writes heard-from times, never moving one backwards: a full check-in (on any replica) may
/// have written a later one meanwhile. PostgreSQL writes them in one statement, in key order
/// (so two flushes, or a flush and a sweep, lock rows in one order); SQLite, in-process, runs
/// one prepared `UPDATE` per sensor.
pub async fn write_seen<D: Db>(
    db: &D,
    items: &mut [(TenantId, SensorId, Timestamp)],
) -> Result<(), StoreError> {
    match D::ENGINE {
        Engine::Postgres => {
            items.sort_by(|a, b| (a.0.as_str(), a.1.as_str()).cmp(&(b.0.as_str(), b.1.as_str())));
            let tenants: Vec<&str> = items.iter().map(|(t, _, _)| t.as_str()).collect();
            let sensors: Vec<&str> = items.iter().map(|(_, s, _)| s.as_str()).collect();
            let times: Vec<String> = items.iter().map(|(_, _, at)| ts(at)).collect();
            let times: Vec<&str> = times.iter().map(String::as_str).collect();
            db.execute(
                sql!(
                    "UPDATE sensor_agents AS a SET last_seen = v.at, last_config_pull = v.at \
                     FROM unnest($1::text[], $2::text[], $3::text[]) AS v(tenant_id, sensor_id, at) \
                     WHERE a.tenant_id = v.tenant_id AND a.sensor_id = v.sensor_id \
                     AND a.deleted_at IS NULL AND (a.last_seen IS NULL OR a.last_seen < v.at)"
                ),
                args![&tenants, &sensors, &times],
            )
            .await?;
        }
        Engine::Sqlite => {
            for (tenant, sensor, at) in items.iter() {
                db.execute(
                    sql!(
                        "UPDATE sensor_agents SET last_seen = $3, last_config_pull = $3 \
                         WHERE tenant_id = $1 AND sensor_id = $2 AND deleted_at IS NULL \
                         AND (last_seen IS NULL OR last_seen < $3)"
                    ),
                    args![tenant.as_str(), sensor.as_str(), &ts(at)],
                )
                .await?;
            }
        }
    }
    Ok(())
}
