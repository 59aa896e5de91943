//! Sensors: list, get, update settings under the domain rules, delete, and the sensor's health
//! issues (spec §2.1–2.4, §2.15), on both versions.

use crate::support::*;
use serde_json::{json, Value};

fn dc1_beta() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.security.sensor",
        "id": DC1,
        "displayName": "DC1",
        "sensorType": "domainControllerIntegrated",
        "version": "2.239.18124.58593",
        "deploymentStatus": "upToDate",
        "createdDateTime": "2023-11-16T09:41:24.2585071Z",
        "domainName": "contoso.com",
        "healthStatus": "notHealthyMedium",
        "openHealthIssuesCount": 1,
        "settings": {
            "@odata.type": "#microsoft.graph.security.sensorSettings",
            "description": "dc1 settings",
            "domainControllerDnsNames": ["DC1.contoso.com"],
            "isDelayedDeploymentEnabled": true
        },
        "serviceStatus": "running",
        "migrationState": "readyForMigration"
    })
}

/// v1.0 shows `serviceStatus` too (spec §7.1), but not beta's `migrationState`.
fn without_migration_state(mut v: Value) -> Value {
    v.as_object_mut().expect("object").remove("migrationState");
    v
}

fn dc1_for(version: &str) -> Value {
    if version == "beta" {
        dc1_beta()
    } else {
        without_migration_state(dc1_beta())
    }
}

#[tokio::test]
async fn list_sensors_on_both_versions() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let r = app.get(&p(v, "sensors"), &token).await.expect(200);
        assert_eq!(r.keys(), vec!["@odata.context", "value"], "{v}");
        assert_eq!(
            r.json["@odata.context"],
            json!(ctx(&app, v, "security/identities/sensors"))
        );
        assert_eq!(
            r.ids(),
            owned(&SENSOR_ORDER),
            "{v}: default order is createdDateTime, id"
        );
        assert_eq!(r.value()[0], dc1_for(v), "{v}");
        for s in r.value() {
            assert!(s.get("serviceStatus").is_some(), "{v}: {s}");
            assert_eq!(
                s.get("migrationState").is_some(),
                v == "beta",
                "{v}: migrationState only on beta: {s}"
            );
        }
        let health: Vec<(&str, i64)> = r
            .value()
            .iter()
            .map(|s| {
                (
                    s["healthStatus"].as_str().unwrap(),
                    s["openHealthIssuesCount"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            health,
            vec![
                ("notHealthyMedium", 1),
                ("notHealthyHigh", 1),
                ("notHealthyLow", 1),
                ("healthy", 0),
                ("notHealthyMedium", 2)
            ],
            "{v}: derived health"
        );
    }
    let beta = app.get_ok(&p("beta", "sensors"), &token).await;
    let service: Vec<&str> = beta["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["serviceStatus"].as_str().unwrap())
        .collect();
    assert_eq!(
        service,
        vec!["running", "running", "stopped", "starting", "unknown"]
    );
    // ADFS1 has no description: null, and an empty-but-present list where none was given.
    let adfs = &beta["value"][2]["settings"];
    assert_eq!(adfs["description"], Value::Null);
    assert_eq!(
        beta["value"][4]["settings"]["domainControllerDnsNames"],
        json!([])
    );
}

#[tokio::test]
async fn get_sensor_on_both_versions() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let r = app
            .get(&p(v, &format!("sensors/{DC1}")), &token)
            .await
            .expect(200);
        assert_eq!(r.keys()[0], "@odata.context");
        let mut expected = dc1_for(v);
        expected["@odata.context"] = json!(ctx(&app, v, "security/identities/sensors/$entity"));
        assert_eq!(r.json, expected, "{v}");

        let missing = app
            .get(
                &p(v, "sensors/00000000-0000-0000-0000-000000000000"),
                &token,
            )
            .await;
        assert_error(&missing, 404, "NotFound");
        // Case-insensitive segments (spec §5 D10).
        let upper = app
            .get(&format!("/{v}/Security/Identities/SENSORS/{DC2}"), &token)
            .await
            .expect(200);
        assert_eq!(upper.json["id"], json!(DC2));
    }
}

