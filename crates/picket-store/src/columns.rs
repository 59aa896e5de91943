//! The column maps OData properties resolve through, and the select lists the engines read
//! entities with. Shared by both engines: the logical schema is the same. A sensor's are in
//! `tables/sensors.rs`, made from its one column table.

use crate::odata_sql::{col, Column, ColumnKind::*};

pub const ISSUE_COLUMNS: &[Column] = &[
    col("id", "id", Scalar),
    col("additionalInformation", "additional_information", JsonList),
    col("createdDateTime", "created_date_time", Scalar),
    col("description", "description", NoCase),
    col("displayName", "display_name", NoCase),
    col("domainNames", "domain_names", JsonList),
    col("healthIssueType", "health_issue_type", Scalar),
    col("issueTypeId", "issue_type_id", NoCase),
    col("lastModifiedDateTime", "last_modified_date_time", Scalar),
    col("recommendations", "recommendations", JsonList),
    col(
        "recommendedActionCommands",
        "recommended_action_commands",
        JsonList,
    ),
    col("sensorDNSNames", "sensor_dns_names", JsonList),
    col("severity", "severity", Scalar),
    col("status", "status", Scalar),
];

pub const ISSUE_SELECT: &str =
    "id, additional_information, created_date_time, description, display_name, \
    domain_names, health_issue_type, issue_type_id, last_modified_date_time, recommendations, \
    recommended_action_commands, sensor_dns_names, severity, status";

pub const CANDIDATE_COLUMNS: &[Column] = &[
    col("id", "id", Scalar),
    col("computerDnsName", "computer_dns_name", NoCase),
    col("lastSeenDateTime", "last_seen_date_time", Scalar),
    col("senseClientVersion", "sense_client_version", NoCase),
];

pub const CANDIDATE_SELECT: &str =
    "id, computer_dns_name, last_seen_date_time, sense_client_version";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::sensors::{SENSOR_COLUMNS, SENSOR_SELECT};
    use picket_domain::schema::{candidate_schema, health_issue_schema, sensor_schema};

    /// Every property of an entity kept in columns maps to one, on both versions, and every
    /// column answers to a property of the schema: a property without a column would surface
    /// as a 500 at the first query naming it, a column without a property is never queried.
    /// (Identity accounts and sensor migrations are documents queried in memory: no columns.)
    #[test]
    fn every_property_of_every_column_backed_entity_maps_to_a_column() {
        let entities = [
            (
                "sensor v1.0",
                sensor_schema(false),
                SENSOR_COLUMNS,
                SENSOR_SELECT,
            ),
            (
                "sensor beta",
                sensor_schema(true),
                SENSOR_COLUMNS,
                SENSOR_SELECT,
            ),
            (
                "healthIssue",
                health_issue_schema(),
                ISSUE_COLUMNS,
                ISSUE_SELECT,
            ),
            (
                "sensorCandidate",
                candidate_schema(),
                CANDIDATE_COLUMNS,
                CANDIDATE_SELECT,
            ),
        ];
        for (entity, schema, columns, select) in entities {
            let selected: Vec<&str> = select.split(',').map(str::trim).collect();
            for property in &schema.properties {
                let column = columns
                    .iter()
                    .find(|c| c.property == property.name)
                    .unwrap_or_else(|| panic!("{entity}: '{}' has no column", property.name));
                assert!(
                    selected.contains(&column.column),
                    "{entity}: column {} of '{}' is not in the select list",
                    column.column,
                    property.name
                );
            }
            for column in columns {
                assert!(
                    schema.properties.iter().any(|p| p.name == column.property),
                    "{entity}: column {} answers to '{}', which the schema does not have",
                    column.column,
                    column.property
                );
            }
        }
    }
}
