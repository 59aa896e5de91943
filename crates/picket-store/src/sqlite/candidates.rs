//! Sensor candidates and their activation into unified sensors (spec §2.9, §4.5).

use super::health::refresh_health;
use super::sensors;
use crate::sql::sqlite::{run, Lite};
use crate::{Activation, StoreError};
use deadpool_sqlite::rusqlite::{params, Connection, Transaction};
use picket_domain::rules::sensor_from_candidate;
use picket_domain::time::Timestamp;
use picket_domain::*;

/// Temporary: the SQLite call of `tables::candidates::find` for `activate`, not yet moved.
fn find(
    conn: &Connection,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<SensorCandidate>, StoreError> {
    run(crate::tables::candidates::find(&Lite(conn), tenant, id))
}

/// Temporary, as `find` (for the fleet).
pub fn insert(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    c: &SensorCandidate,
) -> Result<(), StoreError> {
    run(crate::tables::candidates::insert(&Lite(tx), tenant, c))
}

/// Validates every id, then activates. An id that is already a unified sensor is a no-op.
pub fn activate(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    ids: &[CandidateId],
    unified_version: &str,
    now: Timestamp,
) -> Result<Activation, StoreError> {
    let mut to_activate = Vec::new();
    let mut outcome = Activation::default();
    let mut unknown = Vec::new();
    for id in ids {
        if to_activate.iter().any(|c: &SensorCandidate| c.id == *id) {
            continue;
        }
        if let Some(candidate) = find(tx, tenant, id.as_str())? {
            to_activate.push(candidate);
        } else if sensors::find(tx, tenant, id.as_str())?.is_some_and(|s| s.major_version() >= 3) {
            let sid = SensorId::new(id.as_str());
            if !outcome.already_active.contains(&sid) {
                outcome.already_active.push(sid);
            }
        } else {
            unknown.push(id.to_string());
        }
    }
    if !unknown.is_empty() {
        return Err(StoreError::UnknownCandidates(unknown));
    }
    for candidate in &to_activate {
        tx.prepare_cached("DELETE FROM sensor_candidates WHERE tenant_id = ?1 AND id = ?2")?
            .execute(params![tenant.as_str(), candidate.id.as_str()])?;
        let sensor = sensor_from_candidate(candidate, unified_version, now);
        sensors::insert(tx, tenant, &sensor)?;
        // Issues may already name the machine (e.g. domain auditing): the new sensor counts them.
        refresh_health(tx, tenant, Some(&[sensor.fqdn()]))?;
        outcome.activated.push(sensor.id);
    }
    Ok(outcome)
}
