//! What each entity exposes to OData query options, per API version. The store maps these
//! canonical names to columns; the server uses them to validate `$select`/`$filter`.

use crate::enums::*;
use crate::SensorSettings;
use picket_odata::{EntitySchema, PropType, Property};
use std::sync::LazyLock;

const fn prop(name: &'static str, ty: PropType) -> Property {
    Property {
        name,
        ty,
        filterable: true,
        sortable: !matches!(ty, PropType::StringCollection),
    }
}

pub const SENSOR_ENTITY: &str = "microsoft.graph.security.sensor";
pub const HEALTH_ISSUE_ENTITY: &str = "microsoft.graph.security.healthIssue";
pub const CANDIDATE_ENTITY: &str = "microsoft.graph.security.sensorCandidate";

/// `serviceStatus` is on both versions (spec §7.1, superseding D7); `migrationState`, derived
/// from the version and type, is beta's and selectable only.
pub fn sensor_schema(beta: bool) -> &'static EntitySchema {
    static V1: LazyLock<EntitySchema> = LazyLock::new(|| build_sensor_schema(false));
    static BETA: LazyLock<EntitySchema> = LazyLock::new(|| build_sensor_schema(true));
    if beta {
        &BETA
    } else {
        &V1
    }
}

pub fn health_issue_schema() -> &'static EntitySchema {
    static SCHEMA: LazyLock<EntitySchema> = LazyLock::new(build_health_issue_schema);
    &SCHEMA
}

pub fn candidate_schema() -> &'static EntitySchema {
    static SCHEMA: LazyLock<EntitySchema> = LazyLock::new(build_candidate_schema);
    &SCHEMA
}

fn build_sensor_schema(beta: bool) -> EntitySchema {
    let mut properties = vec![
        prop("id", PropType::String),
        prop("createdDateTime", PropType::DateTime),
        prop(
            "deploymentStatus",
            PropType::Enum(DeploymentStatus::MEMBERS),
        ),
        prop("displayName", PropType::String),
        prop("domainName", PropType::String),
        prop("healthStatus", PropType::Enum(SensorHealthStatus::MEMBERS)),
        prop("openHealthIssuesCount", PropType::Int64),
        prop("sensorType", PropType::Enum(SensorType::MEMBERS)),
        prop("version", PropType::String),
    ];
    properties.extend(
        SensorSettings::PROPERTIES
            .iter()
            .map(|&(name, ty)| prop(name, ty)),
    );
    properties.push(prop(
        "serviceStatus",
        PropType::Enum(ServiceStatus::MEMBERS),
    ));
    let mut selectable = vec![
        "id",
        "createdDateTime",
        "deploymentStatus",
        "displayName",
        "domainName",
        "healthStatus",
        "openHealthIssuesCount",
        "sensorType",
        "settings",
        "version",
        "serviceStatus",
    ];
    if beta {
        selectable.push("migrationState");
    }
    EntitySchema {
        entity: SENSOR_ENTITY,
        properties,
        selectable,
        expandable: vec!["healthIssues"],
    }
}

fn build_health_issue_schema() -> EntitySchema {
    EntitySchema {
        entity: HEALTH_ISSUE_ENTITY,
        properties: vec![
            prop("id", PropType::String),
            prop("additionalInformation", PropType::StringCollection),
            prop("createdDateTime", PropType::DateTime),
            prop("description", PropType::String),
            prop("displayName", PropType::String),
            prop("domainNames", PropType::StringCollection),
            prop("healthIssueType", PropType::Enum(HealthIssueType::MEMBERS)),
            prop("issueTypeId", PropType::String),
            prop("lastModifiedDateTime", PropType::DateTime),
            prop("recommendations", PropType::StringCollection),
            prop("recommendedActionCommands", PropType::StringCollection),
            prop("sensorDNSNames", PropType::StringCollection),
            prop("severity", PropType::Enum(HealthIssueSeverity::MEMBERS)),
            prop("status", PropType::Enum(HealthIssueStatus::MEMBERS)),
        ],
        selectable: vec![
            "id",
            "additionalInformation",
            "createdDateTime",
            "description",
            "displayName",
            "domainNames",
            "healthIssueType",
            "issueTypeId",
            "lastModifiedDateTime",
            "recommendations",
            "recommendedActionCommands",
            "sensorDNSNames",
            "severity",
            "status",
        ],
        expandable: vec![],
    }
}

fn build_candidate_schema() -> EntitySchema {
    EntitySchema {
        entity: CANDIDATE_ENTITY,
        properties: vec![
            prop("id", PropType::String),
            prop("computerDnsName", PropType::String),
            prop("lastSeenDateTime", PropType::DateTime),
            prop("senseClientVersion", PropType::String),
        ],
        // Derived from the DNS name (spec §7.1): selectable, not filterable.
        selectable: vec![
            "id",
            "computerDnsName",
            "domainName",
            "lastSeenDateTime",
            "senseClientVersion",
            "sensorTypes",
        ],
        expandable: vec![],
    }
}

pub const IDENTITY_ACCOUNTS_ENTITY: &str = "microsoft.graph.security.identityAccounts";

/// Identity accounts (spec §7.4): held as documents and queried in memory
/// (`picket_odata::eval`), so every scalar is filterable and sortable, and `accounts` is
/// selectable.
pub fn identity_accounts_schema() -> &'static EntitySchema {
    static SCHEMA: LazyLock<EntitySchema> = LazyLock::new(|| EntitySchema {
        entity: IDENTITY_ACCOUNTS_ENTITY,
        properties: vec![
            prop("id", PropType::String),
            prop("displayName", PropType::String),
            prop("domain", PropType::String),
            prop("isEnabled", PropType::Bool),
            prop("cloudSecurityIdentifier", PropType::String),
            prop("onPremisesSecurityIdentifier", PropType::String),
        ],
        selectable: vec![
            "id",
            "displayName",
            "domain",
            "isEnabled",
            "cloudSecurityIdentifier",
            "onPremisesSecurityIdentifier",
            "accounts",
        ],
        expandable: vec![],
    });
    &SCHEMA
}

pub const SENSOR_MIGRATION_ENTITY: &str = "microsoft.graph.security.sensorMigration";

/// Beta `sensorMigration` (spec §7.2): derived from the fleet and queried in memory.
pub fn sensor_migration_schema() -> &'static EntitySchema {
    static SCHEMA: LazyLock<EntitySchema> = LazyLock::new(|| EntitySchema {
        entity: SENSOR_MIGRATION_ENTITY,
        properties: vec![
            prop("id", PropType::String),
            prop("createdDateTime", PropType::DateTime),
            prop("displayName", PropType::String),
            prop("domainName", PropType::String),
            prop("healthStatus", PropType::Enum(SensorHealthStatus::MEMBERS)),
            prop("migrationState", PropType::Enum(MigrationState::MEMBERS)),
            prop("sensorType", PropType::Enum(SensorType::MEMBERS)),
            prop("serviceStatus", PropType::Enum(ServiceStatus::MEMBERS)),
            prop("version", PropType::String),
        ],
        selectable: vec![
            "id",
            "createdDateTime",
            "displayName",
            "domainName",
            "healthStatus",
            "migrationState",
            "sensorType",
            "serviceStatus",
            "version",
        ],
        expandable: vec![],
    });
    &SCHEMA
}
