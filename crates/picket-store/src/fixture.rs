//! A set of entities to load into a tenant: the demo tenant, `picket seed`, and benchmarks.

use picket_domain::*;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fixture {
    pub activation_mode: Option<ActivationMode>,
    pub sensors: Vec<Sensor>,
    pub candidates: Vec<SensorCandidate>,
    pub health_issues: Vec<HealthIssue>,
    /// Identity accounts (spec §7.4); loaded by [`seed_all`] after the rest.
    pub identity_accounts: Vec<picket_domain::identity_accounts::IdentityAccount>,
    /// `settings/autoAuditingConfiguration/isAutomatic`, when the fixture sets it.
    pub auto_auditing: Option<bool>,
    /// `false` for a tenant without Defender for Identity (spec §7.5).
    pub onboarded: Option<bool>,
    /// Each sensor's network adapters (sensor id, adapters).
    pub network_adapters: Vec<(String, Vec<crate::network_adapters::NetworkAdapter>)>,
}

/// Loads a whole fixture: the engine's one-transaction seed of sensors, candidates and issues,
/// then the identity accounts and settings (written once over both engines). A fixture is
/// checked whole before either step, so only a store failure between the two can leave it
/// half loaded.
pub async fn seed_all(
    store: &dyn crate::Store,
    tenant: &TenantId,
    fixture: &Fixture,
) -> Result<SeedSummary, crate::StoreError> {
    let summary = store.seed(tenant, fixture).await?;
    if !fixture.identity_accounts.is_empty() {
        crate::identity_accounts::put_all(store, tenant, &fixture.identity_accounts).await?;
    }
    if let Some(on) = fixture.auto_auditing {
        crate::tenant_settings::set_auto_auditing(store, tenant, on).await?;
    }
    if !fixture.network_adapters.is_empty() {
        crate::network_adapters::put(store, tenant, &fixture.network_adapters).await?;
    }
    if let Some(on) = fixture.onboarded {
        crate::tenant_settings::set_onboarded(store, tenant, on).await?;
    }
    Ok(SeedSummary {
        identity_accounts: fixture.identity_accounts.len(),
        ..summary
    })
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub sensors: usize,
    pub candidates: usize,
    pub health_issues: usize,
    pub identity_accounts: usize,
}
