//! The web console's sign-in against Picket's own token service, as a browser and the console's
//! JavaScript drive it (no redirects followed): a one-time sign-in ticket becomes a session
//! cookie, the authorization endpoint answers a code, the token endpoint trades it (with the
//! PKCE verifier) for the user's delegated token. Every refusal along the way.

use crate::identity::{assert_oauth_error, token_request};
use crate::support::*;
use base64::Engine;
use chrono::{Duration, Utc};
use picket_auth::{DirectoryRole, CONSOLE_CLIENT_ID};
use picket_domain::identity::User;
use picket_domain::TenantId;
use picket_store::portable::Cell;
use picket_store::sign_ins::{self, Kind};
use picket_store::AuditQuery;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A browser: nothing followed, cookies handled by the test itself.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub(crate) fn tenant_a() -> TenantId {
    TenantId::parse(TENANT_A).expect("tenant")
}

pub(crate) async fn add_user(app: &TestApp, upn: &str, role: DirectoryRole) -> User {
    app.store
        .create_tenant(&tenant_a(), "Contoso")
        .await
        .expect("tenant");
    let user = User {
        tenant: tenant_a(),
        object_id: uuid::Uuid::new_v4().to_string(),
        user_principal_name: upn.into(),
        display_name: format!("Display {upn}"),
        roles: vec![role.template_id().to_string()],
        created_at: Utc::now(),
    };
    app.store.create_user(&user).await.expect("user");
    user
}

/// What `picket console-link` stores: a ticket valid `lifetime` from `now`.
async fn ticket(
    app: &TestApp,
    user: &User,
    lifetime: Duration,
    now: chrono::DateTime<Utc>,
) -> String {
    sign_ins::create(
        app.store.as_ref(),
        &tenant_a(),
        Kind::Ticket,
        &user.object_id,
        None,
        lifetime,
        now,
    )
    .await
    .expect("ticket")
    .expose()
    .to_string()
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) json: serde_json::Value,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) async fn from(r: reqwest::Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or_default();
        Self {
            status,
            headers,
            json,
            text,
        }
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `picket_session` value of Set-Cookie.
    pub(crate) fn session(&self) -> String {
        let cookie = self.header("set-cookie");
        cookie
            .strip_prefix("picket_session=")
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_else(|| panic!("no session cookie: {cookie}"))
            .to_string()
    }

    /// The query of a 302's Location, which must go to the console.
    fn redirected(&self, app: &TestApp) -> HashMap<String, String> {
        assert_eq!(self.status, 302, "{}", self.text);
        let location = reqwest::Url::parse(self.header("location")).expect("location URL");
        assert_eq!(
            location.as_str().split('?').next(),
            Some(format!("{}/console/", app.base).as_str())
        );
        location.query_pairs().into_owned().collect()
    }

    pub(crate) fn as_resp(&self) -> Resp {
        Resp {
            status: self.status,
            headers: self.headers.clone(),
            text: self.text.clone(),
            json: self.json.clone(),
        }
    }
}

