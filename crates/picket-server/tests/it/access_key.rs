//! The functions and action bound to the sensors collection (spec §2.5–2.7), under every
//! spelling the docs and the SDKs use (spec §0).

use crate::support::*;
use serde_json::{json, Value};

/// Short, short with `()`, qualified, qualified with `()`.
fn aliases(name: &str) -> [String; 4] {
    [
        name.to_string(),
        format!("{name}()"),
        format!("microsoft.graph.security.{name}"),
        format!("microsoft.graph.security.{name}()"),
    ]
}

/// Checks the root-level key shape and returns the key.
#[track_caller]
fn key_of(app: &TestApp, version: &str, r: &Resp) -> String {
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type().starts_with("application/json"));
    assert_eq!(
        r.keys(),
        vec![
            "@odata.context",
            "@odata.type",
            "deploymentAccessKey",
            "sensorDeploymentAccessKey"
        ],
        "object at the root, not under 'value': {}",
        r.text
    );
    assert_eq!(
        r.json["@odata.context"],
        json!(ctx(
            app,
            version,
            "microsoft.graph.security.deploymentAccessKeyType"
        ))
    );
    assert_eq!(
        r.json["@odata.type"],
        json!("#microsoft.graph.security.deploymentAccessKeyType")
    );
    let key = r.json["deploymentAccessKey"]
        .as_str()
        .expect("key is a string")
        .to_string();
    assert!(key.len() >= 16, "a real secret: '{key}'");
    assert_eq!(
        r.json["sensorDeploymentAccessKey"],
        json!(key),
        "both names carry the same key (D1)"
    );
    key
}

#[tokio::test]
async fn get_deployment_access_key_every_alias() {
    let app = TestApp::standard().await;
    let token = admin();
    let mut keys = Vec::new();
    for v in VERSIONS {
        for alias in aliases("getDeploymentAccessKey") {
            let r = app.get(&p(v, &format!("sensors/{alias}")), &token).await;
            keys.push(key_of(&app, v, &r));
        }
        // Case-insensitive segments.
        let r = app
            .get(&p(v, "SENSORS/GetDeploymentAccessKey()"), &token)
            .await;
        keys.push(key_of(&app, v, &r));
    }
    keys.dedup();
    assert_eq!(
        keys.len(),
        1,
        "one key per tenant, stable across reads: {keys:?}"
    );
}

#[tokio::test]
async fn regenerate_replaces_the_key_at_once() {
    let app = TestApp::standard().await;
    let token = admin();
    let sensors_before = app.get_ok(&p("beta", "sensors"), &token).await;
    let mut seen = vec![key_of(
        &app,
        "beta",
        &app.get(&p("beta", "sensors/getDeploymentAccessKey"), &token)
            .await,
    )];
    for v in VERSIONS {
        for (i, alias) in aliases("regenerateDeploymentAccessKey").iter().enumerate() {
            // No body, and `{}`, are both accepted.
            let body = (i % 2 == 1).then(|| json!({}));
            let r = app
                .post(&p(v, &format!("sensors/{alias}")), &token, body)
                .await;
            let new_key = key_of(&app, v, &r);
            assert!(
                !seen.contains(&new_key),
                "{v} {alias}: a new key, not an old one"
            );
            let current = key_of(
                &app,
                v,
                &app.get(
                    &p(
                        v,
                        "sensors/microsoft.graph.security.getDeploymentAccessKey()",
                    ),
                    &token,
                )
                .await,
            );
            assert_eq!(
                current, new_key,
                "{v} {alias}: get answers the new key at once"
            );
            seen.push(new_key);
        }
    }
    // Deployed sensors are unaffected (spec §4.6).
    assert_eq!(
        app.get_ok(&p("beta", "sensors"), &token).await,
        sensors_before
    );
    // A body that is not an object is refused, and the key stays.
    let last = seen.last().cloned().unwrap();
    let r = app
        .post(
            &p("beta", "sensors/regenerateDeploymentAccessKey"),
            &token,
            Some(json!([])),
        )
        .await;
    assert_error(&r, 400, "BadRequest");
    let current = key_of(
        &app,
        "beta",
        &app.get(&p("beta", "sensors/getDeploymentAccessKey"), &token)
            .await,
    );
    assert_eq!(current, last);
}

#[tokio::test]
async fn deployment_package_uri_every_alias() {
    let app = TestApp::empty().await;
    let token = app.token(TENANT_A, &[SENSORS_READ]);
    for v in VERSIONS {
        for alias in aliases("getDeploymentPackageUri") {
            let r = app
                .get(&p(v, &format!("sensors/{alias}")), &token)
                .await
                .expect(200);
            let expected: Value = json!({
                "@odata.context": ctx(&app, v, "microsoft.graph.security.sensorDeploymentPackage"),
                "@odata.type": "#microsoft.graph.security.sensorDeploymentPackage",
                "downloadUrl": PACKAGE_URL,
                "version": PACKAGE_VERSION,
            });
            assert_eq!(r.json, expected, "{v} {alias}");
            assert_eq!(r.keys()[0], "@odata.context");
        }
    }
}

#[tokio::test]
async fn bound_operations_reject_other_methods() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        for (method, alias) in [
            ("POST", "getDeploymentAccessKey"),
            ("DELETE", "getDeploymentAccessKey()"),
            ("GET", "regenerateDeploymentAccessKey"),
            (
                "PATCH",
                "microsoft.graph.security.regenerateDeploymentAccessKey",
            ),
            ("POST", "getDeploymentPackageUri"),
            ("GET", "microsoft.graph.security.activate"),
        ] {
            let path = if alias.ends_with("activate") {
                p(v, &format!("sensorCandidates/{alias}"))
            } else {
                p(v, &format!("sensors/{alias}"))
            };
            let r = app.send_json(method, &path, &token, Some(json!({}))).await;
            assert_error(&r, 405, "MethodNotAllowed");
        }
    }
}

#[tokio::test]
async fn regenerate_refuses_parameters_and_keeps_the_key() {
    let app = TestApp::standard().await;
    let token = admin();
    let get = p("beta", "sensors/getDeploymentAccessKey()");
    let before = app.get(&get, &token).await.expect(200).json["deploymentAccessKey"].clone();
    let r = app
        .post(
            &p("beta", "sensors/regenerateDeploymentAccessKey"),
            &token,
            Some(serde_json::json!({"force": true})),
        )
        .await;
    let message = assert_error(&r, 400, "BadRequest");
    assert!(message.contains("'force'"), "{message}");
    let after = app.get(&get, &token).await.expect(200).json["deploymentAccessKey"].clone();
    assert_eq!(
        before, after,
        "a refused regeneration leaves the key as it was"
    );
}