#[tokio::test]
async fn count_segment_and_count_option() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let r = app.get(&p(v, "sensors/$count"), &token).await.expect(200);
        assert!(
            r.content_type().starts_with("text/plain"),
            "{v}: {}",
            r.content_type()
        );
        assert_eq!(r.text, "5");
        let r = app
            .get(
                &format!(
                    "{}?$filter={}",
                    p(v, "sensors/$count"),
                    enc("domainName eq 'fabrikam.local'")
                ),
                &token,
            )
            .await;
        assert_eq!(r.expect(200).text, "2");
        let r = app
            .get(&format!("{}?$count=true", p(v, "sensors")), &token)
            .await
            .expect(200);
        assert_eq!(r.json["@odata.count"], json!(5));
        assert_eq!(r.keys(), vec!["@odata.context", "@odata.count", "value"]);
        // The $count segment ignores paging options.
        let r = app
            .get(
                &format!("{}?$top=1&$skip=1", p(v, "sensors/$count")),
                &token,
            )
            .await;
        assert_eq!(r.expect(200).text, "5");
    }
}

#[tokio::test]
async fn patch_description_returns_full_sensor_and_merges() {
    let app = TestApp::standard().await;
    let token = admin();
    for (v, id, text) in [
        ("v1.0", DC1, "first"),
        ("beta", DC2, "second"),
        ("beta", ADFS, "third"),
    ] {
        let before = app
            .get_ok(&p("beta", &format!("sensors/{id}")), &token)
            .await;
        let r = app
            .patch(
                &p(v, &format!("sensors/{id}")),
                &token,
                json!({"settings": {"description": text}}),
            )
            .await;
        let r = r.expect(200);
        assert_eq!(
            r.json["@odata.context"],
            json!(ctx(&app, v, "security/identities/sensors/$entity"))
        );
        let mut expected = before.clone();
        expected["settings"]["description"] = json!(text);
        expected["@odata.context"] = r.json["@odata.context"].clone();
        if v == "v1.0" {
            expected = without_migration_state(expected);
        }
        assert_eq!(
            r.json, expected,
            "{v} {id}: only the description changed (merge)"
        );
        let after = app
            .get_ok(&p("beta", &format!("sensors/{id}")), &token)
            .await;
        let mut expected_after = before;
        expected_after["settings"]["description"] = json!(text);
        assert_eq!(after, expected_after, "{v} {id}: stored");
    }
    // null clears the description.
    let r = app
        .patch(
            &p("beta", &format!("sensors/{DC1}")),
            &token,
            json!({"settings": {"description": null}}),
        )
        .await;
    assert_eq!(r.expect(200).json["settings"]["description"], Value::Null);
}

