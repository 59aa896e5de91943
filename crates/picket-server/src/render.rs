//! Entities to Graph JSON (spec §1): property names, `@odata.type` with `#` (spec §5 D3),
//! seven-digit UTC timestamps, `[]` for empty collections, `serviceStatus` on beta only, and
//! `$select` (which always keeps `id` and `@odata.type`).

use crate::context::ApiVersion;
use picket_domain::time::format_timestamp;
use picket_domain::*;
use serde_json::{json, Map, Value};

pub const SENSOR_TYPE: &str = "#microsoft.graph.security.sensor";
pub const SETTINGS_TYPE: &str = "#microsoft.graph.security.sensorSettings";
pub const HEALTH_ISSUE_TYPE: &str = "#microsoft.graph.security.healthIssue";
pub const CANDIDATE_TYPE: &str = "#microsoft.graph.security.sensorCandidate";
pub const ACTIVATION_CONFIGURATION_TYPE: &str = "#microsoft.graph.security.sensorCandidateActivationConfiguration";
pub const ACCESS_KEY_TYPE: &str = "#microsoft.graph.security.deploymentAccessKeyType";
pub const PACKAGE_TYPE: &str = "#microsoft.graph.security.sensorDeploymentPackage";

/// Builds an entity object, keeping only selected properties when `$select` was given.
struct Entity<'a> {
    map: Map<String, Value>,
    select: Option<&'a [&'static str]>,
}

impl<'a> Entity<'a> {
    fn new(odata_type: &str, id: &str, select: Option<&'a [&'static str]>) -> Self {
        let mut map = Map::new();
        map.insert("@odata.type".into(), Value::String(odata_type.into()));
        map.insert("id".into(), Value::String(id.into()));
        Self { map, select }
    }
    fn put(&mut self, name: &str, value: impl FnOnce() -> Value) -> &mut Self {
        if self.select.is_none_or(|s| s.contains(&name)) {
            self.map.insert(name.into(), value());
        }
        self
    }
    fn done(self) -> Map<String, Value> {
        self.map
    }
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.clone())).collect())
}

pub fn sensor(s: &Sensor, version: ApiVersion, select: Option<&[&'static str]>) -> Map<String, Value> {
    let mut e = Entity::new(SENSOR_TYPE, s.id.as_str(), select);
    e.put("displayName", || json!(s.display_name))
        .put("sensorType", || json!(s.sensor_type.as_str()))
        .put("version", || json!(s.version))
        .put("deploymentStatus", || json!(s.deployment_status.as_str()))
        .put("createdDateTime", || json!(format_timestamp(&s.created_date_time)))
        .put("domainName", || json!(s.domain_name))
        .put("healthStatus", || json!(s.health_status.as_str()))
        .put("openHealthIssuesCount", || json!(s.open_health_issues_count))
        .put("settings", || {
            json!({
                "@odata.type": SETTINGS_TYPE,
                "description": s.settings.description,
                "domainControllerDnsNames": strings(&s.settings.domain_controller_dns_names),
                "isDelayedDeploymentEnabled": s.settings.is_delayed_deployment_enabled,
            })
        });
    if version.is_beta() {
        e.put("serviceStatus", || json!(s.service_status.as_str()));
    }
    e.done()
}

pub fn health_issue(h: &HealthIssue, select: Option<&[&'static str]>) -> Map<String, Value> {
    let mut e = Entity::new(HEALTH_ISSUE_TYPE, h.id.as_str(), select);
    e.put("displayName", || json!(h.display_name))
        .put("description", || json!(h.description))
        .put("healthIssueType", || json!(h.health_issue_type.as_str()))
        .put("issueTypeId", || json!(h.issue_type_id))
        .put("severity", || json!(h.severity.as_str()))
        .put("status", || json!(h.status.as_str()))
        .put("createdDateTime", || json!(format_timestamp(&h.created_date_time)))
        .put("lastModifiedDateTime", || json!(format_timestamp(&h.last_modified_date_time)))
        .put("domainNames", || strings(&h.domain_names))
        .put("sensorDNSNames", || strings(&h.sensor_dns_names))
        .put("additionalInformation", || strings(&h.additional_information))
        .put("recommendations", || strings(&h.recommendations))
        .put("recommendedActionCommands", || strings(&h.recommended_action_commands));
    e.done()
}

pub fn candidate(c: &SensorCandidate, select: Option<&[&'static str]>) -> Map<String, Value> {
    let mut e = Entity::new(CANDIDATE_TYPE, c.id.as_str(), select);
    e.put("computerDnsName", || json!(c.computer_dns_name))
        .put("senseClientVersion", || json!(c.sense_client_version))
        .put("lastSeenDateTime", || json!(format_timestamp(&c.last_seen_date_time)));
    e.done()
}

/// Prepends `@odata.context` so it is the first property (spec §3.3).
pub fn with_context(context: String, body: Map<String, Value>) -> Value {
    let mut map = Map::with_capacity(body.len() + 1);
    map.insert("@odata.context".into(), Value::String(context));
    map.extend(body);
    Value::Object(map)
}
