//! Sensor candidates and their activation into unified sensors (spec §2.9, §4.5).

use super::health::refresh_health;
use super::{execute, sensors, Tx};
use crate::sql::postgres::Pg;
use crate::{Activation, StoreError};
use picket_domain::rules::sensor_from_candidate;
use picket_domain::time::Timestamp;
use picket_domain::*;

/// Temporary: the PostgreSQL call of `tables::candidates::find` for `activate`, not yet moved.
async fn find(
    tx: &Tx<'_>,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<SensorCandidate>, StoreError> {
    crate::tables::candidates::find(&Pg(tx), tenant, id).await
}

/// Temporary, as `find` (for the fleet).
pub async fn insert(tx: &Tx<'_>, tenant: &TenantId, c: &SensorCandidate) -> Result<(), StoreError> {
    crate::tables::candidates::insert(&Pg(tx), tenant, c).await
}

/// Validates every id, then activates. An id that is already a unified sensor is a no-op.
pub async fn activate(
    tx: &Tx<'_>,
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
        if let Some(candidate) = find(tx, tenant, id.as_str()).await? {
            to_activate.push(candidate);
        } else if sensors::find(tx, tenant, id.as_str())
            .await?
            .is_some_and(|s| s.major_version() >= 3)
        {
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
        execute(
            tx,
            "DELETE FROM sensor_candidates WHERE tenant_id = $1 AND id = $2",
            &[&tenant.as_str(), &candidate.id.as_str()],
        )
        .await?;
        let sensor = sensor_from_candidate(candidate, unified_version, now);
        sensors::insert(tx, tenant, &sensor).await?;
        // Issues may already name the machine (e.g. domain auditing): the new sensor counts them.
        refresh_health(tx, tenant, Some(&[sensor.fqdn()])).await?;
        outcome.activated.push(sensor.id);
    }
    Ok(outcome)
}
