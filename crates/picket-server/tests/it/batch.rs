//! JSON batching (spec §3.8): mixed requests, limits, dependsOn and 424, per-request
//! authorization, and refused inner URLs.

use crate::support::*;
use serde_json::{json, Value};

async fn batch(app: &TestApp, version: &str, token: &str, requests: Value) -> Resp {
    app.post(
        &format!("/{version}/$batch"),
        token,
        Some(json!({ "requests": requests })),
    )
    .await
}

/// The inner response with this id.
#[track_caller]
fn inner<'a>(r: &'a Resp, id: &str) -> &'a Value {
    let responses = r.json["responses"]
        .as_array()
        .unwrap_or_else(|| panic!("no responses: {}", r.text));
    let found: Vec<&Value> = responses.iter().filter(|x| x["id"] == json!(id)).collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one response with id {id}: {}",
        r.text
    );
    found[0]
}

#[track_caller]
fn status_of(r: &Resp, id: &str) -> u16 {
    inner(r, id)["status"].as_u64().expect("numeric status") as u16
}

#[tokio::test]
async fn mixed_get_and_patch() {
    let app = TestApp::standard().await;
    let token = admin();
    let r = batch(
        &app,
        "beta",
        &token,
        json!([
            {"id": "1", "method": "GET", "url": "/security/identities/sensors?$filter=healthStatus ne 'healthy'"},
            {"id": "2", "method": "PATCH", "url": format!("/security/identities/healthIssues/{H2}"),
             "headers": {"Content-Type": "application/json"}, "body": {"status": "suppressed"}},
            {"id": "3", "method": "GET", "url": "security/identities/sensors/$count"},
            {"id": "4", "method": "GET", "url": "/security/identities/sensors/nope"}
        ]),
    )
    .await
    .expect(200);
    assert!(r.content_type().starts_with("application/json"));
    assert_eq!(r.json["responses"].as_array().map(Vec::len), Some(4));
    let one = inner(&r, "1");
    assert_eq!(one["status"], json!(200));
    assert!(one["headers"]["Content-Type"]
        .as_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        one["body"]["@odata.context"],
        json!(ctx(&app, "beta", "security/identities/sensors"))
    );
    let ids: Vec<&str> = one["body"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![DC1, DC2, ADFS, FAB]);
    let two = inner(&r, "2");
    assert_eq!(two["status"], json!(200));
    assert_eq!(two["body"]["id"], json!(H2));
    assert_eq!(two["body"]["status"], json!("suppressed"));
    assert_eq!(status_of(&r, "3"), 200, "leading '/' is optional");
    assert_eq!(status_of(&r, "4"), 404);
    assert_eq!(inner(&r, "4")["body"]["error"]["code"], json!("NotFound"));
    // The PATCH really happened, and DC2 is healthy now.
    assert_eq!(
        app.get_ok(&p("v1.0", &format!("healthIssues/{H2}")), &token)
            .await["status"],
        json!("suppressed")
    );
    assert_eq!(
        app.get_ok(&p("v1.0", &format!("sensors/{DC2}")), &token)
            .await["healthStatus"],
        json!("healthy")
    );
}

#[tokio::test]
async fn batch_on_v1_uses_v1_semantics() {
    let app = TestApp::standard().await;
    let token = admin();
    let r = batch(&app, "v1.0", &token, json!([
        {"id": "a", "method": "GET", "url": format!("/security/identities/sensors/{DC1}")},
        {"id": "b", "method": "GET", "url": "/security/identities/sensors?$select=migrationState"}
    ]))
    .await
    .expect(200);
    let a = inner(&r, "a");
    assert_eq!(a["status"], json!(200));
    assert!(
        a["body"].get("serviceStatus").is_some() && a["body"].get("migrationState").is_none(),
        "v1.0 has serviceStatus (spec §7.1) but no migrationState"
    );
    assert_eq!(
        a["body"]["@odata.context"],
        json!(ctx(&app, "v1.0", "security/identities/sensors/$entity"))
    );
    assert_eq!(status_of(&r, "b"), 400);
}

#[tokio::test]
async fn at_most_twenty_requests() {
    let app = TestApp::standard().await;
    let token = admin();
    let requests = |n: usize| -> Value {
        (0..n).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/security/identities/sensors/$count"})).collect()
    };
    let r = batch(&app, "beta", &token, requests(20)).await.expect(200);
    assert_eq!(r.json["responses"].as_array().map(Vec::len), Some(20));
    let r = batch(&app, "beta", &token, requests(21)).await;
    assert_error(&r, 400, "BadRequest");
}

