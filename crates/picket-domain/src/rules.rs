//! The API's domain rules: which sensor settings may change (spec §2.3), which health-issue
//! statuses a client may set (§2.14), and what activating a candidate produces (§4.5).

use crate::entities::*;
use crate::enums::*;
use crate::ids::SensorId;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error("Property '{property}' cannot be changed for a sensor with version {version}: only classic (2.x) sensors support it")]
    UnifiedSensorSetting {
        property: &'static str,
        version: String,
    },
    #[error("Property 'domainControllerDnsNames' cannot be changed for a sensor of type 'domainControllerIntegrated'")]
    IntegratedSensorDcList,
    #[error("'unknownFutureValue' is not a valid value for property '{0}'")]
    UnknownFutureValue(&'static str),
}

pub use crate::sensor_settings::SettingsPatch;

/// Applies a settings patch under the version/type rules. A forbidden field is accepted when it
/// would not change anything, so Graph's own documentation example keeps working (spec §5 D5).
pub fn apply_settings_patch(
    sensor: &Sensor,
    patch: &SettingsPatch,
) -> Result<SensorSettings, RuleViolation> {
    let unified = sensor.major_version() >= 3;
    if let Some(delayed) = patch.is_delayed_deployment_enabled {
        if unified && delayed != sensor.settings.is_delayed_deployment_enabled {
            return Err(RuleViolation::UnifiedSensorSetting {
                property: "isDelayedDeploymentEnabled",
                version: sensor.version.clone(),
            });
        }
    }
    if let Some(names) = &patch.domain_controller_dns_names {
        if *names != sensor.settings.domain_controller_dns_names {
            if unified {
                return Err(RuleViolation::UnifiedSensorSetting {
                    property: "domainControllerDnsNames",
                    version: sensor.version.clone(),
                });
            }
            if sensor.sensor_type == SensorType::DomainControllerIntegrated {
                return Err(RuleViolation::IntegratedSensorDcList);
            }
        }
    }
    Ok(patch.merged_over(&sensor.settings))
}

/// Clients may set `open`, `closed` or `suppressed` only (spec §5 D11).
pub fn check_issue_status(status: HealthIssueStatus) -> Result<HealthIssueStatus, RuleViolation> {
    match status {
        HealthIssueStatus::UnknownFutureValue => Err(RuleViolation::UnknownFutureValue("status")),
        other => Ok(other),
    }
}

