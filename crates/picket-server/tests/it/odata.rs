//! OData query options (spec §1.9, §3.5, §3.6): $filter, $select, $orderby, $top/$skip,
//! $count, server-driven paging, and the errors for bad options.

use crate::support::*;
use serde_json::{json, Value};
use std::collections::HashSet;

/// Runs `filter` on `collection` (both versions unless it names beta-only properties) and
/// compares the ids, in order.
async fn check_filter(
    app: &TestApp,
    token: &str,
    versions: &[&str],
    collection: &str,
    filter: &str,
    expected: &[&str],
) {
    for v in versions {
        let url = format!("{}?$filter={}", p(v, collection), enc(filter));
        let r = app.get(&url, token).await;
        assert_eq!(
            r.status, 200,
            "{v} {collection} $filter={filter}: {}",
            r.text
        );
        assert_eq!(
            r.ids(),
            owned(expected),
            "{v} {collection} $filter={filter}"
        );
        // $count agrees with the rows.
        let count = app
            .get(
                &format!("{}/$count?$filter={}", p(v, collection), enc(filter)),
                token,
            )
            .await;
        assert_eq!(
            count.text,
            expected.len().to_string(),
            "{v} {collection}/$count $filter={filter}"
        );
    }
}

#[tokio::test]
async fn sensor_filters() {
    let app = TestApp::standard().await;
    let token = admin();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("displayName eq 'DC1'", vec![DC1, FAB]),
        ("displayName ne 'DC1'", vec![DC2, ADFS, SA1]),
        ("DisplayName eq 'DC2'", vec![DC2]),
        ("DISPLAYNAME eq 'SA1'", vec![SA1]),
        ("id eq 'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e03'", vec![ADFS]),
        ("createdDateTime gt 2024-02-01T00:00:00Z", vec![SA1, FAB]),
        ("createdDateTime ge 2024-02-01T00:00:00Z", vec![ADFS, SA1, FAB]),
        ("createdDateTime lt 2024-01-10T08:00:00Z", vec![DC1]),
        ("createdDateTime le 2024-01-10T08:00:00Z", vec![DC1, DC2]),
        ("createdDateTime eq 2023-11-16T09:41:24.2585071Z", vec![DC1]),
        ("openHealthIssuesCount gt 1", vec![FAB]),
        ("openHealthIssuesCount ge 1", vec![DC1, DC2, ADFS, FAB]),
        ("openHealthIssuesCount lt 1", vec![SA1]),
        ("openHealthIssuesCount le 0", vec![SA1]),
        ("openHealthIssuesCount eq 2", vec![FAB]),
        ("openHealthIssuesCount ne 1", vec![SA1, FAB]),
        ("sensorType eq 'domainControllerIntegrated' and domainName eq 'contoso.com'", vec![DC1, DC2]),
        ("domainName eq 'fabrikam.local' or sensorType eq 'adfsIntegrated'", vec![ADFS, SA1, FAB]),
        ("not (domainName eq 'contoso.com')", vec![SA1, FAB]),
        ("(displayName eq 'DC1' or displayName eq 'DC2') and domainName eq 'contoso.com'", vec![DC1, DC2]),
        ("displayName eq 'DC1' or (displayName eq 'DC2' and domainName eq 'fabrikam.local')", vec![DC1, FAB]),
        ("startswith(displayName,'DC')", vec![DC1, DC2, FAB]),
        ("endswith(domainName,'.local')", vec![SA1, FAB]),
        ("contains(version,'18124')", vec![DC1, ADFS, FAB]),
        ("startswith(version,'3.')", vec![DC2]),
        ("settings/domainControllerDnsNames/any(d:d eq 'DC1.contoso.com')", vec![DC1, ADFS]),
        ("settings/domainControllerDnsNames/any(d:startswith(d,'DC2'))", vec![SA1]),
        ("settings/domainControllerDnsNames/any()", vec![DC1, ADFS, SA1]),
        (
            "settings/domainControllerDnsNames/any() and settings/domainControllerDnsNames/all(d:endswith(d,'fabrikam.local'))",
            vec![SA1],
        ),
        ("settings/domainControllerDnsNames/any() and settings/domainControllerDnsNames/all(d:endswith(d,'contoso.com'))", vec![DC1, ADFS]),
        ("settings/isDelayedDeploymentEnabled eq true", vec![DC1, SA1]),
        ("settings/isDelayedDeploymentEnabled eq false", vec![DC2, ADFS, FAB]),
        ("settings/description eq 'standalone'", vec![SA1]),
        ("healthStatus eq 'notHealthyMedium'", vec![DC1, FAB]),
        ("healthStatus eq 'NOTHEALTHYMEDIUM'", vec![DC1, FAB]),
        ("healthStatus eq microsoft.graph.security.sensorHealthStatus'notHealthyHigh'", vec![DC2]),
        ("healthStatus ne 'healthy'", vec![DC1, DC2, ADFS, FAB]),
        ("deploymentStatus eq 'outdated'", vec![SA1]),
        ("deploymentStatus eq 'notConfigured' or deploymentStatus eq 'disconnected'", vec![ADFS, FAB]),
        ("sensorType eq 'domainControllerStandalone'", vec![SA1]),
        ("displayName eq 'it''s'", vec![]),
        ("displayName eq 'nobody'", vec![]),
    ];
    for (filter, expected) in &cases {
        check_filter(&app, &token, &VERSIONS, "sensors", filter, expected).await;
    }
    for (filter, expected) in [
        ("serviceStatus eq 'running'", vec![DC1, DC2]),
        ("serviceStatus eq 'STOPPED' or serviceStatus eq microsoft.graph.security.serviceStatus'unknown'", vec![ADFS, FAB]),
        ("serviceStatus ne 'running' and domainName eq 'fabrikam.local'", vec![SA1, FAB]),
    ] {
        check_filter(&app, &token, &["beta"], "sensors", filter, &expected).await;
    }
}

