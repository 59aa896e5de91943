//! The identity side end to end: the token service (discovery, JWKS, client credentials with
//! Entra's errors), directory roles of delegated callers, signing-key rotation, external
//! issuers, throttling and the audit log.

use crate::support::*;
use chrono::{Duration, Utc};
use picket_auth::credentials::new_client_secret;
use picket_auth::{DirectoryRole, SigningKey, TokenRequest};
use picket_domain::identity::{App, TrustedIssuer};
use picket_domain::TenantId;
use picket_server::throttle::{parse_limit, ThrottleSettings};
use picket_store::AuditQuery;
use serde_json::json;
use std::sync::Arc;

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).expect("GUID")
}

/// Registers tenant A (named) and an app with a secret; returns (client id, secret).
pub(crate) async fn register_app(
    app: &TestApp,
    grants: &[&str],
    expires_in: Duration,
) -> (String, String) {
    let t = tenant(TENANT_A);
    app.store
        .create_tenant(&t, "Contoso")
        .await
        .expect("tenant");
    let now = Utc::now();
    let (secret, record) = new_client_secret(now - Duration::days(1), now + expires_in);
    let client_id = uuid::Uuid::new_v4().to_string();
    app.store
        .create_app(&App {
            tenant: t,
            client_id: client_id.clone(),
            display_name: "soar".into(),
            permissions: grants.iter().map(|g| g.to_string()).collect(),
            created_at: now,
            secrets: vec![record],
            certificates: vec![],
        })
        .await
        .expect("app");
    (client_id, secret)
}

pub(crate) async fn token_request(app: &TestApp, tenant: &str, form: &[(&str, &str)]) -> Resp {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    app.send(
        "POST",
        &format!("/{tenant}/oauth2/v2.0/token"),
        None,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body.into_bytes()),
    )
    .await
}

fn client_credentials<'a>(client_id: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", "https://graph.microsoft.com/.default"),
    ]
}

/// Asserts Entra's OAuth error shape and returns its description.
#[track_caller]
pub(crate) fn assert_oauth_error(resp: &Resp, status: u16, error: &str, code: u64) -> String {
    assert_eq!(resp.status, status, "{}", resp.text);
    assert_eq!(resp.json["error"], error, "{}", resp.text);
    assert_eq!(resp.json["error_codes"], json!([code]), "{}", resp.text);
    let description = resp.json["error_description"]
        .as_str()
        .expect("error_description");
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    for field in ["trace_id", "correlation_id", "timestamp"] {
        assert!(resp.json[field].is_string(), "{field} in {}", resp.text);
    }
    description.to_string()
}

/// The JWKS the token service publishes for tenant A.
async fn published_keys(app: &TestApp) -> Vec<serde_json::Value> {
    let jwks = app
        .send(
            "GET",
            &format!("/{TENANT_A}/discovery/v2.0/keys"),
            None,
            &[],
            None,
        )
        .await
        .expect(200);
    jwks.json["keys"].as_array().expect("keys").clone()
}

