//! Console sign-in through an external OIDC provider the tenant trusts (e.g. Microsoft Entra
//! ID), without opening the Content-Security-Policy: the browser goes to the provider's
//! authorization endpoint by a top-level navigation (which `connect-src 'self'` does not
//! restrict) and comes back to `/console/` with a code; the console posts the code and its
//! PKCE verifier here, same origin, and this server redeems them at the provider's token
//! endpoint and hands back the provider's answer unchanged.
//!
//! Only token endpoints of the tenant's console registrations are ever called (looked up by
//! the tenant and issuer named in the request, never a URL from it), only for requests from
//! this server's own pages (`Origin`), and no code, verifier or token is logged.

use crate::audit;
use crate::error::{ApiError, OAuthError};
use crate::state::AppState;
use crate::sts::console::{audit_entry, console_redirect_uri, origin_refusal};
use crate::sts::oauth::{
    ids_and_base, json_response, known_tenant, no_store, refuse, Form, MAX_FORM_BYTES,
};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use picket_domain::identity::ConsoleRegistration;
use picket_store::console_clients;

/// The largest answer of a provider's token endpoint passed on.
const MAX_PROVIDER_ANSWER: usize = 256 * 1024;

fn missing(name: &str) -> OAuthError {
    OAuthError::invalid_request(
        900144,
        &format!("The request body must contain the following parameter: '{name}'."),
    )
}

/// `POST /console/api/token` `tenant, issuer, code, code_verifier`: redeems an authorization
/// code of the tenant's trusted issuer `issuer` at that issuer's token endpoint (registered
/// with `picket issuers add … --console-client-id`), for the console's redirect URI; answers
/// what the provider answered.
pub(super) async fn token(State(state): State<AppState>, request: Request) -> Response {
    let (ids, base) = ids_and_base(&state, &request);
    let origin = origin_refusal(request.headers(), &base);
    let source = crate::edge::source_ip(request.extensions());
    let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await;
    if let Some(refused) = origin {
        return finish(refuse(refused, &ids));
    }
    let Ok(body) = body else {
        return finish(refuse(
            OAuthError::invalid_request(900144, "The request body is too large."),
            &ids,
        ));
    };
    let form = Form::parse(&body);
    let mut fields = Vec::new();
    for name in ["tenant", "issuer", "code", "code_verifier"] {
        match form.get(name).filter(|v| !v.is_empty()) {
            Some(v) => fields.push(v),
            None => return finish(refuse(missing(name), &ids)),
        }
    }
    let [tenant, issuer, code, verifier] = fields[..] else {
        return finish(refuse(OAuthError::unavailable(), &ids));
    };
    let tenant = match known_tenant(&state, tenant).await {
        Ok(t) => t,
        Err(e) => return finish(refuse(e, &ids)),
    };
    if let Err(t) = state.throttle.failures.check(source, tenant.as_str()) {
        return finish(refuse(OAuthError::throttled(t.retry_after_secs), &ids));
    }
    let registration = match console_clients::registration(state.store.as_ref(), &tenant, issuer)
        .await
    {
        Ok(Some(r)) => r,
        Ok(None) => {
            state.throttle.failures.record(source, tenant.as_str());
            let shown: String = issuer.chars().take(256).collect();
            return finish(
                    refuse(OAuthError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        700016,
                        format!("Tenant {tenant} does not sign in to the console through '{shown}': it is not a trusted issuer with a console registration ('picket issuers add … --console-client-id ID')."),
                    ), &ids),
                );
        }
        Err(_) => return finish(refuse(OAuthError::unavailable(), &ids)),
    };
    let redirect_uri = console_redirect_uri(&base);
    let origin = crate::sts::console::origin_of(&base).to_string();
    let answer = redeem(
        &state,
        &registration,
        code,
        verifier,
        &redirect_uri,
        &origin,
    )
    .await;
    let response = match answer {
        Ok((status, body)) => {
            let actor = signed_in_actor(&state, &body).await;
            let entry = audit_entry(&tenant, actor, "consoleSignIn", status.as_str());
            let mut entry = entry;
            entry.detail = Some(format!("issuer: {}", registration.issuer));
            audit::record(&state, &entry).await;
            json_response(status, &body, &ids)
        }
        Err(e) => refuse(e, &ids),
    };
    finish(response)
}

/// Console answers carry the console's headers and are never cached.
fn finish(mut r: Response) -> Response {
    super::harden(r.headers_mut());
    no_store(r)
}

/// `user:{oid}` of an access token the provider issued, when this server accepts it.
async fn signed_in_actor(state: &AppState, body: &serde_json::Value) -> String {
    let Some(token) = body.get("access_token").and_then(|t| t.as_str()) else {
        return "anonymous".into();
    };
    match state
        .verifier
        .verify(token, crate::state::wall_clock_secs())
        .await
    {
        Ok(caller) => caller.actor(),
        Err(e) => {
            tracing::warn!(error = %e, "the provider issued a console token this server does not accept");
            "anonymous".into()
        }
    }
}

/// The provider's answer to the code: its status and JSON body, or why there is none.
async fn redeem(
    state: &AppState,
    registration: &ConsoleRegistration,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
    origin: &str,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let body = {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("client_id", &registration.client_id)
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", verifier);
        if !registration.scopes.is_empty() {
            form.append_pair("scope", &registration.scopes.join(" "));
        }
        form.finish()
    };
    let (client, timeout) = state.verifier.jwks().http_client();
    let unreachable = |what: &str| {
        tracing::warn!(issuer = %registration.issuer, problem = what, "console code redemption failed");
        OAuthError::new(
            StatusCode::BAD_GATEWAY,
            "temporarily_unavailable",
            90033,
            format!(
                "The token endpoint of {} {what}. Try again later.",
                registration.display_name
            ),
        )
    };
    // A single-page app's code is redeemed cross-origin at Entra ID, which wants the Origin.
    let sent = client
        .post(&registration.token_endpoint)
        .timeout(timeout)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(
            header::ORIGIN,
            HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("null")),
        )
        .body(body)
        .send()
        .await
        .map_err(|_| unreachable("could not be reached"))?;
    let status = StatusCode::from_u16(sent.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    if sent
        .content_length()
        .is_some_and(|n| n as usize > MAX_PROVIDER_ANSWER)
    {
        return Err(unreachable("answered too much").into());
    }
    let bytes = sent
        .bytes()
        .await
        .map_err(|_| unreachable("did not finish its answer"))?;
    if bytes.len() > MAX_PROVIDER_ANSWER {
        return Err(unreachable("answered too much").into());
    }
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(body) if body.is_object() => Ok((status, body)),
        _ => Err(unreachable(&format!(
            "answered HTTP {} without an OAuth JSON body",
            status.as_u16()
        ))
        .into()),
    }
}
