//! The token service, shaped like Microsoft Entra ID's v2.0 endpoints so MSAL and
//! azure-identity work against it unchanged: OpenID discovery, the JWKS, and the
//! client-credentials grant with a client secret or a certificate-signed client assertion, and
//! the device code grant (`device_login`), and the web console's sign-in: sign-in links,
//! sessions, the authorization endpoint and the authorization code grant with PKCE (`sts/`).
//! Failures answer Entra's OAuth error JSON with its AADSTS codes.

pub(crate) mod auth_code;
pub mod authorize;
pub mod console;
pub(crate) mod delegated;

use crate::audit;
use crate::device_login;
use crate::http::request_base;
use crate::state::AppState;
use crate::throttle::Class;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use picket_auth::credentials::{secret_matches, verify_client_assertion, AssertionError};
use picket_auth::{Permission, TokenRequest, GRAPH_AUDIENCES};
use picket_domain::identity::App;
use picket_domain::time::Timestamp;
use picket_domain::TenantId;
use serde_json::json;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`
pub async fn openid_configuration(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    let (ids, base) = ids_and_base(&state, &request);
    discovery(&state, &tenant, ids, &base, false).await
}

/// `GET /{tenant}/.well-known/openid-configuration`: the v1 document, whose `issuer` is the
/// access tokens' own (`{issuer}/{tid}/`, as Entra's v1 document names `sts.windows.net`), so
/// another server can trust this one's tokens with `picket issuers add --discover`.
pub async fn openid_configuration_v1(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    let (ids, base) = ids_and_base(&state, &request);
    discovery(&state, &tenant, ids, &base, true).await
}

async fn discovery(state: &AppState, tenant: &str, ids: Ids, base: &str, v1: bool) -> Response {
    let tenant = match known_tenant(state, tenant).await {
        Ok(t) => t,
        Err(e) => return e.into_response(&ids),
    };
    let t = tenant.as_str();
    let mut body = json!({
        "token_endpoint": format!("{base}/{t}/oauth2/v2.0/token"),
        "device_authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/devicecode"),
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "client_credentials", device_login::GRANT_TYPE],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{t}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "roles", "scp", "wids", "appid"],
        "kerberos_endpoint": format!("{base}/{t}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "picket.local",
        "cloud_graph_host_name": "graph.picket.local",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
        // The issuer of the access tokens themselves (v1 style, as Graph tokens are).
        "access_token_issuer": state.verifier.issuer_for(t),
    });
    if v1 {
        body["issuer"] = json!(state.verifier.issuer_for(t));
    }
    json_response(StatusCode::OK, &body, &ids)
}

/// `GET /{tenant}/discovery/v2.0/keys`: every published key, the signing key first.
pub async fn jwks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ids = Ids::new(&headers);
    let keys: Vec<serde_json::Value> = state
        .verifier
        .keys()
        .all()
        .iter()
        .map(|k| {
            let mut jwk = k.public_jwk();
            jwk["issuer"] = json!(format!("{}/{{tenantid}}/", state.verifier.issuer_base()));
            jwk
        })
        .collect();
    json_response(StatusCode::OK, &json!({ "keys": keys }), &ids)
}

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
        Err(e) => return e.into_response(&ids),
    };
    if let Err(t) = state.throttle.failures.check(source, tenant.as_str()) {
        state.metrics.throttled(crate::throttle::FAILED_CREDENTIALS);
        return OAuthError::throttled(t.retry_after_secs).into_response(&ids);
    }
    let Ok(body) = body else {
        return OAuthError::invalid_request(900144, "The request body is too large.")
            .into_response(&ids);
    };
    if !form_type_ok {
        return OAuthError::invalid_request(
            900144,
            "The request body must be application/x-www-form-urlencoded.",
        )
        .into_response(&ids);
    }
    let form = Form::parse(&body);
    let client_id = form
        .get("client_id")
        .or(basic.as_ref().map(|b| b.0.as_str()))
        .unwrap_or_default()
        .to_string();
    if let Some(refusal) = injected(&state, &tenant, &client_id).await {
        return refusal.into_response(&ids);
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
    count_token_request(&state, form.get("grant_type"), &outcome);
    // A wrong secret or assertion, a client id that does not exist, or a bad authorization
    // code or verifier: what a guesser gets.
    let code_grant = form.get("grant_type") == Some(auth_code::GRANT_TYPE);
    if outcome.as_ref().is_err_and(|e| {
        matches!(e.error, "invalid_client" | "unauthorized_client")
            || (code_grant && e.error == "invalid_grant")
    }) {
        state.throttle.failures.record(source, tenant.as_str());
    }
    let (result, detail) = match &outcome {
        Ok(_) => ("200".to_string(), None),
        Err(e) => (
            format!("{} {}", e.status.as_u16(), e.error),
            Some(format!("AADSTS{}", e.code)),
        ),
    };
    if !client_id.is_empty() && client_id.len() <= 128 {
        let entry = audit::token_entry(&tenant, &client_id, &result, &ids.trace_id, detail, now);
        audit::record(&state, &entry).await;
    }
    match outcome {
        Ok(body) => no_store(json_response(StatusCode::OK, &body, &ids)),
        Err(e) => e.into_response(&ids),
    }
}

/// Token requests by grant type (a fixed set) and result (`issued` or the OAuth error code).
fn count_token_request(
    state: &AppState,
    grant: Option<&str>,
    outcome: &Result<serde_json::Value, OAuthError>,
) {
    let grant_type = match grant {
        Some("client_credentials") => "client_credentials",
        Some(device_login::GRANT_TYPE) => "device_code",
        Some(auth_code::GRANT_TYPE) => "authorization_code",
        Some(_) => "other",
        None => "none",
    };
    let result = match outcome {
        Ok(_) => "issued",
        Err(e) => {
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
) -> Result<serde_json::Value, OAuthError> {
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
        ));
    }
    if client_id.is_empty() {
        return Err(OAuthError::invalid_request(
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        ));
    }
    // The token bucket is per app, like every token request.
    if let Err(t) = state
        .throttle
        .check(tenant.as_str(), client_id, Class::Token)
    {
        return Err(OAuthError::throttled(t.retry_after_secs));
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

/// A token request of a public client (device code, authorization code): what its grant reads.
pub(crate) struct PublicGrant<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) tenant: &'a TenantId,
    pub(crate) form: &'a Form,
    pub(crate) client_id: &'a str,
    /// Scheme and host for the id_token's issuer.
    pub(crate) base: &'a str,
}

/// The key tokens are signed with now, and their lifetime.
pub(crate) fn signer(
    state: &AppState,
) -> Result<(std::sync::Arc<picket_auth::SigningKey>, u64), OAuthError> {
    let key = state.verifier.keys().signer();
    let key = key.ok_or_else(OAuthError::unavailable)?;
    Ok((key, state.identity.token_lifetime_secs))
}

/// The ids of a token-service request and the base URL for links back to this server.
pub(crate) fn ids_and_base(state: &AppState, request: &Request) -> (Ids, String) {
    let ids = Ids::new(request.headers());
    (
        ids,
        request_base(state, request.headers(), request.extensions()),
    )
}

/// Answers that carry credentials are never cached.
pub(crate) fn no_store(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// A registered app of the tenant, or Entra's AADSTS700016.
pub(crate) async fn find_app(
    state: &AppState,
    tenant: &TenantId,
    client_id: &str,
) -> Result<App, OAuthError> {
    state
        .store
        .find_app(tenant, client_id)
        .await
        .map_err(|_| OAuthError::unavailable())?
        .ok_or_else(|| {
            OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."),
            )
        })
}

/// Client credentials need `{resource}/.default` for Microsoft Graph.
fn check_scope(scope: Option<&str>, tenant: &TenantId) -> Result<(), OAuthError> {
    let scope = scope.unwrap_or_default().trim();
    if scope.is_empty() {
        return Err(OAuthError::invalid_request(
            900144,
            "The request body must contain the following parameter: 'scope'.",
        ));
    }
    for item in scope.split_whitespace() {
        let Some(resource) = item.strip_suffix("/.default") else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!("The provided value for scope {item} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            ));
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
            ));
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
) -> Result<(), OAuthError> {
    let client_id = &app.client_id;
    let invalid_client = |code: u32, message: String| {
        OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
    };
    if let Some(assertion) = form.get("client_assertion") {
        if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_request(
                AADSTS_BAD_ASSERTION_TYPE,
                "The client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            ));
        }
        let endpoints = vec![
            format!("{base}/{tenant}/oauth2/v2.0/token"),
            format!("{base}/{tenant}/v2.0"),
        ];
        return verify_client_assertion(assertion, client_id, &endpoints, &app.certificates, now)
            .map(|_| ())
            .map_err(|e| match e {
                AssertionError::Lifetime => invalid_client(700024, "Client assertion is not within its valid time range.".into()),
                AssertionError::CertificateExpired => invalid_client(700027, format!("The certificate with identifier used to sign the client assertion is expired on application '{client_id}'.")),
                AssertionError::UnknownCertificate => invalid_client(700027, format!("The certificate with identifier used to sign the client assertion is not registered on application '{client_id}'.")),
                AssertionError::BadAudience => invalid_client(700027, "The client assertion's audience claim does not match the token endpoint.".into()),
                AssertionError::BadIssuer => invalid_client(700027, "The client assertion's iss and sub claims must both be the client id.".into()),
                other => invalid_client(700027, format!("Client assertion failed signature validation. {other}.")),
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
        )),
        Some(_) => Ok(()),
        None => Err(invalid_client(
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
        )),
    }
}

const AADSTS_BAD_ASSERTION_TYPE: u32 = 50027;

pub(crate) async fn known_tenant(state: &AppState, text: &str) -> Result<TenantId, OAuthError> {
    let not_found = || {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!("Tenant '{}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", text.chars().take(64).collect::<String>()),
        )
    };
    let Some(tenant) = TenantId::parse(text) else {
        // Entra takes a GUID or a domain name here, and words anything else differently.
        if picket_domain::dns::normalize_name(text, true).is_ok() {
            return Err(not_found());
        }
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900023,
            format!(
                "Specified tenant identifier '{}' is neither a valid DNS name, nor a valid external domain.",
                text.chars().take(64).collect::<String>()
            ),
        ));
    };
    match state.store.find_tenant(&tenant).await {
        Ok(Some(_)) => Ok(tenant),
        Ok(None) => Err(not_found()),
        Err(_) => Err(OAuthError::unavailable()),
    }
}

/// Entra's OAuth error: `error`, `error_description` starting `AADSTS{code}:`, and the ids.
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

#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
    retry_after: Option<u64>,
    /// Close the connection instead of answering (a fault rule's `drop`).
    drop_connection: bool,
}

impl OAuthError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
            retry_after: None,
            drop_connection: false,
        }
    }
    pub(crate) fn invalid_request(code: u32, message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", code, message)
    }
    pub(crate) fn unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        );
        e.retry_after = Some(1);
        e
    }
    pub(crate) fn throttled(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            90055,
            "There are too many incoming requests. Please retry later.",
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn into_response(self, ids: &Ids) -> Response {
        self.into_parts(ids).map(axum::body::Body::from)
    }

    /// The whole answer, body as bytes (the HTTP layer's refusals write it themselves).
    pub(crate) fn into_parts(self, ids: &Ids) -> axum::http::Response<bytes::Bytes> {
        let now = chrono::Utc::now();
        let stamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {} Correlation ID: {} Timestamp: {}",
                self.code, self.message, ids.trace_id, ids.correlation_id, stamp
            ),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": ids.trace_id,
            "correlation_id": ids.correlation_id,
        });
        let mut r = json_parts(self.status, &body, ids);
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.drop_connection {
            r.headers_mut().insert(
                crate::edge::DROP_CONNECTION,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        r
    }
}

/// Entra's trace id (ours) and correlation id (the client's `client-request-id`, else ours).
pub(crate) struct Ids {
    trace_id: String,
    correlation_id: String,
}

impl Ids {
    pub(crate) fn new(headers: &HeaderMap) -> Self {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let correlation_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_string)
            .unwrap_or_else(|| trace_id.clone());
        Self {
            trace_id,
            correlation_id,
        }
    }
}

pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value, ids: &Ids) -> Response {
    json_parts(status, body, ids).map(axum::body::Body::from)
}

fn json_parts(
    status: StatusCode,
    body: &serde_json::Value,
    ids: &Ids,
) -> axum::http::Response<bytes::Bytes> {
    let mut r = axum::http::Response::new(bytes::Bytes::from(body.to_string()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&ids.trace_id) {
        h.insert("x-ms-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ids.correlation_id) {
        h.insert("client-request-id", v);
    }
    r
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

/// A form body; a repeated parameter is refused by keeping the first (as Entra does).
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
