//! What every endpoint of the token service shares: form bodies, the tenant and the app a
//! request names, the signing key, and answers in Entra's shape (JSON with Entra's ids, never
//! cached when they carry credentials; refusals as `ApiError` in the OAuth envelope).

use crate::context::RequestIds;
use crate::error::{ApiError, OAuthError};
use crate::response::{token_service_json, Envelope};
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use picket_domain::identity::App;
use picket_domain::TenantId;

/// The largest form body the token service reads.
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;

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
) -> Result<(std::sync::Arc<picket_auth::SigningKey>, u64), ApiError> {
    let key = state.verifier.keys().signer();
    let key = key.ok_or_else(OAuthError::unavailable)?;
    Ok((key, state.identity.token_lifetime_secs))
}

/// The ids of a token-service request and the base URL for links back to this server.
pub(crate) fn ids_and_base(state: &AppState, request: &Request) -> (RequestIds, String) {
    let ids = RequestIds::for_token_service(request.headers());
    (
        ids,
        crate::edge::request_base(state, request.headers(), request.extensions()),
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
) -> Result<App, ApiError> {
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
            .into()
        })
}

/// The tenant a path names, if this server knows it; Entra's words otherwise.
pub(crate) async fn known_tenant(state: &AppState, text: &str) -> Result<TenantId, ApiError> {
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
            return Err(not_found().into());
        }
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900023,
            format!(
                "Specified tenant identifier '{}' is neither a valid DNS name, nor a valid external domain.",
                text.chars().take(64).collect::<String>()
            ),
        ).into());
    };
    match state.store.find_tenant(&tenant).await {
        Ok(Some(_)) => Ok(tenant),
        Ok(None) => Err(not_found().into()),
        Err(_) => Err(OAuthError::unavailable().into()),
    }
}

/// A token-service answer: JSON with Entra's trace and correlation ids.
pub(crate) fn json_response(
    status: StatusCode,
    body: &serde_json::Value,
    ids: &RequestIds,
) -> Response {
    token_service_json(status, body, ids).map(axum::body::Body::from)
}

/// A refusal of the token service, in Entra's OAuth error JSON.
pub(crate) fn refuse(error: impl Into<ApiError>, ids: &RequestIds) -> Response {
    error.into().respond(Envelope::OAuth(ids))
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
