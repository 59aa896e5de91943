//! A sensor's check-in: what it reports (status, version, update, host issues, adapters, the
//! directory a domain controller reads, account action outcomes, its migration) is checked
//! against the domain's bounds and recorded in one write; the answer carries the desired
//! settings, the command and when to check in next.

use crate::agent::request::{bad, credential_hash, out_of_bounds, parse, unavailable};
use crate::agent::{account_actions, migrations};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use picket_domain::identity_accounts::ReportedAccount;
use picket_domain::limits;
use picket_domain::time::format_timestamp;
use picket_domain::{
    HealthIssueSeverity, IdentityProvider, SensorId, SensorType, ServiceStatus, TenantId,
};
use picket_protocol as wire;
use picket_store::fleet::*;
use picket_store::network_adapters::NetworkAdapter;

/// At most this many directory accounts per check-in.
const MAX_DIRECTORY_ACCOUNTS: usize = 1000;

/// At most this many adapters per sensor.
const MAX_ADAPTERS: usize = 32;

fn adapters_from(body: Vec<wire::NetworkAdapter>) -> Result<Vec<NetworkAdapter>, ApiError> {
    if body.len() > MAX_ADAPTERS {
        return Err(bad("at most 32 networkAdapters"));
    }
    body.into_iter()
        .map(|a| {
            if a.id.is_empty() || a.id.len() > 64 || a.name.is_empty() || a.name.len() > 256 {
                return Err(bad("networkAdapters need an id (≤ 64) and a name (≤ 256)"));
            }
            Ok(NetworkAdapter {
                id: a.id,
                name: a.name,
                is_enabled: a.is_enabled,
            })
        })
        .collect()
}

/// The accounts a domain controller read, within their bounds, with their providers named.
fn directory_from(accounts: Vec<wire::DirectoryAccount>) -> Result<Vec<ReportedAccount>, ApiError> {
    let bad_name = |t: &str| t.is_empty() || t.len() > 256;
    if accounts.len() > MAX_DIRECTORY_ACCOUNTS
        || accounts.iter().any(|a| {
            bad_name(&a.sam_account_name)
                || bad_name(&a.display_name)
                || a.sam_account_name.contains('@')
                || a.also.len() > 8
                || a.also.iter().any(|(_, id)| bad_name(id))
        })
    {
        return Err(bad(
            "directoryAccounts: at most 1000, each with a samAccountName (no '@') and a displayName of ≤ 256",
        ));
    }
    accounts
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let also = a
                .also
                .into_iter()
                .enumerate()
                .map(|(j, (provider, id))| match IdentityProvider::parse(&provider) {
                    Some(p) => Ok((p, id)),
                    None => Err(bad(format!(
                        "invalid body at 'directoryAccounts[{i}].also[{j}][0]': '{provider}' is not a valid IdentityProvider; expected one of: {}",
                        IdentityProvider::MEMBERS.join(", ")
                    ))),
                })
                .collect::<Result<_, _>>()?;
            Ok(ReportedAccount {
                sam_account_name: a.sam_account_name,
                display_name: a.display_name,
                is_enabled: a.is_enabled,
                on_premises_security_identifier: a.on_premises_security_identifier,
                also,
            })
        })
        .collect()
}

/// A check-in's body, decoded and checked: the report the store records, and what the
/// modules beside it take.
pub(crate) struct CheckIn {
    report: CheckInReport,
    action_results: Vec<wire::ActionResult>,
    migration: Option<wire::MigrationReport>,
    adapters: Option<Vec<NetworkAdapter>>,
    directory: Option<Vec<ReportedAccount>>,
}

pub(crate) fn decode_check_in(body: &[u8]) -> Result<CheckIn, ApiError> {
    let mut body = parse::<wire::CheckInRequest>(body)?;
    if body.account_action_results.len() > account_actions::MAX_RESULTS {
        return Err(bad("at most 50 accountActionResults per check-in"));
    }
    let action_results = std::mem::take(&mut body.account_action_results);
    let migration = body.migration.take();
    let adapters = body
        .network_adapters
        .take()
        .map(adapters_from)
        .transpose()?;
    let directory = body
        .directory_accounts
        .take()
        .map(directory_from)
        .transpose()?;
    Ok(CheckIn {
        report: report_from(body)?,
        action_results,
        migration,
        adapters,
        directory,
    })
}

