//! Loading a fixture: everything in one transaction, so a conflict leaves the tenant untouched.

use super::{candidates, health::refresh_health, health_issues, sensors};
use crate::sql::sqlite::{run, Lite};
use crate::tables::tenants;
use crate::{Fixture, SeedSummary, StoreError};
use deadpool_sqlite::rusqlite::Transaction;
use picket_domain::TenantId;

pub fn seed(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    fixture: &Fixture,
) -> Result<SeedSummary, StoreError> {
    run(tenants::ensure(&Lite(tx), tenant))?;
    if let Some(mode) = fixture.activation_mode {
        run(tenants::save_activation_mode(&Lite(tx), tenant, mode))?;
    }
    for s in &fixture.sensors {
        sensors::insert(tx, tenant, s)?;
    }
    for c in &fixture.candidates {
        candidates::insert(tx, tenant, c)?;
    }
    for h in &fixture.health_issues {
        health_issues::insert(tx, tenant, h)?;
    }
    // Derived health is recomputed from the issues, whatever the fixture claimed.
    refresh_health(tx, tenant, None)?;
    Ok(SeedSummary {
        sensors: fixture.sensors.len(),
        candidates: fixture.candidates.len(),
        health_issues: fixture.health_issues.len(),
        identity_accounts: 0,
    })
}