/// (sensor, body, expected status, expected settings afterwards when accepted)
type PatchCase = (&'static str, Value, u16, Option<Value>);

#[tokio::test]
async fn patch_settings_rules() {
    let app = TestApp::standard().await;
    let token = admin();
    let cases: Vec<PatchCase> = vec![
        // Classic DC sensor: delayed flag is writable, under either name.
        (
            DC1,
            json!({"settings": {"isDelayedDeploymentEnabled": false}}),
            200,
            Some(
                json!({"description": "dc1 settings", "domainControllerDnsNames": ["DC1.contoso.com"], "isDelayedDeploymentEnabled": false}),
            ),
        ),
        (
            DC1,
            json!({"settings": {"isDelayedUpdateEnabled": true}}),
            200,
            Some(
                json!({"description": "dc1 settings", "domainControllerDnsNames": ["DC1.contoso.com"], "isDelayedDeploymentEnabled": true}),
            ),
        ),
        // The documented example: all three, the DC list unchanged for an integrated sensor.
        (
            DC1,
            json!({"settings": {"@odata.type": "microsoft.graph.security.sensorSettings", "description": "dc1 settings new description",
                                   "domainControllerDnsNames": ["DC1.contoso.com"], "isDelayedDeploymentEnabled": false}}),
            200,
            Some(
                json!({"description": "dc1 settings new description", "domainControllerDnsNames": ["DC1.contoso.com"], "isDelayedDeploymentEnabled": false}),
            ),
        ),
        // ...but changing it is refused.
        (
            DC1,
            json!({"settings": {"domainControllerDnsNames": ["DC9.contoso.com"]}}),
            400,
            None,
        ),
        (
            DC1,
            json!({"settings": {"domainControllerDnsNames": []}}),
            400,
            None,
        ),
        // Unified (3.x) sensor: neither the flag nor the DC list may change.
        (
            DC2,
            json!({"settings": {"isDelayedDeploymentEnabled": true}}),
            400,
            None,
        ),
        (
            DC2,
            json!({"settings": {"isDelayedUpdateEnabled": true}}),
            400,
            None,
        ),
        (
            DC2,
            json!({"settings": {"domainControllerDnsNames": ["DC1.contoso.com"]}}),
            400,
            None,
        ),
        (
            DC2,
            json!({"settings": {"description": "ok", "isDelayedDeploymentEnabled": true}}),
            400,
            None,
        ),
        (
            DC2,
            json!({"settings": {"isDelayedDeploymentEnabled": false}}),
            200,
            Some(
                json!({"description": "dc2 unified", "domainControllerDnsNames": [], "isDelayedDeploymentEnabled": false}),
            ),
        ),
        // Classic non-DC sensors choose their DCs.
        (
            ADFS,
            json!({"settings": {"domainControllerDnsNames": ["DC1.contoso.com", "DC2.contoso.com"]}}),
            200,
            Some(
                json!({"description": null, "domainControllerDnsNames": ["DC1.contoso.com", "DC2.contoso.com"], "isDelayedDeploymentEnabled": false}),
            ),
        ),
        (
            SA1,
            json!({"settings": {"domainControllerDnsNames": []}}),
            200,
            Some(
                json!({"description": "standalone", "domainControllerDnsNames": [], "isDelayedDeploymentEnabled": true}),
            ),
        ),
        // Entity @odata.type with or without '#'.
        (
            SA1,
            json!({"@odata.type": "microsoft.graph.security.sensor", "settings": {"description": "sa"}}),
            200,
            Some(
                json!({"description": "sa", "domainControllerDnsNames": [], "isDelayedDeploymentEnabled": true}),
            ),
        ),
        (
            SA1,
            json!({"@odata.type": "#microsoft.graph.security.healthIssue", "settings": {"description": "x"}}),
            400,
            None,
        ),
        // Read-only properties.
        (DC1, json!({"displayName": "DCX"}), 400, None),
        (DC1, json!({"version": "9.0.0.0"}), 400, None),
        (DC1, json!({"sensorType": "adfsIntegrated"}), 400, None),
        (DC1, json!({"healthStatus": "healthy"}), 400, None),
        (DC1, json!({"openHealthIssuesCount": 0}), 400, None),
        (DC1, json!({"serviceStatus": "running"}), 400, None),
        (
            DC1,
            json!({"deploymentStatus": "unknownFutureValue"}),
            400,
            None,
        ),
        (
            DC1,
            json!({"createdDateTime": "2020-01-01T00:00:00Z"}),
            400,
            None,
        ),
        (DC1, json!({"id": DC2}), 400, None),
        (
            DC1,
            json!({"settings": {"description": "x"}, "domainName": "evil.com"}),
            400,
            None,
        ),
        // Unknown properties.
        (DC1, json!({"colour": "red"}), 400, None),
        (DC1, json!({"settings": {"colour": "red"}}), 400, None),
        (
            DC1,
            json!({"settings": {"description": "x", "networkAdapters": []}}),
            400,
            None,
        ),
        // Wrong JSON types.
        (DC1, json!({"settings": "dc1"}), 400, None),
        (DC1, json!({"settings": {"description": 5}}), 400, None),
        (
            DC1,
            json!({"settings": {"isDelayedDeploymentEnabled": "yes"}}),
            400,
            None,
        ),
        (
            ADFS,
            json!({"settings": {"domainControllerDnsNames": "DC1.contoso.com"}}),
            400,
            None,
        ),
        (
            ADFS,
            json!({"settings": {"domainControllerDnsNames": [1]}}),
            400,
            None,
        ),
    ];
    for (id, body, status, settings) in cases {
        let path = p("beta", &format!("sensors/{id}"));
        let before = app.snapshot(&token).await;
        let r = app.patch(&path, &token, body.clone()).await;
        if status == 400 {
            assert_error(&r, 400, "BadRequest");
            assert_eq!(
                app.snapshot(&token).await,
                before,
                "{id} {body}: a rejected PATCH changed data"
            );
            continue;
        }
        assert_eq!(r.status, status, "{id} {body}: {}", r.text);
        let mut want = settings.expect("expected settings");
        want["@odata.type"] = json!("#microsoft.graph.security.sensorSettings");
        assert_eq!(r.json["settings"], want, "{id} {body}: response");
        assert!(
            r.json["settings"].get("isDelayedUpdateEnabled").is_none(),
            "alias is never emitted"
        );
        let stored = app.get_ok(&path, &token).await;
        assert_eq!(stored["settings"], want, "{id} {body}: stored");
    }
}

#[tokio::test]
async fn delete_sensor_closes_its_sensor_issues() {
    let app = TestApp::standard().await;
    let token = admin();
    // v1.0: the fabrikam DC with H6 (sensor, open) and H1 (global, open).
    let before_h6 = app
        .get_ok(&p("beta", &format!("healthIssues/{H6}")), &token)
        .await;
    let r = app
        .delete(&p("v1.0", &format!("sensors/{FAB}")), &token)
        .await
        .expect(204);
    assert_eq!(r.text, "");
    assert!(
        r.header("content-type").is_none(),
        "204 has no content type"
    );
    assert_error(
        &app.get(&p("v1.0", &format!("sensors/{FAB}")), &token).await,
        404,
        "NotFound",
    );
    assert_error(
        &app.get(&p("beta", &format!("sensors/{FAB}")), &token).await,
        404,
        "NotFound",
    );
    assert_error(
        &app.delete(&p("v1.0", &format!("sensors/{FAB}")), &token)
            .await,
        404,
        "NotFound",
    );
    let h6 = app
        .get_ok(&p("beta", &format!("healthIssues/{H6}")), &token)
        .await;
    assert_eq!(
        h6["status"],
        json!("closed"),
        "its open sensor issue is closed"
    );
    assert!(
        h6["lastModifiedDateTime"].as_str().unwrap()
            > before_h6["lastModifiedDateTime"].as_str().unwrap(),
        "lastModifiedDateTime bumped"
    );
    let h1 = app
        .get_ok(&p("beta", &format!("healthIssues/{H1}")), &token)
        .await;
    assert_eq!(h1["status"], json!("open"), "global issues stay open");
    // The other sensor named by H1 is unaffected.
    let dc1 = app
        .get_ok(&p("beta", &format!("sensors/{DC1}")), &token)
        .await;
    assert_eq!(
        (
            dc1["healthStatus"].clone(),
            dc1["openHealthIssuesCount"].clone()
        ),
        (json!("notHealthyMedium"), json!(1))
    );

    // beta: DC2 with H2 (sensor, high, open).
    app.delete(&p("beta", &format!("sensors/{DC2}")), &token)
        .await
        .expect(204);
    assert_error(
        &app.get(&p("beta", &format!("sensors/{DC2}")), &token).await,
        404,
        "NotFound",
    );
    let h2 = app
        .get_ok(&p("v1.0", &format!("healthIssues/{H2}")), &token)
        .await;
    assert_eq!(h2["status"], json!("closed"));
    let list = app.get(&p("beta", "sensors"), &token).await.expect(200);
    assert_eq!(list.ids(), owned(&[DC1, ADFS, SA1]));
    assert_eq!(
        app.get(&p("beta", "sensors/$count"), &token).await.text,
        "3"
    );
}

#[tokio::test]
async fn service_status_on_both_versions_and_migration_state_on_beta() {
    let app = TestApp::standard().await;
    let token = admin();
    let filter = enc("serviceStatus eq 'running'");
    for v in VERSIONS {
        for (query, ids) in [
            ("$select=serviceStatus".to_string(), None),
            (format!("$filter={filter}"), Some(vec![DC1, DC2])),
            ("$orderby=serviceStatus".to_string(), None),
        ] {
            let r = app
                .get(&format!("{}?{query}", p(v, "sensors")), &token)
                .await
                .expect(200);
            if let Some(ids) = ids {
                assert_eq!(r.ids(), owned(&ids), "{v} {query}");
            }
        }
        let one = app
            .get_ok(
                &format!("{}?$select=serviceStatus", p(v, &format!("sensors/{DC1}"))),
                &token,
            )
            .await;
        assert_eq!(one["serviceStatus"], json!("running"));
        assert!(one.get("displayName").is_none());
        let n = app
            .get(
                &format!("{}?$filter={filter}", p(v, "sensors/$count")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(n.text, "2");
    }
    // migrationState: beta's, derived, selectable (not filterable).
    let beta = app
        .get(
            &format!("{}?$select=migrationState", p("beta", "sensors")),
            &token,
        )
        .await
        .expect(200);
    let states: Vec<&str> = beta
        .value()
        .iter()
        .map(|s| s["migrationState"].as_str().unwrap_or(""))
        .collect();
    assert!(states.contains(&"readyForMigration"), "{states:?}");
    assert!(states.iter().all(|s| !s.is_empty()), "{states:?}");
    let v1 = app
        .get(
            &format!("{}?$select=migrationState", p("v1.0", "sensors")),
            &token,
        )
        .await;
    assert_error(&v1, 400, "BadRequest");
    let filtered = app
        .get(
            &format!(
                "{}?$filter={}",
                p("beta", "sensors"),
                enc("migrationState eq 'upToDate'")
            ),
            &token,
        )
        .await;
    assert_error(&filtered, 400, "BadRequest");
    // A v1.0 PATCH answers serviceStatus too.
    let r = app
        .patch(
            &p("v1.0", &format!("sensors/{DC1}")),
            &token,
            json!({"settings": {"description": "x"}}),
        )
        .await;
    assert_eq!(r.expect(200).json["serviceStatus"], json!("running"));
}

#[tokio::test]
async fn sensor_health_issues_navigation() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        for segment in ["healthIssues", "healthissues"] {
            let path = p(v, &format!("sensors/{FAB}/{segment}"));
            let r = app.get(&path, &token).await.expect(200);
            assert_eq!(
                r.json["@odata.context"],
                json!(ctx(
                    &app,
                    v,
                    &format!("security/identities/sensors('{FAB}')/healthIssues")
                ))
            );
            assert_eq!(r.ids(), owned(&[H6, H1]), "{v} {segment}");
            let count = app.get(&format!("{path}/$count"), &token).await.expect(200);
            assert!(count.content_type().starts_with("text/plain"));
            assert_eq!(count.text, "2");
            let one = app.get(&format!("{path}/{H6}"), &token).await.expect(200);
            assert_eq!(one.json["id"], json!(H6));
            assert_eq!(one.json["status"], json!("open"));
            assert_error(
                &app.get(&format!("{path}/{H2}"), &token).await,
                404,
                "NotFound",
            );
        }
        // Suppressed and closed issues are listed too; $count=true and $filter apply.
        let path = p(v, &format!("sensors/{DC1}/healthIssues"));
        let r = app
            .get(&format!("{path}?$count=true"), &token)
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[H4, H1]));
        assert_eq!(r.json["@odata.count"], json!(2));
        let r = app
            .get(
                &format!("{path}?$filter={}", enc("status eq 'open'")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[H1]));
        let r = app
            .get(&p(v, &format!("sensors/{SA1}/healthIssues")), &token)
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[H5]));
        // Unknown sensor.
        let r = app.get(&p(v, "sensors/nope/healthIssues"), &token).await;
        assert_error(&r, 404, "NotFound");
        assert_error(
            &app.get(&p(v, "sensors/nope/healthIssues/$count"), &token)
                .await,
            404,
            "NotFound",
        );
        // Read-only navigation.
        let r = app
            .patch(
                &p(v, &format!("sensors/{FAB}/healthIssues/{H6}")),
                &token,
                json!({"status": "closed"}),
            )
            .await;
        assert_error(&r, 405, "MethodNotAllowed");
        let r = app
            .post(
                &p(v, &format!("sensors/{FAB}/healthIssues")),
                &token,
                Some(json!({})),
            )
            .await;
        assert_error(&r, 405, "MethodNotAllowed");
    }
    let h6 = app
        .get_ok(&p("beta", &format!("healthIssues/{H6}")), &token)
        .await;
    assert_eq!(h6["status"], json!("open"), "405 changed nothing");
}

