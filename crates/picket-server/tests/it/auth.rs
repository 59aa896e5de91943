//! Authentication (401 for every kind of bad token), per-operation permissions (403 naming
//! what is needed), delegated tokens, and tenant isolation (spec §2.0, §3.2).

use crate::support::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Claims our issuer would put in a good application token for tenant A.
fn good_claims() -> Value {
    let now = unix_now();
    json!({
        "aud": "https://graph.microsoft.com",
        "iss": format!("{ISSUER}/{TENANT_A}/"),
        "iat": now, "nbf": now, "exp": now + 3600,
        "tid": TENANT_A,
        "appid": "11111111-0000-0000-0000-000000000001",
        "roles": ALL_PERMISSIONS,
        "ver": "1.0",
    })
}

/// Signs `claims` with the trusted key (RS256, the right kid).
fn signed(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(signing_key().kid().to_string());
    let key = EncodingKey::from_rsa_pem(trusted_pem().as_bytes()).expect("pem");
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

#[tokio::test]
async fn handmade_good_token_is_accepted() {
    // Guards the 401 table below: the only difference in each case is the defect.
    let app = TestApp::standard().await;
    let r = app
        .get(&p("beta", "sensors"), &signed(&good_claims()))
        .await
        .expect(200);
    assert_eq!(r.ids().len(), 5);
    let r = app
        .get(
            &p("beta", "sensors"),
            &signed(&with(
                good_claims(),
                "aud",
                json!("00000003-0000-0000-c000-000000000000"),
            )),
        )
        .await;
    r.expect(200);
}

#[tokio::test]
async fn missing_token_is_401_with_www_authenticate() {
    let app = TestApp::standard().await;
    for v in VERSIONS {
        for (method, rest) in [
            ("GET", "sensors"),
            ("PATCH", "healthIssues/x"),
            ("GET", "nope"),
            ("POST", "sensorCandidates/activate"),
        ] {
            let r = app.send(method, &p(v, rest), None, &[], None).await;
            assert_error(&r, 401, "InvalidAuthenticationToken");
            let www = r.header("www-authenticate").expect("WWW-Authenticate");
            assert!(www.starts_with("Bearer"), "{www}");
        }
    }
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let app = TestApp::standard().await;
    let good = admin();
    let parts: Vec<&str> = good.split('.').collect();
    let now = unix_now();
    let none_alg = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    let none_alg_sig = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        parts[1],
        parts[2]
    );
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(signing_key().kid().to_string());
        jsonwebtoken::encode(
            &header,
            &good_claims(),
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap()
    };
    let hs256_public = {
        // The classic confusion attack: HMAC keyed with the public key.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(signing_key().kid().to_string());
        let public = signing_key().public_jwk().to_string();
        jsonwebtoken::encode(
            &header,
            &good_claims(),
            &EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap()
    };
    let other_key = untrusted_key()
        .issue(
            ISSUER,
            &picket_auth::TokenRequest {
                tenant: TENANT_A.into(),
                roles: vec![SENSORS_READ.into()],
                lifetime_secs: 3600,
                ..Default::default()
            },
            now,
        )
        .token;
    let other_key_our_kid = {
        // Signed by another key but claiming ours.
        let parts_other: Vec<&str> = other_key.split('.').collect();
        format!("{}.{}.{}", parts[0], parts_other[1], parts_other[2])
    };
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with(good_claims(), "tid", json!(TENANT_B))),
        parts[2]
    );
    let expired = signing_key()
        .issue(
            ISSUER,
            &picket_auth::TokenRequest {
                tenant: TENANT_A.into(),
                roles: vec![SENSORS_READ.into()],
                lifetime_secs: 60,
                ..Default::default()
            },
            now - 7200,
        )
        .token;
    let cases: Vec<(&str, String)> = vec![
        ("garbage", "garbage".into()),
        ("three garbage parts", "a.b.c".into()),
        ("empty bearer", "".into()),
        ("alg none", none_alg),
        ("alg none with signature", none_alg_sig),
        ("HS256", hs256),
        ("HS256 keyed with the public key", hs256_public),
        ("another RSA key", other_key),
        ("another RSA key, our kid", other_key_our_kid),
        ("tampered payload", tampered),
        ("expired", expired),
        (
            "expired by hand",
            signed(&with(
                with(good_claims(), "exp", json!(now - 3600)),
                "nbf",
                json!(now - 7200),
            )),
        ),
        ("no exp", signed(&without(good_claims(), "exp"))),
        (
            "not yet valid",
            signed(&with(good_claims(), "nbf", json!(now + 7200))),
        ),
        (
            "wrong audience",
            signed(&with(
                good_claims(),
                "aud",
                json!("https://management.azure.com"),
            )),
        ),
        ("no audience", signed(&without(good_claims(), "aud"))),
        (
            "wrong issuer",
            signed(&with(
                good_claims(),
                "iss",
                json!(format!("https://evil.example/{TENANT_A}/")),
            )),
        ),
        (
            "issuer of another tenant",
            signed(&with(
                good_claims(),
                "iss",
                json!(format!("{ISSUER}/{TENANT_B}/")),
            )),
        ),
        ("no tid", signed(&without(good_claims(), "tid"))),
        (
            "tid not a GUID",
            signed(&with(
                with(good_claims(), "tid", json!("contoso")),
                "iss",
                json!(format!("{ISSUER}/contoso/")),
            )),
        ),
        ("unknown kid", {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some("not-our-key".into());
            jsonwebtoken::encode(
                &header,
                &good_claims(),
                &EncodingKey::from_rsa_pem(trusted_pem().as_bytes()).unwrap(),
            )
            .unwrap()
        }),
    ];
    for (name, token) in &cases {
        for v in VERSIONS {
            let r = app
                .send(
                    "GET",
                    &p(v, "sensors"),
                    None,
                    &[("Authorization", &format!("Bearer {token}"))],
                    None,
                )
                .await;
            assert_eq!(r.status, 401, "{name}: {}", r.text);
            assert_error(&r, 401, "InvalidAuthenticationToken");
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|w| w.starts_with("Bearer")),
                "{name}"
            );
        }
    }
    // The scheme name is case-insensitive (RFC 7235).
    let r = app
        .send(
            "GET",
            &p("beta", "sensors/$count"),
            None,
            &[("Authorization", &format!("bearer {good}"))],
            None,
        )
        .await;
    assert_eq!(r.expect(200).text, "5");
    // Not the Bearer scheme.
    for header in [format!("Basic {good}"), good.clone(), "Bearer".to_string()] {
        let r = app
            .send(
                "GET",
                &p("beta", "sensors"),
                None,
                &[("Authorization", &header)],
                None,
            )
            .await;
        assert_error(&r, 401, "InvalidAuthenticationToken");
    }
    // A bad token cannot write either.
    let before = app.snapshot(&good).await;
    let r = app
        .patch(
            &p("beta", &format!("sensors/{DC1}")),
            &cases[9].1,
            json!({"settings": {"description": "x"}}),
        )
        .await;
    assert_error(&r, 401, "InvalidAuthenticationToken");
    assert_eq!(app.snapshot(&good).await, before);
}

