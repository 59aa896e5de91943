//! Sensor candidates and their activation into unified sensors (spec §2.9, §4.5).

use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{candidate_from_row, inserted, ts, CANDIDATE_COLUMNS, CANDIDATE_SELECT};
use super::sensors;
use crate::sql::{Db, Engine};
use crate::{args, sql, Activation, Page, PageRequest, StoreError};
use picket_domain::rules::sensor_from_candidate;
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;

fn listing<'a>(engine: Engine, tenant: &'a TenantId, query: &'a ValidatedQuery) -> Listing<'a> {
    Listing {
        table: "sensor_candidates",
        select: CANDIDATE_SELECT,
        columns: CANDIDATE_COLUMNS,
        // The column is `COLLATE NOCASE` in SQLite; PostgreSQL sorts on its `lower()` index.
        default_order: match engine {
            Engine::Sqlite => "computer_dns_name ASC, id ASC",
            Engine::Postgres => "lower(computer_dns_name) ASC, id ASC",
        },
        tenant: tenant.as_str(),
        scope: None,
        query,
    }
}

pub async fn list<D: Db>(
    db: &D,
    tenant: &TenantId,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<SensorCandidate>, StoreError> {
    listing(D::ENGINE, tenant, query)
        .page(db, page, candidate_from_row)
        .await
}

pub async fn count<D: Db>(
    db: &D,
    tenant: &TenantId,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(D::ENGINE, tenant, query).count(db).await
}

pub async fn find(
    db: &impl Db,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<SensorCandidate>, StoreError> {
    db.query_opt(
        sql!("SELECT {CANDIDATE_SELECT} FROM sensor_candidates WHERE tenant_id = $1 AND id = $2"),
        args![tenant.as_str(), id],
        candidate_from_row,
    )
    .await
}

pub async fn insert(
    db: &impl Db,
    tenant: &TenantId,
    c: &SensorCandidate,
) -> Result<(), StoreError> {
    let n = db
        .execute(
            sql!(
                "INSERT INTO sensor_candidates (tenant_id, id, computer_dns_name, \
                 last_seen_date_time, sense_client_version) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO NOTHING"
            ),
            args![
                tenant.as_str(),
                c.id.as_str(),
                &c.computer_dns_name,
                &ts(&c.last_seen_date_time),
                &c.sense_client_version,
            ],
        )
        .await?;
    inserted(n, "sensor candidate", c.id.as_str())?;
    Ok(())
}

/// Validates every id, then activates. An id that is already a unified sensor is a no-op.
pub async fn activate(
    db: &impl Db,
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
        if let Some(candidate) = find(db, tenant, id.as_str()).await? {
            to_activate.push(candidate);
        } else if sensors::find(db, tenant, id.as_str())
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
        db.execute(
            sql!("DELETE FROM sensor_candidates WHERE tenant_id = $1 AND id = $2"),
            args![tenant.as_str(), candidate.id.as_str()],
        )
        .await?;
        let sensor = sensor_from_candidate(candidate, unified_version, now);
        sensors::insert(db, tenant, &sensor).await?;
        // Issues may already name the machine (e.g. domain auditing): the new sensor counts them.
        refresh_health(db, tenant, Some(&[sensor.fqdn()])).await?;
        outcome.activated.push(sensor.id);
    }
    Ok(outcome)
}

/// Saves the tenant's activation mode; turning automatic activation on activates every
/// candidate waiting, in the same transaction.
pub async fn save_activation_mode(
    db: &impl Db,
    tenant: &TenantId,
    mode: ActivationMode,
    unified_version: &str,
    now: Timestamp,
) -> Result<Activation, StoreError> {
    super::tenants::save_activation_mode(db, tenant, mode).await?;
    if mode != ActivationMode::Automated {
        return Ok(Activation::default());
    }
    let waiting = all_ids(db, tenant).await?;
    activate(db, tenant, &waiting, unified_version, now).await
}

pub async fn all_ids(db: &impl Db, tenant: &TenantId) -> Result<Vec<CandidateId>, StoreError> {
    db.query(
        sql!("SELECT id FROM sensor_candidates WHERE tenant_id = $1"),
        args![tenant.as_str()],
        |r| Ok(CandidateId::new(r.get::<String>(0)?)),
    )
    .await
}