/// Turns an activated candidate into a unified (v3.x) domain-controller sensor (spec §4.5):
/// the host label becomes the display name, the rest of the FQDN the domain. The sensor keeps
/// the candidate's id, which is what makes a repeated activation a no-op.
pub fn sensor_from_candidate(
    candidate: &SensorCandidate,
    unified_version: &str,
    now: Timestamp,
) -> Sensor {
    let (host, domain) = match candidate.computer_dns_name.split_once('.') {
        Some((host, domain)) => (host.to_string(), domain.to_string()),
        None => (candidate.computer_dns_name.clone(), String::new()),
    };
    // The statuses the engine derives for it from the moment it is activated (spec §4.2:
    // its first settings are not yet pulled; onboarding until its first report).
    let derived = crate::fleet::status::at_enrolment(
        SensorType::DomainControllerIntegrated,
        unified_version,
        false,
    );
    Sensor {
        id: SensorId::new(candidate.id.as_str()),
        created_date_time: now,
        deployment_status: derived.deployment_status,
        display_name: host.to_ascii_uppercase(),
        domain_name: domain.to_ascii_lowercase(),
        health_status: SensorHealthStatus::Healthy,
        open_health_issues_count: 0,
        sensor_type: SensorType::DomainControllerIntegrated,
        service_status: derived.service_status,
        settings: SensorSettings::default(),
        version: unified_version.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    fn sensor(version: &str, sensor_type: SensorType) -> Sensor {
        Sensor {
            id: SensorId::new("s1"),
            created_date_time: parse_timestamp("2024-01-01T00:00:00Z").expect("valid"),
            deployment_status: DeploymentStatus::UpToDate,
            display_name: "DC1".into(),
            domain_name: "contoso.com".into(),
            health_status: SensorHealthStatus::Healthy,
            open_health_issues_count: 0,
            sensor_type,
            service_status: ServiceStatus::Running,
            settings: SensorSettings {
                description: Some("old".into()),
                domain_controller_dns_names: vec!["DC1.contoso.com".into()],
                ..SensorSettings::default()
            },
            version: version.into(),
        }
    }

    // A setting added later stays unpatched here.
    #[allow(clippy::needless_update)]
    fn patch(
        description: Option<Option<&str>>,
        dcs: Option<&[&str]>,
        delayed: Option<bool>,
    ) -> SettingsPatch {
        SettingsPatch {
            description: description.map(|d| d.map(String::from)),
            domain_controller_dns_names: dcs.map(|d| d.iter().map(|s| s.to_string()).collect()),
            is_delayed_deployment_enabled: delayed,
            ..SettingsPatch::default()
        }
    }

    #[test]
    fn settings_rules_table() {
        use SensorType::*;
        let cases: Vec<(&str, SensorType, SettingsPatch, bool)> = vec![
            (
                "2.239.1.1",
                DomainControllerIntegrated,
                patch(Some(Some("new")), None, None),
                true,
            ),
            (
                "3.1.0.0",
                DomainControllerIntegrated,
                patch(Some(None), None, None),
                true,
            ),
            (
                "2.239.1.1",
                DomainControllerIntegrated,
                patch(None, None, Some(true)),
                true,
            ),
            (
                "3.1.0.0",
                DomainControllerIntegrated,
                patch(None, None, Some(true)),
                false,
            ),
            (
                "3.1.0.0",
                DomainControllerIntegrated,
                patch(None, None, Some(false)),
                true,
            ),
            (
                "2.239.1.1",
                DomainControllerIntegrated,
                patch(None, Some(&["DC2.contoso.com"]), None),
                false,
            ),
            (
                "2.239.1.1",
                DomainControllerIntegrated,
                patch(None, Some(&["DC1.contoso.com"]), None),
                true,
            ),
            (
                "2.239.1.1",
                AdfsIntegrated,
                patch(None, Some(&["DC2.contoso.com"]), None),
                true,
            ),
            (
                "2.239.1.1",
                DomainControllerStandalone,
                patch(None, Some(&[]), None),
                true,
            ),
            (
                "3.1.0.0",
                AdcsIntegrated,
                patch(None, Some(&["DC2.contoso.com"]), None),
                false,
            ),
        ];
        for (version, ty, p, ok) in cases {
            let result = apply_settings_patch(&sensor(version, ty), &p);
            assert_eq!(result.is_ok(), ok, "{version} {ty} {p:?}: {result:?}");
        }
    }

    #[test]
    fn patch_merges() {
        let s = sensor("2.1.1.1", SensorType::AdfsIntegrated);
        let next = apply_settings_patch(&s, &patch(None, None, Some(true))).expect("allowed");
        assert_eq!(next.description.as_deref(), Some("old"));
        assert!(next.is_delayed_deployment_enabled);
        assert_eq!(next.domain_controller_dns_names, vec!["DC1.contoso.com"]);
    }

    #[test]
    fn candidate_becomes_unified_sensor() {
        let c = SensorCandidate {
            id: crate::ids::CandidateId::new("c0633ebb"),
            computer_dns_name: "win-11.def.defensor.local".into(),
            last_seen_date_time: parse_timestamp("2024-10-29T19:55:10Z").expect("valid"),
            sense_client_version: "10.8780.27711.1000".into(),
        };
        let now = parse_timestamp("2025-01-01T00:00:00Z").expect("valid");
        let s = sensor_from_candidate(&c, "3.1.25311.1", now);
        assert_eq!(s.id.as_str(), "c0633ebb");
        assert_eq!(s.display_name, "WIN-11");
        assert_eq!(s.domain_name, "def.defensor.local");
        assert_eq!(s.service_status, ServiceStatus::Onboarding);
        assert_eq!(s.sensor_type, SensorType::DomainControllerIntegrated);
        assert_eq!(s.major_version(), 3);
        assert!(check_issue_status(HealthIssueStatus::UnknownFutureValue).is_err());
    }
}