#[tokio::test]
async fn expand_health_issues_on_get_sensor() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let r = app
            .get(
                &format!("{}?$expand=healthIssues", p(v, &format!("sensors/{FAB}"))),
                &token,
            )
            .await
            .expect(200);
        let issues = r.json["healthIssues"]
            .as_array()
            .expect("healthIssues embedded");
        let ids: Vec<&str> = issues.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![H6, H1], "{v}");
        assert_eq!(
            issues[0]["@odata.type"],
            json!("#microsoft.graph.security.healthIssue")
        );
        assert_eq!(issues[0]["severity"], json!("medium"));
        assert_eq!(r.json["displayName"], json!("DC1"));
        let r = app
            .get(
                &format!("{}?$expand=healthIssues", p(v, &format!("sensors/{SA1}"))),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.json["healthIssues"].as_array().map(Vec::len), Some(1));
        // $select and $expand together.
        let r = app
            .get(
                &format!(
                    "{}?$select=displayName&$expand=healthIssues",
                    p(v, &format!("sensors/{FAB}"))
                ),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(
            r.json["@odata.context"],
            json!(ctx(
                &app,
                v,
                "security/identities/sensors(displayName)/$entity"
            ))
        );
        assert_eq!(r.json["healthIssues"].as_array().map(Vec::len), Some(2));
        assert!(r.json.get("version").is_none());
        // Without $expand there is no healthIssues property.
        let r = app.get_ok(&p(v, &format!("sensors/{FAB}")), &token).await;
        assert!(r.get("healthIssues").is_none());

        // Expanding reads health data: a sensors-only token is refused.
        for roles in [[SENSORS_READ], [SENSORS_RW]] {
            let limited = app.token(TENANT_A, &roles);
            let r = app
                .get(
                    &format!("{}?$expand=healthIssues", p(v, &format!("sensors/{FAB}"))),
                    &limited,
                )
                .await;
            let message = assert_error(&r, 403, "UnknownError");
            assert!(
                message.contains(HEALTH_READ),
                "names the health permission: {message}"
            );
        }
        let both = app.token(TENANT_A, &[SENSORS_READ, HEALTH_READ]);
        app.get(
            &format!("{}?$expand=healthIssues", p(v, &format!("sensors/{FAB}"))),
            &both,
        )
        .await
        .expect(200);
        // Unknown navigation.
        let r = app
            .get(
                &format!("{}?$expand=candidates", p(v, &format!("sensors/{FAB}"))),
                &token,
            )
            .await;
        assert_error(&r, 400, "BadRequest");
    }
}

