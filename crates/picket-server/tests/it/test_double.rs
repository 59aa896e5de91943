//! Picket as a test double: fault rules answering Graph calls the way the real service fails,
//! the request journal, and snapshots through `/admin/v1`, each checked by what a client sees
//! and by reading the data back.

use crate::support::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SENSORS: &str = "/v1.0/security/identities/sensors";

async fn add_rule(app: &TestApp, token: &str, rule: Value) -> String {
    let r = app
        .post("/admin/v1/faults", token, Some(rule))
        .await
        .expect(201);
    r.json["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn a_next_3_rule_fails_exactly_three_calls_the_way_graph_does() {
    let app = TestApp::standard().await;
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    let id = add_rule(
        &app,
        &rw,
        json!({"operation": "listSensors", "effect": "503", "retryAfterSeconds": 2, "nextN": 3}),
    )
    .await;
    for _ in 0..3 {
        let r = app.get(SENSORS, &rw).await.expect(503);
        assert_eq!(r.header("retry-after"), Some("2"));
        assert_eq!(r.json["error"]["code"], "ServiceUnavailable");
        assert!(r.json["error"]["innerError"]["request-id"].is_string());
    }
    app.get(SENSORS, &rw).await.expect(200);
    // Other operations were never touched.
    app.get(&format!("{SENSORS}/{DC1}"), &rw).await.expect(200);
    let rules = app.get("/admin/v1/faults", &rw).await.expect(200);
    assert_eq!(rules.json["value"][0]["id"], json!(id));
    assert_eq!(rules.json["value"][0]["matched"], 4);
    assert_eq!(rules.json["value"][0]["fired"], 3);
    // Another tenant's calls never match.
    let b = app.token(TENANT_B, &[SENSORS_RW]);
    app.get(SENSORS, &b).await.expect(200);
    app.delete(&format!("/admin/v1/faults/{id}"), &rw)
        .await
        .expect(204);
    app.delete(&format!("/admin/v1/faults/{id}"), &rw)
        .await
        .expect(404);
}

#[tokio::test]
async fn injected_answers_use_the_real_services_words() {
    let app = TestApp::standard().await;
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    let cases = [
        (json!({"effect": "notOnboarded"}), 403, "Forbidden", "Tenant is not onboarded to Microsoft Defender for Identity. After license is purchased, first login to portal and sensor are required."),
        (json!({"effect": "missingPermission"}), 403, "UnknownError", ""),
        (json!({"effect": "429", "retryAfterSeconds": 7}), 429, "TooManyRequests", "Please retry again later."),
        (json!({"effect": "500"}), 500, "InternalServerError", "An internal server error occurred"),
        (json!({"effect": "502"}), 502, "BadGateway", "The service is temporarily unavailable; retry later"),
        (json!({"effect": "504"}), 504, "GatewayTimeout", "The request timed out"),
    ];
    for (rule, status, code, message) in cases {
        app.delete("/admin/v1/faults", &rw).await.expect(200);
        add_rule(&app, &rw, rule.clone()).await;
        let r = app.get(SENSORS, &rw).await.expect(status);
        assert_eq!(r.json["error"]["code"], code, "{rule}");
        assert_eq!(r.json["error"]["message"], message, "{rule}");
        if status == 429 {
            assert_eq!(r.header("retry-after"), Some("7"));
        }
    }
    // Cleared: the service answers again, and the data was never touched.
    app.delete("/admin/v1/faults", &rw).await.expect(200);
    assert_eq!(app.get(SENSORS, &rw).await.expect(200).ids().len(), 5);
}

#[tokio::test]
async fn a_drop_rule_closes_the_connection_without_an_answer() {
    let app = TestApp::standard().await;
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    add_rule(
        &app,
        &rw,
        json!({"effect": "drop", "path": "/security/identities/sensors"}),
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let request =
        format!("GET {SENSORS} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {rw}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut got),
    )
    .await
    .expect("the connection closes");
    assert!(
        got.is_empty(),
        "nothing answered: {}",
        String::from_utf8_lossy(&got)
    );
    // Inside $batch the same rule fails that request alone, as a 502.
    let r = app
        .post(
            "/v1.0/$batch",
            &rw,
            Some(json!({"requests": [
                {"id": "1", "method": "GET", "url": "/security/identities/sensors"},
                {"id": "2", "method": "GET", "url": format!("/security/identities/sensors/{DC1}")}
            ]})),
        )
        .await
        .expect(200);
    let statuses: Vec<(String, u64)> = r.json["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap_or("").to_string(),
                x["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(statuses.contains(&("1".into(), 502)), "{statuses:?}");
    assert!(statuses.contains(&("2".into(), 200)), "{statuses:?}");
    assert!(
        !r.text.contains("x-picket"),
        "the marker never leaves the server"
    );
}

#[tokio::test]
async fn added_latency_delays_and_then_serves() {
    let app = TestApp::standard().await;
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    add_rule(
        &app,
        &rw,
        json!({"effect": "latency", "latencyMs": 300, "method": "GET"}),
    )
    .await;
    let started = std::time::Instant::now();
    app.get(SENSORS, &rw).await.expect(200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    let journal = app.get("/admin/v1/requests", &rw).await.expect(200);
    let last = journal.json["value"]
        .as_array()
        .expect("value")
        .last()
        .cloned()
        .expect("entry");
    assert!(last["injectedFault"]
        .as_str()
        .expect("marked")
        .contains("latency 300 ms"));
}

#[tokio::test]
async fn fault_rules_are_guarded_and_checked() {
    let app = TestApp::standard().await;
    let read = app.token(TENANT_A, &[SENSORS_READ]);
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    let rule = json!({"effect": "503"});
    app.post("/admin/v1/faults", &read, Some(rule.clone()))
        .await
        .expect(403);
    app.send("POST", "/admin/v1/faults", None, &[], None)
        .await
        .expect(401);
    for bad in [
        json!({"effect": "418"}),
        json!({}),
        json!({"effect": "503", "probability": 2.0}),
        json!({"effect": "503", "nextN": 1, "everyNth": 2}),
        json!({"effect": "latency"}),
        json!({"effect": "503", "unknown": 1}),
    ] {
        let r = app
            .post("/admin/v1/faults", &rw, Some(bad.clone()))
            .await
            .expect(400);
        assert_eq!(r.json["error"]["code"], "BadRequest", "{bad}");
    }
    let other = json!({"effect": "503", "tenantId": TENANT_B});
    app.post("/admin/v1/faults", &rw, Some(other))
        .await
        .expect(403);
    let rules = app.get("/admin/v1/faults", &read).await.expect(200);
    assert_eq!(rules.json["value"], json!([]), "nothing was added");
    app.get(SENSORS, &rw).await.expect(200);
}

#[tokio::test]
async fn the_journal_keeps_each_request_and_each_inner_batch_request() {
    let app = TestApp::standard().await;
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    app.get(&format!("{SENSORS}?$top=2"), &rw).await.expect(200);
    app.patch(
        &format!("/beta/security/identities/sensors/{DC1}"),
        &rw,
        json!({"settings": {"description": "rack 4"}}),
    )
    .await
    .expect(200);
    app.post(
        "/v1.0/$batch",
        &rw,
        Some(json!({"requests": [
            {"id": "1", "method": "GET", "url": "/security/identities/healthIssues"},
            {"id": "2", "method": "GET", "url": "/security/identities/sensorCandidates"}
        ]})),
    )
    .await
    .expect(200);
    let b = app.token(TENANT_B, &[SENSORS_RW]);
    app.get(SENSORS, &b).await.expect(200);

    let journal = app.get("/admin/v1/requests", &rw).await.expect(200);
    let entries = journal.json["value"].as_array().expect("value").clone();
    let ops: Vec<&str> = entries
        .iter()
        .map(|e| e["operation"].as_str().unwrap_or("-"))
        .collect();
    // A $batch is journaled as its inner requests, one entry each.
    assert_eq!(ops.len(), 4, "{ops:?}");
    assert_eq!(ops[0], "listSensors");
    assert_eq!(ops[1], "updateSensor");
    assert!(
        ops.contains(&"listHealthIssues") && ops.contains(&"listSensorCandidates"),
        "{ops:?}"
    );
    assert_eq!(entries[0]["query"], "$top=2");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(
        entries[1]["body"],
        json!({"settings": {"description": "rack 4"}})
    );
    assert_eq!(
        entries[1]["path"],
        json!(format!("/beta/security/identities/sensors/{DC1}"))
    );
    assert!(entries
        .iter()
        .all(|e| e["actor"].as_str().is_some_and(|a| a.starts_with("app:"))));
    // Filters, one entry in full, and tenant B's own journal.
    let only = app
        .get("/admin/v1/requests?operation=updateSensor", &rw)
        .await
        .expect(200);
    assert_eq!(only.json["value"].as_array().map(Vec::len), Some(1));
    let id = entries[1]["id"].as_u64().expect("id");
    app.get(&format!("/admin/v1/requests/{id}"), &rw)
        .await
        .expect(200);
    app.get(&format!("/admin/v1/requests/{id}"), &b)
        .await
        .expect(404);
    let theirs = app.get("/admin/v1/requests", &b).await.expect(200);
    assert_eq!(theirs.json["value"].as_array().map(Vec::len), Some(1));
    app.get("/admin/v1/requests?top=nope", &rw)
        .await
        .expect(400);
    let cleared = app.delete("/admin/v1/requests", &rw).await.expect(200);
    assert_eq!(cleared.json["removed"], 4);
}

#[tokio::test]
async fn a_snapshot_resets_a_tenant_through_the_admin_api() {
    let app = TestApp::standard().await;
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    let read = app.token(TENANT_A, &[SENSORS_READ]);
    let saved = app
        .post("/admin/v1/snapshots", &rw, Some(json!({"name": "clean"})))
        .await
        .expect(201);
    assert!(saved.json["rows"].as_u64().expect("rows") > 5);
    let before = app.get(SENSORS, &rw).await.expect(200).json["value"].clone();
    app.patch(
        &format!("/beta/security/identities/sensors/{DC1}"),
        &rw,
        json!({"settings": {"description": "changed"}}),
    )
    .await
    .expect(200);
    app.delete(&format!("{SENSORS}/{DC2}"), &rw)
        .await
        .expect(204);
    assert_ne!(app.get(SENSORS, &rw).await.json["value"], before);

    app.post("/admin/v1/snapshots/clean/restore", &read, None)
        .await
        .expect(403);
    let restored = app
        .post("/admin/v1/snapshots/clean/restore", &rw, None)
        .await
        .expect(200);
    assert_eq!(restored.json["rows"], saved.json["rows"]);
    assert_eq!(
        app.get(SENSORS, &rw).await.expect(200).json["value"],
        before
    );
    // The restore is in the audit log that survived it.
    let audit = app
        .store
        .audit_entries(
            &tenant(TENANT_A),
            &picket_store::AuditQuery {
                since: None,
                operation: Some("restoreSnapshot".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert!(audit.iter().any(|e| e.operation == "restoreSnapshot"));

    app.post("/admin/v1/snapshots/nope/restore", &rw, None)
        .await
        .expect(404);
    app.post("/admin/v1/snapshots", &rw, Some(json!({"name": "../x"})))
        .await
        .expect(400);
    let listed = app.get("/admin/v1/snapshots", &read).await.expect(200);
    assert_eq!(listed.json["value"][0]["name"], "clean");
    // Tenant B sees none of A's snapshots.
    let b = app.token(TENANT_B, &[SENSORS_RW]);
    app.post("/admin/v1/snapshots/clean/restore", &b, None)
        .await
        .expect(404);
    app.delete("/admin/v1/snapshots/clean", &rw)
        .await
        .expect(204);
}

fn tenant(t: &str) -> picket_domain::TenantId {
    picket_domain::TenantId::parse(t).expect("tenant")
}

#[tokio::test]
async fn the_token_service_is_touched_only_by_rules_that_ask_for_it() {
    let app = TestApp::standard().await;
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    let token_request = || async {
        app.send(
            "POST",
            &format!("/{TENANT_A}/oauth2/v2.0/token"),
            None,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(b"grant_type=client_credentials&client_id=x&client_secret=y&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default".to_vec()),
        )
        .await
    };
    let normal = token_request().await;
    assert_ne!(normal.status, 503);
    // A rule for every Graph call leaves the token service alone.
    add_rule(&app, &rw, json!({"effect": "503"})).await;
    assert_eq!(token_request().await.status, normal.status);
    app.delete("/admin/v1/faults", &rw).await.expect(200);

    add_rule(
        &app,
        &rw,
        json!({"effect": "503", "tokenService": true, "retryAfterSeconds": 3, "nextN": 1}),
    )
    .await;
    let failed = token_request().await;
    assert_eq!(failed.status, 503);
    assert_eq!(failed.json["error"], "temporarily_unavailable");
    assert_eq!(failed.header("retry-after"), Some("3"));
    assert_eq!(
        token_request().await.status,
        normal.status,
        "spent after one"
    );
    // …and such a rule leaves Graph alone.
    app.delete("/admin/v1/faults", &rw).await.expect(200);
    add_rule(&app, &rw, json!({"effect": "503", "tokenService": true})).await;
    app.get(SENSORS, &rw).await.expect(200);
}

/// An agent enrolled after a snapshot was taken has no credential once it is restored: its
/// check-in is refused cleanly (401), and one enrolled before keeps working.
#[tokio::test]
async fn agents_unknown_to_a_restored_snapshot_are_refused_cleanly() {
    let app = TestApp::standard().await;
    let rw = app.token(TENANT_A, &[SENSORS_RW]);
    let key = app
        .get(
            "/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            &rw,
        )
        .await
        .expect(200)
        .json["deploymentAccessKey"]
        .as_str()
        .expect("key")
        .to_string();
    let enroll = |computer: &'static str| {
        let (app, key) = (&app, key.clone());
        async move {
            let r = app
                .send(
                    "POST",
                    "/agent/v1/enroll",
                    None,
                    &[("Content-Type", "application/json")],
                    Some(
                        json!({"tenantId": TENANT_A, "accessKey": key, "computerDnsName": computer,
                               "sensorType": "domainControllerIntegrated", "version": "2.239.18124.58593"})
                        .to_string()
                        .into_bytes(),
                    ),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            (
                r.json["sensorId"].as_str().expect("id").to_string(),
                r.json["credential"]
                    .as_str()
                    .expect("credential")
                    .to_string(),
            )
        }
    };
    let check_in = |sensor: String, credential: String| {
        let app = &app;
        async move {
            app.send(
                "POST",
                &format!("/agent/v1/tenants/{TENANT_A}/sensors/{sensor}/checkIn"),
                Some(&credential),
                &[("Content-Type", "application/json")],
                Some(
                    json!({"serviceStatus": "running", "version": "2.239.18124.58593"})
                        .to_string()
                        .into_bytes(),
                ),
            )
            .await
        }
    };
    let before = enroll("old1.contoso.com").await;
    app.post("/admin/v1/snapshots", &rw, Some(json!({"name": "s"})))
        .await
        .expect(201);
    let after = enroll("new1.contoso.com").await;
    assert_eq!(check_in(after.0.clone(), after.1.clone()).await.status, 200);
    app.post("/admin/v1/snapshots/s/restore", &rw, None)
        .await
        .expect(200);
    let refused = check_in(after.0, after.1).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(refused.json["error"]["code"], "InvalidCredential");
    assert_eq!(check_in(before.0, before.1).await.status, 200);
}
