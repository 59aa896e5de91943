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

const ACCOUNT_READ: &str = "SecurityIdentitiesAccount.Read.All";
const ACTIONS_RW: &str = "SecurityIdentitiesActions.ReadWrite.All";

/// Two identities: Alice (AD and Okta), Bob (AD and Entra ID, disabled).
async fn with_accounts() -> TestApp {
    TestApp::builder()
        .seed(
            TENANT_A,
            json!({
                "sensors": [{"id": "s-1", "displayName": "DC1", "domainName": "contoso.com",
                             "sensorType": "domainControllerIntegrated", "version": "2.239.1.1"}],
                "identityAccounts": [
                    {"id": "alice", "displayName": "Alice", "domain": "contoso.com",
                     "accounts": [
                        {"identifier": "alice@contoso.com", "identityProvider": "activeDirectory"},
                        {"identifier": "alice@contoso.okta.com", "identityProvider": "okta"}]},
                    {"id": "bob", "displayName": "Bob", "domain": "contoso.com", "isEnabled": false,
                     "cloudSecurityIdentifier": "S-1-12-1-2",
                     "accounts": [
                        {"identifier": "bob@contoso.com", "identityProvider": "activeDirectory"},
                        {"identifier": "bob@contoso.onmicrosoft.com", "identityProvider": "entraID"}]}
                ]
            }),
        )
        .start()
        .await
}

#[tokio::test]
async fn identity_accounts_list_count_get_with_odata_options() {
    let app = with_accounts().await;
    let reader = app.token(TENANT_A, &[ACCOUNT_READ]);
    for v in VERSIONS {
        let r = app
            .get(&p(v, "identityAccounts"), &reader)
            .await
            .expect(200);
        assert_eq!(r.ids(), vec!["alice", "bob"], "{v}");
        assert_eq!(
            r.value()[0]["@odata.type"],
            "#microsoft.graph.security.identityAccounts"
        );
        assert_eq!(r.value()[0]["accounts"][1]["identityProvider"], "okta");
        assert_eq!(
            r.value()[0]["accounts"][0]["actions"],
            json!(["disable", "enable", "forcePasswordReset"])
        );
        let filtered = app
            .get(
                &format!(
                    "{}?$filter={}",
                    p(v, "identityAccounts"),
                    enc("isEnabled eq false")
                ),
                &reader,
            )
            .await
            .expect(200);
        assert_eq!(filtered.ids(), vec!["bob"]);
        let ordered = app
            .get(
                &format!(
                    "{}?$orderby=displayName%20desc&$top=1&$count=true",
                    p(v, "identityAccounts")
                ),
                &reader,
            )
            .await
            .expect(200);
        assert_eq!(ordered.ids(), vec!["bob"]);
        assert_eq!(ordered.json["@odata.count"], json!(2));
        assert!(ordered.next_link().is_some());
        let n = app
            .get(&p(v, "identityAccounts/$count"), &reader)
            .await
            .expect(200);
        assert_eq!(n.text, "2");
        let one = app
            .get(
                &format!("{}?$select=displayName", p(v, "identityAccounts/alice")),
                &reader,
            )
            .await
            .expect(200);
        assert_eq!(one.json["displayName"], "Alice");
        assert!(one.json.get("accounts").is_none());
        assert_error(
            &app.get(&p(v, "identityAccounts/nobody"), &reader).await,
            404,
            "NotFound",
        );
        assert_error(
            &app.get(
                &format!("{}?$filter=nope%20eq%201", p(v, "identityAccounts")),
                &reader,
            )
            .await,
            400,
            "BadRequest",
        );
    }
    let sensors = app.token(TENANT_A, &[SENSORS_READ]);
    assert_error(
        &app.get(&p("beta", "identityAccounts"), &sensors).await,
        403,
        "UnknownError",
    );
}

