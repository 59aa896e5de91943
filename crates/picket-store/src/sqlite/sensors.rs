//! Sensor rows: listing, lookup, settings updates under the domain rules, deletion.

use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{json_list, sensor_from_row, ts, SENSOR_COLUMNS, SENSOR_SELECT};
use crate::{Page, PageRequest, StoreError};
use deadpool_sqlite::rusqlite::{params, Connection, OptionalExtension, Transaction};
use picket_domain::rules::{apply_settings_patch, SettingsPatch};
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;

fn listing<'a>(tenant: &'a TenantId, query: &'a ValidatedQuery) -> Listing<'a> {
    Listing {
        table: "sensors",
        select: SENSOR_SELECT,
        columns: SENSOR_COLUMNS,
        default_order: "created_date_time ASC, id ASC",
        tenant: tenant.as_str(),
        scope: None,
        query,
    }
}

pub fn list(
    conn: &Connection,
    tenant: &TenantId,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<Sensor>, StoreError> {
    listing(tenant, query).page(conn, page, sensor_from_row)
}

pub fn count(
    conn: &Connection,
    tenant: &TenantId,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(tenant, query).count(conn)
}

pub fn find(conn: &Connection, tenant: &TenantId, id: &str) -> Result<Option<Sensor>, StoreError> {
    let sql = format!("SELECT {SENSOR_SELECT} FROM sensors WHERE tenant_id = ?1 AND id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![tenant.as_str(), id], sensor_from_row)
        .optional()?)
}

pub fn insert(tx: &Transaction<'_>, tenant: &TenantId, s: &Sensor) -> Result<(), StoreError> {
    let inserted = tx.prepare_cached(
        "INSERT INTO sensors (tenant_id, id, created_date_time, deployment_status, display_name, domain_name, \
         health_status, open_health_issues_count, sensor_type, service_status, description, dc_dns_names, \
         is_delayed, version, fqdn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
         ON CONFLICT (tenant_id, id) DO NOTHING",
    )?
    .execute(params![
        tenant.as_str(),
        s.id.as_str(),
        ts(&s.created_date_time),
        s.deployment_status.as_str(),
        s.display_name,
        s.domain_name,
        s.health_status.as_str(),
        s.open_health_issues_count,
        s.sensor_type.as_str(),
        s.service_status.as_str(),
        s.settings.description,
        json_list(&s.settings.domain_controller_dns_names),
        s.settings.is_delayed_deployment_enabled,
        s.version,
        s.fqdn(),
    ])?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a sensor with id '{}' already exists",
            s.id
        )));
    }
    Ok(())
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