fn report_from(body: wire::CheckInRequest) -> Result<CheckInReport, ApiError> {
    let service_status = ServiceStatus::parse(&body.service_status)
        .filter(|s| {
            !matches!(
                s,
                ServiceStatus::Unknown | ServiceStatus::UnknownFutureValue
            )
        })
        .ok_or_else(|| bad(format!("unknown serviceStatus '{}'", body.service_status)))?;
    limits::version("version", &body.version).map_err(out_of_bounds)?;
    if picket_domain::fleet::releases::version_parts(&body.version).len() < 2 {
        return Err(bad("version must look like 2.239.18124.58593"));
    }
    if let Some(target) = body
        .update
        .as_ref()
        .and_then(|u| u.target_version.as_deref())
    {
        limits::version("update.targetVersion", target).map_err(out_of_bounds)?;
    }
    let update = match body.update {
        None => UpdateReport::Idle,
        Some(u) => match (u.state.as_str(), u.target_version) {
            ("idle", _) => UpdateReport::Idle,
            ("inProgress", Some(target)) => UpdateReport::InProgress { target },
            ("failed", Some(target)) => UpdateReport::Failed { target },
            (state, _) => {
                return Err(bad(format!(
                "update.state '{state}' needs targetVersion; states are idle, inProgress, failed"
            )))
            }
        },
    };
    if body.host_issues.len() > 50 {
        return Err(bad("at most 50 hostIssues per check-in"));
    }
    let host_issues = body
        .host_issues
        .into_iter()
        .map(|h| {
            let severity = HealthIssueSeverity::parse(&h.severity)
                .filter(|s| *s != HealthIssueSeverity::UnknownFutureValue)
                .ok_or_else(|| bad(format!("unknown severity '{}'", h.severity)))?;
            if h.issue_type_id.is_empty()
                || h.issue_type_id.len() > 64
                || h.display_name.is_empty()
                || h.display_name.len() > 256
            {
                return Err(bad(
                    "hostIssues need an issueTypeId (≤ 64) and a displayName (≤ 256)",
                ));
            }
            Ok(HostIssue {
                issue_type_id: h.issue_type_id,
                display_name: h.display_name,
                severity,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(CheckInReport {
        service_status,
        version: body.version,
        applied_settings_version: body.applied_settings_version,
        update,
        host_issues,
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

pub async fn check_in(
    State(state): State<AppState>,
    Path((tenant, sensor)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let refused = || ApiError::Coded {
        status: 401,
        code: "InvalidCredential",
        message: "Unknown sensor or wrong credential".into(),
        retry_after: None,
    };
    let (Some(tenant), Some(credential)) = (TenantId::parse(&tenant), bearer(&headers)) else {
        return Err(refused());
    };
    let CheckIn {
        report,
        action_results,
        migration: migration_report,
        adapters,
        directory,
    } = decode_check_in(&body)?;
    let now = state.clock.now();
    let answer = match state
        .store
        .check_in(
            &tenant,
            &SensorId::new(sensor),
            &credential_hash(credential),
            &report,
            now,
            &state.fleet.policy(),
        )
        .await
    {
        Ok(Ok(a)) => a,
        Ok(Err(_)) => return Err(refused()),
        Err(e) => return Err(unavailable(&state, e)),
    };
    if let (Some(adapters), Some(sensor)) = (adapters, &answer.sensor) {
        picket_store::network_adapters::report(
            state.store.as_ref(),
            &tenant,
            &sensor.id,
            &adapters,
        )
        .await
        .map_err(|e| unavailable(&state, e))?;
    }
    if let (Some(reported), Some(sensor)) = (directory, &answer.sensor) {
        directory_report(&state, &tenant, sensor, &reported)
            .await
            .map_err(|e| unavailable(&state, e))?;
    }
    let (account_actions, migration) = match &answer.sensor {
        Some(sensor) => (
            account_actions::exchange(&state, &tenant, sensor, action_results, now)
                .await
                .map_err(|e| unavailable(&state, e))?,
            migrations::exchange(
                &state,
                &tenant,
                sensor,
                &report.version,
                migration_report,
                now,
            )
            .await
            .map_err(|e| unavailable(&state, e))?,
        ),
        None => (Vec::new(), None),
    };
    let command = match answer.command {
        // A migration under way is this sensor's command until it settles.
        AgentCommand::None => migration.unwrap_or(wire::Command::None),
        AgentCommand::Update { version } => wire::Command::Update { version },
        AgentCommand::Stop => wire::Command::Stop,
    };
    let auto_auditing = state
        .auto_auditing
        .is_on(state.store.as_ref(), &tenant)
        .await
        .map_err(|e| unavailable(&state, e))?;
    let (settings, deployment_status) = answer.sensor.map_or((None, None), |s| {
        (
            Some(wire::Settings {
                description: s.settings.description,
                domain_controller_dns_names: s.settings.domain_controller_dns_names,
                is_delayed_deployment_enabled: s.settings.is_delayed_deployment_enabled,
            }),
            Some(s.deployment_status.as_str().to_string()),
        )
    });
    state.metrics.check_in(answer.heartbeat, started.elapsed());
    Ok(axum::Json(wire::CheckInAnswer {
        desired_settings_version: answer.desired_settings_version,
        settings,
        command,
        deployment_status,
        next_check_in_seconds: state.fleet.check_in_interval_secs,
        server_time: format_timestamp(&now),
        account_actions,
        // Sensors configure their hosts' auditing themselves while this is on (spec §7.3).
        auto_auditing,
    })
    .into_response())
}

/// Folds a domain controller's report of its directory into the tenant's identity accounts.
async fn directory_report(
    state: &AppState,
    tenant: &TenantId,
    sensor: &picket_domain::Sensor,
    reported: &[ReportedAccount],
) -> Result<(), picket_store::StoreError> {
    if !matches!(
        sensor.sensor_type,
        SensorType::DomainControllerIntegrated | SensorType::DomainControllerStandalone
    ) {
        return Ok(());
    }
    let known = picket_store::identity_accounts::list(state.store.as_ref(), tenant).await?;
    let changed =
        picket_domain::identity_accounts::merge_reported(&known, &sensor.domain_name, reported);
    if !changed.is_empty() {
        picket_store::identity_accounts::put_all(state.store.as_ref(), tenant, &changed).await?;
        tracing::info!(tenant = %tenant, sensor = %sensor.id, identities = changed.len(), "directory report");
    }
    Ok(())
}
