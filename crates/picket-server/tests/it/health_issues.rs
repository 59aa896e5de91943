//! Health issues: list, get, count, status updates and their effect on sensor health
//! (spec §2.12–2.14, §4.2, §4.3).

use crate::support::*;
use serde_json::{json, Value};

fn h1() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.security.healthIssue",
        "id": H1,
        "displayName": "Directory Services Object Auditing is not configured as required",
        "description": "Directory Services Object Auditing is not configured as required on contoso.com",
        "healthIssueType": "global",
        "issueTypeId": "1031",
        "severity": "medium",
        "status": "open",
        "createdDateTime": "2024-05-01T10:00:00.1234567Z",
        "lastModifiedDateTime": "2024-05-01T10:00:00.1234567Z",
        "domainNames": ["contoso.com", "fabrikam.local"],
        "sensorDNSNames": ["DC1.contoso.com", "DC1.fabrikam.local"],
        "additionalInformation": ["Descendant User Objects (Schema-Id-Guid: bf967aba-0de6-11d0-a285-00aa003049e2)"],
        "recommendations": ["Please configure the Directory Services Object Auditing events according to the guidance as described in https://aka.ms/mdi/objectauditing"],
        "recommendedActionCommands": ["Import-Module DefenderForIdentity", "Set-MDIConfiguration -Configuration DomainObjectAuditing -Mode Domain -Force"]
    })
}

#[tokio::test]
async fn list_and_get_health_issues() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        for segment in ["healthIssues", "healthissues", "HEALTHISSUES"] {
            let r = app.get(&p(v, segment), &token).await.expect(200);
            assert_eq!(r.keys(), vec!["@odata.context", "value"]);
            assert_eq!(
                r.json["@odata.context"],
                json!(ctx(&app, v, "security/identities/healthIssues"))
            );
            assert_eq!(r.ids(), owned(&ISSUE_ORDER), "{v} {segment}: newest first");
            assert_eq!(
                r.value()[5],
                h1(),
                "{v}: 'Global' in the fixture is emitted as 'global'"
            );
            for issue in r.value() {
                assert!(issue.get("ID").is_none(), "only 'id' (D8)");
            }
        }
        let r = app
            .get(&p(v, &format!("healthIssues/{H1}")), &token)
            .await
            .expect(200);
        let mut expected = h1();
        expected["@odata.context"] =
            json!(ctx(&app, v, "security/identities/healthIssues/$entity"));
        assert_eq!(r.json, expected);
        assert_eq!(r.keys()[0], "@odata.context");
        let r = app
            .get(&p(v, &format!("healthissues/{H3}")), &token)
            .await
            .expect(200);
        assert_eq!(r.json["severity"], json!("low"));
        assert_error(
            &app.get(
                &p(v, "healthIssues/00000000-0000-0000-0000-000000000000"),
                &token,
            )
            .await,
            404,
            "NotFound",
        );

        // Empty collections are [] (spec §3.9).
        let h2 = app
            .get_ok(&p(v, &format!("healthIssues/{H2}")), &token)
            .await;
        assert_eq!(h2["additionalInformation"], json!([]));
        assert_eq!(h2["recommendedActionCommands"], json!([]));
        assert_eq!(
            h2["description"],
            json!("Sensor service failed to start"),
            "description defaults to the name"
        );
    }
}

#[tokio::test]
async fn count_health_issues() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let r = app
            .get(&p(v, "healthIssues/$count"), &token)
            .await
            .expect(200);
        assert!(
            r.content_type().starts_with("text/plain"),
            "{}",
            r.content_type()
        );
        assert_eq!(r.text, "6");
        let r = app
            .get(
                &format!(
                    "{}?$filter={}",
                    p(v, "healthissues/$count"),
                    enc("Status eq 'open'")
                ),
                &token,
            )
            .await;
        assert_eq!(r.expect(200).text, "4");
        let r = app
            .get(
                &format!("{}?$count=true&$top=2", p(v, "healthIssues")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.json["@odata.count"], json!(6));
        assert_eq!(r.ids(), owned(&[H6, H5]));
    }
}

