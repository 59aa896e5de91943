//! Tenants without Defender for Identity (spec §7.5): every call under `/security/identities`
//! answers the real service's 403 until the tenant's first sensor enrols (or an operator
//! onboards it). The flag is a tenant setting; this process keeps what it read for
//! [`FRESH_FOR`], so the check costs a map lookup, and another replica's change shows within
//! that time (this process's own changes at once).

use picket_domain::TenantId;
use picket_store::{tenant_settings, Store, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a read flag is trusted.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// The real service's words (Maester and Zero Trust Assessment branch on them).
pub const NOT_ONBOARDED: &str = "Tenant is not onboarded to Microsoft Defender for Identity. After license is purchased, first login to portal and sensor are required.";

#[derive(Default)]
pub struct Onboarding {
    known: Mutex<HashMap<TenantId, (bool, Instant)>>,
}

impl Onboarding {
    pub async fn is_onboarded(
        &self,
        store: &dyn Store,
        tenant: &TenantId,
    ) -> Result<bool, StoreError> {
        if let Ok(known) = self.known.lock() {
            if let Some((on, at)) = known.get(tenant) {
                if at.elapsed() < FRESH_FOR {
                    return Ok(*on);
                }
            }
        }
        let on = tenant_settings::onboarded(store, tenant).await?;
        self.remember(tenant, on);
        Ok(on)
    }

    /// Onboards the tenant if it is not yet (its first sensor enrolled).
    pub async fn onboard(&self, store: &dyn Store, tenant: &TenantId) -> Result<(), StoreError> {
        if !self.is_onboarded(store, tenant).await? {
            tenant_settings::set_onboarded(store, tenant, true).await?;
            self.remember(tenant, true);
            tracing::info!(tenant = %tenant, "tenant onboarded by its first sensor");
        }
        Ok(())
    }

    fn remember(&self, tenant: &TenantId, on: bool) {
        if let Ok(mut known) = self.known.lock() {
            known.insert(tenant.clone(), (on, Instant::now()));
        }
    }
}

/// Whether the tenant's sensors configure their hosts' auditing themselves (spec §7.3), as
/// check-ins need it: cached like the onboarding flag, updated at once by this process's
/// own PATCH.
#[derive(Default)]
pub struct AutoAuditing {
    known: Mutex<HashMap<TenantId, (bool, Instant)>>,
}

impl AutoAuditing {
    pub async fn is_on(&self, store: &dyn Store, tenant: &TenantId) -> Result<bool, StoreError> {
        if let Ok(known) = self.known.lock() {
            if let Some((on, at)) = known.get(tenant) {
                if at.elapsed() < FRESH_FOR {
                    return Ok(*on);
                }
            }
        }
        let on = tenant_settings::auto_auditing(store, tenant).await?;
        self.remember(tenant, on);
        Ok(on)
    }

    pub fn remember(&self, tenant: &TenantId, on: bool) {
        if let Ok(mut known) = self.known.lock() {
            known.insert(tenant.clone(), (on, Instant::now()));
        }
    }
}
