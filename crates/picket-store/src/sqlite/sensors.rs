//! Sensor rows: listing, lookup, settings updates under the domain rules, deletion.

use super::health::refresh_health;
use super::rows::{json_list, ts};
use crate::sql::sqlite::{run, Lite};
use crate::StoreError;
use deadpool_sqlite::rusqlite::{params, Connection, Transaction};
use picket_domain::rules::{apply_settings_patch, SettingsPatch};
use picket_domain::time::Timestamp;
use picket_domain::*;

/// Temporary: the SQLite call of `tables::sensors::find` for the modules not yet moved.
pub fn find(conn: &Connection, tenant: &TenantId, id: &str) -> Result<Option<Sensor>, StoreError> {
    run(crate::tables::sensors::find(&Lite(conn), tenant, id))
}

/// Temporary, as `find`.
pub fn insert(tx: &Transaction<'_>, tenant: &TenantId, s: &Sensor) -> Result<(), StoreError> {
    run(crate::tables::sensors::insert(&Lite(tx), tenant, s))
}

pub fn save_settings(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    id: &SensorId,
    patch: &SettingsPatch,
) -> Result<Option<Sensor>, StoreError> {
    let Some(sensor) = find(tx, tenant, id.as_str())? else {
        return Ok(None);
    };
    let settings = apply_settings_patch(&sensor, patch)?;
    tx.prepare_cached(
        "UPDATE sensors SET description = ?3, dc_dns_names = ?4, is_delayed = ?5 WHERE tenant_id = ?1 AND id = ?2",
    )?
    .execute(params![
        tenant.as_str(),
        id.as_str(),
        settings.description,
        json_list(&settings.domain_controller_dns_names),
        settings.is_delayed_deployment_enabled,
    ])?;
    if settings != sensor.settings {
        super::fleet::settings_changed(tx, tenant, id)?;
        // The answer shows what is stored now (`syncing` for an enrolled sensor).
        return find(tx, tenant, id.as_str());
    }
    Ok(Some(Sensor { settings, ..sensor }))
}

pub fn delete(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    id: &SensorId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Some(sensor) = find(tx, tenant, id.as_str())? else {
        return Ok(false);
    };
    tx.prepare_cached("DELETE FROM sensors WHERE tenant_id = ?1 AND id = ?2")?
        .execute(params![tenant.as_str(), id.as_str()])?;
    // A deleted sensor's own problems are gone with it (spec §2.4): close its open sensor issues.
    tx.prepare_cached(
        "UPDATE health_issues SET status = 'closed', last_modified_date_time = ?3 \
         WHERE tenant_id = ?1 AND status = 'open' AND health_issue_type = 'sensor' AND id IN \
         (SELECT issue_id FROM health_issue_sensors WHERE tenant_id = ?1 AND sensor_fqdn = ?2)",
    )?
    .execute(params![tenant.as_str(), sensor.fqdn(), ts(&now)])?;
    refresh_health(tx, tenant, Some(&[sensor.fqdn()]))?;
    super::fleet::tombstone(tx, tenant, id, now)?;
    Ok(true)
}
