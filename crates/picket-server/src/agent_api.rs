//! The sensor agent protocol, `/agent/v1` (JSON over HTTP/HTTPS), and the admin clock.
//!
//! - `POST /agent/v1/enroll` — a classic sensor enrolls with its tenant's deployment access key
//!   and gets its own credential (shown once; stored as a SHA-256 hash: it is 256 random bits).
//! - `POST /agent/v1/candidates/report` — a machine onboarded to endpoint protection waits
//!   for activation.
//! - `POST /agent/v1/tenants/{tenant}/sensors/{id}/checkIn` — with `Authorization: Bearer
//!   <credential>`: the sensor reports; the answer carries the desired settings, any command
//!   (update, stop, migrate) and when to check in next.
//! - `POST /admin/v1/clock/advance` — only with `--clock manual`: moves time and sweeps.
//!
//! The bodies are `picket-protocol`'s types (shared with the agent; its crate doc has the
//! compatibility rule): requests are decoded strictly (an unknown field is a 400), then checked
//! against the domain's bounds here. Errors are `{"error": {"code", "message"}}` with 400, 401
//! or 404.

use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use picket_domain::identity_accounts::ReportedAccount;
use picket_domain::limits;
use picket_domain::time::format_timestamp;
use picket_domain::{
    HealthIssueSeverity, IdentityProvider, SensorId, SensorType, ServiceStatus, TenantId,
};
use picket_protocol as wire;
use picket_store::fleet::*;
use picket_store::network_adapters::NetworkAdapter;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The `/agent/v1` routes; every answer names the protocol version it speaks.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route(wire::ENROLL_PATH, post(enroll))
        .route(wire::CANDIDATE_REPORT_PATH, post(report_candidate))
        .route(wire::CHECK_IN_ROUTE, post(check_in))
        .layer(axum::middleware::map_response(
            |mut r: Response| async move {
                r.headers_mut().insert(
                    wire::VERSION_HEADER,
                    axum::http::HeaderValue::from(wire::PROTOCOL_VERSION),
                );
                r
            },
        ))
}

/// Why an agent or admin call was refused: Graph's envelope (`{"error": {"code", "message",
/// "innerError"}}`) with its status.
#[derive(Debug)]
pub struct AgentError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for `Retry-After` (429, 503).
    retry_after: Option<u64>,
}

impl IntoResponse for AgentError {
    fn into_response(self) -> Response {
        // The id of the request's span, so the answer and the log name the same request.
        let request_id = crate::request_scope::current_or_new();
        let body = wire::ErrorBody {
            error: wire::ErrorDetail {
                code: self.code.into(),
                message: self.message,
                inner_error: Some(wire::InnerError {
                    date: picket_domain::time::format_error_date(&chrono::Utc::now()),
                    request_id: request_id.clone(),
                }),
            },
        };
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(&request_id) {
            r.headers_mut().insert("request-id", v);
        }
        let retry_after = self
            .retry_after
            .or((self.status == StatusCode::SERVICE_UNAVAILABLE).then_some(5));
        if let Some(secs) = retry_after {
            r.headers_mut()
                .insert("Retry-After", axum::http::HeaderValue::from(secs));
        }
        r
    }
}

pub(crate) fn error(
    status: StatusCode,
    code: &'static str,
    message: impl Into<String>,
) -> AgentError {
    AgentError {
        status,
        code,
        message: message.into(),
        retry_after: None,
    }
}

impl AgentError {
    /// 429 with `Retry-After`, as Graph answers a throttled call.
    pub(crate) fn throttled(retry_after_secs: u64) -> Self {
        AgentError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "TooManyRequests",
            message: format!("Too many requests; retry after {retry_after_secs} s"),
            retry_after: Some(retry_after_secs),
        }
    }
}

fn unavailable(state: &AppState, e: picket_store::StoreError) -> AgentError {
    tracing::error!(error = %e, "agent request failed");
    state.metrics.store_error(&e);
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "The service is temporarily unavailable; retry later",
    )
}

/// Parses a JSON body into `T`, answering 400 with the path of the bad field.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AgentError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("invalid body at '{}': {}", e.path(), e.inner()),
        )
    })
}

