//! Tenant rows: created on first use, holding the deployment access key and activation mode,
//! and named when an operator creates them.

use super::rows::get_ts;
use crate::sql::{Db, RowRef};
use crate::{args, sql, StoreError};
use base64::Engine;
use picket_domain::identity::TenantInfo;
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

/// The tenant id in a row's cell `idx`.
pub fn get_id(row: &dyn RowRef, idx: usize) -> Result<TenantId, StoreError> {
    let text: String = row.get(idx)?;
    TenantId::parse(&text)
        .ok_or_else(|| StoreError::Internal(format!("stored value {idx} is not a valid tenant id")))
}

const INFO_SELECT: &str = "SELECT tenant_id, display_name, created_at FROM tenants";

fn info_from_row(row: &dyn RowRef) -> Result<TenantInfo, StoreError> {
    Ok(TenantInfo {
        id: get_id(row, 0)?,
        display_name: row.get(1)?,
        created_at: get_ts(row, 2)?,
    })
}

/// Creates a tenant, or names one that was created on first use; a tenant already named
/// otherwise is a conflict.
pub async fn create(
    db: &impl Db,
    id: &TenantId,
    display_name: &str,
) -> Result<TenantInfo, StoreError> {
    ensure(db, id).await?;
    let current = db
        .value::<String>(
            sql!("SELECT display_name FROM tenants WHERE tenant_id = $1"),
            args![id.as_str()],
        )
        .await?
        .ok_or_else(|| StoreError::Internal("the tenant row is missing".into()))?;
    if !current.is_empty() && current != display_name && !display_name.is_empty() {
        return Err(StoreError::Conflict(format!(
            "tenant {id} exists already, named '{current}'"
        )));
    }
    if current.is_empty() {
        db.execute(
            sql!("UPDATE tenants SET display_name = $2 WHERE tenant_id = $1"),
            args![id.as_str(), display_name],
        )
        .await?;
    }
    find(db, id)
        .await?
        .ok_or_else(|| StoreError::Internal("tenant row vanished".into()))
}

pub async fn list(db: &impl Db) -> Result<Vec<TenantInfo>, StoreError> {
    db.query(
        sql!("{INFO_SELECT} ORDER BY created_at, tenant_id"),
        &[],
        info_from_row,
    )
    .await
}

pub async fn find(db: &impl Db, id: &TenantId) -> Result<Option<TenantInfo>, StoreError> {
    db.query_opt(
        sql!("{INFO_SELECT} WHERE tenant_id = $1"),
        args![id.as_str()],
        info_from_row,
    )
    .await
}
