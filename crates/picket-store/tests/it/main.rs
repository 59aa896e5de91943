//! The store through its `Store` trait, on a fresh database each (a SQLite file, or a
//! PostgreSQL schema of its own when `PICKET_TEST_DATABASE_URL` is set): seeding, derived
//! health, filters, activation (also under concurrency), access keys, tenant isolation.

use picket_domain::time::{parse_timestamp, Timestamp};
use picket_domain::*;
use picket_odata::{parse_query, validate_query, ValidatedQuery};
use picket_store::testing::TestDatabase;
use picket_store::{Catalogue, Fixture, IssueScope, PageRequest, Store, StoreError};
use std::sync::Arc;

mod console_clients;
mod engines;
mod enrolment_locks;
mod heartbeats;
mod identity;
mod plans;
mod portable;
mod schema;
mod sign_ins;
mod stored_statuses;
mod sweeps;

const A: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
const B: &str = "11111111-2222-3333-4444-555555555555";

fn catalogue() -> Catalogue {
    Catalogue {
        unified_sensor_version: "3.1.0.0".into(),
    }
}

/// A store on a fresh database; the database goes when the first value is dropped.
async fn store() -> (TestDatabase, Arc<dyn Store>) {
    let db = TestDatabase::new().expect("test database");
    let store = db.open(catalogue()).await.expect("open");
    (db, store)
}

fn tenant(t: &str) -> TenantId {
    TenantId::parse(t).expect("guid")
}

fn ts(text: &str) -> Timestamp {
    parse_timestamp(text).expect("timestamp")
}

fn sensor(id: &str, name: &str, domain: &str, created: &str) -> Sensor {
    Sensor {
        id: SensorId::new(id),
        created_date_time: ts(created),
        deployment_status: DeploymentStatus::UpToDate,
        display_name: name.into(),
        domain_name: domain.into(),
        health_status: SensorHealthStatus::Healthy,
        open_health_issues_count: 0,
        sensor_type: SensorType::DomainControllerIntegrated,
        service_status: ServiceStatus::Running,
        settings: SensorSettings::default(),
        version: "2.239.1.1".into(),
    }
}

fn issue(
    id: &str,
    severity: HealthIssueSeverity,
    status: HealthIssueStatus,
    sensors: &[&str],
) -> HealthIssue {
    HealthIssue {
        id: HealthIssueId::new(id),
        additional_information: vec![],
        created_date_time: ts("2024-01-01T00:00:00Z"),
        description: "d".into(),
        display_name: "n".into(),
        domain_names: vec!["contoso.com".into()],
        health_issue_type: HealthIssueType::Sensor,
        issue_type_id: "1".into(),
        last_modified_date_time: ts("2024-01-01T00:00:00Z"),
        recommendations: vec![],
        recommended_action_commands: vec![],
        sensor_dns_names: sensors.iter().map(|s| s.to_string()).collect(),
        severity,
        status,
    }
}

fn candidate(id: &str, dns: &str) -> SensorCandidate {
    SensorCandidate {
        id: CandidateId::new(id),
        computer_dns_name: dns.into(),
        last_seen_date_time: ts("2024-01-01T00:00:00Z"),
        sense_client_version: "10.8780.27711.1000".into(),
    }
}

fn query(q: &str) -> ValidatedQuery {
    let schema = picket_domain::schema::sensor_schema(true);
    validate_query(&parse_query(q).expect("parses"), schema).expect("valid")
}

const PAGE: PageRequest = PageRequest { skip: 0, size: 100 };

fn fixture() -> Fixture {
    use HealthIssueSeverity::*;
    use HealthIssueStatus::*;
    Fixture {
        activation_mode: None,
        sensors: vec![
            sensor("s1", "DC1", "contoso.com", "2024-01-01T00:00:00Z"),
            sensor("s2", "DC2", "contoso.com", "2024-01-02T00:00:00Z"),
            sensor("s3", "DC3", "fabrikam.local", "2024-01-03T00:00:00Z"),
        ],
        candidates: vec![
            candidate("c1", "dc9.contoso.com"),
            candidate("c2", "dc8.fabrikam.local"),
        ],
        health_issues: vec![
            issue("h1", High, Open, &["DC1.CONTOSO.COM"]),
            issue("h2", Low, Open, &["dc1.contoso.com", "dc2.contoso.com"]),
            issue("h3", High, Suppressed, &["dc2.contoso.com"]),
            issue("h4", Medium, Closed, &["dc3.fabrikam.local"]),
        ],
        ..Fixture::default()
    }
}

