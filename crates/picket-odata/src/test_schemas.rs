//! Schemas shaped like Picket's real entities, for the tests of every module.

use crate::{EntitySchema, PropType, Property};

const fn prop(name: &'static str, ty: PropType) -> Property {
    Property {
        name,
        ty,
        filterable: true,
        sortable: true,
    }
}

pub(crate) fn health_issue() -> EntitySchema {
    EntitySchema {
        entity: "microsoft.graph.security.healthIssue",
        properties: vec![
            prop(
                "status",
                PropType::Enum(&["open", "closed", "suppressed", "unknownFutureValue"]),
            ),
            prop(
                "healthIssueType",
                PropType::Enum(&["sensor", "global", "unknownFutureValue"]),
            ),
            prop(
                "severity",
                PropType::Enum(&["low", "medium", "high", "unknownFutureValue"]),
            ),
            prop("domainNames", PropType::StringCollection),
            prop("sensorDNSNames", PropType::StringCollection),
            prop("displayName", PropType::String),
            prop("createdDateTime", PropType::DateTime),
        ],
        selectable: vec![
            "id",
            "status",
            "healthIssueType",
            "severity",
            "domainNames",
            "sensorDNSNames",
            "displayName",
            "createdDateTime",
        ],
        expandable: vec![],
    }
}

pub(crate) fn sensor() -> EntitySchema {
    EntitySchema {
        entity: "microsoft.graph.security.sensor",
        properties: vec![
            prop("id", PropType::String),
            prop("displayName", PropType::String),
            prop(
                "healthStatus",
                PropType::Enum(&[
                    "healthy",
                    "notHealthyLow",
                    "notHealthyMedium",
                    "notHealthyHigh",
                ]),
            ),
            prop("createdDateTime", PropType::DateTime),
            prop("version", PropType::String),
            prop("openHealthIssuesCount", PropType::Int64),
            prop("settings/description", PropType::String),
            prop("settings/isDelayedDeploymentEnabled", PropType::Bool),
            prop("domainNames", PropType::StringCollection),
            Property {
                name: "deploymentStatus",
                ty: PropType::Enum(&["upToDate", "outdated"]),
                filterable: true,
                sortable: false,
            },
            Property {
                name: "serviceStatus",
                ty: PropType::String,
                filterable: false,
                sortable: false,
            },
        ],
        selectable: vec![
            "id",
            "displayName",
            "healthStatus",
            "createdDateTime",
            "version",
            "openHealthIssuesCount",
            "settings",
            "domainNames",
            "deploymentStatus",
            "serviceStatus",
        ],
        expandable: vec!["healthIssues"],
    }
}

/// A small document entity for the in-memory evaluator's tests.
pub(crate) fn schema_for_eval() -> &'static EntitySchema {
    static SCHEMA: std::sync::LazyLock<EntitySchema> = std::sync::LazyLock::new(|| EntitySchema {
        entity: "test.document",
        properties: vec![
            prop("id", PropType::String),
            prop("displayName", PropType::String),
            prop("isEnabled", PropType::Bool),
            prop("domain", PropType::String),
            prop("tags", PropType::StringCollection),
        ],
        selectable: vec!["id", "displayName", "isEnabled", "domain", "tags"],
        expandable: vec![],
    });
    &SCHEMA
}
