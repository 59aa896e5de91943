//! Sensor rows: listing, lookup, settings updates under the domain rules, deletion.

use super::batched::{tenant_of, Batched};
use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{json_list, sensor_from_row, ts, SENSOR_COLUMNS, SENSOR_SELECT};
use super::{execute, query_opt, Tx};
use crate::{Page, PageRequest, StoreError};
use deadpool_postgres::GenericClient;
use deadpool_postgres::Pool;
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

pub async fn list<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<Sensor>, StoreError> {
    listing(tenant, query).page(tx, page, sensor_from_row).await
}

pub async fn count<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(tenant, query).count(tx).await
}

/// The plan of the sensor list (or count) for `query` (see `Listing::explain`).
pub async fn explain<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    query: &ValidatedQuery,
    page: PageRequest,
    count: bool,
) -> Result<String, StoreError> {
    listing(tenant, query).explain(tx, page, count).await
}

pub async fn find<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<Sensor>, StoreError> {
    let sql = format!("SELECT {SENSOR_SELECT} FROM sensors WHERE tenant_id = $1 AND id = $2");
    query_opt(tx, &sql, &[&tenant.as_str(), &id])
        .await?
        .map(|r| sensor_from_row(&r))
        .transpose()
}

/// `GET …/sensors/{id}` lookups, batched (see `batched`).
pub type SensorReads = Batched<Sensor>;

pub fn sensor_reads(pool: Pool) -> SensorReads {
    // The tenant last, after the select list `sensor_from_row` reads by position.
    let sql = format!(
        "SELECT {SENSOR_SELECT}, tenant_id FROM sensors \
         WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
    );
    Batched::spawn(pool, sql, |row| {
        let sensor = sensor_from_row(row)?;
        Ok(((tenant_of(row, "tenant_id")?, sensor.id.clone()), sensor))
    })
}

pub async fn insert(tx: &Tx<'_>, tenant: &TenantId, s: &Sensor) -> Result<(), StoreError> {
    let inserted = execute(
        tx,
        "INSERT INTO sensors (tenant_id, id, created_date_time, deployment_status, display_name, domain_name, \
         health_status, open_health_issues_count, sensor_type, service_status, description, dc_dns_names, \
         is_delayed, version, fqdn) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (tenant_id, id) DO NOTHING",
        &[
            &tenant.as_str(),
            &s.id.as_str(),
            &ts(&s.created_date_time),
            &s.deployment_status.as_str(),
            &s.display_name,
            &s.domain_name,
            &s.health_status.as_str(),
            &s.open_health_issues_count,
            &s.sensor_type.as_str(),
            &s.service_status.as_str(),
            &s.settings.description,
            &json_list(&s.settings.domain_controller_dns_names),
            &i64::from(s.settings.is_delayed_deployment_enabled),
            &s.version,
            &s.fqdn(),
        ],
    )
    .await?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a sensor with id '{}' already exists",
            s.id
        )));
    }
    Ok(())
}

pub async fn save_settings(
    tx: &Tx<'_>,
    tenant: &TenantId,
    id: &SensorId,
    patch: &SettingsPatch,
) -> Result<Option<Sensor>, StoreError> {
    let Some(sensor) = find(tx, tenant, id.as_str()).await? else {
        return Ok(None);
    };
    let settings = apply_settings_patch(&sensor, patch)?;
    execute(
        tx,
        "UPDATE sensors SET description = $3, dc_dns_names = $4, is_delayed = $5 WHERE tenant_id = $1 AND id = $2",
        &[
            &tenant.as_str(),
            &id.as_str(),
            &settings.description,
            &json_list(&settings.domain_controller_dns_names),
            &i64::from(settings.is_delayed_deployment_enabled),
        ],
    )
    .await?;
    if settings != sensor.settings {
        super::fleet::settings_changed(tx, tenant, id).await?;
        // The answer shows what is stored now (`syncing` for an enrolled sensor).
        return find(tx, tenant, id.as_str()).await;
    }
    Ok(Some(Sensor { settings, ..sensor }))
}

pub async fn delete(
    tx: &Tx<'_>,
    tenant: &TenantId,
    id: &SensorId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Some(sensor) = find(tx, tenant, id.as_str()).await? else {
        return Ok(false);
    };
    execute(
        tx,
        "DELETE FROM sensors WHERE tenant_id = $1 AND id = $2",
        &[&tenant.as_str(), &id.as_str()],
    )
    .await?;
    // A deleted sensor's own problems are gone with it (spec §2.4): close its open sensor issues.
    execute(
        tx,
        "UPDATE health_issues SET status = 'closed', last_modified_date_time = $3 \
         WHERE tenant_id = $1 AND status = 'open' AND health_issue_type = 'sensor' AND id IN \
         (SELECT issue_id FROM health_issue_sensors WHERE tenant_id = $1 AND sensor_fqdn = $2)",
        &[&tenant.as_str(), &sensor.fqdn(), &ts(&now)],
    )
    .await?;
    refresh_health(tx, tenant, Some(&[sensor.fqdn()])).await?;
    super::fleet::tombstone(tx, tenant, id, now).await?;
    Ok(true)
}
