//! `GET /{tenant}/oauth2/v2.0/authorize`: the authorization endpoint of the code flow with PKCE
//! (RFC 6749 §4.1, RFC 7636 S256 only) for the console client ([`CONSOLE_CLIENT_ID`], redirected
//! only to `{origin}/console/`) and the tenant's public client apps (redirected only to one of
//! their registered redirect URIs, matched exactly). A client id or redirect URI that does not check out gets an
//! HTML page (never a redirect to a URI not validated); every later refusal goes back to the
//! client as `?error=…&error_description=…&state=…`. With a console session (the
//! `picket_session` cookie of `console::sign_in`) the answer is a one-time code valid 60 s,
//! bound to the client, redirect URI, challenge, user and scopes; without one, `prompt=none`
//! answers `login_required`, and a person is shown how to get a sign-in link.

use crate::state::AppState;
use crate::sts::console::{console_redirect_uri, console_scopes, session_secret};
use crate::sts::oauth::{known_tenant, Form};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use picket_auth::CONSOLE_CLIENT_ID;
use picket_domain::identity::User;
use picket_domain::TenantId;
use picket_store::sign_ins::{self, CodeBinding, Kind};

/// How long an authorization code may wait for its redemption.
pub(crate) const CODE_LIFETIME_SECS: i64 = 60;

/// `GET /{tenant}/oauth2/v2.0/authorize?client_id&response_type=code&redirect_uri&scope&state
/// &code_challenge&code_challenge_method=S256[&prompt=none]`
pub async fn authorize(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let base = crate::edge::request_base(&state, &parts.headers, &parts.extensions);
    let query = Form::parse(parts.uri.query().unwrap_or_default().as_bytes());
    let Ok(tenant) = known_tenant(&state, &tenant).await else {
        return failed(format!(
            "Tenant '{}' was not found on this server.",
            tenant.chars().take(64).collect::<String>()
        ));
    };
    let client_id = query.get("client_id").unwrap_or_default();
    let redirect_uri = query.get("redirect_uri").unwrap_or_default();
    let expected = match allowed_redirect_uris(&state, &tenant, client_id, &base).await {
        Ok(Some(uris)) => uris,
        Ok(None) => {
            let shown: String = client_id.chars().take(128).collect();
            return failed(format!(
                "AADSTS700016: Application with identifier '{shown}' was not found in the directory '{tenant}'. Picket's authorization endpoint signs in its web console (client id {CONSOLE_CLIENT_ID}) and the tenant's public client apps ('picket apps create --public --redirect-uri URL')."
            ));
        }
        Err(()) => {
            return failed("AADSTS90033: A transient error has occurred. Please try again.".into())
        }
    };
    let Some(expected) = expected.into_iter().find(|uri| uri == redirect_uri) else {
        let shown: String = redirect_uri.chars().take(512).collect();
        let client: String = client_id.chars().take(128).collect();
        return failed(format!(
            "AADSTS50011: The redirect URI '{shown}' specified in the request does not match the redirect URIs configured for the application '{client}'."
        ));
    };
    // The redirect URI is ours: from here on, refusals go back to the client.
    let back = Back {
        redirect_uri: &expected,
        state: query.get("state"),
    };
    if let Err((error, description)) = check_request(&query) {
        return back.error(error, &description);
    }
    let user = match signed_in_user(&state, &tenant, &parts.headers).await {
        Ok(user) => user,
        Err(()) => {
            return back.error(
                "temporarily_unavailable",
                "AADSTS90033: A transient error has occurred. Please try again.",
            )
        }
    };
    let Some(user) = user else {
        if query.get("prompt") == Some("none") {
            return back.error(
                "login_required",
                "AADSTS50058: A silent sign-in request was sent but no user is signed in. Sign in with a link from 'picket console-link'.",
            );
        }
        return sign_in_page(&tenant, &base);
    };
    let scopes = match console_scopes(query.get("scope"), &user) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => {
            return back.error(
                "access_denied",
                "The signed-in user's directory roles allow none of the requested permissions.",
            )
        }
        Err(item) => return back.error("invalid_scope", &invalid_scope(&item)),
    };
    let binding = CodeBinding {
        client_id: client_id.into(),
        redirect_uri: expected.clone(),
        code_challenge: query.get("code_challenge").unwrap_or_default().into(),
        scopes,
    };
    let code = sign_ins::create(
        state.store.as_ref(),
        &tenant,
        Kind::Code,
        &user.object_id,
        Some(&binding),
        chrono::Duration::seconds(CODE_LIFETIME_SECS),
        chrono::Utc::now(),
    )
    .await;
    match code {
        Ok(code) => back.to(&[("code", code.expose())]),
        Err(_) => back.error(
            "temporarily_unavailable",
            "AADSTS90033: A transient error has occurred. Please try again.",
        ),
    }
}

fn invalid_scope(item: &str) -> String {
    format!("AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope {item} is not valid.")
}