/// (method, path below the version root, body, roles, expected status, permission named on 403)
type PermCase = (
    &'static str,
    String,
    Option<Value>,
    Vec<&'static str>,
    u16,
    Option<&'static str>,
);

#[tokio::test]
async fn every_operation_checks_its_permission() {
    let app = TestApp::standard().await;
    let admin_token = admin();
    let sensor = |rest: &str| format!("sensors/{rest}");
    let r = || vec![SENSORS_READ];
    let rw = || vec![SENSORS_RW];
    let hr = || vec![HEALTH_READ];
    let hrw = || vec![HEALTH_RW];
    let config = Some(json!({"activationMode": "manual"}));
    let cases: Vec<PermCase> = vec![
        ("GET", "sensors".into(), None, r(), 200, None),
        ("GET", "sensors".into(), None, rw(), 200, None),
        (
            "GET",
            "sensors".into(),
            None,
            hrw(),
            403,
            Some(SENSORS_READ),
        ),
        (
            "GET",
            "sensors/$count".into(),
            None,
            hr(),
            403,
            Some(SENSORS_READ),
        ),
        ("GET", sensor(DC1), None, r(), 200, None),
        ("GET", sensor(DC1), None, rw(), 200, None),
        (
            "GET",
            sensor(DC1),
            None,
            vec![HEALTH_READ, HEALTH_RW],
            403,
            Some(SENSORS_READ),
        ),
        ("GET", sensor(DC1), None, vec![], 403, Some(SENSORS_READ)),
        (
            "PATCH",
            sensor(DC1),
            Some(json!({"settings": {"description": "p"}})),
            r(),
            403,
            Some(SENSORS_RW),
        ),
        (
            "PATCH",
            sensor(DC1),
            Some(json!({"settings": {"description": "p"}})),
            vec![SENSORS_READ, HEALTH_RW],
            403,
            Some(SENSORS_RW),
        ),
        (
            "PATCH",
            sensor(DC1),
            Some(json!({"settings": {"description": "p"}})),
            rw(),
            200,
            None,
        ),
        ("DELETE", sensor(FAB), None, r(), 403, Some(SENSORS_RW)),
        ("DELETE", sensor(FAB), None, hrw(), 403, Some(SENSORS_RW)),
        (
            "GET",
            sensor("getDeploymentAccessKey"),
            None,
            r(),
            403,
            Some(SENSORS_RW),
        ),
        (
            "GET",
            sensor("microsoft.graph.security.getDeploymentAccessKey()"),
            None,
            vec![SENSORS_READ, HEALTH_READ, HEALTH_RW],
            403,
            Some(SENSORS_RW),
        ),
        (
            "GET",
            sensor("getDeploymentAccessKey"),
            None,
            rw(),
            200,
            None,
        ),
        (
            "POST",
            sensor("regenerateDeploymentAccessKey"),
            None,
            r(),
            403,
            Some(SENSORS_RW),
        ),
        (
            "POST",
            sensor("regenerateDeploymentAccessKey"),
            None,
            rw(),
            200,
            None,
        ),
        (
            "GET",
            sensor("getDeploymentPackageUri"),
            None,
            r(),
            200,
            None,
        ),
        (
            "GET",
            sensor("getDeploymentPackageUri"),
            None,
            rw(),
            200,
            None,
        ),
        (
            "GET",
            sensor("getDeploymentPackageUri"),
            None,
            hrw(),
            403,
            Some(SENSORS_READ),
        ),
        ("GET", "sensorCandidates".into(), None, r(), 200, None),
        (
            "GET",
            "sensorCandidates".into(),
            None,
            hr(),
            403,
            Some(SENSORS_READ),
        ),
        (
            "GET",
            "sensorCandidates/$count".into(),
            None,
            hrw(),
            403,
            Some(SENSORS_READ),
        ),
        (
            "GET",
            format!("sensorCandidates/{C_DC4}"),
            None,
            r(),
            200,
            None,
        ),
        (
            "GET",
            format!("sensorCandidates/{C_DC4}"),
            None,
            hr(),
            403,
            Some(SENSORS_READ),
        ),
        (
            "POST",
            "sensorCandidates/activate".into(),
            Some(json!({"serverIds": [C_DC4]})),
            r(),
            403,
            Some(SENSORS_RW),
        ),
        (
            "POST",
            "sensorCandidates/activate".into(),
            Some(json!({"serverIds": [C_DC4]})),
            hrw(),
            403,
            Some(SENSORS_RW),
        ),
        (
            "GET",
            "sensorCandidateActivationConfiguration".into(),
            None,
            r(),
            200,
            None,
        ),
        (
            "GET",
            "sensorCandidateActivationConfiguration".into(),
            None,
            hrw(),
            403,
            Some(SENSORS_READ),
        ),
        (
            "PATCH",
            "sensorCandidateActivationConfiguration".into(),
            config.clone(),
            r(),
            403,
            Some(SENSORS_RW),
        ),
        (
            "POST",
            "sensorCandidateActivationConfigurations".into(),
            config.clone(),
            r(),
            403,
            Some(SENSORS_RW),
        ),
        (
            "PATCH",
            "sensorCandidateActivationConfiguration".into(),
            config.clone(),
            rw(),
            200,
            None,
        ),
        ("GET", "healthIssues".into(), None, hr(), 200, None),
        ("GET", "healthIssues".into(), None, hrw(), 200, None),
        (
            "GET",
            "healthIssues".into(),
            None,
            vec![SENSORS_READ, SENSORS_RW],
            403,
            Some(HEALTH_READ),
        ),
        (
            "GET",
            "healthIssues/$count".into(),
            None,
            rw(),
            403,
            Some(HEALTH_READ),
        ),
        ("GET", format!("healthIssues/{H1}"), None, hr(), 200, None),
        (
            "GET",
            format!("healthIssues/{H1}"),
            None,
            r(),
            403,
            Some(HEALTH_READ),
        ),
        (
            "PATCH",
            format!("healthIssues/{H1}"),
            Some(json!({"status": "closed"})),
            hr(),
            403,
            Some(HEALTH_RW),
        ),
        (
            "PATCH",
            format!("healthIssues/{H1}"),
            Some(json!({"status": "closed"})),
            vec![SENSORS_RW, HEALTH_READ],
            403,
            Some(HEALTH_RW),
        ),
        (
            "PATCH",
            format!("healthIssues/{H1}"),
            Some(json!({"status": "open"})),
            hrw(),
            200,
            None,
        ),
        (
            "GET",
            sensor(&format!("{FAB}/healthIssues")),
            None,
            r(),
            403,
            Some(HEALTH_READ),
        ),
        (
            "GET",
            sensor(&format!("{FAB}/healthIssues")),
            None,
            hr(),
            403,
            Some(SENSORS_READ),
        ),
        (
            "GET",
            sensor(&format!("{FAB}/healthIssues")),
            None,
            vec![SENSORS_READ, HEALTH_READ],
            200,
            None,
        ),
        (
            "GET",
            sensor(&format!("{FAB}/healthIssues/$count")),
            None,
            rw(),
            403,
            Some(HEALTH_READ),
        ),
        (
            "GET",
            sensor(&format!("{FAB}/healthIssues/{H6}")),
            None,
            hrw(),
            403,
            Some(SENSORS_READ),
        ),
        (
            "GET",
            sensor(&format!("{FAB}/healthIssues/{H6}")),
            None,
            vec![SENSORS_RW, HEALTH_RW],
            200,
            None,
        ),
        (
            "GET",
            format!("{}?$expand=healthIssues", sensor(FAB)),
            None,
            rw(),
            403,
            Some(HEALTH_READ),
        ),
    ];
    for v in VERSIONS {
        for (method, rest, body, roles, status, named) in &cases {
            let before = app.snapshot(&admin_token).await;
            let token = app.token(TENANT_A, roles);
            let r = app
                .send_json(method, &p(v, rest), &token, body.clone())
                .await;
            assert_eq!(
                r.status, *status,
                "{method} {v} {rest} with {roles:?}: {}",
                r.text
            );
            if let Some(permission) = named {
                let message = assert_error(&r, 403, "UnknownError");
                assert!(
                    message.contains(&format!("'{permission}")),
                    "{method} {rest}: 403 names {permission}: {message}"
                );
                if *permission == SENSORS_RW || *permission == HEALTH_RW {
                    let read = permission.replace("ReadWrite", "Read");
                    assert!(
                        !message.contains(&format!("{read}'"))
                            && !message.contains(&format!("{read},")),
                        "{message}: read is not enough"
                    );
                }
                assert_eq!(
                    app.snapshot(&admin_token).await,
                    before,
                    "{method} {rest}: a 403 changed data"
                );
            }
        }
    }
}

