//! The device code flow: a code is issued, polled while pending, approved (or denied) by a
//! Global Administrator for a registered user, and redeemed once for a delegated token that
//! carries the user's roles.

use crate::identity::{assert_oauth_error, register_app, token_request};
use crate::support::*;
use chrono::{Duration, Utc};
use picket_auth::DirectoryRole;
use picket_domain::identity::User;
use picket_domain::TenantId;
use picket_store::AuditQuery;
use serde_json::{json, Value};

const READ: &str = "SecurityIdentitiesSensors.Read.All";
const WRITE: &str = "SecurityIdentitiesSensors.ReadWrite.All";

async fn start(app: &TestApp, client_id: &str, scope: &str) -> Resp {
    let body = format!("client_id={}&scope={}", enc(client_id), enc(scope));
    app.send(
        "POST",
        &format!("/{TENANT_A}/oauth2/v2.0/devicecode"),
        None,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body.into_bytes()),
    )
    .await
}

async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> Resp {
    token_request(
        app,
        TENANT_A,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id),
            ("device_code", device_code),
        ],
    )
    .await
}

async fn decide(app: &TestApp, verb: &str, token: &str, body: Value) -> Resp {
    app.send_json(
        "POST",
        &format!("/admin/v1/deviceCodes/{verb}"),
        token,
        Some(body),
    )
    .await
}

fn global_admin() -> String {
    user_token_with_roles(TENANT_A, &[READ], &[DirectoryRole::GlobalAdministrator])
}

async fn add_user(app: &TestApp, upn: &str, role: DirectoryRole) -> User {
    let user = User {
        tenant: TenantId::parse(TENANT_A).expect("tenant"),
        object_id: uuid::Uuid::new_v4().to_string(),
        user_principal_name: upn.into(),
        display_name: upn.into(),
        roles: vec![role.template_id().to_string()],
        created_at: Utc::now(),
    };
    app.store.create_user(&user).await.expect("user");
    user
}

