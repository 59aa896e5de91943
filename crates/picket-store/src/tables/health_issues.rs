//! Health issue rows and their links to the sensors they name.

use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{inserted, issue_from_row, json_list, ts, ISSUE_COLUMNS, ISSUE_SELECT};
use crate::odata_sql::SqlValue;
use crate::sql::{Db, Engine};
use crate::{args, sql, IssueScope, Page, PageRequest, StoreError};
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;

/// A sensor's issues; the tenant is `$1`, the sensor `$2`.
const SENSOR_SCOPE: &str = "id IN (SELECT l.issue_id FROM health_issue_sensors l JOIN sensors s \
    ON s.tenant_id = l.tenant_id AND s.fqdn = l.sensor_fqdn WHERE l.tenant_id = $1 AND s.id = $2)";

fn listing<'a>(
    engine: Engine,
    tenant: &'a TenantId,
    scope: &IssueScope,
    query: &'a ValidatedQuery,
) -> Listing<'a> {
    let scope = match scope {
        IssueScope::Tenant => None,
        IssueScope::Sensor(id) => Some((SENSOR_SCOPE, vec![SqlValue::Text(id.to_string())])),
    };
    let default_order = match (engine, &scope) {
        // A sensor names few issues: the unary `+` keeps SQLite from walking every issue of the
        // tenant in date order and makes it fetch the sensor's issues by key, then sort them.
        (Engine::Sqlite, Some(_)) => "+created_date_time DESC, id ASC",
        _ => "created_date_time DESC, id ASC",
    };
    Listing {
        table: "health_issues",
        select: ISSUE_SELECT,
        columns: ISSUE_COLUMNS,
        default_order,
        tenant: tenant.as_str(),
        scope,
        query,
    }
}