#[tokio::test]
async fn malformed_batches_are_400_and_run_nothing() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    let patch = |id: &str| {
        json!({"id": id, "method": "PATCH", "url": format!("/security/identities/sensors/{DC1}"),
               "headers": {"Content-Type": "application/json"}, "body": {"settings": {"description": "ran"}}})
    };
    for (name, body) in [
        (
            "duplicate ids",
            json!({"requests": [patch("1"), {"id": "1", "method": "GET", "url": "/security/identities/sensors"}]}),
        ),
        (
            "duplicate ids, other case",
            json!({"requests": [patch("a"), {"id": "A", "method": "GET", "url": "/security/identities/sensors"}]}),
        ),
        ("no requests", json!({})),
        ("requests not an array", json!({"requests": {"id": "1"}})),
        ("empty requests", json!({"requests": []})),
        (
            "missing url",
            json!({"requests": [patch("1"), {"id": "2", "method": "GET"}]}),
        ),
        (
            "missing method",
            json!({"requests": [patch("1"), {"id": "2", "url": "/security/identities/sensors"}]}),
        ),
        (
            "missing id",
            json!({"requests": [patch("1"), {"method": "GET", "url": "/security/identities/sensors"}]}),
        ),
        (
            "dependsOn unknown",
            json!({"requests": [patch("1"), {"id": "2", "method": "GET", "url": "/security/identities/sensors", "dependsOn": ["9"]}]}),
        ),
        (
            "dependency cycle",
            json!({"requests": [
            {"id": "1", "method": "GET", "url": "/security/identities/sensors", "dependsOn": ["2"]},
            {"id": "2", "method": "GET", "url": "/security/identities/sensors", "dependsOn": ["1"]}, patch("3")]}),
        ),
    ] {
        let r = app.post("/beta/$batch", &token, Some(body)).await;
        assert_eq!(r.status, 400, "{name}: {}", r.text);
        assert_error(&r, 400, "BadRequest");
    }
    let r = app
        .send(
            "POST",
            "/beta/$batch",
            Some(&token),
            &[("Content-Type", "application/json")],
            Some(b"{\"requests\": [".to_vec()),
        )
        .await;
    assert_error(&r, 400, "BadRequest");
    assert_eq!(
        app.snapshot(&token).await,
        before,
        "a refused batch runs nothing"
    );
}

#[tokio::test]
async fn depends_on_sets_the_order() {
    let app = TestApp::standard().await;
    let token = admin();
    // Listed first, but runs after "2" (which it depends on) and "3" after "1".
    let r = batch(&app, "beta", &token, json!([
        {"id": "1", "method": "GET", "url": format!("/security/identities/sensors/{DC1}"), "dependsOn": ["2"]},
        {"id": "2", "method": "PATCH", "url": format!("/security/identities/sensors/{DC1}"),
         "headers": {"Content-Type": "application/json"}, "body": {"settings": {"description": "from batch"}}},
        {"id": "3", "method": "PATCH", "url": format!("/security/identities/sensors/{DC1}"), "dependsOn": ["1"],
         "headers": {"content-type": "application/json"}, "body": {"settings": {"description": "last"}}}
    ]))
    .await
    .expect(200);
    assert_eq!(status_of(&r, "2"), 200);
    assert_eq!(
        inner(&r, "1")["body"]["settings"]["description"],
        json!("from batch"),
        "GET saw the PATCH it depends on"
    );
    assert_eq!(
        inner(&r, "3")["body"]["settings"]["description"],
        json!("last")
    );
    assert_eq!(
        app.get_ok(&p("beta", &format!("sensors/{DC1}")), &token)
            .await["settings"]["description"],
        json!("last")
    );
}

