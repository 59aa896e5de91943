//! The sensor agent protocol, `/agent/v1` (JSON over HTTP/HTTPS), and the admin clock.
//!
//! - `POST /agent/v1/enroll` — a classic sensor enrolls with its tenant's deployment access key
//!   and gets its own credential (shown once; stored as a SHA-256 hash: it is 256 random bits).
//! - `POST /agent/v1/tenants/{tenant}/sensors/{id}/checkIn` — with `Authorization: Bearer
//!   <credential>`: the sensor reports; the answer carries the desired settings, any command
//!   (update, stop) and when to check in next.
//! - `POST /admin/v1/clock/advance` — only with `--clock manual`: moves time and sweeps.
//!
//! Errors are `{"error": {"code", "message"}}` with 400, 401 or 404.

use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use picket_domain::limits;
use picket_domain::time::format_timestamp;
use picket_domain::{HealthIssueSeverity, SensorId, SensorType, ServiceStatus, TenantId};
use picket_store::fleet::*;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

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
        let mut r = (
            self.status,
            axum::Json(json!({"error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": picket_domain::time::format_error_date(&chrono::Utc::now()),
                    "request-id": request_id,
                },
            }})),
        )
            .into_response();
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
    let enroll = parse::<EnrollBody>(data).is_ok();
    let candidate = parse::<CandidateBody>(data).is_ok();
    let check_in = parse::<CheckInBody>(data).and_then(report_from).is_ok();
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnrollBody {
    tenant_id: String,
    access_key: String,
    computer_dns_name: String,
    sensor_type: String,
    version: String,
}

pub async fn enroll(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    body: axum::body::Bytes,
) -> Result<Response, AgentError> {
    let body: EnrollBody = parse(&body)?;
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
                axum::Json(json!({
                    "tenantId": tenant.as_str(),
                    "sensorId": enrolled.sensor.id.as_str(),
                    "credential": credential,
                    "reinstalled": enrolled.reinstalled,
                    "checkInIntervalSeconds": state.fleet.check_in_interval_secs,
                })),
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
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "TooManyRequests",
                message: format!(
                    "Too many failed attempts with a wrong access key; retry after {} s",
                    t.retry_after_secs
                ),
                retry_after: Some(t.retry_after_secs),
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CandidateBody {
    tenant_id: String,
    access_key: String,
    computer_dns_name: String,
    sense_client_version: String,
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
    let body: CandidateBody = parse(&body)?;
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
    Ok(match outcome {
        CandidateOutcome::Waiting { candidate } => (
            StatusCode::ACCEPTED,
            axum::Json(
                json!({"state": "waiting", "candidateId": candidate.as_str(),
                              "nextReportSeconds": state.fleet.check_in_interval_secs}),
            ),
        )
            .into_response(),
        CandidateOutcome::Activated {
            sensor,
            credential_issued,
        } => axum::Json(json!({
            "state": "activated",
            "tenantId": tenant.as_str(),
            "sensorId": sensor.as_str(),
            "credential": credential_issued.then_some(credential),
            "checkInIntervalSeconds": state.fleet.check_in_interval_secs,
        }))
        .into_response(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateBody {
    state: String,
    target_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HostIssueBody {
    issue_type_id: String,
    display_name: String,
    severity: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CheckInBody {
    service_status: String,
    version: String,
    #[serde(default)]
    applied_settings_version: u64,
    update: Option<UpdateBody>,
    #[serde(default)]
    host_issues: Vec<HostIssueBody>,
    /// Outcomes of account actions carried out since the last check-in (newer agents).
    #[serde(default)]
    account_action_results: Vec<crate::account_actions::ActionResult>,
    /// A migration that failed (newer agents).
    #[serde(default)]
    migration: Option<crate::migrations::MigrationReport>,
    /// The host's network adapters, sent when they change (newer agents).
    #[serde(default)]
    network_adapters: Option<Vec<NetworkAdapterBody>>,
    /// The accounts of the domain, as a domain controller's sensor reads its directory.
    #[serde(default)]
    directory_accounts: Option<Vec<picket_domain::identity_accounts::ReportedAccount>>,
}

/// At most this many directory accounts per check-in.
const MAX_DIRECTORY_ACCOUNTS: usize = 1000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NetworkAdapterBody {
    id: String,
    name: String,
    #[serde(default = "enabled")]
    is_enabled: bool,
}

fn enabled() -> bool {
    true
}

/// At most this many adapters per sensor.
const MAX_ADAPTERS: usize = 32;

fn adapters_from(
    body: Vec<NetworkAdapterBody>,
) -> Result<Vec<picket_store::network_adapters::NetworkAdapter>, AgentError> {
    if body.len() > MAX_ADAPTERS {
        return Err(bad("at most 32 networkAdapters"));
    }
    body.into_iter()
        .map(|a| {
            if a.id.is_empty() || a.id.len() > 64 || a.name.is_empty() || a.name.len() > 256 {
                return Err(bad("networkAdapters need an id (≤ 64) and a name (≤ 256)"));
            }
            Ok(picket_store::network_adapters::NetworkAdapter {
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

fn report_from(body: CheckInBody) -> Result<CheckInReport, AgentError> {
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
    let mut body = parse::<CheckInBody>(&body)?;
    if body.account_action_results.len() > crate::account_actions::MAX_RESULTS {
        return Err(bad("at most 50 accountActionResults per check-in"));
    }
    let action_results = std::mem::take(&mut body.account_action_results);
    let migration_report = body.migration.take();
    let adapters = body
        .network_adapters
        .take()
        .map(adapters_from)
        .transpose()?;
    let directory = body.directory_accounts.take();
    if let Some(accounts) = &directory {
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
    }
    let report = report_from(body)?;
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
        None => (Vec::new(), Value::Null),
    };
    let command = match &answer.command {
        // A migration under way is this sensor's command until it settles.
        AgentCommand::None if !migration.is_null() => migration,
        AgentCommand::None => json!({"type": "none"}),
        AgentCommand::Update { version } => json!({"type": "update", "version": version}),
        AgentCommand::Stop => json!({"type": "stop"}),
    };
    let auto_auditing = state
        .auto_auditing
        .is_on(state.store.as_ref(), &tenant)
        .await
        .map_err(|e| unavailable(&state, e))?;
    let settings = answer.sensor.as_ref().map_or(Value::Null, |s| {
        json!({
            "description": s.settings.description,
            "domainControllerDnsNames": s.settings.domain_controller_dns_names,
            "isDelayedDeploymentEnabled": s.settings.is_delayed_deployment_enabled,
        })
    });
    state.metrics.check_in(answer.heartbeat, started.elapsed());
    Ok(axum::Json(json!({
        "desiredSettingsVersion": answer.desired_settings_version,
        "settings": settings,
        "command": command,
        "deploymentStatus": answer.sensor.as_ref().map(|s| s.deployment_status.as_str()),
        "nextCheckInSeconds": state.fleet.check_in_interval_secs,
        "serverTime": format_timestamp(&now),
        "accountActions": account_actions,
        // Sensors configure their hosts' auditing themselves while this is on (spec §7.3).
        "autoAuditing": auto_auditing,
    }))
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
    crate::admin::caller(&state, &headers, crate::admin::Needs::Write).await?;
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
    reported: &[picket_domain::identity_accounts::ReportedAccount],
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