async fn health(store: &dyn Store, t: &TenantId, id: &str) -> (SensorHealthStatus, i64) {
    let s = store
        .find_sensor(t, &SensorId::new(id))
        .await
        .expect("find")
        .expect("exists");
    (s.health_status, s.open_health_issues_count)
}

#[tokio::test]
async fn seeding_derives_health_from_open_issues_only() {
    let (_dir, store) = store().await;
    let t = tenant(A);
    store.seed(&t, &fixture()).await.expect("seed");
    assert_eq!(
        health(store.as_ref(), &t, "s1").await,
        (SensorHealthStatus::NotHealthyHigh, 2)
    );
    assert_eq!(
        health(store.as_ref(), &t, "s2").await,
        (SensorHealthStatus::NotHealthyLow, 1)
    );
    assert_eq!(
        health(store.as_ref(), &t, "s3").await,
        (SensorHealthStatus::Healthy, 0)
    );
    // Closing the high issue lowers DC1 to its remaining low one; reopening restores it.
    let now = ts("2024-02-01T00:00:00Z");
    store
        .save_health_issue_status(
            &t,
            &HealthIssueId::new("h1"),
            HealthIssueStatus::Closed,
            now,
        )
        .await
        .expect("save");
    assert_eq!(
        health(store.as_ref(), &t, "s1").await,
        (SensorHealthStatus::NotHealthyLow, 1)
    );
    store
        .save_health_issue_status(&t, &HealthIssueId::new("h3"), HealthIssueStatus::Open, now)
        .await
        .expect("save");
    assert_eq!(
        health(store.as_ref(), &t, "s2").await,
        (SensorHealthStatus::NotHealthyHigh, 2)
    );
    let issues = store
        .list_health_issues(
            &t,
            &IssueScope::Sensor(SensorId::new("s2")),
            &ValidatedQuery::default(),
            PAGE,
        )
        .await
        .expect("list");
    let mut ids: Vec<&str> = issues.items.iter().map(|h| h.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, vec!["h2", "h3"]);
}

#[tokio::test]
async fn a_conflicting_fixture_changes_nothing() {
    let (_dir, store) = store().await;
    let t = tenant(A);
    store.seed(&t, &fixture()).await.expect("seed");
    let mut again = Fixture::default();
    again
        .sensors
        .push(sensor("s9", "DC9", "contoso.com", "2024-01-09T00:00:00Z"));
    again
        .sensors
        .push(sensor("s1", "DUP", "contoso.com", "2024-01-09T00:00:00Z"));
    assert!(matches!(
        store.seed(&t, &again).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store
        .find_sensor(&t, &SensorId::new("s9"))
        .await
        .expect("find")
        .is_none());
    assert_eq!(
        store
            .count_sensors(&t, &ValidatedQuery::default())
            .await
            .expect("count"),
        3
    );
}

#[tokio::test]
async fn filters_order_and_pages_run_in_sql() {
    let (_dir, store) = store().await;
    let t = tenant(A);
    store.seed(&t, &fixture()).await.expect("seed");
    let ids = |page: picket_store::Page<Sensor>| {
        page.items
            .into_iter()
            .map(|s| s.id.to_string())
            .collect::<Vec<_>>()
    };
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("$filter=healthStatus eq 'notHealthyHigh'", vec!["s1"]),
        ("$filter=healthStatus ne 'healthy'", vec!["s1", "s2"]),
        ("$filter=domainName eq 'CONTOSO.COM'", vec!["s1", "s2"]),
        (
            "$filter=startswith(displayName,'dc') and not endswith(domainName,'.local')",
            vec!["s1", "s2"],
        ),
        (
            "$filter=openHealthIssuesCount ge 1 or createdDateTime gt 2024-01-02T12:00:00Z",
            vec!["s1", "s2", "s3"],
        ),
        (
            "$filter=createdDateTime lt 2024-01-02T00:00:00Z",
            vec!["s1"],
        ),
        ("$filter=displayName eq 'x'' or 1=1 --'", vec![]),
        ("$filter=contains(displayName,'%')", vec![]),
        ("$orderby=createdDateTime desc", vec!["s3", "s2", "s1"]),
        (
            "$orderby=domainName desc,displayName desc",
            vec!["s3", "s2", "s1"],
        ),
    ];
    for (q, expected) in cases {
        assert_eq!(
            ids(store.list_sensors(&t, &query(q), PAGE).await.expect(q)),
            expected,
            "{q}"
        );
    }
    let first = store
        .list_sensors(
            &t,
            &ValidatedQuery::default(),
            PageRequest { skip: 0, size: 2 },
        )
        .await
        .expect("page");
    assert!(first.has_more);
    let second = store
        .list_sensors(
            &t,
            &ValidatedQuery::default(),
            PageRequest { skip: 2, size: 2 },
        )
        .await
        .expect("page");
    assert!(!second.has_more);
    assert_eq!([ids(first), ids(second)].concat(), vec!["s1", "s2", "s3"]);
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let (_dir, store) = store().await;
    let (a, b) = (tenant(A), tenant(B));
    store.seed(&a, &fixture()).await.expect("seed");
    assert!(store
        .find_sensor(&b, &SensorId::new("s1"))
        .await
        .expect("find")
        .is_none());
    assert_eq!(
        store
            .count_sensors(&b, &ValidatedQuery::default())
            .await
            .expect("count"),
        0
    );
    assert!(!store
        .delete_sensor(&b, &SensorId::new("s1"), ts("2024-02-01T00:00:00Z"))
        .await
        .expect("delete"));
    assert!(store
        .find_sensor(&a, &SensorId::new("s1"))
        .await
        .expect("find")
        .is_some());
    let key_a = store.deployment_access_key(&a).await.expect("key");
    let key_b = store.deployment_access_key(&b).await.expect("key");
    assert_ne!(key_a.expose(), key_b.expose());
}

