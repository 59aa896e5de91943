//! Sensor candidates, `activate`, and the activation configuration singleton
//! (spec §2.8–2.11, §4.5).

use crate::support::*;
use serde_json::{json, Value};

/// The candidate as each version shows it: `domainName` on both, `sensorTypes` on beta
/// (spec §7.1, superseding D14).
fn win11(version: &str) -> Value {
    let mut v = json!({
        "@odata.type": "#microsoft.graph.security.sensorCandidate",
        "id": C_WIN11,
        "computerDnsName": "win-11.def.defensor.local",
        "domainName": "def.defensor.local",
        "senseClientVersion": "10.8780.27711.1000",
        "lastSeenDateTime": "2024-10-29T19:55:10.9452778Z"
    });
    if version == "beta" {
        v["sensorTypes"] = json!(["domainController"]);
    }
    v
}

#[tokio::test]
async fn list_get_and_count_candidates() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        for segment in ["sensorCandidates", "sensorcandidates"] {
            let r = app.get(&p(v, segment), &token).await.expect(200);
            assert_eq!(r.keys(), vec!["@odata.context", "value"]);
            assert_eq!(
                r.json["@odata.context"],
                json!(ctx(&app, v, "security/identities/sensorCandidates"))
            );
            assert_eq!(
                r.ids(),
                owned(&CANDIDATE_ORDER),
                "{v}: ordered by computerDnsName"
            );
            assert_eq!(
                r.value()[2],
                win11(v),
                "{v}: domainName, and sensorTypes on beta"
            );
        }
        let r = app
            .get(&p(v, &format!("sensorCandidates/{C_WIN11}")), &token)
            .await
            .expect(200);
        let mut expected = win11(v);
        expected["@odata.context"] =
            json!(ctx(&app, v, "security/identities/sensorCandidates/$entity"));
        assert_eq!(r.json, expected);
        assert_error(
            &app.get(&p(v, "sensorCandidates/not-a-candidate"), &token)
                .await,
            404,
            "NotFound",
        );

        let r = app
            .get(&p(v, "sensorCandidates/$count"), &token)
            .await
            .expect(200);
        assert!(r.content_type().starts_with("text/plain"));
        assert_eq!(r.text, "3");
        let r = app
            .get(&format!("{}?$count=true", p(v, "sensorCandidates")), &token)
            .await
            .expect(200);
        assert_eq!(r.json["@odata.count"], json!(3));
        // The documented filter: senseClientVersion eq.
        let filter = enc("senseClientVersion eq '10.8780.27711.1000'");
        let r = app
            .get(
                &format!("{}?$filter={filter}", p(v, "sensorCandidates")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[C_DC4, C_WIN11]));
        let r = app
            .get(
                &format!("{}?$filter={filter}", p(v, "sensorCandidates/$count")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.text, "2");
    }
}

/// Eight candidates, one per (version, alias) pair.
fn activation_fixture() -> Value {
    let candidates: Vec<Value> = (1..=8)
        .map(|n| {
            json!({"id": format!("cand-{n}"), "computerDnsName": format!("srv-{n}.corp{n}.contoso.com"),
                   "senseClientVersion": "10.8780.27711.1000", "lastSeenDateTime": "2024-10-29T19:55:10Z"})
        })
        .collect();
    json!({"sensorCandidates": candidates})
}

#[tokio::test]
async fn activate_every_alias_makes_unified_sensors() {
    let app = TestApp::builder()
        .seed(TENANT_A, activation_fixture())
        .start()
        .await;
    let token = admin();
    let mut n = 0;
    for v in VERSIONS {
        for alias in [
            "activate",
            "activate()",
            "microsoft.graph.security.activate",
            "Microsoft.Graph.Security.Activate()",
        ] {
            n += 1;
            let id = format!("cand-{n}");
            let r = app
                .post(
                    &p(v, &format!("sensorCandidates/{alias}")),
                    &token,
                    Some(json!({"serverIds": [id]})),
                )
                .await;
            assert_eq!(r.status, 200, "{v} {alias}: {}", r.text);
            assert_eq!(r.text, "", "{v} {alias}: 200 with an empty body (D15)");
            assert!(
                r.header("content-type").is_none(),
                "no content type without a body (spec §3.1)"
            );
            assert_eq!(r.header("content-length"), Some("0"));
            assert_error(
                &app.get(&p(v, &format!("sensorCandidates/{id}")), &token)
                    .await,
                404,
                "NotFound",
            );

            let sensor = app
                .get_ok(&p("beta", &format!("sensors/{id}")), &token)
                .await;
            assert_eq!(
                sensor["sensorType"],
                json!("domainControllerIntegrated"),
                "{id}"
            );
            assert!(
                sensor["version"].as_str().unwrap().starts_with("3."),
                "{id}: {}",
                sensor["version"]
            );
            assert_eq!(sensor["version"], json!(UNIFIED_VERSION));
            assert_eq!(sensor["serviceStatus"], json!("onboarding"));
            assert_eq!(sensor["displayName"], json!(format!("SRV-{n}")));
            assert_eq!(sensor["domainName"], json!(format!("corp{n}.contoso.com")));
            assert_eq!(sensor["healthStatus"], json!("healthy"));
            assert_eq!(sensor["openHealthIssuesCount"], json!(0));
            assert!(is_graph_timestamp(
                sensor["createdDateTime"].as_str().unwrap()
            ));
            let v1 = app
                .get_ok(&p("v1.0", &format!("sensors/{id}")), &token)
                .await;
            assert_eq!(
                v1["serviceStatus"],
                json!("onboarding"),
                "on v1.0 too (spec §7.1)"
            );
        }
    }
    assert_eq!(
        app.get(&p("beta", "sensorCandidates/$count"), &token)
            .await
            .text,
        "0"
    );
    assert_eq!(
        app.get(&p("beta", "sensors/$count"), &token).await.text,
        "8"
    );
}