#[tokio::test]
async fn expand_health_issues_on_a_list_matches_each_sensors_own_issues() {
    let app = TestApp::standard().await;
    let token = admin();
    let list = app
        .get(
            "/beta/security/identities/sensors?$expand=healthIssues",
            &token,
        )
        .await
        .expect(200);
    let sensors = list.json["value"].as_array().expect("value");
    assert!(sensors.len() > 1);
    let mut embedded_any = false;
    for s in sensors {
        let id = s["id"].as_str().expect("id");
        let own = app
            .get(
                &format!("/beta/security/identities/sensors/{id}/healthIssues"),
                &token,
            )
            .await
            .expect(200);
        let ids = |v: &Value| -> Vec<String> {
            v.as_array()
                .expect("array")
                .iter()
                .map(|i| i["id"].as_str().expect("id").to_string())
                .collect()
        };
        let embedded = ids(&s["healthIssues"]);
        embedded_any |= !embedded.is_empty();
        assert_eq!(embedded, ids(&own.json["value"]), "sensor {id}");
    }
    assert!(embedded_any, "the standard fixture links issues to sensors");
}

/// Two values of a setting's type (neither the type's default, and unlike each other) and the
/// `$filter` that finds a sensor whose setting holds the first.
fn setting_samples(name: &str, ty: picket_odata::PropType) -> (Value, Value, String) {
    use picket_odata::PropType;
    let path = format!("settings/{name}");
    match ty {
        PropType::String => (
            json!("first words"),
            json!("other words"),
            format!("{path} eq 'first words'"),
        ),
        PropType::Bool => (json!(true), json!(false), format!("{path} eq true")),
        PropType::StringCollection => (
            json!(["dc9.contoso.com"]),
            json!(["dc8.contoso.com"]),
            format!("{path}/any(d: d eq 'dc9.contoso.com')"),
        ),
        other => panic!("{path}: give this test values of type {other:?}"),
    }
}