#[tokio::test]
async fn regenerating_the_key_replaces_it_at_once() {
    let (_dir, store) = store().await;
    let t = tenant(A);
    let old = store.deployment_access_key(&t).await.expect("key");
    assert_eq!(
        store.deployment_access_key(&t).await.expect("key").expose(),
        old.expose(),
        "stable until regenerated"
    );
    let new = store
        .regenerate_deployment_access_key(&t)
        .await
        .expect("regenerate");
    assert_ne!(new.expose(), old.expose());
    assert_eq!(
        store.deployment_access_key(&t).await.expect("key").expose(),
        new.expose()
    );
    assert_eq!(new.expose().len(), 88, "64 random bytes in base64");
}

#[tokio::test]
async fn activation_validates_everything_first_and_is_idempotent() {
    let (_dir, store) = store().await;
    let t = tenant(A);
    store.seed(&t, &fixture()).await.expect("seed");
    let now = ts("2024-02-01T00:00:00Z");
    let err = store
        .activate_candidates(&t, &[CandidateId::new("c1"), CandidateId::new("nope")], now)
        .await;
    assert!(
        matches!(err, Err(StoreError::UnknownCandidates(ref ids)) if ids == &vec!["nope".to_string()])
    );
    assert!(
        store
            .find_candidate(&t, &CandidateId::new("c1"))
            .await
            .expect("find")
            .is_some(),
        "nothing activated"
    );
    let done = store
        .activate_candidates(&t, &[CandidateId::new("c1")], now)
        .await
        .expect("activate");
    assert_eq!(done.activated, vec![SensorId::new("c1")]);
    let s = store
        .find_sensor(&t, &SensorId::new("c1"))
        .await
        .expect("find")
        .expect("sensor");
    assert_eq!(
        (
            s.display_name.as_str(),
            s.domain_name.as_str(),
            s.version.as_str()
        ),
        ("DC9", "contoso.com", "3.1.0.0")
    );
    assert_eq!(s.service_status, ServiceStatus::Onboarding);
    let again = store
        .activate_candidates(&t, &[CandidateId::new("c1")], now)
        .await
        .expect("no-op");
    assert_eq!((again.activated.len(), again.already_active.len()), (0, 1));
    // A classic sensor's id is not a candidate.
    assert!(store
        .activate_candidates(&t, &[CandidateId::new("s1")], now)
        .await
        .is_err());
    // Automated mode sweeps up the rest.
    let swept = store
        .save_activation_mode(&t, ActivationMode::Automated, now)
        .await
        .expect("mode");
    assert_eq!(swept.activated, vec![SensorId::new("c2")]);
    assert_eq!(
        store.activation_mode(&t).await.expect("mode"),
        ActivationMode::Automated
    );
    assert_eq!(
        store
            .count_candidates(&t, &ValidatedQuery::default())
            .await
            .expect("count"),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_activations_make_exactly_one_sensor() {
    let (_dir, store) = store().await;
    let t = tenant(A);
    store.seed(&t, &fixture()).await.expect("seed");
    let now = ts("2024-02-01T00:00:00Z");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move {
                store
                    .activate_candidates(&t, &[CandidateId::new("c1")], now)
                    .await
            })
        })
        .collect();
    let mut activated = 0;
    for task in tasks {
        activated += task.await.expect("join").expect("activate").activated.len();
    }
    assert_eq!(activated, 1, "one activation wins, the rest are no-ops");
    let q = query("$filter=id eq 'c1'");
    assert_eq!(store.count_sensors(&t, &q).await.expect("count"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_key_regenerations_leave_exactly_one_valid_key() {
    let (_dir, store) = store().await;
    let t = tenant(A);
    let before = store.deployment_access_key(&t).await.expect("key");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move { store.regenerate_deployment_access_key(&t).await })
        })
        .collect();
    let mut issued = Vec::new();
    for task in tasks {
        issued.push(
            task.await
                .expect("join")
                .expect("regenerate")
                .expose()
                .to_string(),
        );
    }
    let mut distinct = issued.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        8,
        "every regeneration made a key of its own"
    );
    assert!(!issued.contains(&before.expose().to_string()));
    // The one that stands is one of those handed out; the others (and the first) are gone.
    let now = store.deployment_access_key(&t).await.expect("key");
    assert_eq!(
        issued.iter().filter(|k| k.as_str() == now.expose()).count(),
        1,
        "exactly one of the regenerated keys is valid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_never_lose_a_field() {
    use picket_domain::rules::SettingsPatch;
    let (_dir, store) = store().await;
    let t = tenant(A);
    store.seed(&t, &fixture()).await.expect("seed");
    let id = SensorId::new("s1");
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (store, t, id) = (store.clone(), t.clone(), id.clone());
            let patch = if i % 2 == 0 {
                SettingsPatch {
                    description: Some(Some(format!("edited by {i}"))),
                    ..SettingsPatch::default()
                }
            } else {
                SettingsPatch {
                    is_delayed_deployment_enabled: Some(true),
                    ..SettingsPatch::default()
                }
            };
            tokio::spawn(async move { store.save_sensor_settings(&t, &id, &patch).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("join").expect("patch").expect("sensor");
    }
    let s = store.find_sensor(&t, &id).await.expect("find").expect("s1");
    assert!(s.settings.is_delayed_deployment_enabled, "{s:?}");
    assert!(
        s.settings
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("edited by")),
        "{s:?}"
    );
}

