//! What the console reads outside the Graph API: who is signed in and what they may do
//! (decided by the same authorization as the API's operations), the fleet in numbers, and the
//! audit log. Same authentication, throttling and error envelope as Graph requests.

use crate::access;
use crate::context::RequestIds;
use crate::error::ApiError;
use crate::graph::permissions::authorize;
use crate::graph::routes::Operation;
use crate::response::{graph_http, GraphResponse};
use crate::state::AppState;
use crate::throttle::Class;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use picket_auth::{Caller, Principal};
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::TenantId;
use picket_store::{console_clients, AuditQuery};
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
    let mut http = graph_http(response, ids).map(axum::body::Body::from);
    super::harden(http.headers_mut());
    http
}

/// The caller of a console request: a valid token, not throttled, allowed `needs`.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    needs: &Operation,
) -> Result<Arc<Caller>, ApiError> {
    let caller = access::authenticate(state, access::authorization(headers)).await?;
    access::throttle(state, &caller, Class::Read)?;
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

/// The scope the console asks Picket's own token service for: everything the user's directory
/// roles allow (the token service narrows it).
pub(super) const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The sign-in providers of a tenant, as `/console/api/config?tenant=` lists them: Picket's
/// own token service first, then each trusted issuer the console is registered at.
async fn providers(
    state: &AppState,
    tenant: &TenantId,
) -> Result<Vec<serde_json::Value>, picket_store::StoreError> {
    let mut out = vec![json!({
        "kind": "picket",
        "name": "Picket",
        "clientId": picket_auth::CONSOLE_CLIENT_ID,
        "scopes": [GRAPH_DEFAULT_SCOPE],
    })];
    for r in console_clients::registrations(state.store.as_ref(), tenant).await? {
        out.push(json!({
            "kind": "oidc",
            "name": r.display_name,
            "issuer": r.issuer,
            "authorizationEndpoint": r.authorization_endpoint,
            "clientId": r.client_id,
            "scopes": r.scopes,
        }));
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
pub(super) struct ConfigParams {
    tenant: Option<String>,
}

/// `GET /console/api/config[?tenant=T]`: what the sign-in needs before there is a token
/// (public): Picket's own client, and with a tenant its sign-in providers (Picket's token
/// service and each trusted issuer the console is registered at).
pub(super) async fn config(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<ConfigParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let ids = ids(&headers);
    let result = async {
        let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let mut body = json!({
            "clientId": picket_auth::CONSOLE_CLIENT_ID,
            "scopes": [GRAPH_DEFAULT_SCOPE],
        });
        if let Some(text) = p.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let tenant = picket_domain::TenantId::parse(text).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "'{}' is not a tenant id (a GUID)",
                    text.chars().take(64).collect::<String>()
                ))
            })?;
            if state.store.find_tenant(&tenant).await?.is_none() {
                return Err(ApiError::NotFound(format!(
                    "Tenant {tenant} was not found on this server."
                )));
            }
            body["tenantId"] = json!(tenant.as_str());
            body["providers"] = json!(providers(&state, &tenant).await?);
        }
        Ok(body)
    }
    .await;
    answer(result, &ids)
}

/// Who the verified bearer token of `headers` names, from its own claims (a user signed in
/// through a trusted issuer is not registered here).
fn user_from_claims(headers: &HeaderMap, object_id: &str) -> serde_json::Value {
    use base64::Engine;
    let claims = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .and_then(|(_, token)| token.trim().split('.').nth(1))
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .unwrap_or_default();
    let text = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| claims.get(*n).and_then(|v| v.as_str()))
            .map(str::to_string)
    };
    let upn = text(&["preferred_username", "upn", "unique_name", "email"]);
    json!({
        "id": object_id,
        "userPrincipalName": upn,
        "displayName": text(&["name"]).or(upn.clone()),
        "issuer": text(&["iss"]),
        "external": true,
    })
}

/// `GET /console/api/session`: who the token is and what the console may offer them.
pub(super) async fn session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ids = ids(&headers);
    let result = async {
        let caller = access::authenticate(&state, access::authorization(&headers)).await?;
        let tenant = state.store.find_tenant(&caller.tenant).await?;
        let user = match &caller.principal {
            Principal::User { object_id, .. } => Some(
                match state.store.find_user(&caller.tenant, object_id).await? {
                    Some(u) => json!({
                        "id": u.object_id,
                        "userPrincipalName": u.user_principal_name,
                        "displayName": u.display_name,
                    }),
                    None => user_from_claims(&headers, object_id),
                },
            ),
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
