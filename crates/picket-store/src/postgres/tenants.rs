//! Tenant rows: created on first use, holding the deployment access key and activation mode.

use super::{execute, query_one, query_opt, Tx};
use crate::StoreError;
use base64::Engine;
use picket_domain::*;
use rand::RngCore;

/// A fresh key: 64 random bytes in base64, the shape of Defender for Identity's keys.
fn new_access_key() -> String {
    let mut bytes = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub async fn ensure(tx: &Tx<'_>, tenant: &TenantId) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO tenants (tenant_id, activation_mode, access_key, created_at) VALUES ($1, 'manual', $2, $3) \
         ON CONFLICT (tenant_id) DO NOTHING",
        &[
            &tenant.as_str(),
            &new_access_key(),
            &picket_domain::time::format_timestamp(&chrono::Utc::now()),
        ],
    )
    .await?;
    Ok(())
}

pub async fn access_key(tx: &Tx<'_>, tenant: &TenantId) -> Result<DeploymentAccessKey, StoreError> {
    ensure(tx, tenant).await?;
    let key: String = query_one(
        tx,
        "SELECT access_key FROM tenants WHERE tenant_id = $1",
        &[&tenant.as_str()],
    )
    .await?
    .try_get(0)?;
    Ok(DeploymentAccessKey::new(key))
}

pub async fn regenerate_access_key(
    tx: &Tx<'_>,
    tenant: &TenantId,
) -> Result<DeploymentAccessKey, StoreError> {
    ensure(tx, tenant).await?;
    let key = new_access_key();
    execute(
        tx,
        "UPDATE tenants SET access_key = $2 WHERE tenant_id = $1",
        &[&tenant.as_str(), &key],
    )
    .await?;
    Ok(DeploymentAccessKey::new(key))
}

/// `manual` for a tenant never configured (spec §1.8).
pub async fn activation_mode(tx: &Tx<'_>, tenant: &TenantId) -> Result<ActivationMode, StoreError> {
    let mode: Option<String> = query_opt(
        tx,
        "SELECT activation_mode FROM tenants WHERE tenant_id = $1",
        &[&tenant.as_str()],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?;
    Ok(mode
        .as_deref()
        .and_then(ActivationMode::parse)
        .unwrap_or(ActivationMode::Manual))
}

pub async fn save_activation_mode(
    tx: &Tx<'_>,
    tenant: &TenantId,
    mode: ActivationMode,
) -> Result<(), StoreError> {
    ensure(tx, tenant).await?;
    execute(
        tx,
        "UPDATE tenants SET activation_mode = $2 WHERE tenant_id = $1",
        &[&tenant.as_str(), &mode.as_str()],
    )
    .await?;
    Ok(())
}

pub async fn has_data(tx: &Tx<'_>, tenant: &TenantId) -> Result<bool, StoreError> {
    Ok(query_one(
        tx,
        "SELECT EXISTS (SELECT 1 FROM sensors WHERE tenant_id = $1) OR EXISTS (SELECT 1 FROM health_issues WHERE tenant_id = $1) \
         OR EXISTS (SELECT 1 FROM sensor_candidates WHERE tenant_id = $1)",
        &[&tenant.as_str()],
    )
    .await?
    .try_get(0)?)
}
