//! The token service, shaped like Microsoft Entra ID's v2.0 endpoints so MSAL and
//! azure-identity work against it unchanged. Failures answer Entra's OAuth error JSON with its
//! AADSTS codes (an `ApiError` in the OAuth envelope, `response.rs`).
//!
//! - `discovery`: the OpenID configuration documents and the JWKS;
//! - `token`: the token endpoint; the client-credentials grant (client secret or certificate
//!   assertion) is there, the public clients' grants beside it:
//! - `device_login`: the device code grant (codes waiting in `crate::device_code`), the
//!   verification page and the administrator's approval (`/admin/v1/deviceCodes/…`);
//! - `console`, `authorize`, `auth_code`: the web console's sign-in (one-time links, sessions),
//!   the authorization endpoint and the authorization code grant with PKCE;
//! - `delegated`: what the delegated grants share (scopes asked for; a user's tokens);
//! - `oauth`: what every endpoint shares (forms, tenants and apps looked up, answers).

pub(crate) mod auth_code;
pub mod authorize;
pub mod console;
pub(crate) mod delegated;
pub mod device_login;
pub mod discovery;
pub(crate) mod oauth;
pub mod token;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

/// The token service's routes under `/{tenant}/`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery::openid_configuration_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::jwks))
        .route("/{tenant}/discovery/keys", get(discovery::jwks))
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(device_login::start),
        )
        .route("/{tenant}/devicelogin", get(device_login::page))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::authorize))
        .route("/{tenant}/oauth2/v2.0/signin", post(console::sign_in))
        .route("/{tenant}/oauth2/v2.0/logout", post(console::log_out))
}
