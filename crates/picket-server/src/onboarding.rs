//! Per-tenant flags the request and check-in paths read on every call, cached in this process
//! for [`FRESH_FOR`] so the check costs a map lookup; another replica's change shows within
//! that time, this process's own changes at once.
//! - onboarding (spec §7.5): a tenant without Defender for Identity is refused every call under
//!   `/security/identities` until its first sensor enrols (or an operator onboards it);
//! - automatic auditing (spec §7.3), which check-ins carry;
//! - whether any sensor of the tenant was asked to migrate (spec §7.2), so sensor reads look
//!   up migration states only where there are some;
//! - whether any account action of the tenant waits for a sensor (spec §7.4), so check-ins
//!   look them up only where there are some.

use picket_domain::TenantId;
use picket_store::{sensor_migrations, tenant_settings, Store, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a read flag is trusted.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// The real service's words (Maester and Zero Trust Assessment branch on them).
pub const NOT_ONBOARDED: &str = "Tenant is not onboarded to Microsoft Defender for Identity. After license is purchased, first login to portal and sensor are required.";

/// One flag per tenant, read through and kept for [`FRESH_FOR`].
#[derive(Default)]
pub struct TenantFlag {
    known: Mutex<HashMap<TenantId, (bool, Instant)>>,
}

impl TenantFlag {
    fn cached(&self, tenant: &TenantId) -> Option<bool> {
        let known = self.known.lock().ok()?;
        known
            .get(tenant)
            .filter(|(_, at)| at.elapsed() < FRESH_FOR)
            .map(|(on, _)| *on)
    }

    pub fn remember(&self, tenant: &TenantId, on: bool) {
        if let Ok(mut known) = self.known.lock() {
            known.insert(tenant.clone(), (on, Instant::now()));
        }
    }
}

#[derive(Default)]
pub struct Onboarding(TenantFlag);

impl Onboarding {
    pub async fn is_onboarded(
        &self,
        store: &dyn Store,
        tenant: &TenantId,
    ) -> Result<bool, StoreError> {
        if let Some(on) = self.0.cached(tenant) {
            return Ok(on);
        }
        let on = tenant_settings::onboarded(store, tenant).await?;
        self.0.remember(tenant, on);
        Ok(on)
    }

    /// Onboards the tenant if it is not yet (its first sensor enrolled).
    pub async fn onboard(&self, store: &dyn Store, tenant: &TenantId) -> Result<(), StoreError> {
        if !self.is_onboarded(store, tenant).await? {
            tenant_settings::set_onboarded(store, tenant, true).await?;
            self.0.remember(tenant, true);
            tracing::info!(tenant = %tenant, "tenant onboarded by its first sensor");
        }
        Ok(())
    }
}

#[derive(Default)]
pub struct AutoAuditing(TenantFlag);

impl AutoAuditing {
    pub async fn is_on(&self, store: &dyn Store, tenant: &TenantId) -> Result<bool, StoreError> {
        if let Some(on) = self.0.cached(tenant) {
            return Ok(on);
        }
        let on = tenant_settings::auto_auditing(store, tenant).await?;
        self.0.remember(tenant, on);
        Ok(on)
    }

    pub fn remember(&self, tenant: &TenantId, on: bool) {
        self.0.remember(tenant, on);
    }
}

#[derive(Default)]
pub struct Migrations(TenantFlag);

impl Migrations {
    /// Whether any sensor of the tenant was asked to migrate.
    pub async fn any(&self, store: &dyn Store, tenant: &TenantId) -> Result<bool, StoreError> {
        if let Some(on) = self.0.cached(tenant) {
            return Ok(on);
        }
        let any = !sensor_migrations::list(store, tenant).await?.is_empty();
        self.0.remember(tenant, any);
        Ok(any)
    }

    pub fn started(&self, tenant: &TenantId) {
        self.0.remember(tenant, true);
    }
}

#[derive(Default)]
pub struct PendingActions(TenantFlag);

impl PendingActions {
    /// Whether any account action of the tenant may be waiting for a sensor.
    pub async fn any(&self, store: &dyn Store, tenant: &TenantId) -> Result<bool, StoreError> {
        if let Some(on) = self.0.cached(tenant) {
            return Ok(on);
        }
        let any = picket_store::identity_accounts::actions(store, tenant)
            .await?
            .iter()
            .any(|a| a.status == picket_store::identity_accounts::ActionStatus::Pending);
        self.0.remember(tenant, any);
        Ok(any)
    }

    pub fn queued(&self, tenant: &TenantId) {
        self.0.remember(tenant, true);
    }
}
