//! Sensor rows: listing, lookup, settings updates under the domain rules, deletion.

use super::fleet;
use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{inserted, json_list, sensor_from_row, ts, SENSOR_COLUMNS, SENSOR_SELECT};
use crate::sql::Db;
use crate::{args, sql, Page, PageRequest, StoreError};
use picket_domain::rules::{apply_settings_patch, SettingsPatch};
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;

pub(crate) fn listing<'a>(tenant: &'a TenantId, query: &'a ValidatedQuery) -> Listing<'a> {
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

pub async fn list(
    db: &impl Db,
    tenant: &TenantId,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<Sensor>, StoreError> {
    listing(tenant, query).page(db, page, sensor_from_row).await
}

pub async fn count(
    db: &impl Db,
    tenant: &TenantId,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(tenant, query).count(db).await
}

pub async fn find(db: &impl Db, tenant: &TenantId, id: &str) -> Result<Option<Sensor>, StoreError> {
    db.query_opt(
        sql!("SELECT {SENSOR_SELECT} FROM sensors WHERE tenant_id = $1 AND id = $2"),
        args![tenant.as_str(), id],
        sensor_from_row,
    )
    .await
}

pub async fn insert(db: &impl Db, tenant: &TenantId, s: &Sensor) -> Result<(), StoreError> {
    let n = db
        .execute(
            sql!(
                "INSERT INTO sensors (tenant_id, id, created_date_time, deployment_status, \
                 display_name, domain_name, health_status, open_health_issues_count, sensor_type, \
                 service_status, description, dc_dns_names, is_delayed, version, fqdn) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (tenant_id, id) DO NOTHING"
            ),
            args![
                tenant.as_str(),
                s.id.as_str(),
                &ts(&s.created_date_time),
                s.deployment_status.as_str(),
                &s.display_name,
                &s.domain_name,
                s.health_status.as_str(),
                s.open_health_issues_count,
                s.sensor_type.as_str(),
                s.service_status.as_str(),
                s.settings.description.as_deref(),
                &json_list(&s.settings.domain_controller_dns_names),
                s.settings.is_delayed_deployment_enabled,
                &s.version,
                &s.fqdn(),
            ],
        )
        .await?;
    inserted(n, "sensor", s.id.as_str())?;
    Ok(())
}

pub async fn save_settings(
    db: &impl Db,
    tenant: &TenantId,
    id: &SensorId,
    patch: &SettingsPatch,
) -> Result<Option<Sensor>, StoreError> {
    let Some(sensor) = find(db, tenant, id.as_str()).await? else {
        return Ok(None);
    };
    let settings = apply_settings_patch(&sensor, patch)?;
    db.execute(
        sql!(
            "UPDATE sensors SET description = $3, dc_dns_names = $4, is_delayed = $5 \
             WHERE tenant_id = $1 AND id = $2"
        ),
        args![
            tenant.as_str(),
            id.as_str(),
            settings.description.as_deref(),
            &json_list(&settings.domain_controller_dns_names),
            settings.is_delayed_deployment_enabled,
        ],
    )
    .await?;
    if settings != sensor.settings {
        fleet::settings_changed(db, tenant, id).await?;
        // The answer shows what is stored now (`syncing` for an enrolled sensor).
        return find(db, tenant, id.as_str()).await;
    }
    Ok(Some(Sensor { settings, ..sensor }))
}

pub async fn delete(
    db: &impl Db,
    tenant: &TenantId,
    id: &SensorId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Some(sensor) = find(db, tenant, id.as_str()).await? else {
        return Ok(false);
    };
    db.execute(
        sql!("DELETE FROM sensors WHERE tenant_id = $1 AND id = $2"),
        args![tenant.as_str(), id.as_str()],
    )
    .await?;
    // A deleted sensor's own problems are gone with it (spec §2.4): close its open sensor issues.
    db.execute(
        sql!(
            "UPDATE health_issues SET status = 'closed', last_modified_date_time = $3 \
             WHERE tenant_id = $1 AND status = 'open' AND health_issue_type = 'sensor' AND id IN \
             (SELECT issue_id FROM health_issue_sensors WHERE tenant_id = $1 AND sensor_fqdn = $2)"
        ),
        args![tenant.as_str(), &sensor.fqdn(), &ts(&now)],
    )
    .await?;
    refresh_health(db, tenant, Some(&[sensor.fqdn()])).await?;
    fleet::tombstone(db, tenant, id, now).await?;
    Ok(true)
}
