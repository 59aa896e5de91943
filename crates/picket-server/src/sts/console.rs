//! The web console's sign-in, against Picket's own token service. Picket keeps no passwords:
//! an operator prints a one-time sign-in link (`picket console-link`, a ticket in the URL
//! fragment), the console trades the ticket for a session cookie here, then runs the
//! authorization code flow with PKCE (`authorize`, `auth_code`) like any public client.
//! - `POST /{tenant}/oauth2/v2.0/signin` `ticket=…`: a session (`picket_session` cookie);
//! - `POST /{tenant}/oauth2/v2.0/logout`: the session revoked, the cookie cleared.
//!
//! Both refuse a request whose `Origin` is not this server's own (login CSRF). Tickets,
//! sessions and codes are stored as SHA-256 digests (`picket_store::sign_ins`).

use crate::audit;
use crate::error::OAuthError;
use crate::state::AppState;
use crate::sts::delegated::{requested_scopes, Requested};
use crate::sts::oauth::{
    ids_and_base, json_response, known_tenant, no_store, refuse, Form, MAX_FORM_BYTES,
};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use picket_auth::{roles, DirectoryRole, Permission};
use picket_domain::identity::User;
use picket_domain::TenantId;
use picket_store::sign_ins::{self, Kind, Refusal};
use picket_store::NewAuditEntry;
use serde_json::json;

/// The longest console session, whatever the settings say.
const MAX_SESSION_SECS: u64 = 7 * 86_400;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "picket_session";

/// The only redirect URI of the console client: the console of the server signed in on.
pub(crate) fn console_redirect_uri(base: &str) -> String {
    format!("{base}/console/")
}

/// Scheme and host of a base URL (a public URL may add a path; an origin never has one).
pub(crate) fn origin_of(base: &str) -> &str {
    let host_start = base.find("://").map_or(0, |i| i + 3);
    match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    }
}

/// Whether the request's `Origin` is this server's own origin.
fn same_origin(headers: &HeaderMap, base: &str) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| {
            o.trim_end_matches('/')
                .eq_ignore_ascii_case(origin_of(base))
        })
}

/// The session secret the browser sent, if any.
pub(crate) fn session_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}

/// `Set-Cookie` for the session (`None`: clear it), scoped to the tenant's OAuth endpoints.
fn session_cookie(tenant: &TenantId, value: Option<(&str, u64)>, https: bool) -> HeaderValue {
    let (value, max_age) = value.unwrap_or(("", 0));
    let secure = if https { "; Secure" } else { "" };
    let text = format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/{tenant}/oauth2/v2.0/; Max-Age={max_age}{secure}"
    );
    // Tenant ids are GUIDs and secrets URL-safe base64: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The Graph permissions a console token may carry for `user`: those named in `scope`
/// (`.default`, or no Graph scope at all: every permission) that the user's directory roles
/// can use. `Err` names a scope that is not a Graph permission.
pub(crate) fn console_scopes(scope: Option<&str>, user: &User) -> Result<Vec<String>, String> {
    let requested = requested_scopes(scope)?;
    let mut wanted: Vec<Permission> = Vec::new();
    for r in &requested {
        match r {
            Requested::Default => wanted.extend(Permission::ALL),
            Requested::One(p) => wanted.push(*p),
        }
    }
    if requested.is_empty() {
        wanted.extend(Permission::ALL);
    }
    let held: Vec<DirectoryRole> = user
        .roles
        .iter()
        .filter_map(|r| DirectoryRole::from_template_id(r))
        .collect();
    wanted.sort();
    wanted.dedup();
    Ok(wanted
        .into_iter()
        .filter(|p| roles::roles_allow_permission(&held, *p))
        .map(|p| p.name().to_string())
        .collect())
}

/// What a refused ticket is told.
fn ticket_refusal(refusal: Refusal, tenant: &TenantId) -> OAuthError {
    let again = format!(
        "Ask an operator for a new link: picket console-link --tenant {tenant} --user YOU."
    );
    let (code, what) = match refusal {
        Refusal::Unknown | Refusal::Revoked => (70000, "The sign-in link is not valid."),
        Refusal::Used => (
            70000,
            "The sign-in link was already used: each link signs in once.",
        ),
        Refusal::Expired => (70008, "The sign-in link has expired."),
    };
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        code,
        format!("{what} {again}"),
    )
}

/// Refuses a cross-site request (login CSRF): only this server's own pages may sign in or out.
pub(crate) fn origin_refusal(headers: &HeaderMap, base: &str) -> Option<OAuthError> {
    if same_origin(headers, base) {
        return None;
    }
    Some(OAuthError::new(
        StatusCode::FORBIDDEN,
        "invalid_request",
        9002326,
        format!(
            "Console sign-in is accepted only from this server's own pages: the request's Origin header must be {}.",
            origin_of(base)
        ),
    ))
}

pub(crate) fn audit_entry(
    tenant: &TenantId,
    actor: String,
    operation: &str,
    result: &str,
) -> NewAuditEntry {
    NewAuditEntry {
        time: chrono::Utc::now(),
        tenant: tenant.clone(),
        actor,
        operation: operation.into(),
        target: "console".into(),
        result: result.into(),
        request_id: uuid::Uuid::new_v4().to_string(),
        detail: None,
    }
}