#[tokio::test]
async fn health_issue_filters_including_the_documented_ones() {
    let app = TestApp::standard().await;
    let token = admin();
    // The eight documented examples (spec §1.9), on the documented lowercase path too.
    let documented: Vec<(&str, Vec<&str>)> = vec![
        ("Status eq 'open'", vec![H6, H3, H2, H1]),
        ("Status eq 'open' and healthIssueType eq 'global'", vec![H1]),
        ("Status eq 'open' and healthIssueType eq 'sensor'", vec![H6, H3, H2]),
        ("Status eq 'open' and severity eq 'medium'", vec![H6, H1]),
        ("Status eq 'open' and severity eq 'low'", vec![H3]),
        (
            "Status eq 'open' and healthIssueType eq 'global' and domainNames/any(s:endswith(s,'contoso.com'))",
            vec![H1],
        ),
        (
            "Status eq 'open' and healthIssueType eq 'global' and sensorDNSNames/any(s:endswith(s,'contoso.com'))",
            vec![H1],
        ),
    ];
    for (filter, expected) in &documented {
        check_filter(&app, &token, &VERSIONS, "healthIssues", filter, expected).await;
        check_filter(&app, &token, &VERSIONS, "healthissues", filter, expected).await;
    }
    for v in VERSIONS {
        let url = format!(
            "{}?$filter={}&$top=5",
            p(v, "healthissues"),
            enc("Status eq 'open'")
        );
        let r = app.get(&url, &token).await.expect(200);
        assert_eq!(r.ids(), owned(&[H6, H3, H2, H1]));
        assert!(r.next_link().is_none(), "four rows fit in $top=5");
    }
    let more: Vec<(&str, Vec<&str>)> = vec![
        ("status eq 'OPEN'", vec![H6, H3, H2, H1]),
        (
            "status eq microsoft.graph.security.healthIssueStatus'open'",
            vec![H6, H3, H2, H1],
        ),
        (
            "status eq microsoft.graph.security.healthIssueStatus'Suppressed'",
            vec![H4],
        ),
        ("status ne 'open'", vec![H5, H4]),
        ("healthIssueType eq 'Global'", vec![H1]),
        ("severity eq 'high' or severity eq 'low'", vec![H3, H2]),
        ("issueTypeId eq '1031'", vec![H1]),
        (
            "sensorDNSNames/any(s:s eq 'DC1.fabrikam.local')",
            vec![H6, H1],
        ),
        ("domainNames/all(d:d eq 'contoso.com')", vec![H4, H3, H2]),
        (
            "domainNames/any(d:d eq 'fabrikam.local') and not (status eq 'closed')",
            vec![H6, H1],
        ),
        (
            "additionalInformation/any(a:contains(a,'bf967aba'))",
            vec![H1],
        ),
        ("recommendedActionCommands/any()", vec![H1]),
        ("createdDateTime lt 2024-05-03T00:00:00Z", vec![H2, H1]),
        ("createdDateTime ge 2024-05-05T00:00:00Z", vec![H6, H5]),
        ("startswith(displayName,'Sensor')", vec![H6, H5, H2]),
        ("contains(displayName,'Auditing')", vec![H4, H1]),
    ];
    for (filter, expected) in &more {
        check_filter(&app, &token, &VERSIONS, "healthIssues", filter, expected).await;
    }
    // The same filters apply under a sensor.
    check_filter(
        &app,
        &token,
        &VERSIONS,
        &format!("sensors/{DC1}/healthIssues"),
        "status eq 'suppressed'",
        &[H4],
    )
    .await;
}

