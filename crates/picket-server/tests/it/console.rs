//! The console's own endpoints: its embedded files (with their security headers and ETags),
//! who the caller is and what the API lets them do, the fleet in numbers, and the audit log
//! filtered and paged back in time. Same authentication and error envelope as Graph.

use crate::support::*;
use picket_auth::DirectoryRole;
use serde_json::json;

const SENSORS_WRITE: &str = "SecurityIdentitiesSensors.ReadWrite.All";
const HEALTH_WRITE: &str = "SecurityIdentitiesHealth.ReadWrite.All";

#[tokio::test]
async fn console_files_are_embedded_with_a_strict_policy_and_revalidated() {
    let app = TestApp::empty().await;
    let index = app
        .send("GET", "/console/", None, &[], None)
        .await
        .expect(200);
    assert!(index
        .text
        .contains("<script type=\"module\" src=\"app.js\">"));
    let csp = index.header("content-security-policy").expect("CSP");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(index.header("x-content-type-options"), Some("nosniff"));
    let etag = index.header("etag").expect("etag").to_string();
    app.send("GET", "/console/", None, &[("if-none-match", &etag)], None)
        .await
        .expect(304);
    let views = app
        .send("GET", "/console/views.js", None, &[], None)
        .await
        .expect(200);
    assert!(views.content_type().starts_with("text/javascript"));
    assert!(views.text.contains("./views/sensors.js"));
    // `/console` redirects to the index (followed here).
    let redirected = app
        .send("GET", "/console", None, &[], None)
        .await
        .expect(200);
    assert_eq!(redirected.text, index.text);
    app.send("GET", "/console/nope.js", None, &[], None)
        .await
        .expect(404);
    app.send("GET", "/console/..%2F..%2FCargo.toml", None, &[], None)
        .await
        .expect(404);
    let config = app
        .send("GET", "/console/api/config", None, &[], None)
        .await
        .expect(200);
    assert_eq!(config.json["clientId"], picket_auth::CONSOLE_CLIENT_ID);
}

#[tokio::test]
async fn the_session_says_what_the_api_allows_each_role() {
    let app = TestApp::standard().await;
    let scopes = [SENSORS_WRITE, HEALTH_WRITE];
    let cases = [
        (DirectoryRole::SecurityAdministrator, true, true),
        (DirectoryRole::SecurityOperator, false, true),
        (DirectoryRole::SecurityReader, false, false),
    ];
    for (role, manage_sensors, manage_health) in cases {
        let token = user_token_with_roles(TENANT_A, &scopes, &[role]);
        let s = app
            .send("GET", "/console/api/session", Some(&token), &[], None)
            .await
            .expect(200);
        assert_eq!(s.json["tenantId"], TENANT_A);
        assert_eq!(s.json["roles"], json!([role.display_name()]), "{role:?}");
        assert_eq!(s.json["can"]["readSensors"], true, "{role:?}");
        assert_eq!(s.json["can"]["manageSensors"], manage_sensors, "{role:?}");
        assert_eq!(s.json["can"]["manageHealth"], manage_health, "{role:?}");
        // What the session says is what the API does.
        let patch = app
            .patch(
                &format!("/v1.0/security/identities/sensors/{DC1}"),
                &token,
                json!({"settings": {"description": "x"}}),
            )
            .await;
        assert_eq!(
            patch.status == 200,
            manage_sensors,
            "{role:?}: {}",
            patch.text
        );
    }
    let none = app
        .send("GET", "/console/api/session", None, &[], None)
        .await
        .expect(401);
    assert_eq!(none.json["error"]["code"], "InvalidAuthenticationToken");
}

