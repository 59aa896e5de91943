//! Tenant rows: created on first use, holding the deployment access key and activation mode.

use crate::StoreError;
use base64::Engine;
use deadpool_sqlite::rusqlite::{params, Connection, OptionalExtension, Transaction};
use picket_domain::*;
use rand::RngCore;

/// A fresh key: 64 random bytes in base64, the shape of Defender for Identity's keys.
fn new_access_key() -> String {
    let mut bytes = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn ensure(tx: &Transaction<'_>, tenant: &TenantId) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO tenants (tenant_id, activation_mode, access_key, created_at) VALUES (?1, 'manual', ?2, ?3) \
         ON CONFLICT (tenant_id) DO NOTHING",
    )?
    .execute(params![
        tenant.as_str(),
        new_access_key(),
        picket_domain::time::format_timestamp(&chrono::Utc::now())
    ])?;
    Ok(())
}

pub fn access_key(
    tx: &Transaction<'_>,
    tenant: &TenantId,
) -> Result<DeploymentAccessKey, StoreError> {
    ensure(tx, tenant)?;
    let key: String = tx
        .prepare_cached("SELECT access_key FROM tenants WHERE tenant_id = ?1")?
        .query_row(params![tenant.as_str()], |r| r.get(0))?;
    Ok(DeploymentAccessKey::new(key))
}

pub fn regenerate_access_key(
    tx: &Transaction<'_>,
    tenant: &TenantId,
) -> Result<DeploymentAccessKey, StoreError> {
    ensure(tx, tenant)?;
    let key = new_access_key();
    tx.prepare_cached("UPDATE tenants SET access_key = ?2 WHERE tenant_id = ?1")?
        .execute(params![tenant.as_str(), key])?;
    Ok(DeploymentAccessKey::new(key))
}

/// `manual` for a tenant never configured (spec §1.8).
pub fn activation_mode(conn: &Connection, tenant: &TenantId) -> Result<ActivationMode, StoreError> {
    let mode: Option<String> = conn
        .prepare_cached("SELECT activation_mode FROM tenants WHERE tenant_id = ?1")?
        .query_row(params![tenant.as_str()], |r| r.get(0))
        .optional()?;
    Ok(mode
        .as_deref()
        .and_then(ActivationMode::parse)
        .unwrap_or(ActivationMode::Manual))
}

pub fn save_activation_mode(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    mode: ActivationMode,
) -> Result<(), StoreError> {
    ensure(tx, tenant)?;
    tx.prepare_cached("UPDATE tenants SET activation_mode = ?2 WHERE tenant_id = ?1")?
        .execute(params![tenant.as_str(), mode.as_str()])?;
    Ok(())
}

pub fn has_data(conn: &Connection, tenant: &TenantId) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM sensors WHERE tenant_id = ?1) OR EXISTS (SELECT 1 FROM health_issues WHERE tenant_id = ?1) \
         OR EXISTS (SELECT 1 FROM sensor_candidates WHERE tenant_id = ?1)")?.query_row(params![tenant.as_str()],
        |r| r.get(0),
    )?)
}