async fn health_of(app: &TestApp, token: &str, id: &str) -> (String, i64) {
    let s = app
        .get_ok(&p("beta", &format!("sensors/{id}")), token)
        .await;
    (
        s["healthStatus"].as_str().unwrap().to_string(),
        s["openHealthIssuesCount"].as_i64().unwrap(),
    )
}

fn h(status: &str, n: i64) -> (String, i64) {
    (status.to_string(), n)
}

#[tokio::test]
async fn status_updates_drive_sensor_health() {
    let app = TestApp::standard().await;
    let token = admin();
    assert_eq!(health_of(&app, &token, DC2).await, h("notHealthyHigh", 1));

    // Closing DC2's only open (high) issue makes it healthy.
    let before = app
        .get_ok(&p("beta", &format!("healthIssues/{H2}")), &token)
        .await;
    let r = app
        .patch(
            &p("v1.0", &format!("healthIssues/{H2}")),
            &token,
            json!({"status": "closed"}),
        )
        .await
        .expect(200);
    assert_eq!(
        r.json["@odata.context"],
        json!(ctx(
            &app,
            "v1.0",
            "security/identities/healthIssues/$entity"
        ))
    );
    let modified = r.json["lastModifiedDateTime"].as_str().unwrap().to_string();
    assert!(is_graph_timestamp(&modified), "{modified}");
    assert!(
        modified.as_str() > before["lastModifiedDateTime"].as_str().unwrap(),
        "lastModifiedDateTime bumped"
    );
    let mut expected = before.clone();
    expected["status"] = json!("closed");
    expected["lastModifiedDateTime"] = json!(modified);
    expected["@odata.context"] = r.json["@odata.context"].clone();
    assert_eq!(
        r.json, expected,
        "the full updated entity, only status and lastModifiedDateTime changed"
    );
    assert_eq!(
        app.get_ok(&p("beta", &format!("healthIssues/{H2}")), &token)
            .await["status"],
        json!("closed")
    );
    assert_eq!(health_of(&app, &token, DC2).await, h("healthy", 0));

    // Re-opening brings it back.
    app.patch(
        &p("beta", &format!("healthIssues/{H2}")),
        &token,
        json!({"status": "open"}),
    )
    .await
    .expect(200);
    assert_eq!(health_of(&app, &token, DC2).await, h("notHealthyHigh", 1));

    // Suppressing the global H1: DC1 (H4 already suppressed) becomes healthy; the fabrikam DC
    // keeps H6 open.
    app.patch(
        &p("beta", &format!("healthIssues/{H1}")),
        &token,
        json!({"status": "suppressed"}),
    )
    .await
    .expect(200);
    assert_eq!(health_of(&app, &token, DC1).await, h("healthy", 0));
    assert_eq!(health_of(&app, &token, FAB).await, h("notHealthyMedium", 1));

    // Re-opening a suppressed medium issue on DC1 and a closed one on SA1.
    app.patch(
        &p("v1.0", &format!("healthIssues/{H4}")),
        &token,
        json!({"status": "open"}),
    )
    .await
    .expect(200);
    assert_eq!(health_of(&app, &token, DC1).await, h("notHealthyMedium", 1));
    app.patch(
        &p("v1.0", &format!("healthIssues/{H5}")),
        &token,
        json!({"status": "Open"}),
    )
    .await
    .expect(200);
    assert_eq!(health_of(&app, &token, SA1).await, h("notHealthyMedium", 1));
    assert_eq!(
        app.get_ok(&p("beta", &format!("healthIssues/{H5}")), &token)
            .await["status"],
        json!("open"),
        "canonical casing"
    );

    // Closing the low issue of ADFS1.
    app.patch(
        &p("beta", &format!("healthissues/{H3}")),
        &token,
        json!({"status": "CLOSED"}),
    )
    .await
    .expect(200);
    assert_eq!(health_of(&app, &token, ADFS).await, h("healthy", 0));

    // $filter on derived health follows.
    let r = app
        .get(
            &format!(
                "{}?$filter={}",
                p("beta", "sensors"),
                enc("healthStatus eq 'healthy'")
            ),
            &token,
        )
        .await;
    assert_eq!(r.expect(200).ids(), owned(&[ADFS]));
}

