//! Discovery: the OpenID configuration documents (v2.0 and v1) and the JWKS, so MSAL,
//! azure-identity and another Picket (`picket issuers add --discover`) find the endpoints and
//! keys.

use crate::context::RequestIds;
use crate::state::AppState;
use crate::sts::device_login;
use crate::sts::oauth::{ids_and_base, json_response, known_tenant, refuse};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

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

async fn discovery(
    state: &AppState,
    tenant: &str,
    ids: RequestIds,
    base: &str,
    v1: bool,
) -> Response {
    let tenant = match known_tenant(state, tenant).await {
        Ok(t) => t,
        Err(e) => return refuse(e, &ids),
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
    let ids = RequestIds::for_token_service(&headers);
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
