//! Delegated grants (device code, authorization code) share these: the Graph permissions a
//! `scope` parameter names, and the token endpoint's answer for a signed-in user (the access
//! token with the scopes as `scp` and the user's directory roles as `wids`, an OpenID Connect
//! id_token and MSAL's client_info).

use crate::error::ApiError;
use crate::state::wall_clock_secs;
use crate::sts::oauth::{signer, PublicGrant};
use picket_auth::{Permission, TokenRequest, GRAPH_AUDIENCES};
use picket_domain::identity::User;
use serde_json::json;

/// OpenID scopes a client may add; they grant nothing at Graph.
const OPENID_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];

/// One Graph permission asked for in a `scope` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Requested {
    /// `.default`: every permission the client may have.
    Default,
    One(Permission),
}

/// The Graph permissions a `scope` parameter asks for (`{resource}/` optional, OpenID scopes
/// skipped); `Err` is the first item that is not one.
pub(crate) fn requested_scopes(scope: Option<&str>) -> Result<Vec<Requested>, String> {
    let mut out = Vec::new();
    for item in scope.unwrap_or_default().split_whitespace() {
        if OPENID_SCOPES.iter().any(|s| s.eq_ignore_ascii_case(item)) {
            continue;
        }
        let (resource, name) = match item.rsplit_once('/') {
            Some((r, n)) => (Some(r), n),
            None => (None, item),
        };
        if resource.is_some_and(|r| !GRAPH_AUDIENCES.iter().any(|a| a.eq_ignore_ascii_case(r))) {
            return Err(item.to_string());
        }
        out.push(match name {
            ".default" => Requested::Default,
            _ => Requested::One(Permission::from_name(name).ok_or_else(|| item.to_string())?),
        });
    }
    Ok(out)
}

/// The token endpoint's answer for `user` signed in to the grant's client with these Graph
/// `scopes`.
pub(crate) fn issue(
    grant: &PublicGrant<'_>,
    user: &User,
    scopes: &[String],
) -> Result<serde_json::Value, ApiError> {
    let PublicGrant {
        state,
        tenant,
        client_id,
        base,
        ..
    } = *grant;
    let (key, lifetime) = signer(state)?;
    let request = TokenRequest {
        tenant: tenant.as_str().to_string(),
        scopes: scopes.to_vec(),
        user: Some(user.object_id.clone()),
        app_id: Some(client_id.to_string()),
        wids: user.roles.clone(),
        upn: Some(user.user_principal_name.clone()),
        name: Some(user.display_name.clone()),
        lifetime_secs: lifetime,
        ..Default::default()
    };
    let now = wall_clock_secs();
    let token = key.issue(state.verifier.issuer_base(), &request, now);
    // OpenID Connect: who signed in, for the client (MSAL builds its account from these).
    let id_token = key.sign_claims(&json!({
        "aud": client_id,
        "iss": format!("{base}/{tenant}/v2.0"),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "sub": user.object_id,
        "oid": user.object_id,
        "tid": tenant.as_str(),
        "preferred_username": user.user_principal_name,
        "name": user.display_name,
        "ver": "2.0",
    }));
    let client_info = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"uid": user.object_id, "utid": tenant.as_str()}).to_string())
    };
    Ok(json!({
        "id_token": id_token,
        "client_info": client_info,
        "token_type": "Bearer",
        "scope": scopes
            .iter()
            .map(|s| format!("https://graph.microsoft.com/{s}"))
            .collect::<Vec<_>>()
            .join(" "),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token.token,
    }))
}