#[tokio::test]
async fn health_issue_update_validation() {
    let app = TestApp::standard().await;
    let token = admin();
    let bodies = [
        json!({}),
        json!({"status": "unknownFutureValue"}),
        json!({"status": "resolved"}),
        json!({"status": 1}),
        json!({"status": null}),
        json!({"status": ["closed"]}),
        json!({"severity": "low"}),
        json!({"status": "closed", "severity": "low"}),
        json!({"status": "closed", "displayName": "x"}),
        json!({"status": "closed", "sensorDNSNames": []}),
        json!({"status": "closed", "id": H2}),
        json!({"status": "closed", "colour": "red"}),
        json!({"ID": H2, "status": "closed"}),
        json!({"@odata.type": "#microsoft.graph.security.sensor", "status": "closed"}),
        json!(["closed"]),
        json!("closed"),
    ];
    let before = app.snapshot(&token).await;
    for v in VERSIONS {
        for body in &bodies {
            let r = app
                .patch(&p(v, &format!("healthIssues/{H2}")), &token, body.clone())
                .await;
            assert_error(&r, 400, "BadRequest");
            assert_eq!(
                app.snapshot(&token).await,
                before,
                "{v} {body}: a rejected PATCH changed data"
            );
        }
        let r = app
            .patch(
                &p(v, "healthIssues/no-such-issue"),
                &token,
                json!({"status": "closed"}),
            )
            .await;
        assert_error(&r, 404, "NotFound");
    }
    // @odata.type naming the right type, with or without '#', is accepted.
    for t in [
        "#microsoft.graph.security.healthIssue",
        "microsoft.graph.security.healthIssue",
    ] {
        let r = app
            .patch(
                &p("beta", &format!("healthIssues/{H2}")),
                &token,
                json!({"@odata.type": t, "status": "suppressed"}),
            )
            .await;
        assert_eq!(r.expect(200).json["status"], json!("suppressed"));
    }
}

#[tokio::test]
async fn health_issue_methods_not_allowed() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    for v in VERSIONS {
        for (method, segment) in [
            ("POST", "healthIssues".to_string()),
            ("DELETE", format!("healthIssues/{H1}")),
            ("PUT", format!("healthIssues/{H1}")),
            ("POST", format!("healthIssues/{H1}")),
            ("PATCH", "healthIssues".to_string()),
            ("DELETE", "healthIssues".to_string()),
        ] {
            let r = app
                .send_json(
                    method,
                    &p(v, &segment),
                    &token,
                    Some(json!({"status": "closed"})),
                )
                .await;
            assert_error(&r, 405, "MethodNotAllowed");
        }
    }
    assert_eq!(app.snapshot(&token).await, before);
}

/// Checks every sensor's `healthStatus`/`openHealthIssuesCount` against the open issues its own
/// `healthIssues` navigation lists (spec §4.2: derived from the highest open severity).
async fn assert_health_consistent(app: &TestApp, token: &str, when: &str) {
    let sensors = app
        .get(&format!("{}?$top=1000", p("beta", "sensors")), token)
        .await
        .expect(200);
    for s in sensors.value() {
        let id = s["id"].as_str().unwrap();
        let open = app
            .get(
                &format!(
                    "{}?$filter={}",
                    p("beta", &format!("sensors/{id}/healthIssues")),
                    enc("status eq 'open'")
                ),
                token,
            )
            .await
            .expect(200);
        let severities: Vec<&str> = open
            .value()
            .iter()
            .map(|i| i["severity"].as_str().unwrap())
            .collect();
        let expected = if severities.contains(&"high") {
            "notHealthyHigh"
        } else if severities.contains(&"medium") {
            "notHealthyMedium"
        } else if severities.contains(&"low") {
            "notHealthyLow"
        } else {
            "healthy"
        };
        assert_eq!(
            (
                s["healthStatus"].as_str().unwrap(),
                s["openHealthIssuesCount"].as_i64().unwrap()
            ),
            (expected, severities.len() as i64),
            "{when}: sensor {} ({}.{}) vs its open issues {:?}",
            id,
            s["displayName"],
            s["domainName"],
            open.ids()
        );
    }
}

