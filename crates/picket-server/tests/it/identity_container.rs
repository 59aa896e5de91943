//! What the 2026 metadata adds (spec §7): settings and automatic auditing configuration, the
//! directory reads tools make first (`organization`, `domains`), and the real service's
//! answers clients branch on.

use crate::support::*;
use serde_json::json;

const AUTO_READ: &str = "SecurityIdentitiesAutoConfig.Read.All";
const AUTO_RW: &str = "SecurityIdentitiesAutoConfig.ReadWrite.All";

#[tokio::test]
async fn auto_auditing_configuration_reads_and_updates_on_both_versions() {
    let app = TestApp::standard().await;
    let reader = app.token(TENANT_A, &[AUTO_READ]);
    let writer = app.token(TENANT_A, &[AUTO_RW]);
    for v in VERSIONS {
        let settings = app.get(&p(v, "settings"), &reader).await.expect(200);
        assert_eq!(
            settings.json["@odata.type"],
            "#microsoft.graph.security.settingsContainer"
        );
        assert_eq!(
            settings.json["@odata.context"],
            json!(ctx(&app, v, "security/identities/settings/$entity"))
        );
    }
    let path = |v: &str| p(v, "settings/autoAuditingConfiguration");
    let r = app.get(&path("v1.0"), &reader).await.expect(200);
    assert_eq!(r.json["isAutomatic"], json!(false));
    assert_eq!(
        r.json["@odata.type"],
        "#microsoft.graph.security.autoAuditingConfiguration"
    );
    // PATCH (SDKs) and POST (older beta docs) both update it.
    let r = app
        .patch(&path("v1.0"), &writer, json!({"isAutomatic": true}))
        .await
        .expect(200);
    assert_eq!(r.json["isAutomatic"], json!(true));
    assert_eq!(
        app.get(&path("beta"), &reader).await.json["isAutomatic"],
        json!(true)
    );
    app.post(&path("beta"), &writer, Some(json!({"@odata.type": "#microsoft.graph.security.autoAuditingConfiguration", "isAutomatic": false})))
        .await
        .expect(200);
    assert_eq!(
        app.get(&path("v1.0"), &reader).await.json["isAutomatic"],
        json!(false)
    );
    // Another tenant has its own.
    let b = app.token(TENANT_B, &[AUTO_RW]);
    app.patch(&path("beta"), &b, json!({"isAutomatic": true}))
        .await
        .expect(200);
    assert_eq!(
        app.get(&path("beta"), &reader).await.json["isAutomatic"],
        json!(false)
    );

    // Refusals change nothing.
    for (body, token, status) in [
        (json!({"isAutomatic": true}), &reader, 403),
        (json!({"isAutomatic": "yes"}), &writer, 400),
        (json!({}), &writer, 400),
        (json!({"isAutomatic": true, "other": 1}), &writer, 400),
        (
            json!({"@odata.type": "#microsoft.graph.security.sensor", "isAutomatic": true}),
            &writer,
            400,
        ),
    ] {
        let r = app.patch(&path("beta"), token, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
    }
    let sensors_only = app.token(TENANT_A, &[SENSORS_RW]);
    let r = app.get(&path("beta"), &sensors_only).await;
    assert_error(&r, 403, "UnknownError");
    assert_eq!(
        app.get(&path("v1.0"), &reader).await.json["isAutomatic"],
        json!(false)
    );
}

#[tokio::test]
async fn organization_and_domains_come_from_the_tenant_and_its_fleet() {
    let app = TestApp::standard().await;
    let directory = app.token(TENANT_A, &["Directory.Read.All"]);
    for path in [
        "/v1.0/organization",
        "/v1.0//organization",
        "/beta/organization",
    ] {
        let r = app.get(path, &directory).await.expect(200);
        let org = &r.json["value"][0];
        assert_eq!(org["id"], json!(TENANT_A), "{path}");
        let names: Vec<&str> = org["verifiedDomains"]
            .as_array()
            .expect("domains")
            .iter()
            .map(|d| d["name"].as_str().unwrap_or(""))
            .collect();
        assert!(
            names.contains(&"contoso.com") && names.contains(&"fabrikam.local"),
            "{names:?}"
        );
        assert!(names[0].ends_with(".onmicrosoft.com"), "{names:?}");
    }
    let r = app
        .get("/v1.0/domains", &app.token(TENANT_A, &["Domain.Read.All"]))
        .await
        .expect(200);
    let ids: Vec<&str> = r
        .value()
        .iter()
        .map(|d| d["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(
        r.value()
            .iter()
            .filter(|d| d["isDefault"] == json!(true))
            .count(),
        1
    );
    assert_eq!(
        r.value()
            .iter()
            .filter(|d| d["isInitial"] == json!(true))
            .count(),
        1
    );
    // Each read names what it needs.
    let org_only = app.token(TENANT_A, &["Organization.Read.All"]);
    app.get("/v1.0/organization", &org_only).await.expect(200);
    assert_error(
        &app.get("/v1.0/domains", &org_only).await,
        403,
        "UnknownError",
    );
    let sensors = app.token(TENANT_A, &[SENSORS_READ]);
    assert_error(
        &app.get("/v1.0/organization", &sensors).await,
        403,
        "UnknownError",
    );
    // A tenant without sensors has its initial domain only.
    let b = app
        .get(
            "/v1.0/domains",
            &app.token(TENANT_B, &["Directory.Read.All"]),
        )
        .await
        .expect(200);
    assert_eq!(b.value().len(), 1);
}

#[tokio::test]
async fn a_missing_permission_is_unknown_error_with_an_empty_message() {
    let app = TestApp::standard().await;
    let health = app.token(TENANT_A, &[HEALTH_READ]);
    let r = app.get(&p("v1.0", "sensors"), &health).await;
    let why = assert_error(&r, 403, "UnknownError");
    assert_eq!(r.json["error"]["message"], json!(""));
    assert!(
        why.contains(SENSORS_READ),
        "the reason is in innerError: {why}"
    );
}

#[tokio::test]
async fn consistency_level_eventual_is_accepted_everywhere() {
    let app = TestApp::standard().await;
    let token = admin();
    for path in [
        p("v1.0", "sensors"),
        p("beta", "healthIssues"),
        p("beta", "sensors/$count"),
    ] {
        let r = app
            .send(
                "GET",
                &path,
                Some(&token),
                &[("ConsistencyLevel", "eventual")],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
}
