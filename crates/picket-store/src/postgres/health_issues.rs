//! Health issue rows and their links to the sensors they name.

use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{issue_from_row, json_list, ts, ISSUE_COLUMNS, ISSUE_SELECT};
use super::{execute, Param, Tx};
use crate::odata_sql::SqlValue;
use crate::{IssueScope, Page, PageRequest, StoreError};
use deadpool_postgres::GenericClient;
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;

/// A sensor's issues; the tenant is `$1`, the sensor `$2`.
const SENSOR_SCOPE: &str = "id IN (SELECT l.issue_id FROM health_issue_sensors l JOIN sensors s \
    ON s.tenant_id = l.tenant_id AND s.fqdn = l.sensor_fqdn WHERE l.tenant_id = $1 AND s.id = $2)";

fn listing<'a>(tenant: &'a TenantId, scope: &IssueScope, query: &'a ValidatedQuery) -> Listing<'a> {
    let scope = match scope {
        IssueScope::Tenant => None,
        IssueScope::Sensor(id) => Some((SENSOR_SCOPE, vec![SqlValue::Text(id.to_string())])),
    };
    Listing {
        table: "health_issues",
        select: ISSUE_SELECT,
        columns: ISSUE_COLUMNS,
        default_order: "created_date_time DESC, id ASC",
        tenant: tenant.as_str(),
        scope,
        query,
    }
}

pub async fn list<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    scope: &IssueScope,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<HealthIssue>, StoreError> {
    listing(tenant, scope, query)
        .page(tx, page, issue_from_row)
        .await
}

pub async fn count<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    scope: &IssueScope,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(tenant, scope, query).count(tx).await
}

pub async fn find<C: GenericClient>(
    tx: &C,
    tenant: &TenantId,
    scope: &IssueScope,
    id: &str,
) -> Result<Option<HealthIssue>, StoreError> {
    let row = match scope {
        IssueScope::Tenant => {
            let sql = format!(
                "SELECT {ISSUE_SELECT} FROM health_issues WHERE tenant_id = $1 AND id = $2"
            );
            super::query_opt(tx, &sql, &[&tenant.as_str(), &id]).await?
        }
        IssueScope::Sensor(sensor) => {
            let sql = format!(
                "SELECT {ISSUE_SELECT} FROM health_issues WHERE tenant_id = $1 AND id = $3 AND {SENSOR_SCOPE}"
            );
            super::query_opt(tx, &sql, &[&tenant.as_str(), &sensor.as_str(), &id]).await?
        }
    };
    row.map(|r| issue_from_row(&r)).transpose()
}

pub async fn of_sensors(
    tx: &Tx<'_>,
    tenant: &TenantId,
    sensors: &[SensorId],
) -> Result<Vec<(SensorId, HealthIssue)>, StoreError> {
    if sensors.is_empty() {
        return Ok(Vec::new());
    }
    // Issue columns first, so `issue_from_row` reads them at their usual positions.
    let columns: Vec<String> = ISSUE_SELECT
        .split(',')
        .map(|c| format!("h.{}", c.trim()))
        .collect();
    let sql = format!(
        "SELECT {}, s.id FROM sensors s \
         JOIN health_issue_sensors l ON l.tenant_id = s.tenant_id AND l.sensor_fqdn = s.fqdn \
         JOIN health_issues h ON h.tenant_id = l.tenant_id AND h.id = l.issue_id \
         WHERE s.tenant_id = $1 AND s.id = ANY($2::text[]) \
         ORDER BY h.created_date_time DESC, h.id ASC",
        columns.join(", ")
    );
    let ids: Vec<&str> = sensors.iter().map(SensorId::as_str).collect();
    let params: [Param<'_>; 2] = [&tenant.as_str(), &ids];
    super::query(tx, &sql, &params)
        .await?
        .iter()
        .map(|row| {
            Ok((
                SensorId::new(row.try_get::<_, String>(14)?),
                issue_from_row(row)?,
            ))
        })
        .collect()
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
pub async fn insert(tx: &Tx<'_>, tenant: &TenantId, h: &HealthIssue) -> Result<(), StoreError> {
    let inserted = execute(
        tx,
        "INSERT INTO health_issues (tenant_id, id, additional_information, created_date_time, description, \
         display_name, domain_names, health_issue_type, issue_type_id, last_modified_date_time, recommendations, \
         recommended_action_commands, sensor_dns_names, severity, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (tenant_id, id) DO NOTHING",
        &[
            &tenant.as_str(),
            &h.id.as_str(),
            &json_list(&h.additional_information),
            &ts(&h.created_date_time),
            &h.description,
            &h.display_name,
            &json_list(&h.domain_names),
            &h.health_issue_type.as_str(),
            &h.issue_type_id,
            &ts(&h.last_modified_date_time),
            &json_list(&h.recommendations),
            &json_list(&h.recommended_action_commands),
            &json_list(&h.sensor_dns_names),
            &h.severity.as_str(),
            &h.status.as_str(),
        ],
    )
    .await?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a health issue with id '{}' already exists",
            h.id
        )));
    }
    for fqdn in linked_fqdns(h) {
        link(tx, tenant, &fqdn, h.id.as_str()).await?;
    }
    Ok(())
}

/// Records that an issue names a sensor (once).
pub async fn link(
    tx: &Tx<'_>,
    tenant: &TenantId,
    fqdn: &str,
    issue: &str,
) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO health_issue_sensors (tenant_id, sensor_fqdn, issue_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        &[&tenant.as_str(), &fqdn, &issue],
    )
    .await?;
    Ok(())
}

pub async fn save_status(
    tx: &Tx<'_>,
    tenant: &TenantId,
    id: &HealthIssueId,
    status: HealthIssueStatus,
    now: Timestamp,
) -> Result<Option<HealthIssue>, StoreError> {
    let Some(issue) = find(tx, tenant, &IssueScope::Tenant, id.as_str()).await? else {
        return Ok(None);
    };
    execute(
        tx,
        "UPDATE health_issues SET status = $3, last_modified_date_time = $4 WHERE tenant_id = $1 AND id = $2",
        &[&tenant.as_str(), &id.as_str(), &status.as_str(), &ts(&now)],
    )
    .await?;
    refresh_health(tx, tenant, Some(&linked_fqdns(&issue))).await?;
    Ok(Some(HealthIssue {
        status,
        last_modified_date_time: now,
        ..issue
    }))
}