#[tokio::test]
async fn the_overview_counts_the_fleet_of_the_callers_tenant_only() {
    let app = TestApp::standard().await;
    let token = app.token(TENANT_A, &[SENSORS_WRITE, HEALTH_WRITE]);
    let o = app
        .send("GET", "/console/api/overview", Some(&token), &[], None)
        .await
        .expect(200);
    let listed = app
        .get_ok(
            "/v1.0/security/identities/sensors?$count=true&$top=1",
            &token,
        )
        .await;
    assert_eq!(o.json["sensors"], listed["@odata.count"]);
    let health_total: u64 = o.json["byHealthStatus"]
        .as_object()
        .expect("counts")
        .values()
        .map(|v| v.as_u64().expect("number"))
        .sum();
    assert_eq!(Some(health_total), listed["@odata.count"].as_u64());
    let open = app
        .get_ok(
            "/v1.0/security/identities/healthIssues?$filter=status eq 'open'&$count=true&$top=1",
            &token,
        )
        .await;
    let open_total: u64 = o.json["openIssuesBySeverity"]
        .as_object()
        .expect("counts")
        .values()
        .map(|v| v.as_u64().expect("number"))
        .sum();
    assert_eq!(Some(open_total), open["@odata.count"].as_u64());
    assert!(o.json["domains"]["contoso.com"]["sensors"].as_u64() > Some(0));
    let other = app.token(TENANT_B, &[SENSORS_WRITE]);
    let empty = app
        .send("GET", "/console/api/overview", Some(&other), &[], None)
        .await
        .expect(200);
    assert_eq!(empty.json["sensors"], 0);
    // Health permissions alone do not read the fleet, as on Graph.
    let health_only = app.token(TENANT_A, &[HEALTH_WRITE]);
    let refused = app
        .send(
            "GET",
            "/console/api/overview",
            Some(&health_only),
            &[],
            None,
        )
        .await
        .expect(403);
    assert!(refused.json["error"]["innerError"].is_object());
}

#[tokio::test]
async fn the_audit_log_filters_and_pages_back_in_time() {
    let app = TestApp::standard().await;
    let writer = app.token(TENANT_A, &[SENSORS_WRITE]);
    let other_app = app_token(TENANT_A, &[HEALTH_WRITE, SENSORS_WRITE]);
    for i in 0..5 {
        app.patch(
            &format!("/v1.0/security/identities/sensors/{DC1}"),
            &writer,
            json!({"settings": {"description": format!("d{i}")}}),
        )
        .await
        .expect(200);
    }
    app.post(
        "/v1.0/security/identities/sensors/regenerateDeploymentAccessKey",
        &other_app,
        None,
    )
    .await
    .expect(200);
    let get = |q: &str| {
        let q = q.to_string();
        let app = &app;
        let writer = writer.clone();
        async move {
            app.send(
                "GET",
                &format!("/console/api/audit?{q}"),
                Some(&writer),
                &[],
                None,
            )
            .await
        }
    };
    let all = get("top=50").await.expect(200);
    let entries = all.json["value"].as_array().expect("entries").clone();
    assert_eq!(entries.len(), 6);
    let seqs: Vec<i64> = entries
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    assert_eq!(entries[0]["operation"], "regenerateDeploymentAccessKey");
    assert!(all.json["nextBefore"].is_null());

    let by_op = get("operation=updateSensor&top=2").await.expect(200);
    let page1 = by_op.json["value"].as_array().expect("page").clone();
    assert_eq!(page1.len(), 2);
    assert!(page1.iter().all(|e| e["operation"] == "updateSensor"));
    let before = by_op.json["nextBefore"].as_i64().expect("an older page");
    let page2 = get(&format!("operation=updateSensor&top=2&before={before}"))
        .await
        .expect(200);
    let older = page2.json["value"].as_array().expect("page");
    assert!(older.iter().all(|e| e["seq"].as_i64() < Some(before)));
    assert_eq!(older.len(), 2);

    let actor = entries[0]["actor"].as_str().expect("actor").to_string();
    let by_actor = get(&format!("actor={}", enc(&actor))).await.expect(200);
    assert_eq!(by_actor.json["value"].as_array().map(Vec::len), Some(1));
    let future = get("since=2999-01-01T00:00:00Z").await.expect(200);
    assert_eq!(future.json["value"], json!([]));
    let past = get("until=2000-01-01T00:00:00Z").await.expect(200);
    assert_eq!(past.json["value"], json!([]));

    for bad in ["since=yesterday", "top=0", "top=201", "before=x", "top=-1"] {
        let r = get(bad).await.expect(400);
        assert_eq!(r.json["error"]["code"], "BadRequest", "{bad}");
    }
    // Another tenant sees none of it.
    let b = app.token(TENANT_B, &[SENSORS_WRITE]);
    let theirs = app
        .send("GET", "/console/api/audit", Some(&b), &[], None)
        .await
        .expect(200);
    assert_eq!(theirs.json["value"], json!([]));
}
