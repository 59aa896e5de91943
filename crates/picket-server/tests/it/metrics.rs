//! `/metrics`, `/readyz` and `/healthz`: counters move by exactly the traffic sent, the fleet
//! gauges name at most the configured number of tenants, apps in one process count apart, and
//! readiness follows the store (a PostgreSQL cluster of the test's own, stopped and started).

use crate::identity::{register_app, token_request};
use crate::support::*;
use picket_domain::time::ManualClock;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every sample of a Prometheus text exposition, keyed by `name{labels}` as written.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("sample has a value");
            (series.to_string(), value.parse().expect("numeric value"))
        })
        .collect()
}

async fn scrape(app: &TestApp) -> (String, BTreeMap<String, f64>) {
    let r = app
        .send("GET", "/metrics", None, &[], None)
        .await
        .expect(200);
    assert!(
        r.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        r.headers
    );
    let parsed = samples(&r.text);
    (r.text, parsed)
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn counters_move_by_exactly_the_traffic_sent() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = TestApp::builder()
        .manual_clock(clock)
        .seed(TENANT_A, standard_fixture())
        .start()
        .await;
    // Set-up traffic, before the first scrape.
    let (client_id, secret) = register_app(&app, &[SENSORS_READ], chrono::Duration::days(30)).await;
    let key = app.access_key().await;
    let (_, before) = scrape(&app).await;

    for _ in 0..3 {
        app.get(
            &format!("/v1.0/security/identities/sensors/{DC1}"),
            &admin(),
        )
        .await
        .expect(200);
    }
    let missing = "00000000-0000-0000-0000-0000000000ff";
    for _ in 0..2 {
        app.get(
            &format!("/v1.0/security/identities/sensors/{missing}"),
            &admin(),
        )
        .await
        .expect(404);
    }
    let (sensor, credential) = app.enroll_dc(&key, "dc9.contoso.com").await;
    let credential = credential.as_str();
    app.send_json(
        "POST",
        &format!("/agent/v1/tenants/{TENANT_A}/sensors/{sensor}/checkIn"),
        credential,
        Some(json!({"serviceStatus": "running", "version": PACKAGE_VERSION})),
    )
    .await
    .expect(200);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    token_request(&app, TENANT_A, &form).await.expect(200);
    app.send_json(
        "POST",
        "/admin/v1/clock/advance",
        &admin(),
        Some(json!({"by": "1m"})),
    )
    .await
    .expect(200);

    let (text, after) = scrape(&app).await;
    let d = |series: &str| delta(&before, &after, series);
    let expected = [
        (
            r#"picket_graph_requests_total{operation="getSensor",status="200"}"#,
            3.0,
        ),
        (
            r#"picket_graph_requests_total{operation="getSensor",status="404"}"#,
            2.0,
        ),
        (
            r#"picket_graph_request_duration_seconds_count{operation="getSensor"}"#,
            5.0,
        ),
        (
            r#"picket_http_requests_total{family="graph",status="200"}"#,
            3.0,
        ),
        (
            r#"picket_http_requests_total{family="graph",status="404"}"#,
            2.0,
        ),
        (
            r#"picket_http_requests_total{family="agent",status="201"}"#,
            1.0,
        ),
        (
            r#"picket_http_requests_total{family="agent",status="200"}"#,
            1.0,
        ),
        (
            r#"picket_http_requests_total{family="token",status="200"}"#,
            1.0,
        ),
        (
            r#"picket_http_requests_total{family="admin",status="200"}"#,
            1.0,
        ),
        (r#"picket_enrolments_total{result="enrolled"}"#, 1.0),
        (r#"picket_check_ins_total{kind="full"}"#, 1.0),
        (r#"picket_check_ins_total{kind="heartbeat"}"#, 0.0),
        (
            r#"picket_check_in_duration_seconds_count{kind="full"}"#,
            1.0,
        ),
        (
            r#"picket_token_requests_total{grant_type="client_credentials",result="issued"}"#,
            1.0,
        ),
        ("picket_sweep_duration_seconds_count", 1.0),
        (r#"picket_throttled_requests_total{class="read"}"#, 0.0),
        (
            r#"picket_graph_requests_total{operation="unmatched",status="401"}"#,
            0.0,
        ),
    ];
    for (series, want) in expected {
        assert_eq!(d(series), want, "{series}\n{text}");
    }
    // Nothing else moved in Graph's counters: the traffic above is all there was.
    let graph_moved: f64 = after
        .keys()
        .filter(|k| k.starts_with("picket_graph_requests_total"))
        .map(|k| d(k))
        .sum();
    assert_eq!(graph_moved, 5.0, "{text}");
    assert!(d("picket_sweep_sensors_evaluated_total") >= 0.0);
    for family in [
        "picket_graph_requests_total",
        "picket_check_ins_total",
        "picket_sensors_by_health",
        "picket_sensors_by_deployment",
        "picket_db_pool_connections",
        "picket_store_errors_total",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family}\n{text}"
        );
    }
    assert!(
        text.contains("# HELP picket_graph_requests_total "),
        "{text}"
    );
}

#[tokio::test]
async fn an_unknown_path_or_a_bad_token_counts_as_unmatched() {
    let app = TestApp::standard().await;
    let (_, before) = scrape(&app).await;
    app.get("/v1.0/security/identities/nothingHere", &admin())
        .await
        .expect(400);
    app.get("/v1.0/security/identities/sensors", "not-a-token")
        .await
        .expect(401);
    let (text, after) = scrape(&app).await;
    let d = |series: &str| delta(&before, &after, series);
    assert_eq!(
        d(r#"picket_graph_requests_total{operation="unmatched",status="400"}"#),
        1.0,
        "{text}"
    );
    assert_eq!(
        d(r#"picket_graph_requests_total{operation="unmatched",status="401"}"#),
        1.0,
        "{text}"
    );
    assert!(!text.contains("nothingHere"), "paths never become labels");
}

#[tokio::test]
async fn two_apps_in_one_process_count_apart() {
    let one = TestApp::standard().await;
    let two = TestApp::standard().await;
    let (_, before) = scrape(&two).await;
    for _ in 0..4 {
        one.get(
            &format!("/v1.0/security/identities/sensors/{DC1}"),
            &admin(),
        )
        .await
        .expect(200);
    }
    let (_, after) = scrape(&two).await;
    let series = r#"picket_graph_requests_total{operation="getSensor",status="200"}"#;
    assert_eq!(delta(&before, &after, series), 0.0);
    let (_, of_one) = scrape(&one).await;
    assert_eq!(of_one.get(series).copied(), Some(4.0));
}

#[tokio::test]
async fn fleet_gauges_name_at_most_the_configured_tenants() {
    let app = TestApp::builder()
        .metrics_tenant_labels(1)
        .seed(TENANT_A, standard_fixture())
        .seed(TENANT_B, standard_fixture())
        .start()
        .await;
    let (text, parsed) = scrape(&app).await;
    for gauge in ["picket_sensors_by_health", "picket_sensors_by_deployment"] {
        let rows: Vec<(&String, &f64)> = parsed
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{gauge}{{")))
            .collect();
        let tenants: std::collections::BTreeSet<&str> = rows
            .iter()
            .map(|(k, _)| {
                k.split("tenant=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .expect("tenant label")
            })
            .collect();
        assert_eq!(tenants.len(), 2, "one tenant and 'other': {text}");
        assert!(tenants.contains("other"), "{text}");
        assert!(
            tenants.contains(TENANT_A) || tenants.contains(TENANT_B),
            "{text}"
        );
        let total: f64 = rows.iter().map(|(_, v)| **v).sum();
        assert_eq!(
            total, 10.0,
            "both tenants' five sensors are counted: {text}"
        );
    }
}

#[tokio::test]
async fn healthz_and_readyz_answer_while_the_store_does() {
    let app = TestApp::empty().await;
    let live = app
        .send("GET", "/healthz", None, &[], None)
        .await
        .expect(200);
    assert_eq!(live.text, "ok");
    let ready = app
        .send("GET", "/readyz", None, &[], None)
        .await
        .expect(200);
    assert_eq!(ready.text, "ready");
}

/// Polls `/readyz` until it answers `status` (at most 20 s); returns the body.
async fn readyz_becomes(app: &TestApp, status: u16) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = app.send("GET", "/readyz", None, &[], None).await;
        if r.status == status {
            return r.text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "/readyz still answers {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn readyz_follows_a_private_postgres_stopping_and_returning_on_postgres() {
    let Some(pg) = crate::private_postgres::PrivatePostgres::start() else {
        return;
    };
    let config = picket_store::PostgresConfig {
        pool_size: 4,
        ..picket_store::PostgresConfig::new(pg.url())
    };
    let catalogue = picket_store::Catalogue {
        unified_sensor_version: UNIFIED_VERSION.into(),
    };
    let store = picket_store::PostgresStore::open(&config, catalogue)
        .await
        .expect("open the private cluster");
    let app = TestApp::builder().store(Arc::new(store)).start().await;
    assert_eq!(readyz_becomes(&app, 200).await, "ready");

    pg.stop();
    let reason = readyz_becomes(&app, 503).await;
    assert!(reason.starts_with("not ready: "), "{reason}");
    assert!(reason.len() < 100, "a short reason: {reason}");
    app.send("GET", "/healthz", None, &[], None)
        .await
        .expect(200);
    let (_, parsed) = scrape(&app).await;
    let store_errors: f64 = parsed
        .iter()
        .filter(|(k, _)| k.starts_with("picket_store_errors_total"))
        .map(|(_, v)| v)
        .sum();
    assert!(store_errors >= 1.0, "{parsed:?}");

    pg.resume();
    assert_eq!(readyz_becomes(&app, 200).await, "ready");
}
