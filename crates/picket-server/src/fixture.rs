//! Fixtures in Graph's own JSON shape (`picket seed FILE.json`, `--seed`): what users write to
//! set up the state their tests need. A bad fixture is refused whole, naming the field.

use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::*;
use picket_store::network_adapters::NetworkAdapter;
use picket_store::Fixture;
use serde::Deserialize;
use serde_json::{Map, Value};

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
    /// Read as the domain's `Sensor` (`sensor_from_json`), so a new property needs nothing here.
    #[serde(default)]
    sensors: Vec<Map<String, Value>>,
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
struct NetworkAdapterIn {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default = "yes")]
    is_enabled: bool,
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

/// A sensor in Graph's JSON, read through the domain's own `Sensor`: what a fixture may leave
/// out is filled in first (a generated id, now, `upToDate`, `running`), and the network
/// adapters, kept beside the sensor rather than in it, are taken out of its settings.
fn sensor_from_json(
    mut raw: Map<String, Value>,
    now: Timestamp,
    at: &str,
) -> Result<(Sensor, Vec<NetworkAdapter>), FixtureError> {
    let adapters: Vec<NetworkAdapterIn> = match raw
        .get_mut("settings")
        .and_then(Value::as_object_mut)
        .and_then(|settings| settings.remove("networkAdapters"))
    {
        Some(list) => serde_path_to_error::deserialize(list).map_err(|e| FixtureError {
            path: format!("{at}.settings.networkAdapters{}", index_path(e.path())),
            message: e.inner().to_string(),
        })?,
        None => Vec::new(),
    };
    let defaults = [
        ("id", SensorId::generate().to_string()),
        ("createdDateTime", format_timestamp(&now)),
        (
            "deploymentStatus",
            DeploymentStatus::UpToDate.as_str().into(),
        ),
        ("serviceStatus", ServiceStatus::Running.as_str().into()),
    ];
    for (name, value) in defaults {
        raw.entry(name).or_insert(Value::String(value));
    }
    let sensor: Sensor =
        serde_path_to_error::deserialize(Value::Object(raw)).map_err(|e| FixtureError {
            path: format!("{at}.{}", e.path()),
            message: e.inner().to_string(),
        })?;
    let field = |name: &str| format!("{at}.{name}");
    if sensor.display_name.trim().is_empty() {
        return Err(FixtureError {
            path: field("displayName"),
            message: "must not be empty".into(),
        });
    }
    not_unknown(
        field("deploymentStatus"),
        sensor.deployment_status,
        DeploymentStatus::UnknownFutureValue,
    )?;
    not_unknown(
        field("sensorType"),
        sensor.sensor_type,
        SensorType::UnknownFutureValue,
    )?;
    not_unknown(
        field("serviceStatus"),
        sensor.service_status,
        ServiceStatus::UnknownFutureValue,
    )?;
    let adapters = adapters
        .into_iter()
        .enumerate()
        .map(|(n, a)| NetworkAdapter {
            id: a.id.unwrap_or_else(|| format!("{}", n + 1)),
            name: a.name,
            is_enabled: a.is_enabled,
        })
        .collect();
    Ok((sensor, adapters))
}

/// `[2].name` for a path inside a list (serde_path_to_error starts it with the index).
fn index_path(path: &serde_path_to_error::Path) -> String {
    let path = path.to_string();
    if path == "." {
        String::new()
    } else if path.starts_with('[') {
        path
    } else {
        format!(".{path}")
    }
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
    for (i, raw) in file.sensors.into_iter().enumerate() {
        let (sensor, adapters) = sensor_from_json(raw, now, &format!("sensors[{i}]"))?;
        if !adapters.is_empty() {
            fixture
                .network_adapters
                .push((sensor.id.as_str().to_string(), adapters));
        }
        fixture.sensors.push(sensor);
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