#[tokio::test]
async fn candidate_filters() {
    let app = TestApp::standard().await;
    let token = admin();
    check_filter(
        &app,
        &token,
        &VERSIONS,
        "sensorCandidates",
        "senseClientVersion eq '10.8760.27600.1012'",
        &[C_DC5],
    )
    .await;
    check_filter(
        &app,
        &token,
        &VERSIONS,
        "sensorCandidates",
        "senseClientVersion eq '1.0'",
        &[],
    )
    .await;
}

#[tokio::test]
async fn injection_attempts_match_nothing_and_change_nothing() {
    let app = TestApp::standard().await;
    let token = admin();
    let before = app.snapshot(&token).await;
    for filter in [
        "displayName eq 'x'' or 1=1 --'",
        "displayName eq 'DC1''; DROP TABLE sensors; --'",
        "contains(displayName,'%')",
        "contains(displayName,'_')",
        "startswith(displayName,'%DC')",
    ] {
        for v in VERSIONS {
            let r = app
                .get(
                    &format!("{}?$filter={}", p(v, "sensors"), enc(filter)),
                    &token,
                )
                .await;
            assert_eq!(r.status, 200, "{filter}: {}", r.text);
            assert_eq!(r.ids(), Vec::<String>::new(), "{filter}");
        }
    }
    let r = app
        .get(
            &format!(
                "{}?$filter={}",
                p("beta", "healthIssues"),
                enc("displayName eq 'x'' or ''1''=''1'")
            ),
            &token,
        )
        .await;
    assert_eq!(r.expect(200).ids(), Vec::<String>::new());
    assert_eq!(app.snapshot(&token).await, before);
}