#[tokio::test]
async fn discovery_and_keys_describe_this_server() {
    let app = TestApp::empty().await;
    app.store
        .create_tenant(&tenant(TENANT_A), "Contoso")
        .await
        .expect("tenant");
    let doc = app
        .send(
            "GET",
            &format!("/{TENANT_A}/v2.0/.well-known/openid-configuration"),
            None,
            &[],
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        doc.json["token_endpoint"],
        format!("{}/{TENANT_A}/oauth2/v2.0/token", app.base)
    );
    assert_eq!(
        doc.json["jwks_uri"],
        format!("{}/{TENANT_A}/discovery/v2.0/keys", app.base)
    );
    assert_eq!(doc.json["issuer"], format!("{}/{TENANT_A}/v2.0", app.base));
    assert_eq!(
        doc.json["authorization_endpoint"],
        format!("{}/{TENANT_A}/oauth2/v2.0/authorize", app.base)
    );
    // The console's code flow: PKCE with S256 only.
    assert_eq!(
        doc.json["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let jwks = published_keys(&app).await;
    assert_eq!(jwks.len(), 1);
    assert_eq!(jwks[0]["kid"], signing_key().kid());
    assert!(jwks[0].get("d").is_none(), "no private parts");

    // An unknown tenant is Entra's AADSTS90002.
    let unknown = app
        .send(
            "GET",
            &format!("/{TENANT_B}/v2.0/.well-known/openid-configuration"),
            None,
            &[],
            None,
        )
        .await;
    assert_oauth_error(&unknown, 400, "invalid_request", 90002);
}

#[tokio::test]
async fn client_secret_grant_issues_tokens_with_the_granted_roles() {
    let app = TestApp::standard().await;
    let (client_id, secret) = register_app(&app, &[SENSORS_READ], Duration::days(30)).await;
    let resp = token_request(&app, TENANT_A, &client_credentials(&client_id, &secret))
        .await
        .expect(200);
    assert_eq!(resp.json["token_type"], "Bearer");
    assert_eq!(resp.json["expires_in"], 3600);
    assert_eq!(resp.header("cache-control"), Some("no-store, no-cache"));
    let token = resp.json["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    // The token reads sensors, but its app was not granted health or write permissions.
    let sensors = app
        .get_ok("/v1.0/security/identities/sensors", &token)
        .await;
    assert_eq!(sensors["value"].as_array().map(Vec::len), Some(5));
    assert_error(
        &app.get("/v1.0/security/identities/healthIssues", &token)
            .await,
        403,
        "UnknownError",
    );
    let before = app.snapshot(&admin()).await;
    assert_error(
        &app.patch(
            &format!("/v1.0/security/identities/sensors/{DC1}"),
            &token,
            json!({"settings": {"description": "x"}}),
        )
        .await,
        403,
        "UnknownError",
    );
    assert_eq!(app.snapshot(&admin()).await, before);

    // client_secret_basic works too.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    let resp = app
        .send(
            "POST",
            &format!("/{TENANT_A}/oauth2/v2.0/token"),
            None,
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &format!("Basic {basic}")),
            ],
            Some(
                b"grant_type=client_credentials&scope=00000003-0000-0000-c000-000000000000%2F.default"
                    .to_vec(),
            ),
        )
        .await;
    resp.expect(200);
}

#[tokio::test]
async fn token_endpoint_fails_the_way_entra_does() {
    let app = TestApp::empty().await;
    let (client_id, secret) = register_app(&app, &ALL_PERMISSIONS, Duration::days(30)).await;
    let (expired_id, expired_secret) =
        register_app_again(&app, "expired", Duration::days(-1)).await;

    let wrong = token_request(&app, TENANT_A, &client_credentials(&client_id, "nope")).await;
    let d = assert_oauth_error(&wrong, 401, "invalid_client", 7000215);
    assert!(d.contains(&client_id));
    assert!(!wrong.text.contains(&secret));

    let expired = token_request(
        &app,
        TENANT_A,
        &client_credentials(&expired_id, &expired_secret),
    )
    .await;
    assert_oauth_error(&expired, 401, "invalid_client", 7000222);

    let unknown_app = token_request(
        &app,
        TENANT_A,
        &client_credentials("00000000-1111-2222-3333-444444444444", &secret),
    )
    .await;
    assert_oauth_error(&unknown_app, 400, "unauthorized_client", 700016);

    let other_tenant =
        token_request(&app, TENANT_B, &client_credentials(&client_id, &secret)).await;
    assert_oauth_error(&other_tenant, 400, "invalid_request", 90002);

    let mut bad_scope = client_credentials(&client_id, &secret);
    bad_scope[3] = ("scope", "SecurityIdentitiesSensors.Read.All");
    assert_oauth_error(
        &token_request(&app, TENANT_A, &bad_scope).await,
        400,
        "invalid_scope",
        1002012,
    );
    bad_scope[3] = ("scope", "https://management.azure.com/.default");
    assert_oauth_error(
        &token_request(&app, TENANT_A, &bad_scope).await,
        400,
        "invalid_resource",
        500011,
    );
    let mut no_secret = client_credentials(&client_id, &secret);
    no_secret.remove(2);
    assert_oauth_error(
        &token_request(&app, TENANT_A, &no_secret).await,
        401,
        "invalid_client",
        7000218,
    );
    let mut grant = client_credentials(&client_id, &secret);
    grant[0] = ("grant_type", "password");
    assert_oauth_error(
        &token_request(&app, TENANT_A, &grant).await,
        400,
        "unsupported_grant_type",
        70003,
    );
    grant.remove(0);
    assert_oauth_error(
        &token_request(&app, TENANT_A, &grant).await,
        400,
        "invalid_request",
        900144,
    );

    // A removed (revoked) secret fails like a wrong one.
    let t = tenant(TENANT_A);
    let stored = app
        .store
        .find_app(&t, &client_id)
        .await
        .expect("read")
        .expect("app");
    assert!(app
        .store
        .remove_app_credential(&t, &client_id, &stored.secrets[0].key_id)
        .await
        .expect("remove"));
    assert_oauth_error(
        &token_request(&app, TENANT_A, &client_credentials(&client_id, &secret)).await,
        401,
        "invalid_client",
        7000215,
    );

    // Every attempt was audited, and no secret was written.
    let entries = app
        .store
        .audit_entries(
            &t,
            &AuditQuery {
                since: None,
                operation: Some("issueToken".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert!(entries.len() >= 8, "{entries:?}");
    assert!(entries
        .iter()
        .any(|e| e.result == "401 invalid_client" && e.detail.as_deref() == Some("AADSTS7000215")));
    let dump = format!("{entries:?}");
    assert!(!dump.contains(&secret) && !dump.contains(&expired_secret));
}

async fn register_app_again(app: &TestApp, name: &str, expires_in: Duration) -> (String, String) {
    let now = Utc::now();
    let (secret, record) = new_client_secret(now - Duration::days(2), now + expires_in);
    let client_id = uuid::Uuid::new_v4().to_string();
    app.store
        .create_app(&App {
            tenant: tenant(TENANT_A),
            client_id: client_id.clone(),
            display_name: name.into(),
            permissions: vec![SENSORS_READ.into()],
            created_at: now,
            secrets: vec![record],
            certificates: vec![],
        })
        .await
        .expect("app");
    (client_id, secret)
}

#[tokio::test]
async fn delegated_calls_need_a_directory_role_that_allows_the_operation() {
    let app = TestApp::standard().await;
    let all = [SENSORS_RW, HEALTH_RW];
    let reader = user_token_with_roles(TENANT_A, &all, &[DirectoryRole::SecurityReader]);
    let operator = user_token_with_roles(TENANT_A, &all, &[DirectoryRole::SecurityOperator]);
    let nobody = user_token_with_roles(TENANT_A, &all, &[]);
    let sensor = format!("/v1.0/security/identities/sensors/{DC1}");
    let issue = format!("/v1.0/security/identities/healthIssues/{H1}");
    let before = app.snapshot(&admin()).await;

    app.get(&sensor, &reader).await.expect(200);
    let msg = assert_error(
        &app.patch(&sensor, &reader, json!({"settings": {"description": "r"}}))
            .await,
        403,
        "UnknownError",
    );
    assert!(msg.contains("Security Administrator"), "{msg}");
    assert!(msg.contains("manage sensors"), "{msg}");
    assert_error(
        &app.patch(&issue, &reader, json!({"status": "closed"}))
            .await,
        403,
        "UnknownError",
    );
    assert_error(&app.get(&sensor, &nobody).await, 403, "UnknownError");
    assert_error(
        &app.patch(
            &sensor,
            &operator,
            json!({"settings": {"description": "o"}}),
        )
        .await,
        403,
        "UnknownError",
    );
    assert_error(
        &app.get(
            "/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            &operator,
        )
        .await,
        403,
        "UnknownError",
    );
    assert_eq!(
        app.snapshot(&admin()).await,
        before,
        "refusals change nothing"
    );
    // An operator manages health issues.
    app.patch(&issue, &operator, json!({"status": "closed"}))
        .await
        .expect(200);
}

#[tokio::test]
async fn rotated_keys_keep_old_tokens_until_removed() {
    let app = TestApp::standard().await;
    let store: &dyn picket_store::Store = app.store.as_ref();
    let now = Utc::now();
    // The server starts from the store's keys, as `serve` does.
    let legacy = tempfile::tempdir().expect("dir");
    std::fs::write(legacy.path().join("signing-key.pem"), trusted_pem()).expect("write");
    picket_server::signing::ensure_keys(store, Some(legacy.path()), now)
        .await
        .expect("keys");
    picket_server::signing::reload(&app.state)
        .await
        .expect("reload");
    let old_token = admin();
    app.get("/v1.0/security/identities/sensors", &old_token)
        .await
        .expect(200);

    let new = picket_server::signing::rotate(store, now, std::time::Duration::from_secs(3600))
        .await
        .expect("rotate");
    picket_server::signing::reload(&app.state)
        .await
        .expect("reload");
    let kids: Vec<String> = published_keys(&app)
        .await
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_string())
        .collect();
    assert_eq!(kids, vec![new.kid.clone(), signing_key().kid().to_string()]);
    // Old tokens still work; new ones are signed with the new key.
    app.get("/v1.0/security/identities/sensors", &old_token)
        .await
        .expect(200);
    let signer = app.state.verifier.keys().signer().expect("signer");
    assert_eq!(signer.kid(), new.kid);

    // Removing the old key refuses its tokens at once, even ones verified before.
    assert!(store
        .remove_signing_key(signing_key().kid())
        .await
        .expect("remove"));
    picket_server::signing::reload(&app.state)
        .await
        .expect("reload");
    assert_error(
        &app.get("/v1.0/security/identities/sensors", &old_token)
            .await,
        401,
        "InvalidAuthenticationToken",
    );
    // The current key cannot be removed.
    assert!(store.remove_signing_key(&new.kid).await.is_err());
}

/// A second OIDC issuer, standing in for Microsoft Entra ID: its JWKS is served locally.
async fn jwks_server(keys: Vec<Arc<SigningKey>>) -> String {
    let body = json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()});
    let router = axum::Router::new().route(
        "/keys",
        axum::routing::get(move || {
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://127.0.0.1:{port}/keys")
}

#[tokio::test]
async fn external_issuer_tokens_are_accepted_for_their_tenant_only() {
    let app = TestApp::standard().await;
    let external = untrusted_key();
    let jwks_uri = jwks_server(vec![external.clone()]).await;
    let issuer_base = "https://login.entra.test";
    let issuer = format!("{issuer_base}/{TENANT_A}/");
    app.store
        .save_trusted_issuer(&TrustedIssuer {
            tenant: tenant(TENANT_A),
            issuer: issuer.clone(),
            jwks_uri,
            audiences: vec!["api://picket".into()],
            created_at: Utc::now(),
        })
        .await
        .expect("save");
    picket_server::signing::reload(&app.state)
        .await
        .expect("reload");
    let mint = |tenant: &str| {
        let request = TokenRequest {
            tenant: tenant.into(),
            roles: vec![SENSORS_READ.into()],
            lifetime_secs: 600,
            ..Default::default()
        };
        external.issue(issuer_base, &request, unix_now()).token
    };
    app.get("/v1.0/security/identities/sensors", &mint(TENANT_A))
        .await
        .expect(200);
    // Tenant B does not trust that issuer.
    assert_error(
        &app.get("/v1.0/security/identities/sensors", &mint(TENANT_B))
            .await,
        401,
        "InvalidAuthenticationToken",
    );
    // A token with a kid the issuer does not publish.
    let stranger = {
        let pem = SigningKey::generate_pem().expect("key");
        let key = SigningKey::from_pem(&pem).expect("pem");
        let request = TokenRequest {
            tenant: TENANT_A.into(),
            roles: vec![SENSORS_READ.into()],
            lifetime_secs: 600,
            ..Default::default()
        };
        key.issue(issuer_base, &request, unix_now()).token
    };
    assert_error(
        &app.get("/v1.0/security/identities/sensors", &stranger)
            .await,
        401,
        "InvalidAuthenticationToken",
    );
}

#[tokio::test]
async fn throttled_requests_get_429_with_retry_after() {
    let limits = ThrottleSettings {
        app_reads: parse_limit("2/10s").expect("rate"),
        ..Default::default()
    };
    let app = TestApp::builder()
        .seed(TENANT_A, standard_fixture())
        .throttle(limits)
        .start()
        .await;
    let token = admin();
    let path = "/v1.0/security/identities/sensors";
    app.get(path, &token).await.expect(200);
    app.get(path, &token).await.expect(200);
    let third = app.get(path, &token).await;
    assert_error(&third, 429, "TooManyRequests");
    let retry: u64 = third
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(third.json["error"]["innerError"]["status"], "429");
    // Another app of the same tenant (each minted token names a fresh app id) has its own bucket.
    app.get(path, &app_token(TENANT_A, &[SENSORS_READ]))
        .await
        .expect(200);
}

#[tokio::test]
async fn writes_and_key_reads_are_audited_without_values() {
    let app = TestApp::standard().await;
    let token = admin();
    app.patch(
        &format!("/v1.0/security/identities/sensors/{DC1}"),
        &token,
        json!({"settings": {"description": "audited value"}}),
    )
    .await
    .expect(200);
    let key = app
        .get(
            "/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            &token,
        )
        .await
        .expect(200);
    let secret = key.json["deploymentAccessKey"]
        .as_str()
        .expect("key")
        .to_string();
    app.get("/v1.0/security/identities/sensors", &token)
        .await
        .expect(200);
    let denied = app_token(TENANT_A, &[SENSORS_READ]);
    app.delete(&format!("/v1.0/security/identities/sensors/{DC2}"), &denied)
        .await
        .expect(403);
    let entries = app
        .store
        .audit_entries(
            &tenant(TENANT_A),
            &AuditQuery {
                since: None,
                operation: None,
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    let summary: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.operation.as_str(), e.result.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("updateSensor", "200"),
            ("getDeploymentAccessKey", "200"),
            ("deleteSensor", "403"),
        ]
    );
    assert_eq!(
        entries[0].target,
        format!("security/identities/sensors/{DC1}")
    );
    assert_eq!(
        entries[0].detail.as_deref(),
        Some("properties: settings/description")
    );
    assert!(entries[0].actor.starts_with("app:"));
    assert!(!entries[0].request_id.is_empty());
    let dump = format!("{entries:?}");
    assert!(!dump.contains("audited value") && !dump.contains(&secret));
}

/// Every write (and the access-key read) for signed-in users whose scopes allow it: refused
/// with 403 naming the missing role for a reader and for a user without roles, allowed for a
/// Security Administrator; refusals leave every resource as it was.
#[tokio::test]
async fn delegated_writes_need_an_allowing_role_table() {
    let app = TestApp::standard().await;
    let scopes = [SENSORS_RW, HEALTH_RW];
    let writes: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        (
            "PATCH",
            format!("sensors/{DC1}"),
            Some(json!({"settings": {"description": "changed"}})),
        ),
        ("DELETE", format!("sensors/{DC2}"), None),
        ("GET", "sensors/getDeploymentAccessKey()".into(), None),
        ("POST", "sensors/regenerateDeploymentAccessKey".into(), None),
        (
            "POST",
            "sensorCandidates/activate".into(),
            Some(json!({"serverIds": [C_DC4]})),
        ),
        (
            "PATCH",
            "sensorCandidateActivationConfiguration".into(),
            Some(json!({"activationMode": "automated"})),
        ),
        (
            "PATCH",
            format!("healthIssues/{H1}"),
            Some(json!({"status": "closed"})),
        ),
    ];
    let before = app.snapshot(&admin()).await;
    let key_before = app
        .get_ok(
            "/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            &admin(),
        )
        .await;
    for roles in [vec![DirectoryRole::SecurityReader], vec![]] {
        let token = user_token_with_roles(TENANT_A, &scopes, &roles);
        for (method, path, body) in &writes {
            let r = app
                .send_json(method, &p("v1.0", path), &token, body.clone())
                .await;
            let message = assert_error(&r, 403, "UnknownError");
            assert!(
                message.starts_with("Missing role"),
                "{roles:?} {method} {path}: {message}"
            );
        }
    }
    assert_eq!(app.snapshot(&admin()).await, before);
    assert_eq!(
        app.get_ok(
            "/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            &admin(),
        )
        .await,
        key_before
    );
    let allowed = user_token_with_roles(TENANT_A, &scopes, &[DirectoryRole::SecurityAdministrator]);
    for (method, path, body) in &writes {
        let r = app
            .send_json(method, &p("v1.0", path), &allowed, body.clone())
            .await;
        assert!(
            (200..300).contains(&r.status),
            "{method} {path}: {}",
            r.text
        );
    }
}
