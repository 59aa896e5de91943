//! A tenant's settings beyond the activation mode and the access key (automatic auditing
//! configuration, …) and the directory facts derived from its fleet (its domains): written
//! once over both engines, as shared statements run by [`PortableStore::read_texts`] and
//! [`PortableStore::write_statements`].

use crate::portable::{Cell, PortableStore};
use crate::StoreError;
use picket_domain::TenantId;

/// The statements, the same on both engines (`?` placeholders).
mod sql {
    pub const GET: &str = "SELECT value FROM tenant_settings WHERE tenant_id = ? AND name = ?";
    pub const PUT: &str = "INSERT INTO tenant_settings (tenant_id, name, value) VALUES (?, ?, ?) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value";
    pub const SENSOR_DOMAINS: &str =
        "SELECT DISTINCT lower(domain_name) FROM sensors WHERE tenant_id = ? ORDER BY 1";
}

/// The setting behind `settings/autoAuditingConfiguration` (spec §7.3).
pub const AUTO_AUDITING: &str = "autoAuditing";

/// Whether the tenant has Defender for Identity (spec §7.5): absent means onboarded (every
/// tenant made before this setting existed is); `false` until its first sensor enrols or an
/// operator onboards it.
pub const ONBOARDED: &str = "onboarded";

async fn get<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    name: &'static str,
) -> Result<Option<String>, StoreError> {
    let params = vec![Cell::Text(tenant.to_string()), Cell::Text(name.into())];
    Ok(store.read_texts(sql::GET, params).await?.into_iter().next())
}

async fn put<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    name: &'static str,
    value: &str,
) -> Result<(), StoreError> {
    let params = vec![
        Cell::Text(tenant.to_string()),
        Cell::Text(name.into()),
        Cell::Text(value.into()),
    ];
    store
        .write_statements(tenant, vec![(sql::PUT, params)])
        .await?;
    Ok(())
}

/// Whether sensors configure their hosts' auditing themselves (off until turned on).
pub async fn auto_auditing<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<bool, StoreError> {
    Ok(get(store, tenant, AUTO_AUDITING).await?.as_deref() == Some("true"))
}

pub async fn set_auto_auditing<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    on: bool,
) -> Result<(), StoreError> {
    put(
        store,
        tenant,
        AUTO_AUDITING,
        if on { "true" } else { "false" },
    )
    .await
}

/// The AD domains the tenant's sensors are in, lower case, sorted.
pub async fn sensor_domains<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<Vec<String>, StoreError> {
    store
        .read_texts(sql::SENSOR_DOMAINS, vec![Cell::Text(tenant.to_string())])
        .await
}

/// Whether the tenant is onboarded (see [`ONBOARDED`]).
pub async fn onboarded<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<bool, StoreError> {
    Ok(get(store, tenant, ONBOARDED).await?.as_deref() != Some("false"))
}

pub async fn set_onboarded<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    on: bool,
) -> Result<(), StoreError> {
    put(store, tenant, ONBOARDED, if on { "true" } else { "false" }).await
}
