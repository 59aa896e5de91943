//! The stored entities, in domain terms. Their Graph JSON shape is rendered by the server.

use crate::enums::*;
use crate::ids::*;
pub use crate::sensor_settings::SensorSettings;
use crate::time::Timestamp;
use serde::Deserialize;

/// A sensor. Read from Graph's JSON (fixtures) by its field names in camelCase; what the
/// sensor's health issues decide is never read, only derived.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sensor {
    pub id: SensorId,
    #[serde(deserialize_with = "crate::time::deserialize_timestamp")]
    pub created_date_time: Timestamp,
    pub deployment_status: DeploymentStatus,
    pub display_name: String,
    pub domain_name: String,
    #[serde(skip_deserializing, default = "healthy")]
    pub health_status: SensorHealthStatus,
    #[serde(skip_deserializing)]
    pub open_health_issues_count: i64,
    pub sensor_type: SensorType,
    pub service_status: ServiceStatus,
    #[serde(default)]
    pub settings: SensorSettings,
    pub version: String,
}

fn healthy() -> SensorHealthStatus {
    SensorHealthStatus::Healthy
}

impl Sensor {
    /// The sensor's computer FQDN, lower-cased: how health issues name it (spec §4.2).
    pub fn fqdn(&self) -> String {
        sensor_fqdn(&self.display_name, &self.domain_name)
    }

    /// Major version number; unparsable versions count as classic (2).
    pub fn major_version(&self) -> u32 {
        major_version(&self.version)
    }
}

pub fn sensor_fqdn(display_name: &str, domain_name: &str) -> String {
    format!("{display_name}.{domain_name}").to_ascii_lowercase()
}

pub fn major_version(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or(2)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthIssue {
    pub id: HealthIssueId,
    pub additional_information: Vec<String>,
    pub created_date_time: Timestamp,
    pub description: String,
    pub display_name: String,
    pub domain_names: Vec<String>,
    pub health_issue_type: HealthIssueType,
    pub issue_type_id: String,
    pub last_modified_date_time: Timestamp,
    pub recommendations: Vec<String>,
    pub recommended_action_commands: Vec<String>,
    pub sensor_dns_names: Vec<String>,
    pub severity: HealthIssueSeverity,
    pub status: HealthIssueStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorCandidate {
    pub id: CandidateId,
    pub computer_dns_name: String,
    pub last_seen_date_time: Timestamp,
    pub sense_client_version: String,
}

/// Where the classic installer is fetched from, and which version it is (spec §2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentPackage {
    pub download_url: String,
    pub version: String,
}

/// The workspace-wide secret a classic installer registers with (spec §4.6).
/// Its `Debug` never shows the value, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct DeploymentAccessKey(String);

impl DeploymentAccessKey {
    pub fn new(value: String) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeploymentAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeploymentAccessKey(<redacted>)")
    }
}
