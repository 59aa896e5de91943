//! The console's sign-in through an external provider the tenant trusts, with a second Picket as
//! that provider: its authorization endpoint serves a registered public client (exact redirect
//! URIs, PKCE), and `/console/api/token` of the console's server redeems the code there, only at
//! registered providers, only for its own pages, passing the provider's answer on in shape.

use crate::console_sign_in::{add_user, browser, claims, pkce, session_of, tenant_a, Answer};
use crate::identity::assert_oauth_error;
use crate::support::*;
use chrono::Utc;
use picket_auth::DirectoryRole;
use picket_domain::identity::{App, ConsoleRegistration, TrustedIssuer};
use picket_store::console_clients;

/// The provider (B) with a public client app redirected to the console of `console_base`.
async fn provider_with_public_client(console_base: &str) -> (TestApp, String) {
    let b = TestApp::standard().await;
    b.store
        .create_tenant(&tenant_a(), "Contoso")
        .await
        .expect("tenant");
    let client_id = uuid::Uuid::new_v4().to_string();
    let app = App {
        tenant: tenant_a(),
        client_id: client_id.clone(),
        display_name: "picket console elsewhere".into(),
        permissions: vec![],
        created_at: Utc::now(),
        secrets: vec![],
        certificates: vec![],
    };
    b.store.create_app(&app).await.expect("app");
    console_clients::set_public_client(
        b.store.as_ref(),
        &tenant_a(),
        &client_id,
        &[format!("{console_base}/console/")],
    )
    .await
    .expect("public client");
    (b, client_id)
}

/// The console's server (A) trusting B for the tenant, with the console registered there.
async fn trust(a: &TestApp, b: &TestApp, client_id: &str, token_endpoint: &str) -> String {
    let issuer = b.state.verifier.issuer_for(TENANT_A);
    a.store
        .save_trusted_issuer(&TrustedIssuer {
            tenant: tenant_a(),
            issuer: issuer.clone(),
            jwks_uri: format!("{}/{TENANT_A}/discovery/v2.0/keys", b.base),
            audiences: vec![],
            created_at: Utc::now(),
        })
        .await
        .expect("trust");
    console_clients::save_registration(
        a.store.as_ref(),
        &ConsoleRegistration {
            tenant: tenant_a(),
            issuer: issuer.clone(),
            display_name: "Provider B".into(),
            client_id: client_id.into(),
            authorization_endpoint: format!("{}/{TENANT_A}/oauth2/v2.0/authorize", b.base),
            token_endpoint: token_endpoint.into(),
            scopes: vec!["https://graph.microsoft.com/.default".into()],
            created_at: Utc::now(),
        },
    )
    .await
    .expect("registration");
    picket_server::signing::reload(&a.state)
        .await
        .expect("reload");
    issuer
}

/// A (the console's server) trusting B, which has a public client for A's console.
async fn federated() -> (TestApp, TestApp, String, String) {
    let a = TestApp::standard().await;
    let (b, client_id) = provider_with_public_client(&a.base).await;
    let token_endpoint = format!("{}/{TENANT_A}/oauth2/v2.0/token", b.base);
    let issuer = trust(&a, &b, &client_id, &token_endpoint).await;
    (a, b, client_id, issuer)
}

/// The console's exchange request for tenant A.
fn fields<'a>(issuer: &'a str, code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tenant", TENANT_A),
        ("issuer", issuer),
        ("code", code),
        ("code_verifier", verifier),
    ]
}

