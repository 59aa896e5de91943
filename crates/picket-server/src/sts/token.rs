//! `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant with a client secret
//! (`client_secret_post`, `client_secret_basic`) or a certificate-signed client assertion, and
//! the public clients' grants (`device_login`, `auth_code`); throttled per app and, for failed
//! credentials, per source address and tenant; every attempt of a known client audited.

use crate::audit;
use crate::error::{ApiError, OAuthError};
use crate::state::AppState;
use crate::sts::oauth::{
    find_app, ids_and_base, json_response, known_tenant, no_store, refuse, signer, Form,
    PublicGrant, MAX_FORM_BYTES,
};
use crate::sts::{auth_code, device_login};
use crate::throttle::Class;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use picket_auth::credentials::{secret_matches, verify_client_assertion, AssertionError};
use picket_auth::{Permission, TokenRequest, GRAPH_AUDIENCES};
use picket_domain::identity::App;
use picket_domain::time::Timestamp;
use picket_domain::TenantId;
use serde_json::json;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `POST /{tenant}/oauth2/v2.0/token`
pub async fn token(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    let (ids, base) = ids_and_base(&state, &request);
    // Tokens live in real time, whatever the fleet's clock says.
    let now = chrono::Utc::now();
    let basic = basic_credentials(request.headers());
    let form_type_ok = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let source = crate::edge::source_ip(request.extensions());
    let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await;
    let tenant = match known_tenant(&state, &tenant).await {
        Ok(t) => t,
        Err(e) => return refuse(e, &ids),
    };
    if let Err(t) = state.throttle.failures.check(source, tenant.as_str()) {
        state.metrics.throttled(crate::throttle::FAILED_CREDENTIALS);
        return refuse(OAuthError::throttled(t.retry_after_secs), &ids);
    }
    let Ok(body) = body else {
        return refuse(
            OAuthError::invalid_request(900144, "The request body is too large."),
            &ids,
        );
    };
    if !form_type_ok {
        return refuse(
            OAuthError::invalid_request(
                900144,
                "The request body must be application/x-www-form-urlencoded.",
            ),
            &ids,
        );
    }
    let form = Form::parse(&body);
    let client_id = form
        .get("client_id")
        .or(basic.as_ref().map(|b| b.0.as_str()))
        .unwrap_or_default()
        .to_string();
    if let Some(refusal) = injected(&state, &tenant, &client_id).await {
        return refuse(refusal, &ids);
    }
    let outcome = issue(
        &state,
        &tenant,
        &form,
        basic.as_ref(),
        &client_id,
        &base,
        now,
    )
    .await;
    // The refusal in Entra's words, as the answer will say it.
    let refusal = outcome.as_ref().err().map(ApiError::to_oauth);
    count_token_request(&state, form.get("grant_type"), refusal.as_ref());
    // A wrong secret or assertion, a client id that does not exist, or a bad authorization
    // code or verifier: what a guesser gets.
    let code_grant = form.get("grant_type") == Some(auth_code::GRANT_TYPE);
    if refusal.as_ref().is_some_and(|e| {
        matches!(e.error, "invalid_client" | "unauthorized_client")
            || (code_grant && e.error == "invalid_grant")
    }) {
        state.throttle.failures.record(source, tenant.as_str());
    }
    let (result, detail) = match &refusal {
        None => ("200".to_string(), None),
        Some(e) => (
            format!("{} {}", e.status.as_u16(), e.error),
            Some(format!("AADSTS{}", e.code)),
        ),
    };
    if !client_id.is_empty() && client_id.len() <= 128 {
        let entry = audit::token_entry(&tenant, &client_id, &result, &ids.request_id, detail, now);
        audit::record(&state, &entry).await;
    }
    match outcome {
        Ok(body) => no_store(json_response(StatusCode::OK, &body, &ids)),
        Err(e) => refuse(e, &ids),
    }
}

/// Token requests by grant type (a fixed set) and result (`issued` or the OAuth error code).
fn count_token_request(state: &AppState, grant: Option<&str>, refusal: Option<&OAuthError>) {
    let grant_type = match grant {
        Some("client_credentials") => "client_credentials",
        Some(device_login::GRANT_TYPE) => "device_code",
        Some(auth_code::GRANT_TYPE) => "authorization_code",
        Some(_) => "other",
        None => "none",
    };
    let result = match refusal {
        None => "issued",
        Some(e) => {
            if e.status == StatusCode::TOO_MANY_REQUESTS {
                state.metrics.throttled(Class::Token.name());
            }
            e.error
        }
    };
    state.metrics.token_request(grant_type, result);
}

async fn issue(
    state: &AppState,
    tenant: &TenantId,
    form: &Form,
    basic: Option<&(String, String)>,
    client_id: &str,
    base: &str,
    now: Timestamp,
) -> Result<serde_json::Value, ApiError> {
    let grant = form.get("grant_type").ok_or_else(|| {
        OAuthError::invalid_request(
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )
    })?;
    if ![
        "client_credentials",
        device_login::GRANT_TYPE,
        auth_code::GRANT_TYPE,
    ]
    .contains(&grant)
    {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'. Picket's token service issues tokens for the client_credentials, device_code and authorization_code grants."),
        ).into());
    }
    if client_id.is_empty() {
        return Err(OAuthError::invalid_request(
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )
        .into());
    }
    // The token bucket is per app, like every token request.
    if let Err(t) = state
        .throttle
        .check(tenant.as_str(), client_id, Class::Token)
    {
        return Err(OAuthError::throttled(t.retry_after_secs).into());
    }
    // Public clients: the device code, or the authorization code and its verifier, is the proof.
    let public = PublicGrant {
        state,
        tenant,
        form,
        client_id,
        base,
    };
    if grant == device_login::GRANT_TYPE {
        return device_login::redeem(&public).await;
    }
    if grant == auth_code::GRANT_TYPE {
        return auth_code::redeem(&public).await;
    }
    check_scope(form.get("scope"), tenant)?;
    let app = find_app(state, tenant, client_id).await?;
    authenticate(&app, form, basic, base, tenant, now)?;
    let roles: Vec<String> = app
        .permissions
        .iter()
        .filter(|p| Permission::from_name(p).is_some())
        .cloned()
        .collect();
    let (key, lifetime) = signer(state)?;
    let request = TokenRequest {
        tenant: tenant.as_str().to_string(),
        roles,
        app_id: Some(app.client_id.clone()),
        lifetime_secs: lifetime,
        ..Default::default()
    };
    let token = key.issue(
        state.verifier.issuer_base(),
        &request,
        now.timestamp().max(0) as u64,
    );
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token.token,
    }))
}

