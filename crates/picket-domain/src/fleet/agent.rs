//! What Picket knows of a sensor's agent and what it tells it: the facts a store keeps per
//! agent, how they become the status engine's [`Observed`], and the sensor a classic
//! enrolment creates. Pure: the store loads the facts and stores what comes out.

use super::status::{at_enrolment, Observed, UpdateState};
use crate::entities::{Sensor, SensorSettings};
use crate::enums::{HealthIssueSeverity, SensorHealthStatus, SensorType, ServiceStatus};
use crate::ids::SensorId;
use crate::time::Timestamp;

/// A problem the sensor found on its own host (e.g. auditing not configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostIssue {
    pub issue_type_id: String,
    pub display_name: String,
    pub severity: HealthIssueSeverity,
}

/// What a sensor reports about its update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateReport {
    Idle,
    InProgress { target: String },
    Failed { target: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentCommand {
    None,
    /// Install this classic release.
    Update {
        version: String,
    },
    /// The sensor was deleted: stop and uninstall.
    Stop,
}

/// The settings version a new agent must pull first; it has acknowledged none (the stores'
/// `sensor_agents` defaults: desired 1, applied 0).
pub const FIRST_SETTINGS_VERSION: u64 = 1;

/// What a store keeps of one enrolled agent (besides its sensor row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentFacts {
    pub enrolled_at: Timestamp,
    pub last_seen: Option<Timestamp>,
    pub last_config_pull: Option<Timestamp>,
    pub reported_service: Option<ServiceStatus>,
    pub desired: u64,
    pub applied: u64,
    pub update: UpdateState,
    pub host_issues: Vec<HostIssue>,
    pub dc_exists: bool,
}

/// The status engine's view of a sensor, from its row and its agent's facts.
pub fn observe(sensor: &Sensor, agent: &AgentFacts) -> Observed {
    Observed {
        sensor_type: sensor.sensor_type,
        version: sensor.version.clone(),
        enrolled_at: agent.enrolled_at,
        last_seen: agent.last_seen,
        last_config_pull: agent.last_config_pull,
        reported_service: agent.reported_service,
        desired_settings_version: agent.desired,
        applied_settings_version: agent.applied,
        update: agent.update.clone(),
        dc_exists: agent.dc_exists,
        has_dc_list: !sensor.settings.domain_controller_dns_names.is_empty(),
    }
}

/// `dc1.contoso.com` → (`dc1`, `contoso.com`).
pub fn split_fqdn(fqdn: &str) -> (String, String) {
    let fqdn = fqdn.trim().trim_end_matches('.');
    match fqdn.split_once('.') {
        Some((host, domain)) => (host.to_string(), domain.to_ascii_lowercase()),
        None => (fqdn.to_string(), String::new()),
    }
}

/// The sensor a classic enrolment of `computer_dns_name` creates, with the statuses the
/// engine derives for it at that instant.
pub fn enrolled_sensor(
    id: SensorId,
    computer_dns_name: &str,
    sensor_type: SensorType,
    version: &str,
    now: Timestamp,
) -> Sensor {
    let (host, domain) = split_fqdn(computer_dns_name);
    let settings = SensorSettings::default();
    let derived = at_enrolment(
        sensor_type,
        version,
        !settings.domain_controller_dns_names.is_empty(),
    );
    Sensor {
        id,
        created_date_time: now,
        deployment_status: derived.deployment_status,
        display_name: host,
        domain_name: domain,
        health_status: SensorHealthStatus::Healthy,
        open_health_issues_count: 0,
        sensor_type,
        service_status: derived.service_status,
        settings,
        version: version.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::DeploymentStatus;
    use crate::time::parse_timestamp;

    fn at(minutes: i64) -> Timestamp {
        parse_timestamp("2026-05-01T12:00:00Z").expect("time") + chrono::Duration::minutes(minutes)
    }

    #[test]
    fn fqdns_split_into_host_and_lower_case_domain() {
        let cases = [
            ("dc1.contoso.com", ("dc1", "contoso.com")),
            ("DC1.Contoso.COM.", ("DC1", "contoso.com")),
            (" dc1 ", ("dc1", "")),
        ];
        for (fqdn, (host, domain)) in cases {
            assert_eq!(
                split_fqdn(fqdn),
                (host.to_string(), domain.to_string()),
                "{fqdn}"
            );
        }
    }

    #[test]
    fn a_classic_enrolment_is_syncing_and_starting_until_its_first_report() {
        let cases = [
            (
                SensorType::DomainControllerIntegrated,
                "2.250.0.0",
                DeploymentStatus::Syncing,
                ServiceStatus::Starting,
            ),
            (
                SensorType::AdfsIntegrated,
                "2.250.0.0",
                DeploymentStatus::NotConfigured,
                ServiceStatus::Starting,
            ),
            (
                SensorType::DomainControllerIntegrated,
                "3.1.0.0",
                DeploymentStatus::Syncing,
                ServiceStatus::Onboarding,
            ),
        ];
        for (sensor_type, version, deployment, service) in cases {
            let s = enrolled_sensor(
                SensorId::new("s1"),
                "dc1.Contoso.com",
                sensor_type,
                version,
                at(0),
            );
            assert_eq!(
                (s.deployment_status, s.service_status),
                (deployment, service),
                "{sensor_type:?} {version}"
            );
            assert_eq!(
                (s.display_name.as_str(), s.domain_name.as_str()),
                ("dc1", "contoso.com")
            );
            assert_eq!(s.created_date_time, at(0));
        }
    }

    #[test]
    fn observe_takes_settings_from_the_sensor_and_the_rest_from_the_agent() {
        let s = enrolled_sensor(
            SensorId::new("s1"),
            "adfs.contoso.com",
            SensorType::AdfsIntegrated,
            "2.250.0.0",
            at(0),
        );
        let agent = AgentFacts {
            enrolled_at: at(-5),
            last_seen: Some(at(-1)),
            last_config_pull: None,
            reported_service: Some(ServiceStatus::Running),
            desired: 3,
            applied: 2,
            update: UpdateState::Idle,
            host_issues: vec![],
            dc_exists: true,
        };
        let o = observe(&s, &agent);
        assert!(!o.has_dc_list);
        assert_eq!(
            (o.desired_settings_version, o.applied_settings_version),
            (3, 2)
        );
        assert_eq!(o.enrolled_at, at(-5));
        let mut with_dcs = s.clone();
        with_dcs.settings.domain_controller_dns_names = vec!["dc1.contoso.com".into()];
        assert!(observe(&with_dcs, &agent).has_dc_list);
    }
}
