//! Tenant rows: created on first use, holding the deployment access key and activation mode.

use crate::sql::Db;
use crate::{args, sql, StoreError};
use base64::Engine;
use picket_domain::*;
use rand::RngCore;

/// A fresh key: 64 random bytes in base64, the shape of Defender for Identity's keys.
fn new_access_key() -> String {
    let mut bytes = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub async fn ensure(db: &impl Db, tenant: &TenantId) -> Result<(), StoreError> {
    let created = picket_domain::time::format_timestamp(&chrono::Utc::now());
    db.execute(
        sql!(
            "INSERT INTO tenants (tenant_id, activation_mode, access_key, created_at) \
             VALUES ($1, 'manual', $2, $3) ON CONFLICT (tenant_id) DO NOTHING"
        ),
        args![tenant.as_str(), &new_access_key(), &created],
    )
    .await?;
    Ok(())
}

pub async fn access_key(
    db: &impl Db,
    tenant: &TenantId,
) -> Result<DeploymentAccessKey, StoreError> {
    ensure(db, tenant).await?;
    let key = db
        .value::<String>(
            sql!("SELECT access_key FROM tenants WHERE tenant_id = $1"),
            args![tenant.as_str()],
        )
        .await?
        .ok_or_else(|| StoreError::Internal("the tenant row is missing".into()))?;
    Ok(DeploymentAccessKey::new(key))
}

pub async fn regenerate_access_key(
    db: &impl Db,
    tenant: &TenantId,
) -> Result<DeploymentAccessKey, StoreError> {
    ensure(db, tenant).await?;
    let key = new_access_key();
    db.execute(
        sql!("UPDATE tenants SET access_key = $2 WHERE tenant_id = $1"),
        args![tenant.as_str(), &key],
    )
    .await?;
    Ok(DeploymentAccessKey::new(key))
}

/// `manual` for a tenant never configured (spec §1.8).
pub async fn activation_mode(
    db: &impl Db,
    tenant: &TenantId,
) -> Result<ActivationMode, StoreError> {
    let mode = db
        .value::<String>(
            sql!("SELECT activation_mode FROM tenants WHERE tenant_id = $1"),
            args![tenant.as_str()],
        )
        .await?;
    Ok(mode
        .as_deref()
        .and_then(ActivationMode::parse)
        .unwrap_or(ActivationMode::Manual))
}

pub async fn save_activation_mode(
    db: &impl Db,
    tenant: &TenantId,
    mode: ActivationMode,
) -> Result<(), StoreError> {
    ensure(db, tenant).await?;
    db.execute(
        sql!("UPDATE tenants SET activation_mode = $2 WHERE tenant_id = $1"),
        args![tenant.as_str(), mode.as_str()],
    )
    .await?;
    Ok(())
}

/// Whether a tenant holds any sensor, candidate or issue.
pub async fn has_data(db: &impl Db, tenant: &TenantId) -> Result<bool, StoreError> {
    Ok(db
        .value::<bool>(
            sql!(
                "SELECT (EXISTS (SELECT 1 FROM sensors WHERE tenant_id = $1) \
                 OR EXISTS (SELECT 1 FROM health_issues WHERE tenant_id = $1) \
                 OR EXISTS (SELECT 1 FROM sensor_candidates WHERE tenant_id = $1))"
            ),
            args![tenant.as_str()],
        )
        .await?
        .unwrap_or(false))
}