#[tokio::test]
async fn activate_is_idempotent() {
    let app = TestApp::standard().await;
    let token = admin();
    let path = p("v1.0", "sensorCandidates/activate");
    app.post(&path, &token, Some(json!({"serverIds": [C_WIN11]})))
        .await
        .expect(200);
    let after_first = app.snapshot(&token).await;
    for _ in 0..2 {
        let r = app
            .post(&path, &token, Some(json!({"serverIds": [C_WIN11]})))
            .await;
        assert_eq!(
            r.status, 200,
            "activating an active server again is a no-op: {}",
            r.text
        );
    }
    // The same id twice in one call, too.
    app.post(&path, &token, Some(json!({"serverIds": [C_DC4, C_DC4]})))
        .await
        .expect(200);
    let sensors = app.get(&p("beta", "sensors"), &token).await;
    let ids = sensors.ids();
    assert_eq!(
        ids.iter().filter(|i| *i == C_WIN11).count(),
        1,
        "no duplicate sensor"
    );
    assert_eq!(
        ids.iter().filter(|i| *i == C_DC4).count(),
        1,
        "no duplicate sensor"
    );
    assert_eq!(ids.len(), 7);
    let mut win = app
        .get_ok(&p("beta", &format!("sensors/{C_WIN11}")), &token)
        .await;
    win.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(
        win,
        after_first["sensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == json!(C_WIN11))
            .unwrap()
            .clone()
    );
    assert_eq!(
        (win["displayName"].clone(), win["domainName"].clone()),
        (json!("WIN-11"), json!("def.defensor.local"))
    );
    assert_eq!(
        app.get(&p("beta", "sensorCandidates"), &token).await.ids(),
        owned(&[C_DC5])
    );
}

#[tokio::test]
async fn activate_validation_changes_nothing() {
    let app = TestApp::standard().await;
    let token = admin();
    let bodies: Vec<Option<Value>> = vec![
        None,
        Some(json!({})),
        Some(json!({"serverIds": []})),
        Some(json!({"serverIds": C_WIN11})),
        Some(json!({"serverIds": null})),
        Some(json!({"serverIds": [1, 2]})),
        Some(json!({"serverIds": [""]})),
        Some(json!({"serverIds": ["unknown-server"]})),
        Some(json!({"serverIds": [C_WIN11, "unknown-server"]})),
        Some(json!({"serverIds": [C_DC4, C_WIN11, C_DC5, DC1]})),
        Some(json!({"serverIds": [C_WIN11], "force": true})),
        Some(json!([C_WIN11])),
    ];
    let before = app.snapshot(&token).await;
    for v in VERSIONS {
        for body in &bodies {
            let r = app
                .post(
                    &p(v, "sensorCandidates/microsoft.graph.security.activate"),
                    &token,
                    body.clone(),
                )
                .await;
            assert_error(&r, 400, "BadRequest");
            assert_eq!(
                app.snapshot(&token).await,
                before,
                "{v} {body:?}: nothing activated"
            );
        }
    }
}

#[tokio::test]
async fn activation_configuration_get_and_update() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let r = app
            .get(&p(v, "sensorCandidateActivationConfiguration"), &token)
            .await
            .expect(200);
        let expected = json!({
            "@odata.context": ctx(&app, v, "security/identities/sensorCandidateActivationConfiguration/$entity"),
            "@odata.type": "#microsoft.graph.security.sensorCandidateActivationConfiguration",
            "activationMode": "manual",
        });
        assert_eq!(r.json, expected, "{v}: at the root, not under 'value'");
        // Query options are ignored here (D13).
        let r = app
            .get(
                &format!(
                    "{}?$select=activationMode",
                    p(v, "sensorCandidateActivationConfiguration")
                ),
                &token,
            )
            .await;
        assert_eq!(r.expect(200).json["activationMode"], json!("manual"));
    }
    // POST on the documented plural, manual → manual: nothing activated.
    let r = app
        .post(
            &p("v1.0", "sensorCandidateActivationConfigurations"),
            &token,
            Some(json!({"@odata.type": "#microsoft.graph.security.sensorCandidateActivationConfiguration", "activationMode": "manual"})),
        )
        .await
        .expect(200);
    assert_eq!(r.json["activationMode"], json!("manual"));
    assert_eq!(
        app.get(&p("beta", "sensorCandidates/$count"), &token)
            .await
            .text,
        "3"
    );

    // PATCH on the singleton to automated activates every waiting candidate.
    let r = app
        .patch(
            &p("beta", "sensorCandidateActivationConfiguration"),
            &token,
            json!({"activationMode": "automated"}),
        )
        .await;
    let r = r.expect(200);
    assert_eq!(r.json["activationMode"], json!("automated"));
    assert_eq!(
        r.json["@odata.type"],
        json!("#microsoft.graph.security.sensorCandidateActivationConfiguration")
    );
    for v in VERSIONS {
        let got = app
            .get_ok(&p(v, "sensorcandidateactivationconfiguration"), &token)
            .await;
        assert_eq!(got["activationMode"], json!("automated"));
    }
    assert_eq!(
        app.get(&p("beta", "sensorCandidates"), &token).await.ids(),
        Vec::<String>::new()
    );
    for (id, name, domain) in [
        (C_WIN11, "WIN-11", "def.defensor.local"),
        (C_DC4, "DC4", "contoso.com"),
        (C_DC5, "DC5", "emea.contoso.com"),
    ] {
        let s = app
            .get_ok(&p("beta", &format!("sensors/{id}")), &token)
            .await;
        assert_eq!(
            (
                s["displayName"].clone(),
                s["domainName"].clone(),
                s["serviceStatus"].clone(),
                s["sensorType"].clone()
            ),
            (
                json!(name),
                json!(domain),
                json!("onboarding"),
                json!("domainControllerIntegrated")
            )
        );
    }
    assert_eq!(
        app.get(&p("beta", "sensors/$count"), &token).await.text,
        "8"
    );

    // Back to manual through the plural, with the enum in another case.
    let r = app
        .post(
            &p("beta", "sensorCandidateActivationConfigurations"),
            &token,
            Some(json!({"activationMode": "MANUAL"})),
        )
        .await;
    assert_eq!(r.expect(200).json["activationMode"], json!("manual"));
    assert_eq!(
        app.get_ok(&p("v1.0", "sensorCandidateActivationConfiguration"), &token)
            .await["activationMode"],
        json!("manual")
    );
}

