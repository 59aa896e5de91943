//! Fixtures in Graph's own JSON shape (`picket seed FILE.json`, `--seed`): what users write to
//! set up the state their tests need. A bad fixture is refused whole, naming the field.

use picket_domain::time::{parse_timestamp, Timestamp};
use picket_domain::*;
use picket_store::Fixture;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
#[error("invalid fixture at '{path}': {message}")]
pub struct FixtureError {
    pub path: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FixtureFile {
    /// Which tenant to load into; `picket seed --tenant` overrides it.
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    activation_mode: Option<ActivationMode>,
    #[serde(default)]
    sensors: Vec<SensorIn>,
    #[serde(default)]
    sensor_candidates: Vec<CandidateIn>,
    #[serde(default)]
    health_issues: Vec<HealthIssueIn>,
    #[serde(default)]
    identity_accounts: Vec<IdentityAccountIn>,
    #[serde(default)]
    auto_auditing_configuration: Option<AutoAuditingIn>,
    /// `false`: the tenant has no Defender for Identity until its first sensor enrols.
    #[serde(default)]
    onboarded: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AutoAuditingIn {
    is_automatic: bool,
}

/// An identity as Graph shows it; `id` and each account's `actions` may be left out (a
/// generated id; the actions its source system offers).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdentityAccountIn {
    #[serde(default)]
    id: Option<String>,
    display_name: String,
    domain: String,
    #[serde(default = "yes")]
    is_enabled: bool,
    #[serde(default)]
    cloud_security_identifier: Option<String>,
    #[serde(default)]
    on_premises_security_identifier: Option<String>,
    accounts: Vec<AccountIn>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccountIn {
    identifier: String,
    identity_provider: IdentityProvider,
    #[serde(default)]
    actions: Option<Vec<AccountAction>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsIn {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    domain_controller_dns_names: Vec<String>,
    #[serde(default)]
    is_delayed_deployment_enabled: bool,
    /// The adapters the sensor reports (spec §7.1).
    #[serde(default)]
    network_adapters: Vec<NetworkAdapterIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NetworkAdapterIn {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default = "yes")]
    is_enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SensorIn {
    #[serde(default)]
    id: Option<String>,
    display_name: String,
    domain_name: String,
    sensor_type: SensorType,
    version: String,
    #[serde(default)]
    deployment_status: Option<DeploymentStatus>,
    #[serde(default)]
    service_status: Option<ServiceStatus>,
    #[serde(default)]
    created_date_time: Option<String>,
    #[serde(default)]
    settings: Option<SettingsIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CandidateIn {
    #[serde(default)]
    id: Option<String>,
    computer_dns_name: String,
    sense_client_version: String,
    #[serde(default)]
    last_seen_date_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HealthIssueIn {
    #[serde(default)]
    id: Option<String>,
    display_name: String,
    #[serde(default)]
    description: Option<String>,
    health_issue_type: HealthIssueType,
    severity: HealthIssueSeverity,
    #[serde(default)]
    status: Option<HealthIssueStatus>,
    #[serde(default)]
    issue_type_id: Option<String>,
    #[serde(default)]
    domain_names: Vec<String>,
    #[serde(default, rename = "sensorDNSNames")]
    sensor_dns_names: Vec<String>,
    #[serde(default)]
    additional_information: Vec<String>,
    #[serde(default)]
    recommendations: Vec<String>,
    #[serde(default)]
    recommended_action_commands: Vec<String>,
    #[serde(default)]
    created_date_time: Option<String>,
    #[serde(default)]
    last_modified_date_time: Option<String>,
}

fn when(path: String, text: Option<&str>, now: Timestamp) -> Result<Timestamp, FixtureError> {
    match text {
        None => Ok(now),
        Some(t) => parse_timestamp(t).ok_or(FixtureError {
            path,
            message: format!("'{t}' is not an ISO 8601 date-time"),
        }),
    }
}

fn not_unknown<T: PartialEq + std::fmt::Display>(
    path: String,
    value: T,
    unknown: T,
) -> Result<T, FixtureError> {
    if value == unknown {
        return Err(FixtureError {
            path,
            message: "'unknownFutureValue' cannot be stored".into(),
        });
    }
    Ok(value)
}

/// Parses a fixture; returns the tenant it names (if any) and its entities.
pub fn parse_fixture(
    text: &str,
    now: Timestamp,
) -> Result<(Option<String>, Fixture), FixtureError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let file: FixtureFile = serde_path_to_error::deserialize(de).map_err(|e| FixtureError {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    let mut fixture = Fixture {
        activation_mode: file.activation_mode,
        ..Default::default()
    };
    for (i, s) in file.sensors.into_iter().enumerate() {
        let at = |field: &str| format!("sensors[{i}].{field}");
        if s.display_name.trim().is_empty() {
            return Err(FixtureError {
                path: at("displayName"),
                message: "must not be empty".into(),
            });
        }
        let mut settings = s.settings.unwrap_or(SettingsIn {
            description: None,
            domain_controller_dns_names: vec![],
            is_delayed_deployment_enabled: false,
            network_adapters: vec![],
        });
        let sensor_id = s.id.unwrap_or_else(|| SensorId::generate().to_string());
        if !settings.network_adapters.is_empty() {
            let adapters = std::mem::take(&mut settings.network_adapters)
                .into_iter()
                .enumerate()
                .map(|(n, a)| picket_store::network_adapters::NetworkAdapter {
                    id: a.id.unwrap_or_else(|| format!("{}", n + 1)),
                    name: a.name,
                    is_enabled: a.is_enabled,
                })
                .collect();
            fixture.network_adapters.push((sensor_id.clone(), adapters));
        }
        fixture.sensors.push(Sensor {
            id: SensorId::new(sensor_id),
            created_date_time: when(at("createdDateTime"), s.created_date_time.as_deref(), now)?,
            deployment_status: not_unknown(
                at("deploymentStatus"),
                s.deployment_status.unwrap_or(DeploymentStatus::UpToDate),
                DeploymentStatus::UnknownFutureValue,
            )?,
            display_name: s.display_name,
            domain_name: s.domain_name,
            health_status: SensorHealthStatus::Healthy,
            open_health_issues_count: 0,
            sensor_type: not_unknown(
                at("sensorType"),
                s.sensor_type,
                SensorType::UnknownFutureValue,
            )?,
            service_status: not_unknown(
                at("serviceStatus"),
                s.service_status.unwrap_or(ServiceStatus::Running),
                ServiceStatus::UnknownFutureValue,
            )?,
            settings: SensorSettings {
                description: settings.description,
                domain_controller_dns_names: settings.domain_controller_dns_names,
                is_delayed_deployment_enabled: settings.is_delayed_deployment_enabled,
            },
            version: s.version,
        });
    }
    for (i, c) in file.sensor_candidates.into_iter().enumerate() {
        let at = |field: &str| format!("sensorCandidates[{i}].{field}");
        if !c.computer_dns_name.contains('.') {
            return Err(FixtureError {
                path: at("computerDnsName"),
                message: "must be a fully qualified DNS name".into(),
            });
        }
        fixture.candidates.push(SensorCandidate {
            id: CandidateId::new(c.id.unwrap_or_else(|| CandidateId::generate().to_string())),
            computer_dns_name: c.computer_dns_name,
            last_seen_date_time: when(
                at("lastSeenDateTime"),
                c.last_seen_date_time.as_deref(),
                now,
            )?,
            sense_client_version: c.sense_client_version,
        });
    }
    for (i, h) in file.health_issues.into_iter().enumerate() {
        let at = |field: &str| format!("healthIssues[{i}].{field}");
        let created = when(at("createdDateTime"), h.created_date_time.as_deref(), now)?;
        fixture.health_issues.push(HealthIssue {
            id: HealthIssueId::new(h.id.unwrap_or_else(|| HealthIssueId::generate().to_string())),
            additional_information: h.additional_information,
            created_date_time: created,
            description: h.description.unwrap_or_else(|| h.display_name.clone()),
            display_name: h.display_name,
            domain_names: h.domain_names,
            health_issue_type: not_unknown(
                at("healthIssueType"),
                h.health_issue_type,
                HealthIssueType::UnknownFutureValue,
            )?,
            issue_type_id: h.issue_type_id.unwrap_or_default(),
            last_modified_date_time: when(
                at("lastModifiedDateTime"),
                h.last_modified_date_time.as_deref(),
                created,
            )?,
            recommendations: h.recommendations,
            recommended_action_commands: h.recommended_action_commands,
            sensor_dns_names: h.sensor_dns_names,
            severity: not_unknown(
                at("severity"),
                h.severity,
                HealthIssueSeverity::UnknownFutureValue,
            )?,
            status: not_unknown(
                at("status"),
                h.status.unwrap_or(HealthIssueStatus::Open),
                HealthIssueStatus::UnknownFutureValue,
            )?,
        });
    }
    for (i, a) in file.identity_accounts.into_iter().enumerate() {
        let at = |field: &str| format!("identityAccounts[{i}].{field}");
        if a.accounts.is_empty() {
            return Err(FixtureError {
                path: at("accounts"),
                message: "an identity has at least one account".into(),
            });
        }
        let mut accounts = Vec::with_capacity(a.accounts.len());
        for (j, acc) in a.accounts.into_iter().enumerate() {
            let provider = not_unknown(
                at(&format!("accounts[{j}].identityProvider")),
                acc.identity_provider,
                IdentityProvider::UnknownFutureValue,
            )?;
            accounts.push(picket_domain::identity_accounts::Account {
                identifier: acc.identifier,
                identity_provider: provider,
                actions: acc
                    .actions
                    .unwrap_or_else(|| picket_domain::identity_accounts::actions_of(provider)),
            });
        }
        fixture
            .identity_accounts
            .push(picket_domain::identity_accounts::IdentityAccount {
                id: a.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                display_name: a.display_name,
                domain: a.domain,
                is_enabled: a.is_enabled,
                cloud_security_identifier: a.cloud_security_identifier,
                on_premises_security_identifier: a.on_premises_security_identifier,
                accounts,
            });
    }
    fixture.auto_auditing = file.auto_auditing_configuration.map(|c| c.is_automatic);
    fixture.onboarded = file.onboarded;
    Ok((file.tenant_id, fixture))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> FixtureError {
        parse_fixture(text, chrono::Utc::now()).expect_err("should be rejected")
    }

    #[test]
    fn names_the_bad_field() {
        let e = err(
            r#"{"sensors": [{"displayName": "DC1", "domainName": "a.b", "sensorType": "nope", "version": "2.1"}]}"#,
        );
        assert_eq!(e.path, "sensors[0].sensorType");
        let e = err(
            r#"{"healthIssues": [{"displayName": "x", "healthIssueType": "global", "severity": "high", "createdDateTime": "soon"}]}"#,
        );
        assert_eq!(e.path, "healthIssues[0].createdDateTime");
        let e = err(
            r#"{"sensors": [{"displayName": "DC1", "domainName": "a.b", "sensorType": "adfsIntegrated", "version": "2.1", "colour": 1}]}"#,
        );
        assert!(e.path.starts_with("sensors[0]"), "{}", e.path);
        let e = err(
            r#"{"sensorCandidates": [{"computerDnsName": "host", "senseClientVersion": "1"}]}"#,
        );
        assert_eq!(e.path, "sensorCandidates[0].computerDnsName");
    }

    #[test]
    fn parses_a_good_fixture() {
        let (tenant, f) = parse_fixture(
            r#"{"tenantId": "t", "activationMode": "Automated",
                "sensors": [{"displayName": "DC1", "domainName": "contoso.com", "sensorType": "domainControllerIntegrated", "version": "2.239.1.1", "settings": {"isDelayedDeploymentEnabled": true}}],
                "healthIssues": [{"displayName": "x", "healthIssueType": "Global", "severity": "low", "sensorDNSNames": ["DC1.contoso.com"]}]}"#,
            chrono::Utc::now(),
        )
        .expect("valid");
        assert_eq!(tenant.as_deref(), Some("t"));
        assert_eq!(f.activation_mode, Some(ActivationMode::Automated));
        assert!(f.sensors[0].settings.is_delayed_deployment_enabled);
        assert_eq!(
            f.health_issues[0].health_issue_type,
            HealthIssueType::Global
        );
        assert_eq!(f.health_issues[0].status, HealthIssueStatus::Open);
    }
}
