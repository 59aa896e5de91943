//! Row → entity mapping for both engines (a sensor's is in `super::sensors`, beside its
//! columns). The column maps and select lists are in `crate::columns`; values are stored in the same shapes on both (text, 64-bit integers,
//! timestamps as RFC 3339 text, lists as JSON text).

pub use crate::columns::*;
use crate::sql::RowRef;
use crate::StoreError;
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::*;

pub fn ts(t: &Timestamp) -> String {
    format_timestamp(t)
}

pub fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// An `INSERT … ON CONFLICT DO NOTHING` that inserted nothing: the id is taken.
pub fn inserted(rows: u64, what: &str, id: &str) -> Result<(), StoreError> {
    if rows == 0 {
        return Err(StoreError::Conflict(format!(
            "a {what} with id '{id}' already exists"
        )));
    }
    Ok(())
}

fn bad(idx: usize, what: &str) -> StoreError {
    StoreError::Internal(format!("stored value {idx} is not a valid {what}"))
}

pub fn get_ts(row: &dyn RowRef, idx: usize) -> Result<Timestamp, StoreError> {
    let text: String = row.get(idx)?;
    parse_timestamp(&text).ok_or_else(|| bad(idx, "timestamp"))
}

pub fn get_opt_ts(row: &dyn RowRef, idx: usize) -> Result<Option<Timestamp>, StoreError> {
    row.get::<Option<String>>(idx)?
        .map(|text| parse_timestamp(&text).ok_or_else(|| bad(idx, "timestamp")))
        .transpose()
}

pub fn get_list(row: &dyn RowRef, idx: usize) -> Result<Vec<String>, StoreError> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|_| bad(idx, "string list"))
}

pub fn get_enum<T>(
    row: &dyn RowRef,
    idx: usize,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let text: String = row.get(idx)?;
    parse(&text).ok_or_else(|| bad(idx, "enum member"))
}

pub fn issue_from_row(row: &dyn RowRef) -> Result<HealthIssue, StoreError> {
    Ok(HealthIssue {
        id: HealthIssueId::new(row.get::<String>(0)?),
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

pub fn candidate_from_row(row: &dyn RowRef) -> Result<SensorCandidate, StoreError> {
    Ok(SensorCandidate {
        id: CandidateId::new(row.get::<String>(0)?),
        computer_dns_name: row.get(1)?,
        last_seen_date_time: get_ts(row, 2)?,
        sense_client_version: row.get(3)?,
    })
}