#[tokio::test]
async fn activation_configuration_rejects_bad_input_and_methods() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    let bad = [
        json!({}),
        json!({"activationMode": "sometimes"}),
        json!({"activationMode": "unknownFutureValue"}),
        json!({"activationMode": 1}),
        json!({"activationMode": null}),
        json!({"activationMode": "automated", "colour": "red"}),
        json!({"@odata.type": "#microsoft.graph.security.sensor", "activationMode": "automated"}),
        json!(["automated"]),
    ];
    for v in VERSIONS {
        for body in &bad {
            let r = app
                .patch(
                    &p(v, "sensorCandidateActivationConfiguration"),
                    &token,
                    body.clone(),
                )
                .await;
            assert_error(&r, 400, "BadRequest");
            let r = app
                .post(
                    &p(v, "sensorCandidateActivationConfigurations"),
                    &token,
                    Some(body.clone()),
                )
                .await;
            assert_error(&r, 400, "BadRequest");
        }
        for (method, segment) in [
            ("DELETE", "sensorCandidateActivationConfiguration"),
            ("POST", "sensorCandidateActivationConfiguration"),
            ("PUT", "sensorCandidateActivationConfiguration"),
            ("GET", "sensorCandidateActivationConfigurations"),
            ("PATCH", "sensorCandidateActivationConfigurations"),
            ("DELETE", "sensorCandidates/x"),
            ("DELETE", &format!("sensorCandidates/{C_WIN11}")),
            ("PATCH", &format!("sensorCandidates/{C_WIN11}")),
            ("POST", "sensorCandidates"),
            ("DELETE", "sensorCandidates"),
        ] {
            let r = app
                .send_json(
                    method,
                    &p(v, segment),
                    &token,
                    Some(json!({"activationMode": "automated"})),
                )
                .await;
            assert_error(&r, 405, "MethodNotAllowed");
        }
    }
    assert_eq!(
        app.snapshot(&token).await,
        before,
        "rejected requests changed nothing"
    );
}

#[tokio::test]
async fn concurrent_activations_of_one_server_make_one_sensor() {
    let app = TestApp::standard().await;
    let token = admin();
    let path = p("beta", "sensorCandidates/activate");
    let body = || Some(json!({"serverIds": [C_DC5]}));
    let (a, b, c, d) = tokio::join!(
        app.post(&path, &token, body()),
        app.post(&path, &token, body()),
        app.post(&path, &token, body()),
        app.post(&path, &token, body()),
    );
    for r in [a, b, c, d] {
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let sensors = app
        .get(&p("beta", "sensors"), &token)
        .await
        .expect(200)
        .ids();
    assert_eq!(sensors.iter().filter(|i| *i == C_DC5).count(), 1);
    assert_eq!(sensors.len(), 6);
    assert_eq!(
        app.get(&p("beta", "sensorCandidates"), &token).await.ids(),
        owned(&[C_DC4, C_WIN11])
    );
}