#[tokio::test]
async fn select_narrows_and_context_reflects_it() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let r = app
            .get(
                &format!("{}?$select=displayName,version", p(v, "sensors")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(
            r.json["@odata.context"],
            json!(ctx(
                &app,
                v,
                "security/identities/sensors(displayName,version)"
            ))
        );
        assert_eq!(r.ids(), owned(&SENSOR_ORDER));
        for item in r.value() {
            let keys: HashSet<&str> = item
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                HashSet::from(["@odata.type", "id", "displayName", "version"]),
                "{v}: {item}"
            );
        }
        assert_eq!(r.value()[0]["version"], json!("2.239.18124.58593"));
        // Property names are case-insensitive; output uses the canonical names.
        let r = app
            .get(
                &format!(
                    "{}?$select=DISPLAYNAME,settings",
                    p(v, &format!("sensors/{DC1}"))
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
                "security/identities/sensors(displayName,settings)/$entity"
            ))
        );
        let keys: HashSet<&str> = r
            .json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            HashSet::from([
                "@odata.context",
                "@odata.type",
                "id",
                "displayName",
                "settings"
            ])
        );
        assert_eq!(r.json["settings"]["description"], json!("dc1 settings"));

        let r = app
            .get(
                &format!("{}?$select=status,severity", p(v, "healthIssues")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(
            r.json["@odata.context"],
            json!(ctx(
                &app,
                v,
                "security/identities/healthIssues(status,severity)"
            ))
        );
        assert_eq!(
            r.value()[0],
            json!({"@odata.type": "#microsoft.graph.security.healthIssue", "id": H6, "status": "open", "severity": "medium"})
        );
        let r = app
            .get(
                &format!(
                    "{}?$select=sensorDNSNames",
                    p(v, &format!("healthIssues/{H1}"))
                ),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(
            r.json["sensorDNSNames"],
            json!(["DC1.contoso.com", "DC1.fabrikam.local"])
        );
        assert!(r.json.get("status").is_none());
        let r = app
            .get(
                &format!("{}?$select=computerDnsName", p(v, "sensorCandidates")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(
            r.value()[0],
            json!({"@odata.type": "#microsoft.graph.security.sensorCandidate", "id": C_DC4, "computerDnsName": "dc4.contoso.com"})
        );

        for (collection, bad) in [
            ("sensors", "nope"),
            ("sensors", "displayName,nope"),
            ("healthIssues", "healthStatus"),
            ("sensorCandidates", "nope"),
        ] {
            let r = app
                .get(&format!("{}?$select={bad}", p(v, collection)), &token)
                .await;
            assert_error(&r, 400, "BadRequest");
        }
    }
}

#[tokio::test]
async fn orderby() {
    let app = TestApp::standard().await;
    let token = admin();
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            "sensors",
            "createdDateTime desc",
            vec![FAB, SA1, ADFS, DC2, DC1],
        ),
        (
            "sensors",
            "createdDateTime asc",
            vec![DC1, DC2, ADFS, SA1, FAB],
        ),
        (
            "sensors",
            "openHealthIssuesCount desc,createdDateTime asc",
            vec![FAB, DC1, DC2, ADFS, SA1],
        ),
        (
            "sensors",
            "displayName asc,domainName desc",
            vec![ADFS, FAB, DC1, DC2, SA1],
        ),
        (
            "sensors",
            "displayName, domainName",
            vec![ADFS, DC1, FAB, DC2, SA1],
        ),
        (
            "sensors",
            "DisplayName DESC,domainName",
            vec![SA1, DC2, DC1, FAB, ADFS],
        ),
        (
            "healthIssues",
            "createdDateTime",
            vec![H1, H2, H3, H4, H5, H6],
        ),
        (
            "healthIssues",
            "displayName desc",
            vec![H6, H2, H5, H4, H1, H3],
        ),
        (
            "healthIssues",
            "lastModifiedDateTime desc,id",
            vec![H6, H5, H4, H3, H2, H1],
        ),
        (
            "sensorCandidates",
            "lastSeenDateTime desc",
            vec![C_DC5, C_DC4, C_WIN11],
        ),
    ];
    for v in VERSIONS {
        for (collection, order, expected) in &cases {
            let r = app
                .get(
                    &format!("{}?$orderby={}", p(v, collection), enc(order)),
                    &token,
                )
                .await;
            assert_eq!(r.status, 200, "{collection} $orderby={order}: {}", r.text);
            assert_eq!(
                r.ids(),
                owned(expected),
                "{v} {collection} $orderby={order}"
            );
        }
        for (collection, bad) in [
            ("sensors", "nope"),
            ("sensors", "displayName sideways"),
            ("healthIssues", "domainNames"),
            ("sensors", "settings/domainControllerDnsNames"),
        ] {
            let r = app
                .get(
                    &format!("{}?$orderby={}", p(v, collection), enc(bad)),
                    &token,
                )
                .await;
            assert_error(&r, 400, "BadRequest");
        }
    }
}

#[tokio::test]
async fn top_and_skip() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let r = app
            .get(&format!("{}?$top=2", p(v, "sensors")), &token)
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[DC1, DC2]));
        assert_eq!(r.keys(), vec!["@odata.context", "@odata.nextLink", "value"]);
        let next = r.next_link().expect("nextLink");
        assert!(
            next.starts_with(&format!("{}/{v}/security/identities/sensors?", app.base)),
            "absolute on our host and version: {next}"
        );
        assert!(
            // Keyset paging (issue 15): the next page starts after a key, not at an offset.
            next.contains("$top=2") && next.contains("$skiptoken=") && !next.contains("$skip="),
            "{next}"
        );
        let r = app.get(&next, &token).await.expect(200);
        assert_eq!(r.ids(), owned(&[ADFS, SA1]));
        let r = app
            .get(&r.next_link().expect("third page"), &token)
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[FAB]));
        assert!(r.next_link().is_none());

        let r = app
            .get(&format!("{}?$skip=3", p(v, "sensors")), &token)
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[SA1, FAB]));
        let r = app
            .get(&format!("{}?$top=2&$skip=3", p(v, "sensors")), &token)
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[SA1, FAB]));
        assert!(r.next_link().is_none(), "nothing after the last row");
        let r = app
            .get(&format!("{}?$skip=50", p(v, "sensors")), &token)
            .await
            .expect(200);
        assert_eq!(r.ids(), Vec::<String>::new());
        // The `$` prefix is optional and option names are case-insensitive.
        for q in ["top=1", "$TOP=1", "Top=1", "%24top=1"] {
            let r = app
                .get(&format!("{}?{q}", p(v, "sensors")), &token)
                .await
                .expect(200);
            assert_eq!(r.ids(), owned(&[DC1]), "{q}");
        }
        let r = app
            .get(
                &format!(
                    "{}?filter={}&skip=1",
                    p(v, "healthIssues"),
                    enc("status eq 'open'")
                ),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[H3, H2, H1]));
        // Unknown parameters without `$` are ignored.
        let r = app
            .get(&format!("{}?foo=bar", p(v, "sensors")), &token)
            .await
            .expect(200);
        assert_eq!(r.ids().len(), 5);
    }
}

