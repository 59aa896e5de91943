//! `/admin/v1` for test authors and operators, each call on behalf of the tenant of its bearer
//! token: snapshots (save, restore, list, delete), fault rules (add, list, remove, clear), the
//! request journal (list, show, clear), account actions, the manual clock (advance), and the
//! device code decisions (`sts::device_login`). Every call is authenticated and throttled as a
//! Graph call is (`access`); reads need `SecurityIdentitiesSensors.Read.All` (or ReadWrite),
//! changes `SecurityIdentitiesSensors.ReadWrite.All`, and a refused permission is audited.
//! Errors are `ApiError`s in the agent protocol's envelope; snapshot changes are audited.

use crate::access::{self, Needs};
use crate::audit;
use crate::error::ApiError;
use crate::state::AppState;
use crate::sweeper::{reload_releases, sweep};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use picket_domain::time::format_timestamp;
use picket_store::portable::Scope;
use picket_store::{snapshots, StoreError};
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
        .route("/admin/v1/clock/advance", post(advance_clock))
        .route(
            "/admin/v1/deviceCodes/approve",
            post(crate::sts::device_login::approve),
        )
        .route(
            "/admin/v1/deviceCodes/deny",
            post(crate::sts::device_login::deny),
        )
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => ApiError::BadRequest(m),
        other => {
            tracing::error!(error = %other, "admin request failed");
            ApiError::ServiceUnavailable(other.to_string())
        }
    }
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ApiError::BadRequest(format!("invalid body at '{}': {}", e.path(), e.inner())))
}

fn not_found(what: String) -> ApiError {
    ApiError::NotFound(what)
}

// --- snapshots -------------------------------------------------------------------------------

async fn list_snapshots(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Read, "listSnapshots").await?;
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
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Write, "saveSnapshot").await?;
    let SaveBody { name } = body(&bytes)?;
    let scope = Scope::Tenant(caller.tenant.clone());
    let info = snapshots::save(state.store.as_ref(), &scope, &name, state.clock.now())
        .await
        .map_err(store_error)?;
    audit::record_call(&state, &caller, "saveSnapshot", &name, 201).await;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

async fn restore_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Write, "restoreSnapshot").await?;
    let scope = Scope::Tenant(caller.tenant.clone());
    let started = std::time::Instant::now();
    let Some(done) = snapshots::restore(state.store.as_ref(), &scope, &name)
        .await
        .map_err(store_error)?
    else {
        return Err(not_found(format!("No snapshot named '{name}'")));
    };
    // Written after the restore, so the entry survives it.
    audit::record_call(&state, &caller, "restoreSnapshot", &name, 200).await;
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
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Write, "deleteSnapshot").await?;
    let scope = Scope::Tenant(caller.tenant.clone());
    if !snapshots::delete(state.store.as_ref(), &scope, &name)
        .await
        .map_err(store_error)?
    {
        return Err(not_found(format!("No snapshot named '{name}'")));
    }
    audit::record_call(&state, &caller, "deleteSnapshot", &name, 204).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// --- fault rules -----------------------------------------------------------------------------

async fn list_faults(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Read, "listFaults").await?;
    Ok(Json(json!({ "value": state.faults.list(&caller.tenant) })).into_response())
}

async fn add_fault(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Write, "addFault").await?;
    let spec: crate::faults::RuleSpec = body(&bytes)?;
    if spec
        .tenant_id
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case(caller.tenant.as_str()))
    {
        return Err(ApiError::Forbidden(
            "A rule can only be added for the tenant of the token".into(),
        ));
    }
    let view = state
        .faults
        .add(spec, &caller.tenant)
        .map_err(ApiError::BadRequest)?;
    tracing::info!(tenant = %caller.tenant, rule = %view.id, "fault rule added");
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn remove_fault(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Write, "removeFault").await?;
    if !state.faults.remove(&caller.tenant, &id) {
        return Err(not_found(format!("No fault rule '{id}'")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn clear_faults(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Write, "clearFaults").await?;
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
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Read, "listRequests").await?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
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
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Read, "showRequest").await?;
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
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Write, "clearRequests").await?;
    Ok(Json(json!({ "removed": state.journal.clear(caller.tenant.as_str()) })).into_response())
}

// --- account actions ---------------------------------------------------------------------------

/// The tenant's `invokeAction`s, newest first, with where each stands (pending, done, failed).
async fn list_account_actions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = access::admin(&state, &headers, Needs::Read, "listAccountActions").await?;
    let mut actions =
        picket_store::identity_accounts::actions(state.store.as_ref(), &caller.tenant)
            .await
            .map_err(store_error)?;
    actions.sort_by(|a, b| b.requested_date_time.cmp(&a.requested_date_time));
    Ok(Json(json!({ "value": actions })).into_response())
}

// --- the manual clock ------------------------------------------------------------------------

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
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let Some(clock) = state.fleet.manual_clock.clone() else {
        return Err(ApiError::NotFound(
            "The clock is the wall clock; start the server with --clock manual".into(),
        ));
    };
    access::admin(&state, &headers, Needs::Write, "advanceClock").await?;
    let body: AdvanceBody = body(&bytes)?;
    let Some(step) = parse_step(&body.by) else {
        return Err(ApiError::BadRequest(format!(
            "'{}' is not a step like 90s, 11m, 2h or 3d",
            body.by
        )));
    };
    let now = clock.advance(step);
    reload_releases(&state).await;
    let s = sweep(&state, now)
        .await
        .map_err(|e| crate::agent::request::unavailable(&state, e))?;
    Ok(axum::Json(json!({
        "now": format_timestamp(&now),
        "sweep": {"sensors": s.sensors, "statusChanges": s.status_changes, "issuesRaised": s.issues_raised,
                  "issuesReopened": s.issues_reopened, "issuesClosed": s.issues_closed},
    }))
    .into_response())
}
