//! Entities to Graph JSON (spec §1): property names, `@odata.type` with `#` (spec §5 D3),
//! seven-digit UTC timestamps, `[]` for empty collections, `serviceStatus` on both versions (`migrationState` on beta), and
//! `$select` (which always keeps `id` and `@odata.type`). Views serialize straight to bytes:
//! no intermediate JSON tree on the hot read paths.

use picket_domain::time::Timestamp;
use picket_domain::*;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use std::fmt;

pub const SENSOR_TYPE: &str = "#microsoft.graph.security.sensor";
pub const SETTINGS_TYPE: &str = "#microsoft.graph.security.sensorSettings";
pub const HEALTH_ISSUE_TYPE: &str = "#microsoft.graph.security.healthIssue";
pub const CANDIDATE_TYPE: &str = "#microsoft.graph.security.sensorCandidate";
pub const ACTIVATION_CONFIGURATION_TYPE: &str =
    "#microsoft.graph.security.sensorCandidateActivationConfiguration";
pub const ACCESS_KEY_TYPE: &str = "#microsoft.graph.security.deploymentAccessKeyType";
pub const PACKAGE_TYPE: &str = "#microsoft.graph.security.sensorDeploymentPackage";

/// An entity's properties, written into a JSON object someone else opened.
pub trait Fields {
    fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error>;
}

/// `2023-11-16T09:41:24.2585071Z`, formatted without allocating (spec §3.9).
struct Ts<'a>(&'a Timestamp);

impl fmt::Display for Ts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use chrono::{Datelike, Timelike};
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            (t.nanosecond() % 1_000_000_000) / 100
        )
    }
}

impl Serialize for Ts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn wanted(select: Option<&[&'static str]>, name: &str) -> bool {
    select.is_none_or(|s| s.contains(&name))
}

pub struct SensorView<'a> {
    pub sensor: &'a Sensor,
    pub beta: bool,
    pub select: Option<&'a [&'static str]>,
    /// `$expand=healthIssues` (spec §2.2).
    pub issues: Option<Vec<HealthIssue>>,
    /// Recorded migration states (beta), over what the version and type say.
    pub migrations: Option<&'a std::collections::HashMap<String, picket_domain::MigrationState>>,
}

struct SettingsView<'a>(&'a SensorSettings);

impl Serialize for SettingsView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The settings' own fields, as the domain declares them, after the type.
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "@odata.type")]
            odata_type: &'static str,
            #[serde(flatten)]
            settings: &'a SensorSettings,
        }
        Wire {
            odata_type: SETTINGS_TYPE,
            settings: self.0,
        }
        .serialize(s)
    }
}

impl Fields for SensorView<'_> {
    fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        let s = self.sensor;
        let want = |name| wanted(self.select, name);
        m.serialize_entry("@odata.type", SENSOR_TYPE)?;
        m.serialize_entry("id", s.id.as_str())?;
        if want("displayName") {
            m.serialize_entry("displayName", &s.display_name)?;
        }
        if want("sensorType") {
            m.serialize_entry("sensorType", s.sensor_type.as_str())?;
        }
        if want("version") {
            m.serialize_entry("version", &s.version)?;
        }
        if want("deploymentStatus") {
            m.serialize_entry("deploymentStatus", s.deployment_status.as_str())?;
        }
        if want("createdDateTime") {
            m.serialize_entry("createdDateTime", &Ts(&s.created_date_time))?;
        }
        if want("domainName") {
            m.serialize_entry("domainName", &s.domain_name)?;
        }
        if want("healthStatus") {
            m.serialize_entry("healthStatus", s.health_status.as_str())?;
        }
        if want("openHealthIssuesCount") {
            m.serialize_entry("openHealthIssuesCount", &s.open_health_issues_count)?;
        }
        if want("settings") {
            m.serialize_entry("settings", &SettingsView(&s.settings))?;
        }
        if want("serviceStatus") {
            m.serialize_entry("serviceStatus", s.service_status.as_str())?;
        }
        if self.beta && want("migrationState") {
            let state = self
                .migrations
                .and_then(|m| m.get(s.id.as_str()).copied())
                .unwrap_or_else(|| {
                    picket_domain::fleet::migration::migration_state(&s.version, s.sensor_type)
                });
            m.serialize_entry("migrationState", state.as_str())?;
        }
        if let Some(issues) = &self.issues {
            let views: Vec<AsObject<IssueView<'_>>> = issues
                .iter()
                .map(|issue| {
                    AsObject(IssueView {
                        issue,
                        select: None,
                    })
                })
                .collect();
            m.serialize_entry("healthIssues", &views)?;
        }
        Ok(())
    }
}

pub struct IssueView<'a> {
    pub issue: &'a HealthIssue,
    pub select: Option<&'a [&'static str]>,
}