/// Every agent body decoder over the same bytes (the fuzz targets' entry): true if any accepts.
pub(crate) fn decode_bodies(data: &[u8]) -> bool {
    let enroll = parse::<wire::EnrollRequest>(data).is_ok();
    let candidate = parse::<wire::CandidateReport>(data).is_ok();
    let check_in = decode_check_in(data).is_ok();
    enroll || candidate || check_in
}

fn credential_hash(credential: &str) -> String {
    Sha256::digest(credential.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_credential() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn enroll(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    body: axum::body::Bytes,
) -> Result<Response, AgentError> {
    let body: wire::EnrollRequest = parse(&body)?;
    let Some(tenant) = TenantId::parse(&body.tenant_id) else {
        return Err(bad("tenantId must be a GUID"));
    };
    let source = crate::edge::source_ip(&extensions);
    check_failures(&state, source, &tenant)?;
    let Some(sensor_type) =
        SensorType::parse(&body.sensor_type).filter(|t| *t != SensorType::UnknownFutureValue)
    else {
        return Err(bad(format!("unknown sensorType '{}'", body.sensor_type)));
    };
    let name =
        limits::host_name("computerDnsName", &body.computer_dns_name).map_err(out_of_bounds)?;
    limits::version("version", &body.version).map_err(out_of_bounds)?;
    if body.access_key.len() > limits::MAX_ACCESS_KEY_LEN {
        return Err(bad(format!(
            "accessKey is longer than {} characters",
            limits::MAX_ACCESS_KEY_LEN
        )));
    }
    if !picket_domain::fleet::releases::is_classic_version(&body.version) {
        return Err(bad(
            "version must be a classic sensor version (2.x); unified sensors are activated, not enrolled",
        ));
    }
    let credential = new_credential();
    let request = EnrollRequest {
        computer_dns_name: name,
        sensor_type,
        version: body.version,
    };
    let now = state.clock.now();
    let outcome = state
        .store
        .enroll(
            &tenant,
            &body.access_key,
            &request,
            &credential_hash(&credential),
            now,
            &state.fleet.policy(),
        )
        .await
        .map_err(|e| unavailable(&state, e))?;
    match outcome {
        Ok(enrolled) => {
            state.metrics.enrolment(if enrolled.reinstalled {
                "reinstalled"
            } else {
                "enrolled"
            });
            // A tenant's first sensor onboards it (spec §7.5).
            state
                .onboarding
                .onboard(state.store.as_ref(), &tenant)
                .await
                .map_err(|e| unavailable(&state, e))?;
            Ok((
                if enrolled.reinstalled {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                axum::Json(wire::EnrollAnswer {
                    tenant_id: tenant.as_str().into(),
                    sensor_id: enrolled.sensor.id.as_str().into(),
                    credential: wire::Credential(credential),
                    reinstalled: enrolled.reinstalled,
                    check_in_interval_seconds: state.fleet.check_in_interval_secs,
                }),
            )
                .into_response())
        }
        Err(_) => {
            state.metrics.enrolment("refused");
            Err(wrong_access_key(&state, source, &tenant, "enrollSensor").await)
        }
    }
}

/// Refuses a source or tenant that has failed too many credentials lately (429).
fn check_failures(
    state: &AppState,
    source: Option<std::net::IpAddr>,
    tenant: &TenantId,
) -> Result<(), AgentError> {
    state
        .throttle
        .failures
        .check(source, tenant.as_str())
        .map_err(|t| {
            state.metrics.throttled(crate::throttle::FAILED_CREDENTIALS);
            AgentError {
                message: format!(
                    "Too many failed attempts with a wrong access key; retry after {} s",
                    t.retry_after_secs
                ),
                ..AgentError::throttled(t.retry_after_secs)
            }
        })
}

/// A wrong deployment access key: counted against its source and tenant, and audited.
async fn wrong_access_key(
    state: &AppState,
    source: Option<std::net::IpAddr>,
    tenant: &TenantId,
    operation: &str,
) -> AgentError {
    state.throttle.failures.record(source, tenant.as_str());
    let request_id = uuid::Uuid::new_v4().to_string();
    let entry = picket_store::NewAuditEntry {
        time: state.clock.now(),
        tenant: tenant.clone(),
        actor: source.map_or_else(|| "agent".into(), |ip| format!("agent:{ip}")),
        operation: operation.into(),
        target: "deploymentAccessKey".into(),
        result: "401 InvalidAccessKey".into(),
        request_id,
        detail: None,
    };
    crate::audit::record(state, &entry).await;
    error(
        StatusCode::UNAUTHORIZED,
        "InvalidAccessKey",
        "The deployment access key is not valid for this tenant",
    )
}

fn out_of_bounds(e: limits::OutOfBounds) -> AgentError {
    bad(e.to_string())
}

/// `POST /agent/v1/candidates/report`: a machine onboarded to endpoint protection reports
/// itself. 202 while it waits in `sensorCandidates`; 200 once activated, with its sensor
/// credential the first time.
pub async fn report_candidate(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    body: axum::body::Bytes,
) -> Result<Response, AgentError> {
    let body: wire::CandidateReport = parse(&body)?;
    let tenant = TenantId::parse(&body.tenant_id).ok_or_else(|| bad("tenantId must be a GUID"))?;
    let source = crate::edge::source_ip(&extensions);
    check_failures(&state, source, &tenant)?;
    let name =
        limits::host_name("computerDnsName", &body.computer_dns_name).map_err(out_of_bounds)?;
    let name = name.as_str();
    limits::version("senseClientVersion", &body.sense_client_version).map_err(out_of_bounds)?;
    if body.access_key.len() > limits::MAX_ACCESS_KEY_LEN {
        return Err(bad(format!(
            "accessKey is longer than {} characters",
            limits::MAX_ACCESS_KEY_LEN
        )));
    }
    if picket_domain::fleet::releases::version_parts(&body.sense_client_version).len() < 2 {
        return Err(bad("senseClientVersion must look like 10.8760.19041.1000"));
    }
    let credential = new_credential();
    let outcome = state
        .store
        .report_candidate(
            &tenant,
            &body.access_key,
            name,
            &body.sense_client_version,
            &credential_hash(&credential),
            state.clock.now(),
        )
        .await
        .map_err(|e| unavailable(&state, e))?;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(_) => {
            return Err(wrong_access_key(&state, source, &tenant, "reportSensorCandidate").await)
        }
    };
    let interval = state.fleet.check_in_interval_secs;
    Ok(match outcome {
        CandidateOutcome::Waiting { candidate } => (
            StatusCode::ACCEPTED,
            axum::Json(wire::CandidateAnswer::Waiting {
                candidate_id: candidate.as_str().into(),
                next_report_seconds: interval,
            }),
        )
            .into_response(),
        CandidateOutcome::Activated {
            sensor,
            credential_issued,
        } => axum::Json(wire::CandidateAnswer::Activated {
            tenant_id: tenant.as_str().into(),
            sensor_id: sensor.as_str().into(),
            credential: credential_issued.then_some(wire::Credential(credential)),
            check_in_interval_seconds: interval,
        })
        .into_response(),
    })
}

/// At most this many directory accounts per check-in.
const MAX_DIRECTORY_ACCOUNTS: usize = 1000;

/// At most this many adapters per sensor.
const MAX_ADAPTERS: usize = 32;

fn adapters_from(body: Vec<wire::NetworkAdapter>) -> Result<Vec<NetworkAdapter>, AgentError> {
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

fn bad(message: impl Into<String>) -> AgentError {
    error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// The accounts a domain controller read, within their bounds, with their providers named.
fn directory_from(
    accounts: Vec<wire::DirectoryAccount>,
) -> Result<Vec<ReportedAccount>, AgentError> {
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
struct CheckIn {
    report: CheckInReport,
    action_results: Vec<wire::ActionResult>,
    migration: Option<wire::MigrationReport>,
    adapters: Option<Vec<NetworkAdapter>>,
    directory: Option<Vec<ReportedAccount>>,
}

fn decode_check_in(body: &[u8]) -> Result<CheckIn, AgentError> {
    let mut body = parse::<wire::CheckInRequest>(body)?;
    if body.account_action_results.len() > crate::account_actions::MAX_RESULTS {
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

fn report_from(body: wire::CheckInRequest) -> Result<CheckInReport, AgentError> {
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
) -> Result<Response, AgentError> {
    let started = std::time::Instant::now();
    let refused = || {
        error(
            StatusCode::UNAUTHORIZED,
            "InvalidCredential",
            "Unknown sensor or wrong credential",
        )
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
        picket_store::network_adapters::put(
            state.store.as_ref(),
            &tenant,
            &[(sensor.id.to_string(), adapters)],
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
            crate::account_actions::exchange(&state, &tenant, sensor, action_results, now)
                .await
                .map_err(|e| unavailable(&state, e))?,
            crate::migrations::exchange(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    /// `90s`, `11m`, `2h`, `3d`.
    by: String,
}

/// `90s`, `11m`, `2h`, `3d`.
pub fn parse_step(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().ok().filter(|n| *n > 0 && *n <= 1_000_000)?;
    match unit {
        "s" => Some(chrono::Duration::seconds(n)),
        "m" => Some(chrono::Duration::minutes(n)),
        "h" => Some(chrono::Duration::hours(n)),
        "d" => Some(chrono::Duration::days(n)),
        _ => None,
    }
}

/// Moves the manual clock and sweeps at once, so the next read shows the new truth.
pub async fn advance_clock(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AgentError> {
    let Some(clock) = state.fleet.manual_clock.clone() else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The clock is the wall clock; start the server with --clock manual",
        ));
    };
    crate::admin::caller(&state, &headers, crate::admin::Needs::Write, "advanceClock").await?;
    let body: AdvanceBody = parse(&body)?;
    let Some(step) = parse_step(&body.by) else {
        return Err(bad(format!(
            "'{}' is not a step like 90s, 11m, 2h or 3d",
            body.by
        )));
    };
    let now = clock.advance(step);
    reload_releases(&state).await;
    let s = sweep(&state, now)
        .await
        .map_err(|e| unavailable(&state, e))?;
    Ok(axum::Json(json!({
        "now": format_timestamp(&now),
        "sweep": {"sensors": s.sensors, "statusChanges": s.status_changes, "issuesRaised": s.issues_raised,
                  "issuesReopened": s.issues_reopened, "issuesClosed": s.issues_closed},
    }))
    .into_response())
}

/// Sweeps every `interval` of wall time, so statuses follow silence without any request.
/// Replicas on one database take turns: each round is claimed in the store first, and a
/// replica that loses the claim skips it.
pub fn spawn_sweeper(
    state: AppState,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    let holder = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.store.claim_sweep(&holder, interval).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    state.metrics.store_error(&e);
                    tracing::warn!(error = %e, "cannot claim a fleet sweep");
                    continue;
                }
            }
            let now = state.clock.now();
            match sweep(&state, now).await {
                Ok(s)
                    if s.status_changes + s.issues_raised + s.issues_closed + s.issues_reopened
                        > 0 =>
                {
                    tracing::info!(
                        sensors = s.sensors,
                        status_changes = s.status_changes,
                        raised = s.issues_raised,
                        reopened = s.issues_reopened,
                        closed = s.issues_closed,
                        "fleet sweep"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    state.metrics.store_error(&e);
                    tracing::warn!(error = %e, "fleet sweep failed");
                }
            }
        }
    })
}

/// One sweep, timed for `/metrics`.
async fn sweep(
    state: &AppState,
    now: picket_domain::time::Timestamp,
) -> Result<SweepSummary, picket_store::StoreError> {
    let started = std::time::Instant::now();
    let summary = state.store.sweep(now, &state.fleet.policy()).await?;
    state.metrics.sweep(summary.sensors, started.elapsed());
    Ok(summary)
}

/// Re-reads the release catalogue (published with `picket releases publish`, maybe by another
/// process) into the policy check-ins and sweeps use.
pub async fn reload_releases(state: &AppState) {
    match state.store.releases().await {
        Ok(mut releases) => {
            if let Some(base) = &state.fleet.base_release {
                if !releases.iter().any(|(v, _)| v == base) {
                    // Known since start; treated as published long ago (due for every ring).
                    releases.push((base.clone(), chrono::DateTime::<chrono::Utc>::MIN_UTC));
                }
            }
            let catalogue = picket_domain::fleet::ReleaseCatalogue::with_dates(releases);
            if let Ok(mut policy) = state.fleet.policy.write() {
                policy.releases = catalogue;
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the release catalogue"),
    }
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
