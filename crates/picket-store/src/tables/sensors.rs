//! Sensor rows: listing, lookup, settings updates under the domain rules, deletion.

use super::listing::Listing;
use super::rows::{inserted, json_list, sensor_from_row, ts, SENSOR_COLUMNS, SENSOR_SELECT};
use crate::sql::Db;
use crate::{args, sql, Page, PageRequest, StoreError};
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
