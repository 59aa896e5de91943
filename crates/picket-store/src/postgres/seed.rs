//! Loading a fixture: everything in one transaction, so a conflict leaves the tenant untouched.

use super::{candidates, health::refresh_health, health_issues, sensors, Tx};
use crate::sql::postgres::Pg;
use crate::tables::tenants;
use crate::{Fixture, SeedSummary, StoreError};
use picket_domain::TenantId;

pub async fn seed(
    tx: &Tx<'_>,
    tenant: &TenantId,
    fixture: &Fixture,
) -> Result<SeedSummary, StoreError> {
    tenants::ensure(&Pg(tx), tenant).await?;
    if let Some(mode) = fixture.activation_mode {
        tenants::save_activation_mode(&Pg(tx), tenant, mode).await?;
    }
    for s in &fixture.sensors {
        sensors::insert(tx, tenant, s).await?;
    }
    for c in &fixture.candidates {
        candidates::insert(tx, tenant, c).await?;
    }
    for h in &fixture.health_issues {
        health_issues::insert(tx, tenant, h).await?;
    }
    // Derived health is recomputed from the issues, whatever the fixture claimed.
    refresh_health(tx, tenant, None).await?;
    // Fresh statistics after a bulk load: without them the planner guesses, and a filtered
    // list may scan the whole tenant instead of using its index.
    tx.batch_execute("ANALYZE sensors, health_issues, health_issue_sensors, sensor_candidates")
        .await?;
    Ok(SeedSummary {
        sensors: fixture.sensors.len(),
        candidates: fixture.candidates.len(),
        health_issues: fixture.health_issues.len(),
        identity_accounts: 0,
    })
}
