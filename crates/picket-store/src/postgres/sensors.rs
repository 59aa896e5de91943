//! Sensor rows: listing, lookup, settings updates under the domain rules, deletion.

use super::batched::{tenant_of, Batched};
use super::health::refresh_health;
use super::rows::{json_list, sensor_from_row, ts, SENSOR_SELECT};
use super::{execute, Tx};
use crate::sql::postgres::Pg;
use crate::StoreError;
use deadpool_postgres::Pool;
use picket_domain::rules::{apply_settings_patch, SettingsPatch};
use picket_domain::time::Timestamp;
use picket_domain::*;

/// Temporary: the PostgreSQL call of `tables::sensors::find` for the modules not yet moved.
pub async fn find(tx: &Tx<'_>, tenant: &TenantId, id: &str) -> Result<Option<Sensor>, StoreError> {
    crate::tables::sensors::find(&Pg(tx), tenant, id).await
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

/// Temporary, as `find`.
pub async fn insert(tx: &Tx<'_>, tenant: &TenantId, s: &Sensor) -> Result<(), StoreError> {
    crate::tables::sensors::insert(&Pg(tx), tenant, s).await
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