#[tokio::test]
async fn deleting_a_sensor_closes_its_sensor_issues() {
    let (_dir, store) = store().await;
    let t = tenant(A);
    store.seed(&t, &fixture()).await.expect("seed");
    assert!(store
        .delete_sensor(&t, &SensorId::new("s1"), ts("2024-02-01T00:00:00Z"))
        .await
        .expect("delete"));
    let h1 = store
        .find_health_issue(&t, &IssueScope::Tenant, &HealthIssueId::new("h1"))
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(h1.status, HealthIssueStatus::Closed);
    assert_eq!(h1.last_modified_date_time, ts("2024-02-01T00:00:00Z"));
    // h2 also names DC1 and stays open, so DC2 keeps its low issue.
    assert_eq!(
        health(store.as_ref(), &t, "s2").await,
        (SensorHealthStatus::NotHealthyLow, 1)
    );
}

#[tokio::test]
async fn data_survives_reopening() {
    let db = TestDatabase::new().expect("test database");
    let t = tenant(A);
    {
        let store = db.open(catalogue()).await.expect("open");
        store.seed(&t, &fixture()).await.expect("seed");
    }
    let store = db
        .open(catalogue())
        .await
        .expect("reopen applies no migration twice");
    assert_eq!(
        store
            .count_sensors(&t, &ValidatedQuery::default())
            .await
            .expect("count"),
        3
    );
}