#[tokio::test]
async fn a_device_sign_in_is_approved_by_an_administrator_and_redeemed_once() {
    let app = TestApp::standard().await;
    let (client_id, _) = register_app(&app, &[READ], Duration::days(30)).await;
    let ana = add_user(&app, "ana@contoso.test", DirectoryRole::SecurityReader).await;

    let started = start(
        &app,
        &client_id,
        &format!("https://graph.microsoft.com/{READ} openid offline_access"),
    )
    .await
    .expect(200);
    let device_code = started.json["device_code"].as_str().expect("device_code");
    let user_code = started.json["user_code"].as_str().expect("user_code");
    assert_eq!(user_code.len(), 9, "{}", started.text);
    assert_eq!(
        started.json["verification_uri"],
        format!("{}/{TENANT_A}/devicelogin", app.base)
    );
    assert_eq!(started.json["interval"], 5);
    assert_eq!(started.json["expires_in"], 900);
    assert!(started.json["message"]
        .as_str()
        .is_some_and(|m| m.contains(user_code)));

    // Pending until someone decides.
    assert_oauth_error(
        &poll(&app, &client_id, device_code).await,
        400,
        "authorization_pending",
        70016,
    );

    // Only a signed-in Global Administrator may decide; nothing changes otherwise.
    let approve = json!({"userCode": user_code, "userPrincipalName": "ana@contoso.test"});
    let operator =
        user_token_with_roles(TENANT_A, &[WRITE], &[DirectoryRole::SecurityAdministrator]);
    for (token, status) in [
        (operator, 403),
        (app.token(TENANT_A, &[WRITE]), 403),
        ("not-a-token".to_string(), 401),
    ] {
        let r = decide(&app, "approve", &token, approve.clone()).await;
        assert_eq!(r.status, status, "{}", r.text);
        assert!(r.json["error"]["code"].is_string(), "{}", r.text);
    }
    let other_tenant =
        user_token_with_roles(TENANT_B, &[READ], &[DirectoryRole::GlobalAdministrator]);
    assert_error(
        &decide(&app, "approve", &other_tenant, approve.clone()).await,
        404,
        "NotFound",
    );
    assert_error(
        &decide(
            &app,
            "approve",
            &global_admin(),
            json!({"userCode": "BCDF-GHJK", "userPrincipalName": "ana@contoso.test"}),
        )
        .await,
        404,
        "NotFound",
    );
    assert_error(
        &decide(
            &app,
            "approve",
            &global_admin(),
            json!({"userCode": user_code, "userPrincipalName": "nobody@contoso.test"}),
        )
        .await,
        404,
        "NotFound",
    );
    assert_error(
        &decide(
            &app,
            "approve",
            &global_admin(),
            json!({"userCode": user_code, "extra": 1}),
        )
        .await,
        400,
        "BadRequest",
    );
    assert_oauth_error(
        &poll(&app, &client_id, device_code).await,
        400,
        "authorization_pending",
        70016,
    );

    let approved = decide(&app, "approve", &global_admin(), approve.clone())
        .await
        .expect(200);
    assert_eq!(approved.json["decision"], "approved");
    assert_eq!(approved.json["scopes"], json!([READ]));
    assert_error(
        &decide(
            &app,
            "deny",
            &global_admin(),
            json!({"userCode": user_code}),
        )
        .await,
        409,
        "Conflict",
    );

    // Redeemed once: a delegated token of Ana, with her role, for the scope asked.
    let token = poll(&app, &client_id, device_code).await.expect(200);
    assert_eq!(token.json["token_type"], "Bearer");
    assert_eq!(
        token.json["scope"],
        format!("https://graph.microsoft.com/{READ}")
    );
    // An OpenID Connect ID token names who signed in, for this client.
    let id_token = token.json["id_token"].as_str().expect("id_token");
    let claims: Value = {
        use base64::Engine;
        let payload = id_token.split('.').nth(1).expect("payload");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("claims")
    };
    assert_eq!(claims["aud"], client_id.as_str());
    assert_eq!(claims["preferred_username"], "ana@contoso.test");
    assert_eq!(claims["oid"], ana.object_id.as_str());
    assert_eq!(claims["iss"], format!("{}/{TENANT_A}/v2.0", app.base));
    let access = token.json["access_token"].as_str().expect("access_token");
    app.get("/beta/security/identities/sensors", access)
        .await
        .expect(200);
    // Her role reads; the scope does not write.
    let write = app
        .patch(
            "/beta/security/identities/sensors/s-1",
            access,
            json!({"settings": {"description": "x"}}),
        )
        .await;
    assert_eq!(write.status, 403, "{}", write.text);
    assert_oauth_error(
        &poll(&app, &client_id, device_code).await,
        400,
        "bad_verification_code",
        70000,
    );

    // The decision is in the audit log, with who decided and for whom.
    let entries = app
        .store
        .audit_entries(
            &TenantId::parse(TENANT_A).expect("tenant"),
            &AuditQuery {
                since: None,
                operation: Some("approveDeviceCode".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].detail.as_deref(),
        Some(format!("user: {}", ana.user_principal_name).as_str())
    );
}

#[tokio::test]
async fn denied_codes_and_bad_requests_answer_entra_errors() {
    let app = TestApp::standard().await;
    let (client_id, _) = register_app(&app, &[READ], Duration::days(30)).await;

    let started = start(&app, &client_id, "https://graph.microsoft.com/.default")
        .await
        .expect(200);
    let device_code = started.json["device_code"].as_str().expect("device_code");
    let user_code = started.json["user_code"].as_str().expect("user_code");
    // The code is accepted without its dash and in lower case.
    let spelled = user_code.replace('-', "").to_lowercase();
    decide(&app, "deny", &global_admin(), json!({"userCode": spelled}))
        .await
        .expect(200);
    assert_oauth_error(
        &poll(&app, &client_id, device_code).await,
        400,
        "authorization_declined",
        70000,
    );
    // Another client cannot redeem a code it was not given.
    let again = start(&app, &client_id, READ).await.expect(200);
    let code = again.json["device_code"].as_str().expect("device_code");
    assert_oauth_error(
        &poll(&app, "someone-else", code).await,
        400,
        "bad_verification_code",
        70000,
    );

    let cases: [(&str, &str, u16, &str, u64); 5] = [
        (&client_id, WRITE, 400, "invalid_grant", 65001),
        (
            &client_id,
            "https://other.example/.default",
            400,
            "invalid_scope",
            70011,
        ),
        (
            &client_id,
            "Sensors.Everything",
            400,
            "invalid_scope",
            70011,
        ),
        (&client_id, "openid profile", 400, "invalid_request", 900144),
        (
            "4f0c0000-0000-0000-0000-000000000000",
            READ,
            400,
            "unauthorized_client",
            700016,
        ),
    ];
    for (client, scope, status, error, code) in cases {
        assert_oauth_error(&start(&app, client, scope).await, status, error, code);
    }
    assert_oauth_error(
        &poll(&app, &client_id, "").await,
        400,
        "invalid_request",
        900144,
    );

    // The verification page says how to get approved.
    let page = app
        .send("GET", &format!("/{TENANT_A}/devicelogin"), None, &[], None)
        .await
        .expect(200);
    assert!(
        page.text.contains("picket device-codes approve"),
        "{}",
        page.text
    );
    app.send("GET", "/not-a-tenant/devicelogin", None, &[], None)
        .await
        .expect(404);
}

#[tokio::test]
async fn refused_decisions_are_audited_and_decide_nothing() {
    let app = TestApp::standard().await;
    let (client_id, _) = register_app(&app, &[READ], Duration::days(30)).await;
    add_user(&app, "ana@contoso.test", DirectoryRole::SecurityReader).await;
    let started = start(&app, &client_id, READ).await.expect(200);
    let device_code = started.json["device_code"].as_str().expect("device_code");
    let user_code = started.json["user_code"].as_str().expect("user_code");

    // A Security Administrator approves, an app denies: both refused.
    let operator =
        user_token_with_roles(TENANT_A, &[WRITE], &[DirectoryRole::SecurityAdministrator]);
    let body = json!({"userCode": user_code, "userPrincipalName": "ana@contoso.test"});
    assert_error(
        &decide(&app, "approve", &operator, body).await,
        403,
        "Forbidden",
    );
    assert_error(
        &decide(
            &app,
            "deny",
            &app.token(TENANT_A, &[WRITE]),
            json!({"userCode": user_code}),
        )
        .await,
        403,
        "Forbidden",
    );
    // The code is still pending: neither refusal decided it.
    assert_oauth_error(
        &poll(&app, &client_id, device_code).await,
        400,
        "authorization_pending",
        70016,
    );

    let audit = |operation: &str| AuditQuery {
        operation: Some(operation.into()),
        limit: 10,
        ..Default::default()
    };
    let tenant = TenantId::parse(TENANT_A).expect("tenant");
    let refused = app
        .store
        .audit_entries(&tenant, &audit("decideDeviceCode"))
        .await
        .expect("audit");
    let mut seen: Vec<(String, String)> = refused
        .iter()
        .map(|e| (e.target.clone(), e.result.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "admin/v1/deviceCodes/approve".to_string(),
                "403".to_string()
            ),
            ("admin/v1/deviceCodes/deny".to_string(), "403".to_string()),
        ]
    );
    assert!(
        refused.iter().any(|e| e.actor.starts_with("user:")),
        "{refused:?}"
    );
    // No approval or denial is logged for a refused caller.
    for operation in ["approveDeviceCode", "denyDeviceCode"] {
        let decided = app
            .store
            .audit_entries(&tenant, &audit(operation))
            .await
            .expect("audit");
        assert!(decided.is_empty(), "{operation}: {decided:?}");
    }
}