impl Fields for IssueView<'_> {
    fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        let h = self.issue;
        let want = |name| wanted(self.select, name);
        m.serialize_entry("@odata.type", HEALTH_ISSUE_TYPE)?;
        m.serialize_entry("id", h.id.as_str())?;
        if want("displayName") {
            m.serialize_entry("displayName", &h.display_name)?;
        }
        if want("description") {
            m.serialize_entry("description", &h.description)?;
        }
        if want("healthIssueType") {
            m.serialize_entry("healthIssueType", h.health_issue_type.as_str())?;
        }
        if want("issueTypeId") {
            m.serialize_entry("issueTypeId", &h.issue_type_id)?;
        }
        if want("severity") {
            m.serialize_entry("severity", h.severity.as_str())?;
        }
        if want("status") {
            m.serialize_entry("status", h.status.as_str())?;
        }
        if want("createdDateTime") {
            m.serialize_entry("createdDateTime", &Ts(&h.created_date_time))?;
        }
        if want("lastModifiedDateTime") {
            m.serialize_entry("lastModifiedDateTime", &Ts(&h.last_modified_date_time))?;
        }
        if want("domainNames") {
            m.serialize_entry("domainNames", &h.domain_names)?;
        }
        if want("sensorDNSNames") {
            m.serialize_entry("sensorDNSNames", &h.sensor_dns_names)?;
        }
        if want("additionalInformation") {
            m.serialize_entry("additionalInformation", &h.additional_information)?;
        }
        if want("recommendations") {
            m.serialize_entry("recommendations", &h.recommendations)?;
        }
        if want("recommendedActionCommands") {
            m.serialize_entry("recommendedActionCommands", &h.recommended_action_commands)?;
        }
        Ok(())
    }
}

pub struct CandidateView<'a> {
    pub candidate: &'a SensorCandidate,
    pub select: Option<&'a [&'static str]>,
    /// `sensorTypes` is beta's (spec §7.1).
    pub beta: bool,
}

impl Fields for CandidateView<'_> {
    fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        let c = self.candidate;
        let want = |name| wanted(self.select, name);
        m.serialize_entry("@odata.type", CANDIDATE_TYPE)?;
        m.serialize_entry("id", c.id.as_str())?;
        if want("computerDnsName") {
            m.serialize_entry("computerDnsName", &c.computer_dns_name)?;
        }
        if want("senseClientVersion") {
            m.serialize_entry("senseClientVersion", &c.sense_client_version)?;
        }
        if want("lastSeenDateTime") {
            m.serialize_entry("lastSeenDateTime", &Ts(&c.last_seen_date_time))?;
        }
        if want("domainName") {
            let domain = picket_domain::fleet::migration::candidate_domain(&c.computer_dns_name);
            m.serialize_entry("domainName", domain)?;
        }
        if self.beta && want("sensorTypes") {
            let types =
                picket_domain::fleet::migration::candidate_sensor_types(&c.computer_dns_name);
            m.serialize_entry("sensorTypes", &types)?;
        }
        Ok(())
    }
}

/// A view as a JSON object of its own.
pub struct AsObject<T>(pub T);

impl<T: Fields> Serialize for AsObject<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.0.write(&mut m)?;
        m.end()
    }
}

/// A single entity answer: `@odata.context` first (spec §3.3), then the entity.
pub struct Entity<T> {
    pub context: String,
    pub fields: T,
}

impl<T: Fields> Serialize for Entity<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("@odata.context", &self.context)?;
        self.fields.write(&mut m)?;
        m.end()
    }
}

/// A collection page: `@odata.context`, `@odata.count`?, `@odata.nextLink`?, `value` (spec §3.6).
pub struct Collection<T> {
    pub context: String,
    pub count: Option<u64>,
    pub next_link: Option<String>,
    pub items: Vec<T>,
}

impl<T: Fields> Serialize for Collection<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Items<'a, T>(&'a [T]);
        impl<T: Fields> Serialize for Items<'_, T> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for item in self.0 {
                    seq.serialize_element(&AsObject(Borrowed(item)))?;
                }
                seq.end()
            }
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("@odata.context", &self.context)?;
        if let Some(count) = self.count {
            m.serialize_entry("@odata.count", &count)?;
        }
        if let Some(link) = &self.next_link {
            m.serialize_entry("@odata.nextLink", link)?;
        }
        m.serialize_entry("value", &Items(&self.items))?;
        m.end()
    }
}

struct Borrowed<'a, T>(&'a T);

impl<T: Fields> Fields for Borrowed<'_, T> {
    fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        self.0.write(m)
    }
}

/// An entity kept as a Graph JSON document (identity accounts): its `@odata.type`, `id`, then
/// its properties in stored order, narrowed by `$select`.
pub struct DocumentView<'a> {
    pub doc: &'a serde_json::Value,
    pub odata_type: &'static str,
    pub select: Option<&'a [&'static str]>,
}

impl Fields for DocumentView<'_> {
    fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        m.serialize_entry("@odata.type", self.odata_type)?;
        let Some(map) = self.doc.as_object() else {
            return Ok(());
        };
        if let Some(id) = map.get("id") {
            m.serialize_entry("id", id)?;
        }
        for (name, value) in map {
            if name != "id" && wanted(self.select, name) {
                m.serialize_entry(name, value)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_seven_digits() {
        let t =
            picket_domain::time::parse_timestamp("2023-11-16T09:41:24.2585071Z").expect("valid");
        assert_eq!(Ts(&t).to_string(), "2023-11-16T09:41:24.2585071Z");
        let t = picket_domain::time::parse_timestamp("2023-01-02T03:04:05Z").expect("valid");
        assert_eq!(Ts(&t).to_string(), "2023-01-02T03:04:05.0000000Z");
    }
}