/// B's authorization endpoint, as the console at `console_base` sends the browser there.
async fn authorize_at(
    b: &TestApp,
    session: &str,
    client_id: &str,
    redirect_uri: &str,
    challenge: &str,
) -> Answer {
    let params = [
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri),
        ("scope", "https://graph.microsoft.com/.default"),
        ("state", "s-1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let r = browser()
        .get(b.url(&format!("/{TENANT_A}/oauth2/v2.0/authorize")))
        .query(&params)
        .header("Cookie", format!("picket_session={session}"))
        .send()
        .await
        .expect("authorize");
    Answer::from(r).await
}

/// `POST /console/api/token` at A.
async fn exchange(a: &TestApp, origin: &str, fields: &[(&str, &str)]) -> Answer {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let r = browser()
        .post(a.url("/console/api/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", origin)
        .body(body.join("&"))
        .send()
        .await
        .expect("token");
    Answer::from(r).await
}

#[tokio::test]
async fn a_code_of_a_trusted_provider_becomes_a_console_token() {
    let (a, b, client_id, issuer) = federated().await;
    // The providers the console's sign-in screen offers.
    let config = browser()
        .get(a.url(&format!("/console/api/config?tenant={TENANT_A}")))
        .send()
        .await
        .expect("config");
    let config = Answer::from(config).await;
    assert_eq!(config.status, 200, "{}", config.text);
    assert_eq!(config.json["clientId"], picket_auth::CONSOLE_CLIENT_ID);
    let providers = config.json["providers"].as_array().expect("providers");
    assert_eq!(providers.len(), 2, "{}", config.text);
    assert_eq!(providers[0]["kind"], "picket");
    assert_eq!(providers[1]["issuer"], issuer.as_str());
    assert_eq!(providers[1]["clientId"], client_id.as_str());
    assert_eq!(providers[1]["name"], "Provider B");

    let user = add_user(&b, "ext-reader@partner.test", DirectoryRole::SecurityReader).await;
    let session = session_of(&b, &user).await;
    let (verifier, challenge) = pkce();
    let redirect = format!("{}/console/", a.base);
    let back = authorize_at(&b, &session, &client_id, &redirect, &challenge).await;
    assert_eq!(back.status, 302, "{}", back.text);
    let location = reqwest::Url::parse(back.header("location")).expect("location");
    assert!(location.as_str().starts_with(&redirect), "{location}");
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");

    let answer = exchange(&a, &a.base, &fields(&issuer, &code, &verifier)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), "no-store, no-cache");
    let token = answer.json["access_token"].as_str().expect("access_token");
    assert_eq!(claims(token)["appid"], client_id.as_str());
    assert!(answer.json["id_token"].is_string());

    // The console's session: the user from the token (not registered at A), a reader.
    let session = browser()
        .get(a.url("/console/api/session"))
        .bearer_auth(token)
        .send()
        .await
        .expect("session");
    let session = Answer::from(session).await;
    assert_eq!(session.status, 200, "{}", session.text);
    assert_eq!(session.json["user"]["id"], user.object_id.as_str());
    assert_eq!(
        session.json["user"]["userPrincipalName"],
        "ext-reader@partner.test"
    );
    assert_eq!(
        session.json["roles"],
        serde_json::json!(["Security Reader"])
    );
    assert_eq!(session.json["can"]["readSensors"], true);
    assert_eq!(session.json["can"]["manageSensors"], false);

    // The code was used up at B: a second exchange passes B's refusal on, in its shape.
    let again = exchange(&a, &a.base, &fields(&issuer, &code, &verifier)).await;
    assert_oauth_error(&again.as_resp(), 400, "invalid_grant", 54005);
}

#[tokio::test]
async fn the_exchange_is_refused_for_other_origins_and_issuers_and_passes_provider_errors_on() {
    let (a, b, client_id, issuer) = federated().await;
    let (verifier, _) = pkce();
    // Another site's page.
    let r = exchange(&a, "https://evil.example", &fields(&issuer, "c", &verifier)).await;
    assert_oauth_error(&r.as_resp(), 403, "invalid_request", 9002326);
    // An issuer the tenant does not trust for the console: nothing is called.
    let r = exchange(
        &a,
        &a.base,
        &fields("https://login.example/elsewhere/v2.0", "c", &verifier),
    )
    .await;
    assert_oauth_error(&r.as_resp(), 400, "invalid_request", 700016);
    // An unknown tenant, a missing field.
    let mut other = fields(&issuer, "c", &verifier);
    other[0].1 = TENANT_B;
    let r = exchange(&a, &a.base, &other).await;
    assert_oauth_error(&r.as_resp(), 400, "invalid_request", 90002);
    let r = exchange(&a, &a.base, &fields(&issuer, "c", &verifier)[..3]).await;
    assert_oauth_error(&r.as_resp(), 400, "invalid_request", 900144);
    assert!(r.text.contains("code_verifier"), "{}", r.text);
    // The provider's own refusal comes back as it said it.
    let r = exchange(&a, &a.base, &fields(&issuer, "not-a-code", &verifier)).await;
    assert_oauth_error(&r.as_resp(), 400, "invalid_grant", 70000);
    assert!(r
        .header("content-security-policy")
        .contains("connect-src 'self'"));

    // A provider that cannot be reached: a gateway error in the same shape.
    let a2 = TestApp::standard().await;
    let unreachable = trust(&a2, &b, &client_id, "http://127.0.0.1:9/token").await;
    let r = exchange(&a2, &a2.base, &fields(&unreachable, "c", &verifier)).await;
    assert_oauth_error(&r.as_resp(), 502, "temporarily_unavailable", 90033);
}

#[tokio::test]
async fn public_clients_are_redirected_only_to_their_own_uris() {
    let a = TestApp::standard().await;
    let (b, client_id) = provider_with_public_client(&a.base).await;
    let user = add_user(&b, "ana@partner.test", DirectoryRole::SecurityAdministrator).await;
    let session = session_of(&b, &user).await;
    let (_, challenge) = pkce();
    // Another redirect URI (even B's own console) is refused with a page, not a redirect.
    for redirect in [
        format!("{}/console/", b.base),
        format!("{}/console/x", a.base),
    ] {
        let r = authorize_at(&b, &session, &client_id, &redirect, &challenge).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("AADSTS50011"), "{}", r.text);
        assert!(r.header("location").is_empty());
    }
    // An app that is not a public client is not served.
    let unknown = uuid::Uuid::new_v4().to_string();
    let r = authorize_at(
        &b,
        &session,
        &unknown,
        &format!("{}/console/", a.base),
        &challenge,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("AADSTS700016"), "{}", r.text);
    // PKCE is required: without a challenge, the refusal goes back to the client.
    let r = authorize_at(
        &b,
        &session,
        &client_id,
        &format!("{}/console/", a.base),
        "",
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(
        r.header("location").contains("error=invalid_request"),
        "{}",
        r.header("location")
    );
}