/// The standard fixture plus an issue naming SA1 in another letter case and an open high issue
/// naming the candidate dc4.contoso.com (e.g. raised for a classic sensor that used to run there).
fn fixture_with_extra_links() -> Value {
    let mut fixture = standard_fixture();
    let issues = fixture["healthIssues"].as_array_mut().unwrap();
    issues.push(json!({"id": "issue-case", "displayName": "Low success rate of active name resolution", "healthIssueType": "sensor",
                       "severity": "low", "status": "open", "domainNames": ["fabrikam.local"], "sensorDNSNames": ["sa1.FABRIKAM.local"],
                       "createdDateTime": "2024-06-01T00:00:00Z"}));
    issues.push(json!({"id": "issue-dc4", "displayName": "Sensor running on an unsupported operating system", "healthIssueType": "global",
                       "severity": "high", "status": "open", "domainNames": ["contoso.com"], "sensorDNSNames": ["DC4.contoso.com"],
                       "createdDateTime": "2024-06-02T00:00:00Z"}));
    fixture
}

#[tokio::test]
async fn sensor_health_matches_open_issues_through_status_changes_and_deletes() {
    let app = TestApp::builder()
        .seed(TENANT_A, fixture_with_extra_links())
        .start()
        .await;
    let token = admin();
    assert_health_consistent(&app, &token, "after seeding").await;
    assert_eq!(
        health_of(&app, &token, SA1).await,
        h("notHealthyLow", 1),
        "linking is case-insensitive"
    );
    app.patch(
        &p("beta", "healthIssues/issue-case"),
        &token,
        json!({"status": "suppressed"}),
    )
    .await
    .expect(200);
    assert_health_consistent(&app, &token, "after suppressing").await;
    app.delete(&p("beta", &format!("sensors/{DC1}")), &token)
        .await
        .expect(204);
    assert_health_consistent(&app, &token, "after deleting DC1").await;
    app.patch(
        &p("v1.0", &format!("healthIssues/{H1}")),
        &token,
        json!({"status": "closed"}),
    )
    .await
    .expect(200);
    assert_health_consistent(&app, &token, "after closing H1").await;
    app.patch(
        &p("v1.0", &format!("healthIssues/{H6}")),
        &token,
        json!({"status": "open"}),
    )
    .await
    .expect(200);
    assert_health_consistent(&app, &token, "after re-opening H6").await;
}

#[tokio::test]
async fn activated_sensor_health_counts_issues_that_already_name_it() {
    let app = TestApp::builder()
        .seed(TENANT_A, fixture_with_extra_links())
        .start()
        .await;
    let token = admin();
    app.post(
        &p("beta", "sensorCandidates/activate"),
        &token,
        Some(json!({"serverIds": [C_DC4]})),
    )
    .await
    .expect(200);
    let listed = app
        .get(&p("beta", &format!("sensors/{C_DC4}/healthIssues")), &token)
        .await
        .expect(200);
    assert_eq!(
        listed.ids(),
        owned(&["issue-dc4"]),
        "the activated sensor's issues"
    );
    assert_health_consistent(&app, &token, "after activating dc4 with activate").await;
}

#[tokio::test]
async fn automated_activation_sensor_health_counts_issues_that_already_name_it() {
    let app = TestApp::builder()
        .seed(TENANT_A, fixture_with_extra_links())
        .start()
        .await;
    let token = admin();
    app.patch(
        &p("beta", "sensorCandidateActivationConfiguration"),
        &token,
        json!({"activationMode": "automated"}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get(&p("beta", &format!("sensors/{C_DC4}/healthIssues")), &token)
            .await
            .expect(200)
            .ids(),
        owned(&["issue-dc4"])
    );
    assert_health_consistent(&app, &token, "after automated activation").await;
}