/// `POST /{tenant}/oauth2/v2.0/signin` with `ticket=…`: trades a sign-in link's ticket for a
/// console session; answers who signed in.
pub async fn sign_in(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    let (ids, base) = ids_and_base(&state, &request);
    let origin = origin_refusal(request.headers(), &base);
    let source = crate::edge::source_ip(request.extensions());
    let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await;
    let tenant = match known_tenant(&state, &tenant).await {
        Ok(t) => t,
        Err(e) => return refuse(e, &ids),
    };
    if let Some(refused) = origin {
        return refuse(refused, &ids);
    }
    if let Err(t) = state.throttle.failures.check(source, tenant.as_str()) {
        return refuse(OAuthError::throttled(t.retry_after_secs), &ids);
    }
    let Ok(body) = body else {
        return refuse(
            OAuthError::invalid_request(900144, "The request body is too large."),
            &ids,
        );
    };
    let form = Form::parse(&body);
    let Some(ticket) = form.get("ticket").filter(|t| !t.is_empty()) else {
        return refuse(
            OAuthError::invalid_request(
                900144,
                "The request body must contain the following parameter: 'ticket'.",
            ),
            &ids,
        );
    };
    let now = chrono::Utc::now();
    let store = state.store.as_ref();
    let user = match sign_ins::redeem(store, &tenant, Kind::Ticket, ticket, now).await {
        Ok(Ok(row)) => match store.find_user(&tenant, &row.user_id).await {
            Ok(Some(user)) => user,
            Ok(None) => return refuse(ticket_refusal(Refusal::Unknown, &tenant), &ids),
            Err(_) => return refuse(OAuthError::unavailable(), &ids),
        },
        Ok(Err(refusal)) => {
            // A guessed or replayed ticket counts as a failed credential.
            state.throttle.failures.record(source, tenant.as_str());
            let entry = audit_entry(
                &tenant,
                "anonymous".into(),
                "consoleSignIn",
                "400 invalid_grant",
            );
            audit::record(&state, &entry).await;
            return refuse(ticket_refusal(refusal, &tenant), &ids);
        }
        Err(_) => return refuse(OAuthError::unavailable(), &ids),
    };
    let lifetime = state.identity.console_session_secs.min(MAX_SESSION_SECS);
    let session = match sign_ins::create(
        store,
        &tenant,
        Kind::Session,
        &user.object_id,
        None,
        chrono::Duration::seconds(lifetime as i64),
        now,
    )
    .await
    {
        Ok(s) => s,
        Err(_) => return refuse(OAuthError::unavailable(), &ids),
    };
    let mut entry = audit_entry(
        &tenant,
        format!("user:{}", user.object_id),
        "consoleSignIn",
        "200",
    );
    entry.detail = Some(format!("user: {}", user.user_principal_name));
    audit::record(&state, &entry).await;
    let body = json!({
        "user": {
            "id": user.object_id,
            "userPrincipalName": user.user_principal_name,
            "displayName": user.display_name,
        }
    });
    let mut r = json_response(StatusCode::OK, &body, &ids);
    let cookie = session_cookie(
        &tenant,
        Some((session.expose(), lifetime)),
        base.starts_with("https://"),
    );
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    no_store(r)
}

/// `POST /{tenant}/oauth2/v2.0/logout`: revokes the session the cookie names (if any) and
/// clears the cookie; 204.
pub async fn log_out(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    let (ids, base) = ids_and_base(&state, &request);
    let headers = request.headers();
    let tenant = match known_tenant(&state, &tenant).await {
        Ok(t) => t,
        Err(e) => return refuse(e, &ids),
    };
    if let Some(refused) = origin_refusal(headers, &base) {
        return refuse(refused, &ids);
    }
    if let Some(secret) = session_secret(headers) {
        let now = chrono::Utc::now();
        let store = state.store.as_ref();
        let user = match sign_ins::live_session(store, &tenant, secret, now).await {
            Ok(found) => found.ok().map(|s| s.user_id),
            Err(_) => return refuse(OAuthError::unavailable(), &ids),
        };
        match sign_ins::revoke(store, &tenant, Kind::Session, secret, now).await {
            Ok(true) => {
                let actor = user.map_or_else(|| "anonymous".into(), |u| format!("user:{u}"));
                let entry = audit_entry(&tenant, actor, "consoleSignOut", "204");
                audit::record(&state, &entry).await;
            }
            Ok(false) => {}
            Err(_) => return refuse(OAuthError::unavailable(), &ids),
        }
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&tenant, None, base.starts_with("https://")),
    );
    no_store(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_and_host() {
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(
            origin_of("https://picket.example/behind/proxy"),
            "https://picket.example"
        );
        let mut headers = HeaderMap::new();
        assert!(!same_origin(&headers, "http://a"));
        headers.insert(header::ORIGIN, HeaderValue::from_static("HTTP://A"));
        assert!(same_origin(&headers, "http://a/x"));
        assert!(!same_origin(&headers, "https://a"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; picket_session=; picket_session=s3cret; b=2"),
        );
        assert_eq!(session_secret(&headers), Some("s3cret"));
    }
}