/// Every setting the domain declares (`picket_domain::sensor_settings`), end to end on the
/// engine under test: seeded by a fixture, rendered on both versions, changed by PATCH and
/// stored (a later read and `$filter` see it), so a setting added there is covered here
/// without a test of its own.
#[tokio::test]
async fn every_declared_setting_is_seeded_rendered_patched_stored_and_filtered() {
    const SEEDED: &str = "0c0ffee0-0000-4000-8000-000000000001";
    const PLAIN: &str = "0c0ffee0-0000-4000-8000-000000000002";
    for &(property, ty) in picket_domain::SensorSettings::PROPERTIES {
        let name = property
            .strip_prefix("settings/")
            .expect("a settings property");
        let (first, second, filter) = setting_samples(name, ty);
        // Classic ADFS sensors: every setting may change (spec §2.3).
        let sensor = |id: &str, n: u32| {
            json!({"id": id, "displayName": format!("ADFS{n}"), "domainName": "contoso.com",
                   "sensorType": "adfsIntegrated", "version": "2.239.18124.58593"})
        };
        let mut seeded = sensor(SEEDED, 1);
        seeded["settings"] = json!({ name: first.clone() });
        let app = TestApp::builder()
            .seed(TENANT_B, json!({"sensors": [seeded, sensor(PLAIN, 2)]}))
            .start()
            .await;
        let token = app.token(TENANT_B, &ALL_PERMISSIONS);
        let filtered = format!("{}?$filter={filter}", p("v1.0", "sensors"));
        for v in VERSIONS {
            let one = app
                .get_ok(&p(v, &format!("sensors/{SEEDED}")), &token)
                .await;
            assert_eq!(one["settings"][name], first, "{v} {property}: seeded");
        }
        let found = app.get(&filtered, &token).await.expect(200).ids();
        assert_eq!(found, vec![SEEDED], "{property}");

        let patched = app
            .patch(
                &p("v1.0", &format!("sensors/{PLAIN}")),
                &token,
                json!({"settings": { name: first.clone() }}),
            )
            .await
            .expect(200);
        assert_eq!(patched.json["settings"][name], first, "{property}: answer");
        app.patch(
            &p("v1.0", &format!("sensors/{SEEDED}")),
            &token,
            json!({"settings": { name: second.clone() }}),
        )
        .await
        .expect(200);
        let stored = app
            .get_ok(&p("beta", &format!("sensors/{SEEDED}")), &token)
            .await;
        assert_eq!(stored["settings"][name], second, "{property}: stored");
        let found = app.get(&filtered, &token).await.expect(200).ids();
        assert_eq!(found, vec![PLAIN], "{property}");
    }
}