async fn sign_in(app: &TestApp, ticket: &str, origin: Option<&str>) -> Answer {
    let mut r = browser()
        .post(app.url(&format!("/{TENANT_A}/oauth2/v2.0/signin")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("ticket={}", enc(ticket)));
    if let Some(o) = origin {
        r = r.header("Origin", o);
    }
    Answer::from(r.send().await.expect("signin")).await
}

async fn log_out(app: &TestApp, session: &str, origin: &str) -> Answer {
    let r = browser()
        .post(app.url(&format!("/{TENANT_A}/oauth2/v2.0/logout")))
        .header("Origin", origin)
        .header("Cookie", format!("picket_session={session}"))
        .send()
        .await
        .expect("logout");
    Answer::from(r).await
}

/// A PKCE pair: (verifier, S256 challenge).
pub(crate) fn pkce() -> (String, String) {
    let verifier = format!("v{}", uuid::Uuid::new_v4().simple()).repeat(2);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The console's authorization request, with `changes` applied (an empty value drops one).
async fn authorize(
    app: &TestApp,
    session: Option<&str>,
    challenge: &str,
    changes: &[(&str, &str)],
) -> Answer {
    let redirect = format!("{}/console/", app.base);
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", CONSOLE_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", &redirect),
        (
            "scope",
            "https://graph.microsoft.com/.default openid profile",
        ),
        ("state", "st-42"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in changes {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let mut r = browser()
        .get(app.url(&format!("/{TENANT_A}/oauth2/v2.0/authorize")))
        .query(&params);
    if let Some(s) = session {
        r = r.header("Cookie", format!("other=1; picket_session={s}"));
    }
    Answer::from(r.send().await.expect("authorize")).await
}

async fn redeem(app: &TestApp, code: &str, verifier: &str, redirect_uri: &str) -> Resp {
    token_request(
        app,
        TENANT_A,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CONSOLE_CLIENT_ID),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// Signs `user` in with a fresh ticket; answers the session.
pub(crate) async fn session_of(app: &TestApp, user: &User) -> String {
    let t = ticket(app, user, Duration::minutes(10), Utc::now()).await;
    sign_in(app, &t, Some(&app.base)).await.session()
}

/// Signs `user` in and runs the code flow; answers the token endpoint's answer.
async fn console_token(app: &TestApp, user: &User) -> serde_json::Value {
    let session = session_of(app, user).await;
    let (verifier, challenge) = pkce();
    let code = authorize(app, Some(&session), &challenge, &[])
        .await
        .redirected(app)["code"]
        .clone();
    redeem(app, &code, &verifier, &format!("{}/console/", app.base))
        .await
        .expect(200)
        .json
}

pub(crate) fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("claims")
}

#[tokio::test]
async fn a_sign_in_link_becomes_a_session_then_a_code_then_the_users_token() {
    let app = TestApp::standard().await;
    let admin = add_user(
        &app,
        "admin@contoso.test",
        DirectoryRole::SecurityAdministrator,
    )
    .await;
    let t = ticket(&app, &admin, Duration::minutes(10), Utc::now()).await;

    let signed_in = sign_in(&app, &t, Some(&app.base)).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert_eq!(
        signed_in.json,
        serde_json::json!({"user": {
            "id": admin.object_id,
            "userPrincipalName": "admin@contoso.test",
            "displayName": "Display admin@contoso.test",
        }})
    );
    let cookie = signed_in.header("set-cookie").to_string();
    let session = signed_in.session();
    assert_eq!(session.len(), 43, "{cookie}");
    for part in [
        "HttpOnly",
        "SameSite=Lax",
        &format!("Path=/{TENANT_A}/oauth2/v2.0/"),
        "Max-Age=28800",
    ] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(signed_in.header("cache-control").contains("no-store"));

    let (verifier, challenge) = pkce();
    let back = authorize(&app, Some(&session), &challenge, &[]).await;
    assert_eq!(back.header("cache-control"), "no-store");
    let query = back.redirected(&app);
    assert_eq!(query["state"], "st-42");
    let code = query["code"].clone();
    assert_eq!(code.len(), 43);

    let redirect = format!("{}/console/", app.base);
    let tokens = redeem(&app, &code, &verifier, &redirect).await.expect(200);
    let access = tokens.json["access_token"].as_str().expect("access token");
    let c = claims(access);
    assert_eq!(c["oid"], admin.object_id.as_str());
    assert_eq!(c["appid"], CONSOLE_CLIENT_ID);
    assert_eq!(
        c["wids"],
        serde_json::json!([DirectoryRole::SecurityAdministrator.template_id()])
    );
    let scp = c["scp"].as_str().expect("scp");
    assert!(scp.contains(SENSORS_RW) && scp.contains(HEALTH_RW), "{scp}");
    let id = claims(tokens.json["id_token"].as_str().expect("id_token"));
    assert_eq!(id["preferred_username"], "admin@contoso.test");
    assert_eq!(id["aud"], CONSOLE_CLIENT_ID);
    assert!(tokens.json["client_info"].is_string());

    // The token reads the fleet.
    app.get("/v1.0/security/identities/sensors", access)
        .await
        .expect(200);

    // A code is used once.
    let again = redeem(&app, &code, &verifier, &redirect).await;
    assert_oauth_error(&again, 400, "invalid_grant", 54005);

    // The session stays: another authorization needs no new link (the console's silent
    // renewal).
    let (_, challenge) = pkce();
    let silent = authorize(&app, Some(&session), &challenge, &[("prompt", "none")]).await;
    assert!(silent.redirected(&app).contains_key("code"));

    // Audited without secrets.
    let query = AuditQuery {
        limit: 1000,
        ..AuditQuery::default()
    };
    let audit = app
        .store
        .audit_entries(&tenant_a(), &query)
        .await
        .expect("audit");
    let entry = audit
        .iter()
        .find(|e| e.operation == "consoleSignIn" && e.result == "200")
        .expect("sign-in audited");
    assert_eq!(entry.actor, format!("user:{}", admin.object_id));
    let everything = format!("{audit:?}");
    for secret in [&t, &session, &code, &verifier] {
        assert!(!everything.contains(secret.as_str()));
    }

    // Only digests are stored: no secret handed out appears in the table.
    let rows = app
        .store
        .read_rows(
            "SELECT digest, kind FROM sign_ins WHERE tenant_id = ? ORDER BY kind",
            vec![Cell::Text(TENANT_A.into())],
        )
        .await
        .expect("rows");
    let stored = format!("{rows:?}");
    for secret in [&t, &session, &code] {
        assert!(!stored.contains(secret.as_str()), "{stored}");
        assert!(stored.contains(&sign_ins::digest(secret)), "{stored}");
    }
}

#[tokio::test]
async fn a_readers_token_reads_but_is_refused_writes() {
    let app = TestApp::standard().await;
    let reader = add_user(&app, "reader@contoso.test", DirectoryRole::SecurityReader).await;
    let tokens = console_token(&app, &reader).await;
    let access = tokens["access_token"].as_str().expect("token");
    let scp = claims(access)["scp"].as_str().expect("scp").to_string();
    assert!(
        scp.contains(SENSORS_READ) && !scp.contains("ReadWrite"),
        "{scp}"
    );
    app.get("/v1.0/security/identities/sensors", access)
        .await
        .expect(200);
    app.patch(
        &format!("/v1.0/security/identities/sensors/{DC1}"),
        access,
        serde_json::json!({"settings": {"description": "mine"}}),
    )
    .await
    .expect(403);
}

#[tokio::test]
async fn tickets_are_refused_from_other_origins_once_used_and_once_expired() {
    let app = TestApp::standard().await;
    let ana = add_user(&app, "ana@contoso.test", DirectoryRole::SecurityReader).await;
    let t = ticket(&app, &ana, Duration::minutes(10), Utc::now()).await;

    // Login CSRF: another site's page (or none) cannot spend the ticket.
    for origin in [Some("http://evil.example"), None] {
        let refused = sign_in(&app, &t, origin).await;
        let d = assert_oauth_error(&refused.as_resp(), 403, "invalid_request", 9002326);
        assert!(d.contains("Origin"), "{d}");
        assert!(refused.header("set-cookie").is_empty());
    }
    sign_in(&app, &t, Some(&app.base)).await.session();
    let reused = sign_in(&app, &t, Some(&app.base)).await;
    let d = assert_oauth_error(&reused.as_resp(), 400, "invalid_grant", 70000);
    assert!(d.contains("already used"), "{d}");

    let old = ticket(
        &app,
        &ana,
        Duration::minutes(10),
        Utc::now() - Duration::minutes(11),
    )
    .await;
    let expired = sign_in(&app, &old, Some(&app.base)).await;
    let d = assert_oauth_error(&expired.as_resp(), 400, "invalid_grant", 70008);
    assert!(
        d.contains("expired") && d.contains("picket console-link"),
        "{d}"
    );

    let guessed = sign_in(&app, "not-a-ticket", Some(&app.base)).await;
    assert_oauth_error(&guessed.as_resp(), 400, "invalid_grant", 70000);
    let missing = sign_in(&app, "", Some(&app.base)).await;
    assert_oauth_error(&missing.as_resp(), 400, "invalid_request", 900144);
}

#[tokio::test]
async fn codes_need_their_verifier_client_and_redirect_uri() {
    let app = TestApp::standard().await;
    let ana = add_user(&app, "ana@contoso.test", DirectoryRole::SecurityOperator).await;
    let session = session_of(&app, &ana).await;
    let redirect = format!("{}/console/", app.base);
    let code = |challenge: String| {
        let (app, session) = (&app, session.clone());
        async move {
            authorize(app, Some(&session), &challenge, &[])
                .await
                .redirected(app)["code"]
                .clone()
        }
    };

    // A wrong verifier; the code is spent by the attempt.
    let (verifier, challenge) = pkce();
    let c = code(challenge).await;
    let (other, _) = pkce();
    let wrong = redeem(&app, &c, &other, &redirect).await;
    assert_oauth_error(&wrong, 400, "invalid_grant", 501481);
    let late = redeem(&app, &c, &verifier, &redirect).await;
    assert_oauth_error(&late, 400, "invalid_grant", 54005);

    // Another redirect URI than the code's.
    let (verifier, challenge) = pkce();
    let c = code(challenge).await;
    let elsewhere = redeem(&app, &c, &verifier, "http://127.0.0.1:1/console/").await;
    assert_oauth_error(&elsewhere, 400, "invalid_grant", 70000);

    // Another client.
    let (verifier, challenge) = pkce();
    let c = code(challenge).await;
    let stranger = token_request(
        &app,
        TENANT_A,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "00000000-1111-2222-3333-444444444444"),
            ("code", &c),
            ("redirect_uri", &redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_oauth_error(&stranger, 400, "unauthorized_client", 700016);
    // (the code was not touched by that)
    redeem(&app, &c, &verifier, &redirect).await.expect(200);

    // No verifier at all; an unknown code.
    let missing = token_request(
        &app,
        TENANT_A,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CONSOLE_CLIENT_ID),
            ("code", "whatever"),
            ("redirect_uri", &redirect),
        ],
    )
    .await;
    assert_oauth_error(&missing, 400, "invalid_request", 900144);
    let unknown = redeem(&app, "whatever", &verifier, &redirect).await;
    assert_oauth_error(&unknown, 400, "invalid_grant", 70000);
}

#[tokio::test]
async fn the_authorization_endpoint_validates_before_it_redirects() {
    let app = TestApp::standard().await;
    let (_, challenge) = pkce();

    // A client or redirect URI that does not check out: a page, never a redirect.
    for change in [
        ("client_id", "00000000-1111-2222-3333-444444444444"),
        ("redirect_uri", "https://evil.example/console/"),
        ("redirect_uri", ""),
    ] {
        let page = authorize(&app, None, &challenge, &[change]).await;
        assert_eq!(page.status, 400, "{change:?}: {}", page.text);
        assert!(page.header("location").is_empty());
        assert!(page.header("content-type").starts_with("text/html"));
        assert!(page
            .header("content-security-policy")
            .contains("default-src 'none'"));
        assert!(!page.text.contains("<script"), "{}", page.text);
    }
    let hostile = authorize(
        &app,
        None,
        &challenge,
        &[("redirect_uri", "<script>alert(1)</script>")],
    )
    .await;
    assert!(hostile.text.contains("&lt;script&gt;"), "{}", hostile.text);
    assert!(!hostile.text.contains("<script>"));

    // After that, errors go back to the console with the state.
    for (change, error) in [
        (("code_challenge_method", "plain"), "invalid_request"),
        (("code_challenge_method", ""), "invalid_request"),
        (("code_challenge", ""), "invalid_request"),
        (("response_type", "token"), "unsupported_response_type"),
        (
            ("scope", "https://graph.microsoft.com/Mail.Send"),
            "invalid_scope",
        ),
    ] {
        let back = authorize(&app, None, &challenge, &[change]).await;
        let query = back.redirected(&app);
        assert_eq!(query["error"], error, "{change:?}");
        assert_eq!(query["state"], "st-42");
        assert!(!query.contains_key("code"));
    }

    // No session: silent sign-in fails with login_required; a person is told what to do.
    let silent = authorize(&app, None, &challenge, &[("prompt", "none")]).await;
    let query = silent.redirected(&app);
    assert_eq!(query["error"], "login_required");
    assert!(query["error_description"].contains("AADSTS50058"));
    let page = authorize(&app, Some("forged"), &challenge, &[]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("Picket keeps no passwords"),
        "{}",
        page.text
    );
    assert!(page
        .text
        .contains(&format!("picket console-link --tenant {TENANT_A}")));
    assert!(page
        .header("content-security-policy")
        .contains("default-src 'none'"));
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::standard().await;
    let ana = add_user(&app, "ana@contoso.test", DirectoryRole::SecurityReader).await;
    let session = session_of(&app, &ana).await;
    let (_, challenge) = pkce();

    let refused = log_out(&app, &session, "http://evil.example").await;
    assert_eq!(refused.status, 403);
    let still = authorize(&app, Some(&session), &challenge, &[("prompt", "none")]).await;
    assert!(still.redirected(&app).contains_key("code"));

    let out = log_out(&app, &session, &app.base).await;
    assert_eq!(out.status, 204, "{}", out.text);
    let cookie = out.header("set-cookie");
    assert!(
        cookie.starts_with("picket_session=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    let after = authorize(&app, Some(&session), &challenge, &[("prompt", "none")]).await;
    assert_eq!(after.redirected(&app)["error"], "login_required");
    // Signing out twice is no error.
    assert_eq!(log_out(&app, &session, &app.base).await.status, 204);
}
