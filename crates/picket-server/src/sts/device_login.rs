//! HTTP side of the device code flow (registry in `crate::device_code`):
//! - `POST /{tenant}/oauth2/v2.0/devicecode` — Entra's device authorization endpoint;
//! - the `urn:ietf:params:oauth:grant-type:device_code` grant of the token endpoint;
//! - `GET /{tenant}/devicelogin` — the verification page, which says how to get approved;
//! - `POST /admin/v1/deviceCodes/{approve,deny}` — a Global Administrator of the tenant decides.

use crate::access;
use crate::device_code::{DecideError, Poll, INTERVAL_SECS, LIFETIME_SECS};
use crate::error::{ApiError, OAuthError};
use crate::state::{wall_clock_secs, AppState};
use crate::sts::delegated::{requested_scopes, Requested};
use crate::sts::oauth::{
    find_app, ids_and_base, json_response, known_tenant, refuse, Form, PublicGrant, MAX_FORM_BYTES,
};
use crate::throttle::Class;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use picket_auth::{DirectoryRole, Permission, Principal};
use picket_domain::identity::App;
use picket_domain::TenantId;
use serde::Deserialize;
use serde_json::json;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `POST /{tenant}/oauth2/v2.0/devicecode`
pub async fn start(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    let (ids, base) = ids_and_base(&state, &request);
    let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await;
    let tenant = match known_tenant(&state, &tenant).await {
        Ok(t) => t,
        Err(e) => return refuse(e, &ids),
    };
    let Ok(body) = body else {
        return refuse(
            OAuthError::invalid_request(900144, "The request body is too large."),
            &ids,
        );
    };
    let form = Form::parse(&body);
    match issue_code(&state, &tenant, &form, &base).await {
        Ok(answer) => json_response(StatusCode::OK, &answer, &ids),
        Err(e) => refuse(e, &ids),
    }
}

async fn issue_code(
    state: &AppState,
    tenant: &TenantId,
    form: &Form,
    base: &str,
) -> Result<serde_json::Value, ApiError> {
    let client_id = form.get("client_id").unwrap_or_default();
    if client_id.is_empty() {
        return Err(OAuthError::invalid_request(
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )
        .into());
    }
    if let Err(t) = state
        .throttle
        .check(tenant.as_str(), client_id, Class::Token)
    {
        state.metrics.throttled(Class::Token.name());
        return Err(OAuthError::throttled(t.retry_after_secs).into());
    }
    let app = find_app(state, tenant, client_id).await?;
    let scopes = delegated_scopes(form.get("scope"), &app)?;
    let (device_code, user_code) = state
        .device_codes
        .start(tenant, client_id, scopes, wall_clock_secs())
        .ok_or_else(OAuthError::unavailable)?;
    let verification_uri = format!("{base}/{tenant}/devicelogin");
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": LIFETIME_SECS,
        "interval": INTERVAL_SECS,
        "message": format!("To sign in, open {verification_uri} and ask an administrator of the tenant to approve the code {user_code}."),
    }))
}

/// The Graph permissions a user's token will carry: `.default` is every permission granted to
/// the app; a named one must be among them (Picket's grant stands for consent).
fn delegated_scopes(scope: Option<&str>, app: &App) -> Result<Vec<String>, ApiError> {
    let granted = || {
        app.permissions
            .iter()
            .filter(|p| Permission::from_name(p).is_some())
            .cloned()
    };
    let invalid = |item: &str| {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            format!("The provided value for the input parameter 'scope' is not valid. The scope {item} is not valid."),
        )
    };
    let mut out: Vec<String> = Vec::new();
    for requested in requested_scopes(scope).map_err(|item| invalid(&item))? {
        let permission = match requested {
            Requested::Default => {
                out.extend(granted());
                continue;
            }
            Requested::One(p) => p,
        };
        let name = permission.name();
        if !granted().any(|g| g == name) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                65001,
                format!("The user or administrator has not consented to use the application with ID '{}' for '{name}'. Grant it with 'picket apps grant'.", app.client_id),
            ).into());
        }
        out.push(name.to_string());
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(OAuthError::invalid_request(
            900144,
            "The request body must contain the following parameter: 'scope' (a Microsoft Graph permission).",
        ).into());
    }
    Ok(out)
}

/// The token endpoint's answer to a device code poll.
pub(crate) async fn redeem(grant: &PublicGrant<'_>) -> Result<serde_json::Value, ApiError> {
    let device_code = grant.form.get("device_code").unwrap_or_default();
    if device_code.is_empty() {
        return Err(OAuthError::invalid_request(
            900144,
            "The request body must contain the following parameter: 'device_code'.",
        )
        .into());
    }
    let failure = |error: &'static str, code: u32, message: &str| {
        OAuthError::new(StatusCode::BAD_REQUEST, error, code, message)
    };
    let (user, scopes) = match grant.state.device_codes.poll(
        grant.tenant,
        grant.client_id,
        device_code,
        wall_clock_secs(),
    ) {
        Poll::Approved { user, scopes } => (user, scopes),
        Poll::Pending => {
            return Err(failure(
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
            .into())
        }
        Poll::Denied => {
            return Err(failure(
                "authorization_declined",
                70000,
                "The sign-in was declined by an administrator.",
            )
            .into())
        }
        Poll::Expired => {
            return Err(failure(
                "expired_token",
                70019,
                "Verification code expired. Request a new one.",
            )
            .into())
        }
        Poll::Unknown => {
            return Err(failure(
                "bad_verification_code",
                70000,
                "The device code is not valid for this client.",
            )
            .into())
        }
    };
    crate::sts::delegated::issue(grant, &user, &scopes)
}

