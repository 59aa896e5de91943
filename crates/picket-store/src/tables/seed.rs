//! Loading a fixture: everything in one transaction, so a conflict leaves the tenant untouched.

use super::{candidates, health::refresh_health, health_issues, sensors, tenants};
use crate::sql;
use crate::sql::{Db, Engine};
use crate::{Fixture, SeedSummary, StoreError};
use picket_domain::TenantId;

pub async fn seed<D: Db>(
    db: &D,
    tenant: &TenantId,
    fixture: &Fixture,
) -> Result<SeedSummary, StoreError> {
    tenants::ensure(db, tenant).await?;
    if let Some(mode) = fixture.activation_mode {
        tenants::save_activation_mode(db, tenant, mode).await?;
    }
    for s in &fixture.sensors {
        sensors::insert(db, tenant, s).await?;
    }
    for c in &fixture.candidates {
        candidates::insert(db, tenant, c).await?;
    }
    for h in &fixture.health_issues {
        health_issues::insert(db, tenant, h).await?;
    }
    // Derived health is recomputed from the issues, whatever the fixture claimed.
    refresh_health(db, tenant, None).await?;
    if D::ENGINE == Engine::Postgres {
        // Fresh statistics after a bulk load: without them the planner guesses, and a filtered
        // list may scan the whole tenant instead of using its index.
        db.execute(
            sql!("ANALYZE sensors, health_issues, health_issue_sensors, sensor_candidates"),
            &[],
        )
        .await?;
    }
    Ok(SeedSummary {
        sensors: fixture.sensors.len(),
        candidates: fixture.candidates.len(),
        health_issues: fixture.health_issues.len(),
        identity_accounts: 0,
    })
}