#[tokio::test]
async fn invoke_action_applies_okta_at_once_and_queues_ad_for_a_sensor() {
    let app = with_accounts().await;
    let reader = app.token(TENANT_A, &[ACCOUNT_READ]);
    let actor = app.token(TENANT_A, &[ACTIONS_RW, ACCOUNT_READ]);
    let invoke = |id: &str| p("v1.0", &format!("identityAccounts/{id}/invokeAction"));
    // Okta: at once.
    let r = app
        .post(&invoke("alice"), &actor, Some(json!({"accountId": "alice@contoso.okta.com", "action": "disable", "identityProvider": "okta"})))
        .await
        .expect(200);
    assert_eq!(
        r.json["@odata.type"],
        "#microsoft.graph.security.invokeActionResult"
    );
    assert_eq!(r.json["action"], "disable");
    let correlation = r.json["correlationId"]
        .as_str()
        .expect("correlation id")
        .to_string();
    assert_eq!(
        app.get(&p("beta", "identityAccounts/alice"), &reader)
            .await
            .json["isEnabled"],
        json!(false)
    );
    // Active Directory: queued for a sensor of contoso.com; nothing changes yet.
    let r = app
        .post(&p("beta", "identityAccounts/bob/microsoft.graph.security.invokeAction"), &actor,
              Some(json!({"accountId": "bob@contoso.com", "action": "enable", "identityProvider": "activeDirectory"})))
        .await
        .expect(200);
    assert_ne!(r.json["correlationId"], json!(correlation));
    assert_eq!(
        app.get(&p("beta", "identityAccounts/bob"), &reader)
            .await
            .json["isEnabled"],
        json!(false)
    );
    let pending = picket_store::identity_accounts::pending_in_domain(
        app.store.as_ref(),
        &tenant(TENANT_A),
        "CONTOSO.com",
    )
    .await
    .expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].account_id, "bob@contoso.com");
    // Both are in the audit log with their correlation ids.
    let audit = app
        .store
        .audit_entries(
            &tenant(TENANT_A),
            &picket_store::AuditQuery {
                since: None,
                operation: Some("accountAction".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().any(|e| e
        .detail
        .as_deref()
        .is_some_and(|d| d.contains(&correlation))
        && e.result == "done"));
    assert!(audit.iter().any(|e| e.result == "pending"));
}

#[tokio::test]
async fn refused_actions_change_nothing() {
    let app = with_accounts().await;
    let reader = app.token(TENANT_A, &[ACCOUNT_READ]);
    let actor = app.token(TENANT_A, &[ACTIONS_RW]);
    let before = app.get(&p("beta", "identityAccounts"), &reader).await.json["value"].clone();
    let invoke = |id: &str| p("beta", &format!("identityAccounts/{id}/invokeAction"));
    let cases = [
        (
            "bob",
            json!({"accountId": "bob@contoso.onmicrosoft.com", "action": "disable", "identityProvider": "entraID"}),
            400,
            Some("EntraID actions are not yet supported"),
        ),
        (
            "alice",
            json!({"accountId": "alice@contoso.com", "action": "revokeAllSessions", "identityProvider": "activeDirectory"}),
            400,
            Some("not supported"),
        ),
        (
            "alice",
            json!({"accountId": "alice@contoso.com", "action": "disable", "identityProvider": "okta"}),
            400,
            Some("is not a okta account"),
        ),
        (
            "alice",
            json!({"accountId": "bob@contoso.com", "action": "disable", "identityProvider": "activeDirectory"}),
            400,
            Some("not one of"),
        ),
        (
            "nobody",
            json!({"accountId": "x@contoso.com", "action": "disable", "identityProvider": "activeDirectory"}),
            404,
            None,
        ),
        (
            "alice",
            json!({"accountId": "alice@contoso.com", "action": "explode", "identityProvider": "activeDirectory"}),
            400,
            None,
        ),
        (
            "alice",
            json!({"accountId": "alice@contoso.com", "action": "disable"}),
            400,
            None,
        ),
        (
            "alice",
            json!({"accountId": "alice@contoso.com", "action": "disable", "identityProvider": "activeDirectory", "extra": 1}),
            400,
            None,
        ),
        (
            "alice",
            json!({"accountId": 7, "action": "disable", "identityProvider": "activeDirectory"}),
            400,
            None,
        ),
    ];
    for (id, body, status, text) in cases {
        let r = app.post(&invoke(id), &actor, Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        if let Some(text) = text {
            assert!(
                r.json["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(text),
                "{body}: {}",
                r.text
            );
        }
    }
    // A read-only token and a token of the right app without the actions permission.
    let r = app.post(&invoke("alice"), &reader, Some(json!({"accountId": "alice@contoso.okta.com", "action": "disable", "identityProvider": "okta"}))).await;
    assert_error(&r, 403, "UnknownError");
    assert_eq!(
        app.get(&p("beta", "identityAccounts"), &reader).await.json["value"],
        before
    );
    let actions = picket_store::identity_accounts::actions(app.store.as_ref(), &tenant(TENANT_A))
        .await
        .expect("actions");
    assert!(actions.is_empty(), "{actions:?}");
}

fn tenant(t: &str) -> picket_domain::TenantId {
    picket_domain::TenantId::parse(t).expect("tenant")
}

#[tokio::test]
async fn a_tenant_without_defender_for_identity_is_refused_until_its_first_sensor_enrols() {
    let app = TestApp::builder()
        .seed(TENANT_B, json!({"onboarded": false}))
        .start()
        .await;
    let token = app.token(TENANT_B, &[SENSORS_RW, HEALTH_READ, "Directory.Read.All"]);
    let text = "Tenant is not onboarded to Microsoft Defender for Identity. After license is purchased, first login to portal and sensor are required.";
    for path in [
        p("v1.0", "sensors"),
        p("beta", "healthIssues"),
        p("beta", "sensorCandidates"),
        p("v1.0", ""),
    ] {
        let r = app.get(&path, &token).await;
        let message = assert_error(&r, 403, "Forbidden");
        assert_eq!(message, text, "{path}");
    }
    // The directory reads still answer; the other tenant is untouched.
    app.get("/v1.0/organization", &token).await.expect(200);
    app.get(&p("v1.0", "sensors"), &app.token(TENANT_A, &[SENSORS_READ]))
        .await
        .expect(200);
    // Inside $batch too.
    let r = app
        .post("/v1.0/$batch", &token, Some(json!({"requests": [{"id": "1", "method": "GET", "url": "/security/identities/sensors"}]})))
        .await
        .expect(200);
    assert_eq!(r.json["responses"][0]["status"], json!(403));

    // The first sensor enrols with the deployment access key: the tenant is onboarded.
    let tenant = picket_domain::TenantId::parse(TENANT_B).expect("tenant");
    let key = app
        .store
        .deployment_access_key(&tenant)
        .await
        .expect("key")
        .expose()
        .to_string();
    let enrolled = app
        .send(
            "POST",
            "/agent/v1/enroll",
            None,
            &[("Content-Type", "application/json")],
            Some(
                json!({"tenantId": TENANT_B, "accessKey": key, "computerDnsName": "dc1.fabrikam.local",
                       "sensorType": "domainControllerIntegrated", "version": "2.239.18124.58593"})
                .to_string()
                .into_bytes(),
            ),
        )
        .await;
    assert_eq!(enrolled.status, 201, "{}", enrolled.text);
    let r = app.get(&p("v1.0", "sensors"), &token).await.expect(200);
    assert_eq!(r.value().len(), 1);
}

const MIGRATION_READ: &str = "SecurityIdentitiesMigration.Read.All";
const MIGRATION_RW: &str = "SecurityIdentitiesMigration.ReadWrite.All";

#[tokio::test]
async fn sensor_migration_lists_classic_sensors_and_migrate_starts_the_eligible_ones() {
    let app = TestApp::standard().await;
    let reader = app.token(TENANT_A, &[MIGRATION_READ]);
    let writer = app.token(TENANT_A, &[MIGRATION_RW, SENSORS_READ]);
    let r = app
        .get(&p("beta", "sensorMigration"), &reader)
        .await
        .expect(200);
    assert_eq!(
        r.value().len(),
        4,
        "every classic sensor of the standard fixture (one is unified)"
    );
    assert_eq!(
        r.value()[0]["@odata.type"],
        "#microsoft.graph.security.sensorMigration"
    );
    let state_of = |r: &Resp, id: &str| {
        r.value()
            .iter()
            .find(|m| m["id"] == json!(id))
            .map(|m| m["migrationState"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(state_of(&r, DC1).as_deref(), Some("readyForMigration"));
    assert_eq!(state_of(&r, ADFS).as_deref(), Some("notReadyForMigration"));
    let ready = app
        .get(
            &format!(
                "{}?$filter={}&$count=true",
                p("beta", "sensorMigration"),
                enc("migrationState eq 'readyForMigration'")
            ),
            &reader,
        )
        .await
        .expect(200);
    let ready_ids = ready.ids();
    assert!(ready_ids.contains(&DC1.to_string()), "{ready_ids:?}");
    assert_eq!(
        app.get(&p("beta", "sensorMigration/$count"), &reader)
            .await
            .text,
        "4"
    );
    app.get(&p("beta", &format!("sensorMigration/{DC1}")), &reader)
        .await
        .expect(200);
    assert_error(
        &app.get(&p("beta", "sensorMigration/nope"), &reader).await,
        404,
        "NotFound",
    );
    // Beta only, as on Graph.
    assert_error(
        &app.get(&p("v1.0", "sensorMigration"), &reader).await,
        400,
        "BadRequest",
    );

    // migrate: the eligible start, the others are named; a reader may not.
    let body = json!({"sensorIds": [DC1, ADFS, "no-such-sensor"]});
    assert_error(
        &app.post(
            &p("beta", "sensorMigration/migrate"),
            &reader,
            Some(body.clone()),
        )
        .await,
        403,
        "UnknownError",
    );
    let r = app
        .post(
            &p("beta", "sensorMigration/microsoft.graph.security.migrate"),
            &writer,
            Some(body),
        )
        .await
        .expect(200);
    assert_eq!(
        r.json["@odata.type"],
        "#microsoft.graph.security.migrateSensorsResult"
    );
    assert_eq!(r.json["successfulMigrationSensorIds"], json!([DC1]));
    assert_eq!(
        r.json["failedMigrationSensorIds"],
        json!([ADFS, "no-such-sensor"])
    );
    let after = app
        .get(&p("beta", "sensorMigration"), &reader)
        .await
        .expect(200);
    assert_eq!(state_of(&after, DC1).as_deref(), Some("migrating"));
    // The sensor shows it too, on beta.
    let sensor = app
        .get(&p("beta", &format!("sensors/{DC1}")), &writer)
        .await
        .expect(200);
    assert_eq!(sensor.json["migrationState"], "migrating");
    // Migrating twice does not start it again.
    let again = app
        .post(
            &p("beta", "sensorMigration/migrate"),
            &writer,
            Some(json!({"sensorIds": [DC1]})),
        )
        .await
        .expect(200);
    assert_eq!(again.json["failedMigrationSensorIds"], json!([DC1]));
    for bad in [
        json!({}),
        json!({"sensorIds": "x"}),
        json!({"sensorIds": [1]}),
        json!({"sensorIds": [], "x": 1}),
    ] {
        let r = app
            .post(
                &p("beta", "sensorMigration/migrate"),
                &writer,
                Some(bad.clone()),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
}

#[tokio::test]
async fn network_adapters_are_reported_read_and_switched() {
    let app = TestApp::builder()
        .seed(
            TENANT_A,
            json!({"sensors": [{"id": "s-1", "displayName": "DC1", "domainName": "contoso.com",
                    "sensorType": "domainControllerIntegrated", "version": "2.239.1.1",
                    "settings": {"networkAdapters": [{"id": "1", "name": "Ethernet0"},
                                                     {"id": "2", "name": "Ethernet1", "isEnabled": false}]}}]}),
        )
        .start()
        .await;
    let reader = app.token(TENANT_A, &[SENSORS_READ]);
    let writer = app.token(TENANT_A, &[SENSORS_RW]);
    for v in VERSIONS {
        let r = app
            .get(&p(v, "sensors/s-1/settings/networkAdapters"), &reader)
            .await
            .expect(200);
        assert_eq!(r.ids(), vec!["1", "2"]);
        assert_eq!(
            r.value()[0]["@odata.type"],
            "#microsoft.graph.security.networkAdapter"
        );
        assert_eq!(r.value()[1]["isEnabled"], json!(false));
        let one = app
            .get(&p(v, "sensors/s-1/settings/networkAdapters/1"), &reader)
            .await
            .expect(200);
        assert_eq!(one.json["name"], "Ethernet0");
    }
    let r = app
        .patch(
            &p("beta", "sensors/s-1/settings/networkAdapters/2"),
            &writer,
            json!({"isEnabled": true}),
        )
        .await
        .expect(200);
    assert_eq!(r.json["isEnabled"], json!(true));
    assert_eq!(
        app.get(
            &p("v1.0", "sensors/s-1/settings/networkAdapters/2"),
            &reader
        )
        .await
        .json["isEnabled"],
        json!(true)
    );
    for (path, token, body, status) in [
        (
            "sensors/s-1/settings/networkAdapters/2",
            &reader,
            json!({"isEnabled": false}),
            403,
        ),
        (
            "sensors/s-1/settings/networkAdapters/2",
            &writer,
            json!({"isEnabled": "no"}),
            400,
        ),
        (
            "sensors/s-1/settings/networkAdapters/2",
            &writer,
            json!({"name": "x"}),
            400,
        ),
        (
            "sensors/s-1/settings/networkAdapters/9",
            &writer,
            json!({"isEnabled": false}),
            404,
        ),
        (
            "sensors/nope/settings/networkAdapters/1",
            &writer,
            json!({"isEnabled": false}),
            404,
        ),
    ] {
        let r = app.patch(&p("beta", path), token, body.clone()).await;
        assert_eq!(r.status, status, "{path} {body}: {}", r.text);
    }
    assert_eq!(
        app.get(
            &p("beta", "sensors/s-1/settings/networkAdapters/2"),
            &reader
        )
        .await
        .json["isEnabled"],
        json!(true),
        "refusals changed nothing"
    );
    assert_error(
        &app.get(&p("beta", "sensors/nope/settings/networkAdapters"), &reader)
            .await,
        404,
        "NotFound",
    );
}