/// Client credentials need `{resource}/.default` for Microsoft Graph.
fn check_scope(scope: Option<&str>, tenant: &TenantId) -> Result<(), ApiError> {
    let scope = scope.unwrap_or_default().trim();
    if scope.is_empty() {
        return Err(OAuthError::invalid_request(
            900144,
            "The request body must contain the following parameter: 'scope'.",
        )
        .into());
    }
    for item in scope.split_whitespace() {
        let Some(resource) = item.strip_suffix("/.default") else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!("The provided value for scope {item} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            ).into());
        };
        let known = GRAPH_AUDIENCES
            .iter()
            .any(|a| a.eq_ignore_ascii_case(resource.trim_end_matches('/')));
        if !known {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                format!("The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."),
            ).into());
        }
    }
    Ok(())
}

fn authenticate(
    app: &App,
    form: &Form,
    basic: Option<&(String, String)>,
    base: &str,
    tenant: &TenantId,
    now: Timestamp,
) -> Result<(), ApiError> {
    let client_id = &app.client_id;
    let invalid_client = |code: u32, message: String| {
        OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
    };
    if let Some(assertion) = form.get("client_assertion") {
        if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_request(
                AADSTS_BAD_ASSERTION_TYPE,
                "The client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            ).into());
        }
        let endpoints = vec![
            format!("{base}/{tenant}/oauth2/v2.0/token"),
            format!("{base}/{tenant}/v2.0"),
        ];
        return verify_client_assertion(assertion, client_id, &endpoints, &app.certificates, now)
            .map(|_| ())
            .map_err(|e| {
                let refusal = match e {
                AssertionError::Lifetime => invalid_client(700024, "Client assertion is not within its valid time range.".into()),
                AssertionError::CertificateExpired => invalid_client(700027, format!("The certificate with identifier used to sign the client assertion is expired on application '{client_id}'.")),
                AssertionError::UnknownCertificate => invalid_client(700027, format!("The certificate with identifier used to sign the client assertion is not registered on application '{client_id}'.")),
                AssertionError::BadAudience => invalid_client(700027, "The client assertion's audience claim does not match the token endpoint.".into()),
                AssertionError::BadIssuer => invalid_client(700027, "The client assertion's iss and sub claims must both be the client id.".into()),
                other => invalid_client(700027, format!("Client assertion failed signature validation. {other}.")),
                };
                refusal.into()
            });
    }
    let secret = form
        .get("client_secret")
        .or(basic.map(|b| b.1.as_str()))
        .ok_or_else(|| {
            invalid_client(
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
            )
        })?;
    let matching = app.secrets.iter().find(|s| secret_matches(s, secret));
    match matching {
        Some(s) if s.expires_at <= now => Err(invalid_client(
            7000222,
            format!("The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: 'picket apps add-secret', or consider using certificate credentials for added security."),
        ).into()),
        Some(_) => Ok(()),
        None => Err(invalid_client(
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
        ).into()),
    }
}

const AADSTS_BAD_ASSERTION_TYPE: u32 = 50027;

/// A fault rule that asked for the token service (`tokenService: true`): an error in Entra's
/// shape instead of a token, a delay, or a dropped connection.
/// A fault rule that asked for the token service (`tokenService: true`): an error in Entra's
/// shape instead of a token, a delay, or a dropped connection.
async fn injected(state: &AppState, tenant: &TenantId, client_id: &str) -> Option<OAuthError> {
    use crate::faults::Effect;
    let fired = state.faults.pick(&crate::faults::Call {
        tenant: tenant.as_str(),
        app: Some(client_id),
        operation: "issueToken",
        path: "/oauth2/v2.0/token",
        method: "POST",
        token_service: true,
    })?;
    tracing::info!(tenant = %tenant, fault = %fired.label(), "injected fault (token service)");
    match fired.effect {
        Effect::Delay(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Effect::Drop => Some(OAuthError {
            drop_connection: true,
            ..OAuthError::unavailable()
        }),
        Effect::Answer {
            status,
            retry_after,
            ..
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut e = if status == StatusCode::TOO_MANY_REQUESTS {
                OAuthError::throttled(retry_after.unwrap_or(1))
            } else if status == StatusCode::FORBIDDEN {
                OAuthError::new(
                    status,
                    "unauthorized_client",
                    700016,
                    "The application is not authorized in this tenant.",
                )
            } else {
                OAuthError::unavailable().with_status(status)
            };
            e.retry_after = retry_after.or(e.retry_after);
            Some(e)
        }
    }
}

/// `Authorization: Basic base64(client_id:secret)` (client_secret_basic).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}
