//! Who is calling and whether they may: a bearer token verified into a [`Caller`] (our own keys
//! or a trusted issuer's), a token taken from the throttle buckets of its app and tenant, and
//! the admin endpoints' permission check. Graph's dispatch, `$batch`, the console's API and
//! `/admin/v1` admit their callers here, so a token is accepted, throttled and refused alike
//! wherever it is used. Operations' own permissions and directory roles are Graph's
//! (`graph::permissions`).

use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::Class;
use axum::http::HeaderMap;
use picket_auth::{Caller, Permission};
use std::sync::Arc;

/// The verified caller of an `Authorization` header (401 otherwise).
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
) -> Result<Arc<Caller>, ApiError> {
    Ok(state
        .verifier
        .verify_header(authorization, crate::state::wall_clock_secs())
        .await?)
}

/// The `Authorization` header of a request, if it is text.
pub fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|v| v.to_str().ok())
}

/// Takes a token from the buckets of the caller's app and tenant for `class` (429 with
/// `Retry-After` otherwise, counted in `/metrics`).
pub fn throttle(state: &AppState, caller: &Caller, class: Class) -> Result<(), ApiError> {
    state
        .throttle
        .check(caller.tenant.as_str(), caller.app_id(), class)
        .map_err(|t| {
            state.metrics.throttled(class.name());
            t.into()
        })
}

/// What an admin call needs: reads any sensors permission, changes ReadWrite.
#[derive(Clone, Copy)]
pub enum Needs {
    Read,
    Write,
}

/// The caller of an `/admin/v1` request, from its bearer token: verified, throttled and
/// authorized as a Graph call is (reads and writes count in the same buckets of its app and
/// tenant), and a refused permission goes to the audit log under `operation`, as refused Graph
/// writes do.
pub async fn admin(
    state: &AppState,
    headers: &HeaderMap,
    needs: Needs,
    operation: &str,
) -> Result<Arc<Caller>, ApiError> {
    let caller = authenticate(state, authorization(headers)).await?;
    let class = match needs {
        Needs::Read => Class::Read,
        Needs::Write => Class::Write,
    };
    throttle(state, &caller, class)?;
    let allowed: &[Permission] = match needs {
        Needs::Read => &[Permission::SensorsRead, Permission::SensorsReadWrite],
        Needs::Write => &[Permission::SensorsReadWrite],
    };
    if !caller.has_any(allowed) {
        crate::audit::record_call(state, &caller, operation, "admin/v1", 403).await;
        let names: Vec<&str> = allowed.iter().map(|p| p.name()).collect();
        return Err(ApiError::Forbidden(format!(
            "This needs one of the permissions '{}'",
            names.join(", ")
        )));
    }
    Ok(caller)
}