#[tokio::test]
async fn delegated_scopes_work_like_roles() {
    let app = TestApp::standard().await;
    let read = app.delegated_token(TENANT_A, &[SENSORS_READ]);
    let r = app.get(&p("beta", "sensors"), &read).await.expect(200);
    assert_eq!(r.ids(), owned(&SENSOR_ORDER));
    let r = app
        .patch(
            &p("beta", &format!("sensors/{DC1}")),
            &read,
            json!({"settings": {"description": "d"}}),
        )
        .await;
    let message = assert_error(&r, 403, "UnknownError");
    assert!(message.contains(SENSORS_RW), "{message}");
    let r = app.get(&p("beta", "healthIssues"), &read).await;
    assert!(assert_error(&r, 403, "UnknownError").contains(HEALTH_READ));

    let writer = app.delegated_token(TENANT_A, &[SENSORS_RW, HEALTH_RW]);
    let r = app
        .patch(
            &p("v1.0", &format!("sensors/{DC1}")),
            &writer,
            json!({"settings": {"description": "d"}}),
        )
        .await;
    assert_eq!(r.expect(200).json["settings"]["description"], json!("d"));
    let r = app
        .patch(
            &p("v1.0", &format!("healthIssues/{H2}")),
            &writer,
            json!({"status": "closed"}),
        )
        .await;
    r.expect(200);
    app.get(&p("beta", "sensors/getDeploymentAccessKey"), &writer)
        .await
        .expect(200);
    // Roles in a delegated token's scope list that Picket does not know grant nothing.
    let unknown = app.delegated_token(TENANT_A, &["User.Read", "SecurityIdentitiesSensors.Read"]);
    assert_error(
        &app.get(&p("beta", "sensors"), &unknown).await,
        403,
        "UnknownError",
    );
}

