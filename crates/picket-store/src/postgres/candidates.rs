//! Sensor candidates and their activation into unified sensors (spec §2.9, §4.5).

use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{candidate_from_row, ts, CANDIDATE_COLUMNS, CANDIDATE_SELECT};
use super::{execute, query, query_opt, sensors, Tx};
use crate::{Activation, Page, PageRequest, StoreError};
use deadpool_postgres::GenericClient;
use picket_domain::rules::sensor_from_candidate;
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;

fn listing<'a>(tenant: &'a TenantId, query: &'a ValidatedQuery) -> Listing<'a> {
    Listing {
        table: "sensor_candidates",
        select: CANDIDATE_SELECT,
        columns: CANDIDATE_COLUMNS,
        default_order: "lower(computer_dns_name) ASC, id ASC",
        tenant: tenant.as_str(),
        scope: None,
        query,
    }
}

pub async fn list<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<SensorCandidate>, StoreError> {
    listing(tenant, query)
        .page(tx, page, candidate_from_row)
        .await
}

pub async fn count<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(tenant, query).count(tx).await
}

pub async fn find<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<SensorCandidate>, StoreError> {
    let sql = format!(
        "SELECT {CANDIDATE_SELECT} FROM sensor_candidates WHERE tenant_id = $1 AND id = $2"
    );
    query_opt(tx, &sql, &[&tenant.as_str(), &id])
        .await?
        .map(|r| candidate_from_row(&r))
        .transpose()
}

pub async fn insert(tx: &Tx<'_>, tenant: &TenantId, c: &SensorCandidate) -> Result<(), StoreError> {
    let n = execute(
        tx,
        "INSERT INTO sensor_candidates (tenant_id, id, computer_dns_name, last_seen_date_time, sense_client_version) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO NOTHING",
        &[
            &tenant.as_str(),
            &c.id.as_str(),
            &c.computer_dns_name,
            &ts(&c.last_seen_date_time),
            &c.sense_client_version,
        ],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "a sensor candidate with id '{}' already exists",
            c.id
        )));
    }
    Ok(())
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

pub async fn all_ids(tx: &Tx<'_>, tenant: &TenantId) -> Result<Vec<CandidateId>, StoreError> {
    query(
        tx,
        "SELECT id FROM sensor_candidates WHERE tenant_id = $1",
        &[&tenant.as_str()],
    )
    .await?
    .iter()
    .map(|r| Ok(CandidateId::new(r.try_get::<_, String>(0)?)))
    .collect()
}
