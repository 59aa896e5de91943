//! `/admin/v1` for test authors, each call on behalf of the tenant of its bearer token:
//! snapshots (save, restore, list, delete), fault rules (add, list, remove, clear) and the
//! request journal (list, show, clear). Reads need `SecurityIdentitiesSensors.Read.All` (or
//! ReadWrite), changes `SecurityIdentitiesSensors.ReadWrite.All`; errors come in Graph's
//! envelope, and snapshot changes are audited.

use crate::agent_api::{error, AgentError};
use crate::state::AppState;
use crate::throttle::Class;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use picket_auth::{Caller, Permission};
use picket_store::portable::Scope;
use picket_store::{snapshots, NewAuditEntry, StoreError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/v1/snapshots",
            get(list_snapshots).post(save_snapshot),
        )
        .route("/admin/v1/snapshots/{name}", delete(delete_snapshot))
        .route("/admin/v1/snapshots/{name}/restore", post(restore_snapshot))
        .route(
            "/admin/v1/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/admin/v1/faults/{id}", delete(remove_fault))
        .route(
            "/admin/v1/requests",
            get(list_requests).delete(clear_requests),
        )
        .route("/admin/v1/requests/{id}", get(show_request))
        .route("/admin/v1/accountActions", get(list_account_actions))
}

/// Reads need any sensors permission; changes need ReadWrite.
#[derive(Clone, Copy)]
pub(crate) enum Needs {
    Read,
    Write,
}

/// The caller of an admin request, from its bearer token: verified, throttled and authorized
/// as a Graph call is (reads and writes count in the same buckets of its app and tenant), and
/// a refused permission goes to the audit log under `operation`, as refused Graph writes do.
pub(crate) async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    needs: Needs,
    operation: &str,
) -> Result<std::sync::Arc<Caller>, AgentError> {
    let caller = state
        .verifier
        .verify_header(
            headers.get("authorization").and_then(|v| v.to_str().ok()),
            crate::state::wall_clock_secs(),
        )
        .await
        .map_err(|e| {
            error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                e.to_string(),
            )
        })?;
    let class = match needs {
        Needs::Read => Class::Read,
        Needs::Write => Class::Write,
    };
    if let Err(t) = state
        .throttle
        .check(caller.tenant.as_str(), caller.app_id(), class)
    {
        state.metrics.throttled(class.name());
        return Err(AgentError::throttled(t.retry_after_secs));
    }
    let allowed: &[Permission] = match needs {
        Needs::Read => &[Permission::SensorsRead, Permission::SensorsReadWrite],
        Needs::Write => &[Permission::SensorsReadWrite],
    };
    if !caller.has_any(allowed) {
        audit(state, &caller, operation, "admin/v1", 403).await;
        let names: Vec<&str> = allowed.iter().map(|p| p.name()).collect();
        return Err(error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("This needs one of the permissions '{}'", names.join(", ")),
        ));
    }
    Ok(caller)
}

fn store_error(e: StoreError) -> AgentError {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => {
            error(StatusCode::BAD_REQUEST, "BadRequest", m)
        }
        other => {
            tracing::error!(error = %other, "admin request failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is temporarily unavailable; retry later",
            )
        }
    }
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, AgentError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("invalid body at '{}': {}", e.path(), e.inner()),
        )
    })
}

fn not_found(what: String) -> AgentError {
    error(StatusCode::NOT_FOUND, "NotFound", what)
}

async fn audit(state: &AppState, caller: &Caller, operation: &str, target: &str, result: u16) {
    let entry = NewAuditEntry {
        time: state.clock.now(),
        tenant: caller.tenant.clone(),
        actor: caller.actor(),
        operation: operation.into(),
        target: target.into(),
        result: result.to_string(),
        request_id: uuid::Uuid::new_v4().to_string(),
        detail: None,
    };
    crate::audit::record(state, &entry).await;
}

// --- snapshots -------------------------------------------------------------------------------