#[tokio::test]
async fn count_true_is_on_every_page() {
    let app = TestApp::standard().await;
    let token = admin();
    for v in VERSIONS {
        let filter = enc("domainName eq 'contoso.com'");
        let mut url = format!("{}?$count=true&$top=2&$filter={filter}", p(v, "sensors"));
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let r = app.get(&url, &token).await.expect(200);
            pages += 1;
            assert_eq!(
                r.json["@odata.count"],
                json!(3),
                "{v}: total regardless of paging, page {pages}"
            );
            assert_eq!(
                r.keys()[..2],
                ["@odata.context".to_string(), "@odata.count".to_string()]
            );
            seen.extend(r.ids());
            match r.next_link() {
                Some(next) => {
                    assert!(next.contains("$count=true"), "{next}");
                    url = next;
                }
                None => break,
            }
        }
        assert_eq!(pages, 2);
        assert_eq!(seen, owned(&[DC1, DC2, ADFS]));
        let r = app
            .get(&format!("{}?$count=false", p(v, "sensors")), &token)
            .await
            .expect(200);
        assert!(r.json.get("@odata.count").is_none());
        let r = app
            .get(
                &format!("{}?$count=true&$skip=10", p(v, "healthIssues")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.json["@odata.count"], json!(6));
        assert_eq!(r.ids(), Vec::<String>::new());
    }
}

/// `n` sensors whose creation times repeat in threes, so page order depends on the id tie-break.
fn many_sensors(n: usize) -> Value {
    let sensors: Vec<Value> = (0..n)
        .map(|i| {
            // Ids deliberately not in creation order.
            let id = format!("{:08x}-0000-4000-8000-{:012}", (i * 7919) % 100_000, i);
            json!({
                "id": id,
                "displayName": format!("DC{i}"),
                "domainName": if i % 2 == 0 { "even.contoso.com" } else { "odd.contoso.com" },
                "sensorType": "domainControllerIntegrated",
                "version": "2.239.18124.58593",
                "createdDateTime": format!("2024-01-01T{:02}:{:02}:00Z", i / 180, (i / 3) % 60),
            })
        })
        .collect();
    json!({"sensors": sensors})
}

/// Follows nextLinks verbatim from `first`; returns every id and the number of pages.
async fn walk(
    app: &TestApp,
    token: &str,
    first: &str,
    version: &str,
) -> (Vec<String>, usize, Vec<Option<Value>>) {
    let mut url = first.to_string();
    let mut ids = Vec::new();
    let mut counts = Vec::new();
    let mut pages = 0;
    loop {
        let r = app.get(&url, token).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        pages += 1;
        ids.extend(r.ids());
        counts.push(r.json.get("@odata.count").cloned());
        match r.next_link() {
            Some(next) => {
                assert!(
                    next.starts_with(&format!("{}/{version}/", app.base)),
                    "nextLink on our host and version: {next}"
                );
                assert!(!next.contains("graph.microsoft.com"));
                url = next;
            }
            None => break,
        }
        assert!(pages < 100, "runaway paging");
    }
    (ids, pages, counts)
}

/// Sensors whose descriptions repeat, differ in case and are sometimes missing: the hard case
/// for paging by key (ties, NULLs, case-insensitive order).
fn described_sensors(n: usize) -> Value {
    let sensors: Vec<Value> = (0..n)
        .map(|i| {
            let description = match i % 5 {
                0 => Value::Null,
                1 => json!("alpha"),
                2 => json!("ALPHA"),
                3 => json!(format!("beta {}", i % 7)),
                _ => json!(format!("Gamma {}", i % 3)),
            };
            json!({
                "id": format!("{:08x}-0000-4000-8000-{:012}", (i * 7919) % 100_000, i),
                "displayName": format!("DC{i}"),
                "domainName": "contoso.com",
                "sensorType": "domainControllerIntegrated",
                "version": "2.239.18124.58593",
                "createdDateTime": format!("2024-01-01T00:{:02}:00Z", i % 60),
                "settings": {"description": description},
            })
        })
        .collect();
    json!({"sensors": sensors})
}

