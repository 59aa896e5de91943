//! What the console reads outside the Graph API: who is signed in and what they may do
//! (decided by the same authorization as the API's operations), the fleet in numbers, and the
//! audit log. Same authentication, throttling and error envelope as Graph requests.

use crate::context::RequestIds;
use crate::dispatch::authorize;
use crate::error::ApiError;
use crate::response::GraphResponse;
use crate::routes::Operation;
use crate::state::AppState;
use crate::throttle::Class;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use picket_auth::{Caller, Principal};
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_store::AuditQuery;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Most audit entries one page shows.
const MAX_AUDIT_PAGE: u32 = 200;

fn answer(result: Result<serde_json::Value, ApiError>, ids: &RequestIds) -> Response {
    let response = match result {
        Ok(v) => GraphResponse::json(200, v),
        Err(e) => {
            if e.status() >= 500 {
                tracing::error!(request_id = %ids.request_id, error = %e, "console request failed");
            }
            GraphResponse::error(&e, &ids.request_id, &ids.client_request_id)
        }
    };
    let mut http = crate::http::to_http_parts(response, ids).map(axum::body::Body::from);
    super::harden(http.headers_mut());
    http
}

/// The caller of a console request: a valid token, not throttled, allowed `needs`.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    needs: &Operation,
) -> Result<Arc<Caller>, ApiError> {
    let header = headers.get("authorization").and_then(|v| v.to_str().ok());
    let caller = state
        .verifier
        .verify_header(header, crate::state::wall_clock_secs())
        .await?;
    state
        .throttle
        .check(caller.tenant.as_str(), caller.app_id(), Class::Read)?;
    authorize(&caller, needs)?;
    Ok(caller)
}

fn ids(headers: &HeaderMap) -> RequestIds {
    RequestIds::new(
        headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok()),
    )
}

/// What the signed-in caller may do, one flag per kind of control the console shows; each is
/// the API's own decision for a representative operation.
fn abilities(caller: &Caller) -> serde_json::Value {
    let can = |op: Operation| authorize(caller, &op).is_ok();
    json!({
        "readSensors": can(Operation::ListSensors),
        "manageSensors": can(Operation::ActivateSensorCandidates),
        "readHealth": can(Operation::ListHealthIssues),
        "manageHealth": can(Operation::UpdateHealthIssue(picket_domain::HealthIssueId::new("x"))),
        "accessKey": can(Operation::GetDeploymentAccessKey),
        "readAuditing": can(Operation::GetAutoAuditingConfiguration),
        "configureAuditing": can(Operation::UpdateAutoAuditingConfiguration),
        "readAccounts": can(Operation::ListIdentityAccounts),
        "accountActions": can(Operation::InvokeAccountAction("x".into())),
        "readMigrations": can(Operation::ListSensorMigrations),
        "migrate": can(Operation::MigrateSensors),
        "readAuditLog": can(Operation::ListSensors),
    })
}

/// `GET /console/api/config`: what the sign-in needs before there is a token (public).
pub(super) async fn config(headers: HeaderMap) -> Response {
    let ids = ids(&headers);
    answer(
        Ok(json!({
            "clientId": picket_auth::CONSOLE_CLIENT_ID,
            // Everything the user's directory roles allow; the token service narrows it.
            "scopes": ["https://graph.microsoft.com/.default"],
        })),
        &ids,
    )
}

/// `GET /console/api/session`: who the token is and what the console may offer them.
pub(super) async fn session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ids = ids(&headers);
    let result = async {
        let header = headers.get("authorization").and_then(|v| v.to_str().ok());
        let caller = state
            .verifier
            .verify_header(header, crate::state::wall_clock_secs())
            .await?;
        let tenant = state.store.find_tenant(&caller.tenant).await?;
        let user = match &caller.principal {
            Principal::User { object_id, .. } => state
                .store
                .find_user(&caller.tenant, object_id)
                .await?
                .map(|u| {
                    json!({
                        "id": u.object_id,
                        "userPrincipalName": u.user_principal_name,
                        "displayName": u.display_name,
                    })
                }),
            Principal::App { .. } => None,
        };
        let permissions: Vec<&str> = picket_auth::Permission::ALL
            .into_iter()
            .filter(|p| caller.has_any(&[*p]))
            .map(|p| p.name())
            .collect();
        let roles: Vec<&str> = caller.roles.iter().map(|r| r.display_name()).collect();
        Ok(json!({
            "tenantId": caller.tenant.as_str(),
            "tenantName": tenant.map(|t| t.display_name),
            "actor": caller.actor(),
            "user": user,
            "roles": roles,
            "permissions": permissions,
            "can": abilities(&caller),
        }))
    }
    .await;
    answer(result, &ids)
}

/// `GET /console/api/overview`: the fleet in numbers and the published releases.
pub(super) async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ids = ids(&headers);
    let result = async {
        let caller = caller(&state, &headers, &Operation::ListSensors).await?;
        let summary =
            picket_store::fleet_summary::fleet_summary(state.store.as_ref(), &caller.tenant)
                .await?;
        let releases: Vec<serde_json::Value> = state
            .store
            .releases()
            .await?
            .into_iter()
            .map(|(version, at)| json!({"version": version, "publishedDateTime": format_timestamp(&at)}))
            .collect();
        let mut body = serde_json::to_value(&summary).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        body["releases"] = json!(releases);
        body["now"] = json!(format_timestamp(&state.clock.now()));
        Ok(body)
    }
    .await;
    answer(result, &ids)
}

#[derive(Debug, Deserialize)]
pub(super) struct AuditParams {
    actor: Option<String>,
    operation: Option<String>,
    since: Option<String>,
    until: Option<String>,
    /// The `seq` of the last entry already shown (paging back in time).
    before: Option<i64>,
    top: Option<u32>,
}

fn time_param(name: &str, value: &Option<String>) -> Result<Option<Timestamp>, ApiError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_timestamp(v).map(Some).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "'{name}' must be a date and time such as 2026-01-31T09:00:00Z, not '{v}'"
            ))
        }),
    }
}

/// `GET /console/api/audit?actor=&operation=&since=&until=&before=&top=`: newest first.
pub(super) async fn audit_log(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let ids = ids(&headers);
    let result = async {
        let caller = caller(&state, &headers, &Operation::ListSensors).await?;
        let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let top = p.top.unwrap_or(50);
        if top == 0 || top > MAX_AUDIT_PAGE {
            return Err(ApiError::BadRequest(format!(
                "'top' must be between 1 and {MAX_AUDIT_PAGE}"
            )));
        }
        let nonempty =
            |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let query = AuditQuery {
            since: time_param("since", &p.since)?,
            until: time_param("until", &p.until)?,
            operation: nonempty(p.operation),
            actor: nonempty(p.actor),
            before_seq: p.before,
            newest_first: true,
            // One more than shown tells whether there is an older page.
            limit: top + 1,
        };
        let mut entries = state.store.audit_entries(&caller.tenant, &query).await?;
        let more = entries.len() > top as usize;
        entries.truncate(top as usize);
        let next = if more {
            entries.last().map(|e| e.seq)
        } else {
            None
        };
        let value: Vec<serde_json::Value> = entries
            .into_iter()
            .map(|e| {
                json!({
                    "seq": e.seq,
                    "time": format_timestamp(&e.time),
                    "actor": e.actor,
                    "operation": e.operation,
                    "target": e.target,
                    "result": e.result,
                    "requestId": e.request_id,
                    "detail": e.detail,
                })
            })
            .collect();
        Ok(json!({"value": value, "nextBefore": next}))
    }
    .await;
    answer(result, &ids)
}