#[tokio::test]
async fn failed_dependency_is_424_and_does_not_run() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    let r = batch(&app, "beta", &token, json!([
        {"id": "1", "method": "PATCH", "url": format!("/security/identities/healthIssues/{H2}"),
         "headers": {"Content-Type": "application/json"}, "body": {"status": "unknownFutureValue"}},
        {"id": "2", "method": "PATCH", "url": format!("/security/identities/healthIssues/{H3}"), "dependsOn": ["1"],
         "headers": {"Content-Type": "application/json"}, "body": {"status": "closed"}},
        {"id": "3", "method": "DELETE", "url": format!("/security/identities/sensors/{SA1}"), "dependsOn": ["2"]},
        {"id": "4", "method": "GET", "url": "/security/identities/sensors/$count"}
    ]))
    .await
    .expect(200);
    assert_eq!(status_of(&r, "1"), 400);
    assert_eq!(inner(&r, "1")["body"]["error"]["code"], json!("BadRequest"));
    assert_eq!(status_of(&r, "2"), 424);
    assert_eq!(status_of(&r, "3"), 424, "transitively");
    assert!(
        inner(&r, "2")["body"]["error"]["code"].is_string(),
        "424 carries an error body"
    );
    assert_eq!(status_of(&r, "4"), 200);
    assert_eq!(app.snapshot(&token).await, before, "dependents did not run");
}

#[tokio::test]
async fn inner_requests_are_authorized_one_by_one() {
    let app = TestApp::standard().await;
    let token = app.token(TENANT_A, &[SENSORS_READ]);
    let r = batch(&app, "beta", &token, json!([
        {"id": "s", "method": "GET", "url": "/security/identities/sensors"},
        {"id": "h", "method": "GET", "url": "/security/identities/healthIssues"},
        {"id": "p", "method": "PATCH", "url": format!("/security/identities/sensors/{DC1}"),
         "headers": {"Content-Type": "application/json"}, "body": {"settings": {"description": "no"}}}
    ]))
    .await
    .expect(200);
    assert_eq!(status_of(&r, "s"), 200);
    assert_eq!(
        inner(&r, "s")["body"]["value"].as_array().map(Vec::len),
        Some(5)
    );
    assert_eq!(status_of(&r, "h"), 403);
    let error = &inner(&r, "h")["body"]["error"];
    assert_eq!(error["code"], json!("UnknownError"));
    let message = error["innerError"]["message"].as_str().unwrap().to_string();
    assert!(message.contains(HEALTH_READ), "{message}");
    assert_eq!(status_of(&r, "p"), 403);
    assert_eq!(
        app.get_ok(&p("beta", &format!("sensors/{DC1}")), &admin())
            .await["settings"]["description"],
        json!("dc1 settings")
    );

    // Tenant B's batch sees only tenant B.
    let b = app.token(TENANT_B, &ALL_PERMISSIONS);
    let r = batch(
        &app,
        "beta",
        &b,
        json!([
            {"id": "1", "method": "GET", "url": format!("/security/identities/sensors/{DC1}")},
            {"id": "2", "method": "GET", "url": "/security/identities/sensors"}
        ]),
    )
    .await
    .expect(200);
    assert_eq!(status_of(&r, "1"), 404);
    assert_eq!(inner(&r, "2")["body"]["value"], json!([]));
}

#[tokio::test]
async fn inner_urls_to_other_versions_or_batches_are_400() {
    let app = TestApp::standard().await;
    let token = admin();
    let r = batch(&app, "beta", &token, json!([
        {"id": "1", "method": "GET", "url": "/v1.0/security/identities/sensors"},
        {"id": "2", "method": "GET", "url": "/beta/security/identities/sensors"},
        {"id": "3", "method": "GET", "url": "https://graph.microsoft.com/beta/security/identities/sensors"},
        {"id": "4", "method": "POST", "url": "/$batch", "headers": {"Content-Type": "application/json"},
         "body": {"requests": [{"id": "x", "method": "GET", "url": "/security/identities/sensors"}]}},
        {"id": "5", "method": "GET", "url": "/security/identities/sensors?$top=1"}
    ]))
    .await
    .expect(200);
    for id in ["1", "2", "3", "4"] {
        assert_eq!(status_of(&r, id), 400, "{id}: {}", r.text);
        assert_eq!(inner(&r, id)["body"]["error"]["code"], json!("BadRequest"));
    }
    assert_eq!(status_of(&r, "5"), 200);
    assert_eq!(
        inner(&r, "5")["body"]["value"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn the_batch_itself_needs_a_valid_token() {
    let app = TestApp::standard().await;
    let body = serde_json::to_vec(&json!({"requests": [
        {"id": "1", "method": "GET", "url": "/security/identities/sensors"}
    ]}))
    .expect("json");
    for token in [None, Some("garbage")] {
        let r = app
            .send(
                "POST",
                "/beta/$batch",
                token,
                &[("Content-Type", "application/json")],
                Some(body.clone()),
            )
            .await;
        assert_error(&r, 401, "InvalidAuthenticationToken");
        assert!(r.headers.contains_key("www-authenticate"), "{token:?}");
    }
}