#[tokio::test]
async fn paging_by_key_matches_one_big_page_for_every_order() {
    let app = TestApp::builder()
        .seed(TENANT_A, described_sensors(157))
        .start()
        .await;
    let token = admin();
    let orders = [
        "settings/description",
        "settings/description desc",
        "settings/description desc,displayName",
        "createdDateTime desc",
        "displayName,createdDateTime desc",
        "id desc",
    ];
    for v in VERSIONS {
        for order in orders {
            let one = app
                .get_ok(
                    &format!("{}?$top=1000&$orderby={}", p(v, "sensors"), enc(order)),
                    &token,
                )
                .await;
            let expected: Vec<String> = one["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(expected.len(), 157);
            let first = format!("{}?$top=10&$orderby={}", p(v, "sensors"), enc(order));
            let (ids, pages, _) = walk(&app, &token, &first, v).await;
            assert_eq!(pages, 16, "{v} {order}");
            assert_eq!(ids, expected, "{v} {order}: pages by key in the same order");
        }
    }
}

#[tokio::test]
async fn a_skiptoken_is_refused_on_another_query_and_when_forged() {
    let app = TestApp::builder()
        .seed(TENANT_A, many_sensors(30))
        .start()
        .await;
    let token = admin();
    let first = app
        .get_ok(
            &format!(
                "{}?$top=5&$filter={}",
                p("beta", "sensors"),
                enc("domainName eq 'odd.contoso.com'")
            ),
            &token,
        )
        .await;
    let next = first["@odata.nextLink"]
        .as_str()
        .expect("nextLink")
        .to_string();
    let skiptoken = next
        .split('&')
        .find_map(|kv| kv.strip_prefix("$skiptoken="))
        .expect("a $skiptoken in the nextLink")
        .to_string();
    // The same token with another filter: refused, not a page starting somewhere arbitrary.
    let moved = app
        .get(
            &format!(
                "{}?$top=5&$filter={}&$skiptoken={skiptoken}",
                p("beta", "sensors"),
                enc("domainName eq 'even.contoso.com'")
            ),
            &token,
        )
        .await;
    assert_eq!(moved.status, 400, "{}", moved.text);
    assert!(moved.text.contains("$skiptoken"), "{}", moved.text);
    for forged in ["x", "eyJxIjoiMSIsImsiOlsxXX0", "%00%ff", &"A".repeat(5000)] {
        let r = app
            .get(
                &format!("{}?$skiptoken={forged}", p("beta", "sensors")),
                &token,
            )
            .await;
        assert_eq!(r.status, 400, "{forged}: {}", r.text);
        assert_eq!(r.json["error"]["code"], "BadRequest", "{}", r.text);
    }
    // A client's own $skip still works beside server-driven paging.
    let r = app
        .get_ok(&format!("{}?$top=5&$skip=25", p("beta", "sensors")), &token)
        .await;
    assert_eq!(r["value"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn server_driven_paging_sees_every_row_once() {
    let app = TestApp::builder()
        .seed(TENANT_A, many_sensors(263))
        .start()
        .await;
    let token = admin();
    // Expected order: createdDateTime, then id.
    let all = app
        .get_ok(&format!("{}?$top=1000", p("beta", "sensors")), &token)
        .await;
    let mut expected: Vec<(String, String)> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["createdDateTime"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 263);
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

    for v in VERSIONS {
        let (ids, pages, counts) = walk(&app, &token, &p(v, "sensors"), v).await;
        assert_eq!(pages, 3, "{v}: default page size 100");
        assert_eq!(ids.len(), 263);
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            263,
            "{v}: every id exactly once"
        );
        assert_eq!(ids, expected, "{v}: stable order (createdDateTime, id)");
        assert!(counts.iter().all(Option::is_none));

        // With a filter, $count and a $top: the nextLink repeats every option.
        let first = format!(
            "{}?$filter={}&$count=true&$top=40&$select=id,domainName",
            p(v, "sensors"),
            enc("domainName eq 'odd.contoso.com'")
        );
        let (ids, pages, counts) = walk(&app, &token, &first, v).await;
        assert_eq!(ids.len(), 131);
        assert_eq!(pages, 4);
        assert!(
            counts.iter().all(|c| *c == Some(json!(131))),
            "{v}: {counts:?}"
        );
        let odd: Vec<String> = expected
            .iter()
            .filter(|id| id.ends_with(|c: char| c.to_digit(10).is_some_and(|d| d % 2 == 1)))
            .cloned()
            .collect();
        assert_eq!(ids, odd, "{v}: filtered order");
    }
}

#[tokio::test]
async fn top_is_clamped_to_1000() {
    let app = TestApp::builder()
        .seed(TENANT_A, many_sensors(1005))
        .start()
        .await;
    let token = admin();
    for v in VERSIONS {
        let r = app
            .get(&format!("{}?$top=5000", p(v, "sensors")), &token)
            .await
            .expect(200);
        assert_eq!(r.value().len(), 1000, "{v}");
        let next = r.next_link().expect("more rows remain");
        assert!(
            next.contains("$top=1000") && next.contains("$skiptoken="),
            "{next}"
        );
        let r = app.get(&next, &token).await.expect(200);
        assert_eq!(r.value().len(), 5);
        assert!(r.next_link().is_none());
        let r = app
            .get(
                &format!("{}?$top=99999999999999999999999", p(v, "sensors")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.value().len(), 1000);
    }
}

#[tokio::test]
async fn bad_query_options_are_400() {
    let app = TestApp::standard().await;
    let token = admin();
    let cases: Vec<(&str, String)> = vec![
        ("sensors", "$top=0".into()),
        ("sensors", "$top=-1".into()),
        ("sensors", "$top=abc".into()),
        ("sensors", "$top=1.5".into()),
        ("sensors", "$top=".into()),
        ("sensors", "$skip=-1".into()),
        ("sensors", "$skip=x".into()),
        ("sensors", "$count=maybe".into()),
        ("sensors", "$count=1".into()),
        ("sensors", format!("$filter={}", enc("helthStatus eq 'x'"))),
        ("sensors", format!("$filter={}", enc("displayName eq"))),
        ("sensors", format!("$filter={}", enc("displayName eq 'DC1"))),
        (
            "sensors",
            format!("$filter={}", enc("(displayName eq 'DC1'")),
        ),
        (
            "sensors",
            format!("$filter={}", enc("healthStatus eq 'purple'")),
        ),
        (
            "sensors",
            format!("$filter={}", enc("openHealthIssuesCount eq 'many'")),
        ),
        (
            "sensors",
            format!("$filter={}", enc("createdDateTime gt 'yesterday'")),
        ),
        (
            "sensors",
            format!("$filter={}", enc("frobnicate(displayName,'x')")),
        ),
        (
            "sensors",
            format!("$filter={}", enc("displayName/any(d:d eq 'x')")),
        ),
        ("sensors", "$select=nope".into()),
        ("sensors", "$expand=nope".into()),
        ("sensors", "$orderby=nope".into()),
        ("sensors", "$search=x".into()),
        ("sensors", "$top=1&$top=2".into()),
        ("sensors", "$top=1&top=2".into()),
        ("sensors", "$filter=x&$FILTER=y".into()),
        ("sensors", "$unknown=1".into()),
        ("sensors", "$format=xml".into()),
        ("healthIssues", "$top=0".into()),
        (
            "healthIssues",
            format!("$filter={}", enc("Satus eq 'open'")),
        ),
        ("healthIssues", "$search=sensor".into()),
        ("healthIssues", "$expand=sensors".into()),
        ("sensorCandidates", "$top=abc".into()),
        (
            "sensorCandidates",
            format!("$filter={}", enc("domainName eq 'contoso.com'")),
        ),
        ("sensors/$count", "$skip=-1".into()),
        ("healthIssues/$count", "$count=maybe".into()),
    ];
    let before = app.snapshot(&token).await;
    for v in VERSIONS {
        for (collection, query) in &cases {
            let r = app
                .get(&format!("{}?{query}", p(v, collection)), &token)
                .await;
            assert_eq!(r.status, 400, "{v} {collection}?{query}: {}", r.text);
            assert_error(&r, 400, "BadRequest");
        }
        let r = app
            .get(
                &format!("{}?$filter={}", p(v, "sensors"), enc("helthStatus eq 'x'")),
                &token,
            )
            .await;
        let message = assert_error(&r, 400, "BadRequest");
        assert!(message.contains("Invalid filter clause"), "{message}");
        let r = app
            .get(
                &format!("{}?$filter={}", p(v, "healthIssues"), enc("status eq")),
                &token,
            )
            .await;
        let message = assert_error(&r, 400, "BadRequest");
        assert!(message.contains("Invalid filter clause"), "{message}");
    }
    assert_eq!(app.snapshot(&token).await, before);
}

#[tokio::test]
async fn timestamps_and_enums_on_the_wire() {
    let app = TestApp::builder()
        .seed(TENANT_A, standard_fixture())
        .start()
        .await;
    let token = admin();
    // Touch a few things so generated timestamps are on the wire too.
    app.patch(
        &p("beta", &format!("healthIssues/{H2}")),
        &token,
        json!({"status": "closed"}),
    )
    .await
    .expect(200);
    app.post(
        &p("beta", "sensorCandidates/activate"),
        &token,
        Some(json!({"serverIds": [C_DC4]})),
    )
    .await
    .expect(200);
    let enums: [(&str, &[&str]); 9] = [
        (
            "deploymentStatus",
            &[
                "upToDate",
                "outdated",
                "updating",
                "updateFailed",
                "notConfigured",
                "unreachable",
                "disconnected",
                "startFailure",
                "syncing",
            ],
        ),
        (
            "healthStatus",
            &[
                "healthy",
                "notHealthyLow",
                "notHealthyMedium",
                "notHealthyHigh",
            ],
        ),
        (
            "sensorType",
            &[
                "adConnectIntegrated",
                "adcsIntegrated",
                "adfsIntegrated",
                "domainControllerIntegrated",
                "domainControllerStandalone",
            ],
        ),
        (
            "serviceStatus",
            &[
                "stopped",
                "starting",
                "running",
                "disabled",
                "onboarding",
                "unknown",
            ],
        ),
        ("severity", &["low", "medium", "high"]),
        ("status", &["open", "closed", "suppressed"]),
        ("healthIssueType", &["sensor", "global"]),
        ("activationMode", &["manual", "automated"]),
        (
            "@odata.type",
            &[
                "#microsoft.graph.security.sensor",
                "#microsoft.graph.security.healthIssue",
                "#microsoft.graph.security.sensorCandidate",
            ],
        ),
    ];
    let mut checked = 0;
    for v in VERSIONS {
        for collection in ["sensors", "healthIssues", "sensorCandidates"] {
            let r = app.get(&p(v, collection), &token).await.expect(200);
            assert_eq!(r.keys()[0], "@odata.context");
            for item in r.value() {
                for (name, value) in item.as_object().unwrap() {
                    if name.ends_with("DateTime") {
                        let s = value.as_str().unwrap();
                        assert!(
                            is_graph_timestamp(s),
                            "{collection}.{name} = '{s}' needs 7 digits and Z"
                        );
                        checked += 1;
                    }
                    if let Some((_, members)) = enums.iter().find(|(n, _)| n == name) {
                        let s = value.as_str().unwrap();
                        assert!(
                            members.contains(&s),
                            "{collection}.{name} = '{s}' is not an exact camelCase member"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 50, "{checked}");
}

#[tokio::test]
async fn default_page_size_and_options_carry_over_pages() {
    let app = TestApp::builder()
        .page_size(2)
        .seed(TENANT_A, standard_fixture())
        .start()
        .await;
    let token = admin();
    for v in VERSIONS {
        let (ids, pages, _) = walk(&app, &token, &p(v, "healthIssues"), v).await;
        assert_eq!(
            (ids, pages),
            (owned(&ISSUE_ORDER), 3),
            "{v}: configured default page size"
        );
        let first = format!(
            "{}?$orderby={}&$select=displayName",
            p(v, "sensors"),
            enc("createdDateTime desc")
        );
        let (ids, pages, _) = walk(&app, &token, &first, v).await;
        assert_eq!(
            (ids, pages),
            (owned(&[FAB, SA1, ADFS, DC2, DC1]), 3),
            "{v}: $orderby carried by nextLink"
        );
        let r = app
            .get(&format!("{}?$top=4", p(v, "healthIssues")), &token)
            .await
            .expect(200);
        assert_eq!(
            r.ids(),
            owned(&[H6, H5, H4, H3]),
            "$top overrides the default page size"
        );
        // Paging under a sensor's navigation keeps the navigation path.
        let (ids, pages, _) = walk(
            &app,
            &token,
            &format!("{}?$top=1", p(v, &format!("sensors/{FAB}/healthissues"))),
            v,
        )
        .await;
        assert_eq!((ids, pages), (owned(&[H6, H1]), 2));
        // '+' in a query value is a space.
        let r = app
            .get(
                &format!("{}?$filter=displayName+eq+'SA1'", p(v, "sensors")),
                &token,
            )
            .await
            .expect(200);
        assert_eq!(r.ids(), owned(&[SA1]));
    }
}

#[tokio::test]
async fn hostile_filters_are_refused_or_answered_and_the_server_survives() {
    let app = TestApp::standard().await;
    let token = admin();
    let deep = format!(
        "{}displayName eq 'DC1'{}",
        "(".repeat(1000),
        ")".repeat(1000)
    );
    let r = app
        .get(
            &format!("{}?$filter={}", p("beta", "sensors"), enc(&deep)),
            &token,
        )
        .await;
    assert!(assert_error(&r, 400, "BadRequest").contains("Invalid filter clause"));
    let long = format!("displayName eq '{}'", "x".repeat(10_000));
    let r = app
        .get(
            &format!("{}?$filter={}", p("beta", "sensors"), enc(&long)),
            &token,
        )
        .await;
    assert_error(&r, 400, "BadRequest");
    // As many terms as the length limit allows: answered, not crashed.
    for op in [" or ", " and "] {
        let chain = vec!["displayName eq 'DC1'"; 160].join(op);
        let r = app
            .get(
                &format!("{}?$filter={}", p("beta", "sensors"), enc(&chain)),
                &token,
            )
            .await;
        assert_eq!(r.expect(200).ids(), owned(&[DC1, FAB]), "{op}");
    }
    let any_chain = vec!["domainNames/any(d:d eq 'x')"; 120].join(" or ");
    let r = app
        .get(
            &format!("{}?$filter={}", p("beta", "healthIssues"), enc(&any_chain)),
            &token,
        )
        .await;
    assert_eq!(r.expect(200).ids(), Vec::<String>::new());
    app.get(&p("beta", "sensors"), &token).await.expect(200);
}
