//! Health issue rows and their links to the sensors they name.

use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{issue_from_row, json_list, ts, ISSUE_COLUMNS, ISSUE_SELECT};
use crate::{IssueScope, Page, PageRequest, StoreError};
use deadpool_sqlite::rusqlite::{params, types::Value, Connection, OptionalExtension, Transaction};
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;

const SENSOR_SCOPE: &str = "id IN (SELECT l.issue_id FROM health_issue_sensors l JOIN sensors s \
    ON s.tenant_id = l.tenant_id AND s.fqdn = l.sensor_fqdn WHERE l.tenant_id = ? AND s.id = ?)";

fn listing<'a>(tenant: &'a TenantId, scope: &IssueScope, query: &'a ValidatedQuery) -> Listing<'a> {
    let scope = match scope {
        IssueScope::Tenant => None,
        IssueScope::Sensor(id) => Some((
            SENSOR_SCOPE,
            vec![Value::Text(tenant.to_string()), Value::Text(id.to_string())],
        )),
    };
    // A sensor names few issues: the unary `+` keeps SQLite from walking every issue of the
    // tenant in date order and makes it fetch the sensor's issues by key, then sort them.
    let default_order = match scope {
        Some(_) => "+created_date_time DESC, id ASC",
        None => "created_date_time DESC, id ASC",
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

pub fn list(
    conn: &Connection,
    tenant: &TenantId,
    scope: &IssueScope,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<HealthIssue>, StoreError> {
    listing(tenant, scope, query).page(conn, page, issue_from_row)
}

pub fn count(
    conn: &Connection,
    tenant: &TenantId,
    scope: &IssueScope,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(tenant, scope, query).count(conn)
}

pub fn find(
    conn: &Connection,
    tenant: &TenantId,
    scope: &IssueScope,
    id: &str,
) -> Result<Option<HealthIssue>, StoreError> {
    let (sql, params): (String, Vec<Value>) = match scope {
        IssueScope::Tenant => (
            format!("SELECT {ISSUE_SELECT} FROM health_issues WHERE tenant_id = ? AND id = ?"),
            vec![Value::Text(tenant.to_string()), Value::Text(id.to_string())],
        ),
        IssueScope::Sensor(sensor) => (
            format!("SELECT {ISSUE_SELECT} FROM health_issues WHERE tenant_id = ? AND id = ? AND {SENSOR_SCOPE}"),
            vec![
                Value::Text(tenant.to_string()),
                Value::Text(id.to_string()),
                Value::Text(tenant.to_string()),
                Value::Text(sensor.to_string()),
            ],
        ),
    };
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(
            deadpool_sqlite::rusqlite::params_from_iter(params),
            issue_from_row,
        )
        .optional()?)
}

pub fn of_sensors(
    conn: &Connection,
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
    let placeholders = vec!["?"; sensors.len()].join(", ");
    let sql = format!(
        "SELECT {}, s.id FROM sensors s \
         JOIN health_issue_sensors l ON l.tenant_id = s.tenant_id AND l.sensor_fqdn = s.fqdn \
         JOIN health_issues h ON h.tenant_id = l.tenant_id AND h.id = l.issue_id \
         WHERE s.tenant_id = ? AND s.id IN ({placeholders}) \
         ORDER BY h.created_date_time DESC, h.id ASC",
        columns.join(", ")
    );
    let mut params = vec![Value::Text(tenant.to_string())];
    params.extend(sensors.iter().map(|id| Value::Text(id.to_string())));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(deadpool_sqlite::rusqlite::params_from_iter(params), |row| {
        Ok((
            SensorId::new(row.get::<_, String>(14)?),
            issue_from_row(row)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
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
pub fn insert(tx: &Transaction<'_>, tenant: &TenantId, h: &HealthIssue) -> Result<(), StoreError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO health_issues (tenant_id, id, additional_information, created_date_time, description, \
             display_name, domain_names, health_issue_type, issue_type_id, last_modified_date_time, recommendations, \
             recommended_action_commands, sensor_dns_names, severity, status) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (tenant_id, id) DO NOTHING",
        )?
        .execute(params![
            tenant.as_str(),
            h.id.as_str(),
            json_list(&h.additional_information),
            ts(&h.created_date_time),
            h.description,
            h.display_name,
            json_list(&h.domain_names),
            h.health_issue_type.as_str(),
            h.issue_type_id,
            ts(&h.last_modified_date_time),
            json_list(&h.recommendations),
            json_list(&h.recommended_action_commands),
            json_list(&h.sensor_dns_names),
            h.severity.as_str(),
            h.status.as_str(),
        ])?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a health issue with id '{}' already exists",
            h.id
        )));
    }
    let mut link = tx.prepare_cached(
        "INSERT OR IGNORE INTO health_issue_sensors (tenant_id, sensor_fqdn, issue_id) VALUES (?1, ?2, ?3)",
    )?;
    for fqdn in linked_fqdns(h) {
        link.execute(params![tenant.as_str(), fqdn, h.id.as_str()])?;
    }
    Ok(())
}

pub fn save_status(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    id: &HealthIssueId,
    status: HealthIssueStatus,
    now: Timestamp,
) -> Result<Option<HealthIssue>, StoreError> {
    let Some(issue) = find(tx, tenant, &IssueScope::Tenant, id.as_str())? else {
        return Ok(None);
    };
    tx.prepare_cached(
        "UPDATE health_issues SET status = ?3, last_modified_date_time = ?4 WHERE tenant_id = ?1 AND id = ?2",
    )?
    .execute(params![tenant.as_str(), id.as_str(), status.as_str(), ts(&now)])?;
    refresh_health(tx, tenant, Some(&linked_fqdns(&issue)))?;
    Ok(Some(HealthIssue {
        status,
        last_modified_date_time: now,
        ..issue
    }))
}