pub async fn list<D: Db>(
    db: &D,
    tenant: &TenantId,
    scope: &IssueScope,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<HealthIssue>, StoreError> {
    listing(D::ENGINE, tenant, scope, query)
        .page(db, page, issue_from_row)
        .await
}

pub async fn count<D: Db>(
    db: &D,
    tenant: &TenantId,
    scope: &IssueScope,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(D::ENGINE, tenant, scope, query).count(db).await
}

pub async fn find(
    db: &impl Db,
    tenant: &TenantId,
    scope: &IssueScope,
    id: &str,
) -> Result<Option<HealthIssue>, StoreError> {
    match scope {
        IssueScope::Tenant => {
            db.query_opt(
                sql!("SELECT {ISSUE_SELECT} FROM health_issues WHERE tenant_id = $1 AND id = $2"),
                args![tenant.as_str(), id],
                issue_from_row,
            )
            .await
        }
        IssueScope::Sensor(sensor) => {
            db.query_opt(
                sql!(
                    "SELECT {ISSUE_SELECT} FROM health_issues \
                     WHERE tenant_id = $1 AND id = $3 AND {SENSOR_SCOPE}"
                ),
                args![tenant.as_str(), sensor.as_str(), id],
                issue_from_row,
            )
            .await
        }
    }
}

/// The issues of several sensors, newest first, each with the sensor it names.
pub async fn of_sensors(
    db: &impl Db,
    tenant: &TenantId,
    sensors: &[SensorId],
) -> Result<Vec<(SensorId, HealthIssue)>, StoreError> {
    if sensors.is_empty() {
        return Ok(Vec::new());
    }
    // Issue columns first, so `issue_from_row` reads them at their usual positions.
    fn columns() -> String {
        ISSUE_SELECT
            .split(',')
            .map(|c| format!("h.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    }
    const JOINS: &str =
        "JOIN health_issue_sensors l ON l.tenant_id = s.tenant_id AND l.sensor_fqdn = s.fqdn \
         JOIN health_issues h ON h.tenant_id = l.tenant_id AND h.id = l.issue_id";
    const ORDER: &str = "ORDER BY h.created_date_time DESC, h.id ASC";
    static OF_SENSORS: crate::sql::Stmt = crate::sql::Stmt::per_dialect(
        || {
            format!(
                "SELECT {}, s.id FROM sensors s {JOINS} \
                 WHERE s.tenant_id = $1 AND s.id = ANY($2::text[]) {ORDER}",
                columns()
            )
        },
        // CROSS JOIN fixes SQLite's join order: the listed sensors first, each by its key, then
        // their issues (left to itself, it walks every issue of the tenant in date order).
        || {
            format!(
                "SELECT {}, s.id FROM (SELECT DISTINCT value FROM json_each($2)) j \
                 CROSS JOIN sensors s {JOINS} WHERE s.tenant_id = $1 AND s.id = j.value {ORDER}",
                columns()
            )
        },
    );
    let ids: Vec<&str> = sensors.iter().map(SensorId::as_str).collect();
    db.query(&OF_SENSORS, args![tenant.as_str(), &ids], |row| {
        Ok((SensorId::new(row.get::<String>(14)?), issue_from_row(row)?))
    })
    .await
}

/// Lower-cased sensor FQDNs an issue names.
fn linked_fqdns(issue: &HealthIssue) -> Vec<String> {
    let mut names: Vec<String> = issue
        .sensor_dns_names
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Inserts an issue and its sensor links; health is refreshed by the caller.
pub async fn insert(db: &impl Db, tenant: &TenantId, h: &HealthIssue) -> Result<(), StoreError> {
    let n = db
        .execute(
            sql!(
                "INSERT INTO health_issues (tenant_id, id, additional_information, created_date_time, \
                 description, display_name, domain_names, health_issue_type, issue_type_id, \
                 last_modified_date_time, recommendations, recommended_action_commands, \
                 sensor_dns_names, severity, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (tenant_id, id) DO NOTHING"
            ),
            args![
                tenant.as_str(),
                h.id.as_str(),
                &json_list(&h.additional_information),
                &ts(&h.created_date_time),
                &h.description,
                &h.display_name,
                &json_list(&h.domain_names),
                h.health_issue_type.as_str(),
                &h.issue_type_id,
                &ts(&h.last_modified_date_time),
                &json_list(&h.recommendations),
                &json_list(&h.recommended_action_commands),
                &json_list(&h.sensor_dns_names),
                h.severity.as_str(),
                h.status.as_str(),
            ],
        )
        .await?;
    inserted(n, "health issue", h.id.as_str())?;
    for fqdn in linked_fqdns(h) {
        link(db, tenant, &fqdn, h.id.as_str()).await?;
    }
    Ok(())
}

/// Records that an issue names a sensor (once).
pub async fn link(
    db: &impl Db,
    tenant: &TenantId,
    fqdn: &str,
    issue: &str,
) -> Result<(), StoreError> {
    db.execute(
        sql!(
            "INSERT INTO health_issue_sensors (tenant_id, sensor_fqdn, issue_id) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        ),
        args![tenant.as_str(), fqdn, issue],
    )
    .await?;
    Ok(())
}

pub async fn save_status(
    db: &impl Db,
    tenant: &TenantId,
    id: &HealthIssueId,
    status: HealthIssueStatus,
    now: Timestamp,
) -> Result<Option<HealthIssue>, StoreError> {
    let Some(issue) = find(db, tenant, &IssueScope::Tenant, id.as_str()).await? else {
        return Ok(None);
    };
    db.execute(
        sql!(
            "UPDATE health_issues SET status = $3, last_modified_date_time = $4 \
             WHERE tenant_id = $1 AND id = $2"
        ),
        args![tenant.as_str(), id.as_str(), status.as_str(), &ts(&now)],
    )
    .await?;
    refresh_health(db, tenant, Some(&linked_fqdns(&issue))).await?;
    Ok(Some(HealthIssue {
        status,
        last_modified_date_time: now,
        ..issue
    }))
}