#[tokio::test]
async fn tenants_are_isolated() {
    let app = TestApp::standard().await;
    let a = admin();
    let b = app.token(TENANT_B, &ALL_PERMISSIONS);
    let a_before = app.snapshot(&a).await;
    let a_key = app
        .get_ok(&p("beta", "sensors/getDeploymentAccessKey"), &a)
        .await["deploymentAccessKey"]
        .clone();
    for v in VERSIONS {
        for rest in [
            format!("sensors/{DC1}"),
            format!("sensors/{DC1}/healthIssues"),
            format!("sensors/{DC1}/healthIssues/$count"),
            format!("sensors/{FAB}/healthIssues/{H6}"),
            format!("healthIssues/{H1}"),
            format!("sensorCandidates/{C_DC4}"),
        ] {
            assert_error(&app.get(&p(v, &rest), &b).await, 404, "NotFound");
        }
        for collection in ["sensors", "healthIssues", "sensorCandidates"] {
            let r = app
                .get(&format!("{}?$count=true", p(v, collection)), &b)
                .await
                .expect(200);
            assert_eq!(r.ids(), Vec::<String>::new(), "{v} {collection}");
            assert_eq!(r.json["@odata.count"], json!(0));
            assert_eq!(
                app.get(&p(v, &format!("{collection}/$count")), &b)
                    .await
                    .text,
                "0"
            );
            let r = app
                .get(
                    &format!(
                        "{}?$filter={}",
                        p(v, collection),
                        enc(&format!("id eq '{DC1}'"))
                    ),
                    &b,
                )
                .await
                .expect(200);
            assert_eq!(r.ids(), Vec::<String>::new());
        }
        assert_error(
            &app.patch(
                &p(v, &format!("sensors/{DC1}")),
                &b,
                json!({"settings": {"description": "pwned"}}),
            )
            .await,
            404,
            "NotFound",
        );
        assert_error(
            &app.delete(&p(v, &format!("sensors/{DC1}")), &b).await,
            404,
            "NotFound",
        );
        assert_error(
            &app.patch(
                &p(v, &format!("healthIssues/{H1}")),
                &b,
                json!({"status": "closed"}),
            )
            .await,
            404,
            "NotFound",
        );
        let r = app
            .post(
                &p(v, "sensorCandidates/activate"),
                &b,
                Some(json!({"serverIds": [C_DC4]})),
            )
            .await;
        assert_error(&r, 400, "BadRequest");
    }
    // B's own key and activation mode are B's.
    let b_key = app
        .post(
            &p("beta", "sensors/regenerateDeploymentAccessKey"),
            &b,
            None,
        )
        .await
        .expect(200)
        .json["deploymentAccessKey"]
        .clone();
    assert_ne!(b_key, a_key);
    app.patch(
        &p("beta", "sensorCandidateActivationConfiguration"),
        &b,
        json!({"activationMode": "automated"}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get_ok(&p("beta", "sensorCandidateActivationConfiguration"), &a)
            .await["activationMode"],
        json!("manual")
    );
    assert_eq!(
        app.get_ok(&p("beta", "sensors/getDeploymentAccessKey"), &a)
            .await["deploymentAccessKey"],
        a_key
    );
    assert_eq!(app.snapshot(&a).await, a_before, "tenant A unchanged");
    // And A cannot see B's changes either.
    assert_eq!(
        app.get(&p("beta", "sensorCandidates/$count"), &a)
            .await
            .text,
        "3"
    );
}