/// What a valid request has besides its client and redirect URI: `Err((error, description))`.
fn check_request(query: &Form) -> Result<(), (&'static str, String)> {
    let response_type = query.get("response_type").unwrap_or_default();
    if response_type != "code" {
        return Err((
            "unsupported_response_type",
            format!("AADSTS700054: response_type '{response_type}' is not enabled for the application: the console uses 'code'."),
        ));
    }
    let challenge = query.get("code_challenge").unwrap_or_default();
    if challenge.is_empty() {
        return Err((
            "invalid_request",
            "AADSTS9002325: Proof Key for Code Exchange is required: send code_challenge and code_challenge_method=S256.".into(),
        ));
    }
    if query.get("code_challenge_method") != Some("S256") {
        return Err((
            "invalid_request",
            "AADSTS501491: Invalid code_challenge_method: only S256 is supported.".into(),
        ));
    }
    // BASE64URL(SHA-256(verifier)) without padding: 43 characters.
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err((
            "invalid_request",
            "AADSTS501491: Invalid size of code_challenge parameter: an S256 challenge is 43 characters of base64url.".into(),
        ));
    }
    crate::sts::delegated::requested_scopes(query.get("scope"))
        .map(|_| ())
        .map_err(|item| ("invalid_scope", invalid_scope(&item)))
}

/// The redirect URIs a client may be sent back to: the console's own for the console client,
/// the registered ones of a public client app; `Ok(None)` for any other client.
pub(crate) async fn allowed_redirect_uris(
    state: &AppState,
    tenant: &TenantId,
    client_id: &str,
    base: &str,
) -> Result<Option<Vec<String>>, ()> {
    if client_id == CONSOLE_CLIENT_ID {
        return Ok(Some(vec![console_redirect_uri(base)]));
    }
    picket_store::console_clients::public_client_redirect_uris(
        state.store.as_ref(),
        tenant,
        client_id,
    )
    .await
    .map_err(|_| ())
}

/// The user of the request's console session; `Ok(None)` without a live one.
async fn signed_in_user(
    state: &AppState,
    tenant: &TenantId,
    headers: &HeaderMap,
) -> Result<Option<User>, ()> {
    let Some(secret) = session_secret(headers) else {
        return Ok(None);
    };
    let store = state.store.as_ref();
    let session = sign_ins::live_session(store, tenant, secret, chrono::Utc::now())
        .await
        .map_err(|_| ())?;
    match session {
        Ok(session) => store
            .find_user(tenant, &session.user_id)
            .await
            .map_err(|_| ()),
        Err(_) => Ok(None),
    }
}

/// Where answers go: the validated redirect URI, with the client's `state`.
struct Back<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

impl Back<'_> {
    fn to(&self, pairs: &[(&str, &str)]) -> Response {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(pairs);
        if let Some(s) = self.state {
            query.append_pair("state", s);
        }
        let location = format!("{}?{}", self.redirect_uri, query.finish());
        let Ok(location) = HeaderValue::from_str(&location) else {
            return failed("The redirect URI cannot be sent back.".into());
        };
        let mut r = StatusCode::FOUND.into_response();
        let h = r.headers_mut();
        h.insert(header::LOCATION, location);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        r
    }

    fn error(&self, error: &str, description: &str) -> Response {
        self.to(&[("error", error), ("error_description", description)])
    }
}

/// A request refused before its redirect URI is known to be ours.
fn failed(message: String) -> Response {
    page(StatusCode::BAD_REQUEST, "Sign-in failed", &[&message], None)
}

/// The page a person sees without a session: there is no password to type here.
fn sign_in_page(tenant: &TenantId, base: &str) -> Response {
    page(
        StatusCode::OK,
        "Sign in to Picket",
        &[
            "Picket keeps no passwords. To sign in to the console, ask an operator of this server for a one-time sign-in link for your user:",
        ],
        Some(&format!(
            "picket console-link --tenant {tenant} --user you@example.test --endpoint {base}"
        )),
    )
}

/// A small HTML page; every piece of text escaped, nothing loaded, nothing run.
fn page(status: StatusCode, title: &str, paragraphs: &[&str], command: Option<&str>) -> Response {
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head><body><h1>{t}</h1>",
        t = escape(title)
    );
    for p in paragraphs {
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    if let Some(c) = command {
        html.push_str(&format!("<pre>{}</pre>", escape(c)));
    }
    html.push_str("</body></html>");
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn only_s256_challenges_of_the_right_shape_pass() {
        let good = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let q = |extra: &str| {
            Form::parse(format!("response_type=code&code_challenge_method=S256{extra}").as_bytes())
        };
        assert!(check_request(&q(&format!("&code_challenge={good}"))).is_ok());
        assert!(check_request(&q("")).is_err());
        assert!(check_request(&q("&code_challenge=short")).is_err());
        let plain = Form::parse(
            format!("response_type=code&code_challenge_method=plain&code_challenge={good}")
                .as_bytes(),
        );
        assert_eq!(
            check_request(&plain).map_err(|e| e.0),
            Err("invalid_request")
        );
        assert!(check_request(&q(&format!(
            "&code_challenge={good}&scope=https://graph.microsoft.com/Nope"
        )))
        .is_err());
    }
}
