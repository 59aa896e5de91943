//! Row → entity mapping for PostgreSQL; the column maps and select lists are shared with
//! SQLite (`crate::columns`), and values are stored in the same shapes.

pub use crate::columns::*;
use crate::StoreError;
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::*;
use tokio_postgres::Row;

pub fn ts(t: &Timestamp) -> String {
    format_timestamp(t)
}

pub fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn bad(idx: usize, what: &str) -> StoreError {
    StoreError::Internal(format!("stored value {idx} is not a valid {what}"))
}

pub fn get_ts(row: &Row, idx: usize) -> Result<Timestamp, StoreError> {
    let text: String = row.try_get(idx)?;
    parse_timestamp(&text).ok_or_else(|| bad(idx, "timestamp"))
}

pub fn get_list(row: &Row, idx: usize) -> Result<Vec<String>, StoreError> {
    let text: String = row.try_get(idx)?;
    serde_json::from_str(&text).map_err(|_| bad(idx, "string list"))
}

fn get_enum<T>(row: &Row, idx: usize, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let text: String = row.try_get(idx)?;
    parse(&text).ok_or_else(|| bad(idx, "enum member"))
}

pub fn sensor_from_row(row: &Row) -> Result<Sensor, StoreError> {
    Ok(Sensor {
        id: SensorId::new(row.try_get::<_, String>(0)?),
        created_date_time: get_ts(row, 1)?,
        deployment_status: get_enum(row, 2, DeploymentStatus::parse)?,
        display_name: row.try_get(3)?,
        domain_name: row.try_get(4)?,
        health_status: get_enum(row, 5, SensorHealthStatus::parse)?,
        open_health_issues_count: row.try_get(6)?,
        sensor_type: get_enum(row, 7, SensorType::parse)?,
        service_status: get_enum(row, 8, ServiceStatus::parse)?,
        settings: SensorSettings {
            description: row.try_get(9)?,
            domain_controller_dns_names: get_list(row, 10)?,
            is_delayed_deployment_enabled: row.try_get::<_, i64>(11)? != 0,
        },
        version: row.try_get(12)?,
    })
}

pub fn issue_from_row(row: &Row) -> Result<HealthIssue, StoreError> {
    Ok(HealthIssue {
        id: HealthIssueId::new(row.try_get::<_, String>(0)?),
        additional_information: get_list(row, 1)?,
        created_date_time: get_ts(row, 2)?,
        description: row.try_get(3)?,
        display_name: row.try_get(4)?,
        domain_names: get_list(row, 5)?,
        health_issue_type: get_enum(row, 6, HealthIssueType::parse)?,
        issue_type_id: row.try_get(7)?,
        last_modified_date_time: get_ts(row, 8)?,
        recommendations: get_list(row, 9)?,
        recommended_action_commands: get_list(row, 10)?,
        sensor_dns_names: get_list(row, 11)?,
        severity: get_enum(row, 12, HealthIssueSeverity::parse)?,
        status: get_enum(row, 13, HealthIssueStatus::parse)?,
    })
}

pub fn candidate_from_row(row: &Row) -> Result<SensorCandidate, StoreError> {
    Ok(SensorCandidate {
        id: CandidateId::new(row.try_get::<_, String>(0)?),
        computer_dns_name: row.try_get(1)?,
        last_seen_date_time: get_ts(row, 2)?,
        sense_client_version: row.try_get(3)?,
    })
}