/// `GET /{tenant}/devicelogin`: what to do with the code (there is no password to type here).
pub async fn page(State(state): State<AppState>, Path(tenant): Path<String>) -> Response {
    let Some(tenant) = TenantId::parse(&tenant) else {
        return (StatusCode::NOT_FOUND, "Unknown tenant").into_response();
    };
    if !matches!(state.store.find_tenant(&tenant).await, Ok(Some(_))) {
        return (StatusCode::NOT_FOUND, "Unknown tenant").into_response();
    }
    let mut r = Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Picket sign-in</title></head>\
         <body><h1>Sign in to Picket</h1><p>Picket keeps no passwords: an administrator of tenant \
         <code>{tenant}</code> approves device sign-ins for registered users:</p>\
         <pre>picket device-codes approve CODE --user you@example.test --server URL --token ADMIN_TOKEN</pre>\
         <p>The application that showed you the code continues on its own once it is approved.</p></body></html>"
    ))
    .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DecideBody {
    user_code: String,
    #[serde(default)]
    user_principal_name: Option<String>,
}

/// `POST /admin/v1/deviceCodes/approve` `{"userCode", "userPrincipalName"}`
pub async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    decide(&state, &headers, &body, true).await
}

/// `POST /admin/v1/deviceCodes/deny` `{"userCode"}`
pub async fn deny(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    decide(&state, &headers, &body, false).await
}

/// An administrator's decision: authenticated and throttled as every admin call is
/// (`access`), answered in the agent protocol's envelope like the rest of `/admin/v1`.
async fn decide(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    approve: bool,
) -> Result<Response, ApiError> {
    let caller = access::authenticate(state, access::authorization(headers)).await?;
    access::throttle(state, &caller, Class::Write)?;
    // Approving signs a user in: only a signed-in Global Administrator of the tenant may.
    let admin = matches!(caller.principal, Principal::User { .. })
        && caller.roles.contains(&DirectoryRole::GlobalAdministrator);
    if !admin {
        // Audited like every refused admin call, under an operation of its own: a refused
        // caller decided nothing, so the log's approvals and denials stay decisions only.
        let target = if approve {
            "admin/v1/deviceCodes/approve"
        } else {
            "admin/v1/deviceCodes/deny"
        };
        crate::audit::record_call(state, &caller, "decideDeviceCode", target, 403).await;
        return Err(ApiError::Forbidden(
            "Deciding a device sign-in needs a delegated token of a Global Administrator of the tenant".into(),
        ));
    }
    let body: DecideBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("Invalid body: {e}")))?;
    let tenant = caller.tenant.clone();
    let now = wall_clock_secs();
    let user = if approve {
        let Some(upn) = body
            .user_principal_name
            .as_deref()
            .filter(|u| !u.is_empty())
        else {
            return Err(ApiError::BadRequest(
                "'userPrincipalName' names the user who signs in".into(),
            ));
        };
        match state.store.find_user(&tenant, upn).await {
            Ok(Some(u)) => Some(u),
            Ok(None) => {
                return Err(ApiError::NotFound(format!(
                    "No user '{upn}' in this tenant"
                )))
            }
            Err(_) => {
                return Err(ApiError::Coded {
                    status: 503,
                    code: "ServiceUnavailable",
                    message: "The store is unavailable".into(),
                    retry_after: None,
                })
            }
        }
    } else {
        None
    };
    let upn = user.as_ref().map(|u| u.user_principal_name.clone());
    let request = match state
        .device_codes
        .decide(&tenant, &body.user_code, user, now)
    {
        Ok(request) => request,
        Err(e @ DecideError::Unknown(_)) => return Err(ApiError::NotFound(e.to_string())),
        Err(e) => {
            return Err(ApiError::Coded {
                status: 409,
                code: "Conflict",
                message: e.to_string(),
                retry_after: None,
            })
        }
    };
    let entry = picket_store::NewAuditEntry {
        time: chrono::Utc::now(),
        tenant: tenant.clone(),
        actor: caller.actor(),
        operation: if approve {
            "approveDeviceCode"
        } else {
            "denyDeviceCode"
        }
        .into(),
        target: format!("app:{}", request.client_id),
        result: "200".into(),
        request_id: uuid::Uuid::new_v4().to_string(),
        detail: upn.as_ref().map(|u| format!("user: {u}")),
    };
    crate::audit::record(state, &entry).await;
    Ok((
        StatusCode::OK,
        axum::Json(json!({
            "userCode": request.user_code,
            "clientId": request.client_id,
            "scopes": request.scopes,
            "decision": if approve { "approved" } else { "denied" },
            "userPrincipalName": upn,
        })),
    )
        .into_response())
}
