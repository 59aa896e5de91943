//! Row ↔ entity mapping and the column maps that OData properties resolve through.

pub use crate::columns::*;
use crate::odata_sql::SqlValue;
use deadpool_sqlite::rusqlite::{self, types::Value, Row};
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::*;

pub fn to_sql(v: &SqlValue) -> Value {
    match v {
        SqlValue::Text(s) => Value::Text(s.clone()),
        SqlValue::Int(i) => Value::Integer(*i),
        SqlValue::Null => Value::Null,
    }
}

pub fn ts(t: &Timestamp) -> String {
    format_timestamp(t)
}

pub fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn conversion(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Text,
        format!("stored value is not a valid {what}").into(),
    )
}

fn get_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    let text: String = row.get(idx)?;
    parse_timestamp(&text).ok_or_else(|| conversion(idx, "timestamp"))
}

fn get_list(row: &Row<'_>, idx: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|_| conversion(idx, "string list"))
}

fn get_enum<T>(row: &Row<'_>, idx: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    parse(&text).ok_or_else(|| conversion(idx, "enum member"))
}

pub fn sensor_from_row(row: &Row<'_>) -> rusqlite::Result<Sensor> {
    Ok(Sensor {
        id: SensorId::new(row.get::<_, String>(0)?),
        created_date_time: get_ts(row, 1)?,
        deployment_status: get_enum(row, 2, DeploymentStatus::parse)?,
        display_name: row.get(3)?,
        domain_name: row.get(4)?,
        health_status: get_enum(row, 5, SensorHealthStatus::parse)?,
        open_health_issues_count: row.get(6)?,
        sensor_type: get_enum(row, 7, SensorType::parse)?,
        service_status: get_enum(row, 8, ServiceStatus::parse)?,
        settings: SensorSettings {
            description: row.get(9)?,
            domain_controller_dns_names: get_list(row, 10)?,
            is_delayed_deployment_enabled: row.get::<_, i64>(11)? != 0,
        },
        version: row.get(12)?,
    })
}

pub fn issue_from_row(row: &Row<'_>) -> rusqlite::Result<HealthIssue> {
    Ok(HealthIssue {
        id: HealthIssueId::new(row.get::<_, String>(0)?),
        additional_information: get_list(row, 1)?,
        created_date_time: get_ts(row, 2)?,
        description: row.get(3)?,
        display_name: row.get(4)?,
        domain_names: get_list(row, 5)?,
        health_issue_type: get_enum(row, 6, HealthIssueType::parse)?,
        issue_type_id: row.get(7)?,
        last_modified_date_time: get_ts(row, 8)?,
        recommendations: get_list(row, 9)?,
        recommended_action_commands: get_list(row, 10)?,
        sensor_dns_names: get_list(row, 11)?,
        severity: get_enum(row, 12, HealthIssueSeverity::parse)?,
        status: get_enum(row, 13, HealthIssueStatus::parse)?,
    })
}

pub fn candidate_from_row(row: &Row<'_>) -> rusqlite::Result<SensorCandidate> {
    Ok(SensorCandidate {
        id: CandidateId::new(row.get::<_, String>(0)?),
        computer_dns_name: row.get(1)?,
        last_seen_date_time: get_ts(row, 2)?,
        sense_client_version: row.get(3)?,
    })
}