async fn list_snapshots(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Read, "listSnapshots").await?;
    let list = snapshots::list(state.store.as_ref(), &Scope::Tenant(caller.tenant.clone()))
        .await
        .map_err(store_error)?;
    Ok(Json(json!({ "value": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveBody {
    name: String,
}

async fn save_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Write, "saveSnapshot").await?;
    let SaveBody { name } = body(&bytes)?;
    let scope = Scope::Tenant(caller.tenant.clone());
    let info = snapshots::save(state.store.as_ref(), &scope, &name, state.clock.now())
        .await
        .map_err(store_error)?;
    audit(&state, &caller, "saveSnapshot", &name, 201).await;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

async fn restore_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Write, "restoreSnapshot").await?;
    let scope = Scope::Tenant(caller.tenant.clone());
    let started = std::time::Instant::now();
    let Some(done) = snapshots::restore(state.store.as_ref(), &scope, &name)
        .await
        .map_err(store_error)?
    else {
        return Err(not_found(format!("No snapshot named '{name}'")));
    };
    // Written after the restore, so the entry survives it.
    audit(&state, &caller, "restoreSnapshot", &name, 200).await;
    Ok(Json(json!({
        "name": done.name,
        "rows": done.rows,
        "tables": done.tables,
        "milliseconds": started.elapsed().as_secs_f64() * 1000.0,
    }))
    .into_response())
}

async fn delete_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Write, "deleteSnapshot").await?;
    let scope = Scope::Tenant(caller.tenant.clone());
    if !snapshots::delete(state.store.as_ref(), &scope, &name)
        .await
        .map_err(store_error)?
    {
        return Err(not_found(format!("No snapshot named '{name}'")));
    }
    audit(&state, &caller, "deleteSnapshot", &name, 204).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// --- fault rules -----------------------------------------------------------------------------

async fn list_faults(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Read, "listFaults").await?;
    Ok(Json(json!({ "value": state.faults.list(&caller.tenant) })).into_response())
}

async fn add_fault(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Write, "addFault").await?;
    let spec: crate::faults::RuleSpec = body(&bytes)?;
    if spec
        .tenant_id
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case(caller.tenant.as_str()))
    {
        return Err(error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "A rule can only be added for the tenant of the token",
        ));
    }
    let view = state
        .faults
        .add(spec, &caller.tenant)
        .map_err(|m| error(StatusCode::BAD_REQUEST, "BadRequest", m))?;
    tracing::info!(tenant = %caller.tenant, rule = %view.id, "fault rule added");
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn remove_fault(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Write, "removeFault").await?;
    if !state.faults.remove(&caller.tenant, &id) {
        return Err(not_found(format!("No fault rule '{id}'")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn clear_faults(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Write, "clearFaults").await?;
    Ok(Json(json!({ "removed": state.faults.clear(&caller.tenant) })).into_response())
}

// --- the request journal ---------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JournalQuery {
    /// Only entries with a larger id.
    #[serde(default)]
    after: Option<u64>,
    #[serde(default)]
    operation: Option<String>,
    /// The newest N (after the filters).
    #[serde(default)]
    top: Option<usize>,
}

async fn list_requests(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<JournalQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Read, "listRequests").await?;
    let Query(q) =
        query.map_err(|e| error(StatusCode::BAD_REQUEST, "BadRequest", e.body_text()))?;
    let mut entries: Vec<_> = state
        .journal
        .list(caller.tenant.as_str())
        .into_iter()
        .filter(|e| q.after.is_none_or(|a| e.id > a))
        .filter(|e| {
            q.operation
                .as_deref()
                .is_none_or(|o| e.operation.is_some_and(|x| x.eq_ignore_ascii_case(o)))
        })
        .collect();
    if let Some(top) = q.top {
        let skip = entries.len().saturating_sub(top);
        entries.drain(..skip);
    }
    Ok(Json(json!({
        "enabled": state.journal.enabled(),
        "value": entries.iter().map(|e| e.as_ref()).collect::<Vec<_>>(),
    }))
    .into_response())
}

async fn show_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Read, "showRequest").await?;
    let found = id.parse::<u64>().ok().and_then(|id| {
        state
            .journal
            .list(caller.tenant.as_str())
            .into_iter()
            .find(|e| e.id == id)
    });
    match found {
        Some(entry) => Ok(Json(entry.as_ref().clone()).into_response()),
        None => Err(not_found(format!("No journaled request '{id}'"))),
    }
}

async fn clear_requests(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Write, "clearRequests").await?;
    Ok(Json(json!({ "removed": state.journal.clear(caller.tenant.as_str()) })).into_response())
}

// --- account actions ---------------------------------------------------------------------------

/// The tenant's `invokeAction`s, newest first, with where each stands (pending, done, failed).
async fn list_account_actions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AgentError> {
    let caller = caller(&state, &headers, Needs::Read, "listAccountActions").await?;
    let mut actions =
        picket_store::identity_accounts::actions(state.store.as_ref(), &caller.tenant)
            .await
            .map_err(store_error)?;
    actions.sort_by(|a, b| b.requested_date_time.cmp(&a.requested_date_time));
    Ok(Json(json!({ "value": actions })).into_response())
}
