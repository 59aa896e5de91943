//! Every write that sets a sensor's status stores what the status engine derives from the same
//! facts: right after an activation (through Graph or automated), an enrolment or a settings
//! change, a full sweep at the same instant finds nothing to change.

use super::{catalogue, tenant, ts, A};
use picket_domain::rules::SettingsPatch;
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_store::fleet::{CandidateOutcome, EnrollRequest, FleetPolicy};
use picket_store::testing::TestDatabase;
use picket_store::Store;

async fn statuses(store: &dyn Store, id: &SensorId) -> (DeploymentStatus, ServiceStatus) {
    let s = store
        .find_sensor(&tenant(A), id)
        .await
        .expect("find")
        .expect("sensor");
    (s.deployment_status, s.service_status)
}

/// A full sweep at `now` changes no status, and the statuses stay `expected`. (Through a
/// store opened afresh on the same database: its first sweep evaluates every sensor.)
async fn full_sweep_agrees(
    db: &TestDatabase,
    ids: &[&SensorId],
    now: Timestamp,
    expected: (DeploymentStatus, ServiceStatus),
    why: &str,
) {
    let store = db.open(catalogue()).await.expect("open");
    let store = store.as_ref();
    for id in ids {
        assert_eq!(statuses(store, id).await, expected, "{why}: as written");
    }
    let swept = store
        .sweep(now, &FleetPolicy::default())
        .await
        .expect("sweep");
    assert_eq!(swept.sensors, ids.len() as u64, "{why}: a full sweep");
    assert_eq!(swept.status_changes, 0, "{why}: {swept:?}");
    for id in ids {
        assert_eq!(
            statuses(store, id).await,
            expected,
            "{why}: after the sweep"
        );
    }
}

async fn report(store: &dyn Store, name: &str, now: Timestamp) -> CandidateOutcome {
    let t = tenant(A);
    let key = store.deployment_access_key(&t).await.expect("key");
    store
        .report_candidate(
            &t,
            key.expose(),
            name,
            "10.8760.19041.1000",
            "hash-of-credential",
            now,
        )
        .await
        .expect("store")
        .expect("accepted")
}

#[tokio::test]
async fn an_activated_sensor_is_stored_as_the_engine_derives_it() {
    let db = TestDatabase::new().expect("test database");
    let store = db.open(catalogue()).await.expect("open");
    let t = tenant(A);
    let now = ts("2026-05-01T12:00:00Z");

    // Manual: reported, activated through Graph, then handed its credential.
    let CandidateOutcome::Waiting { candidate } =
        report(store.as_ref(), "dc1.contoso.com", now).await
    else {
        panic!("manual mode waits");
    };
    store
        .activate_candidates(&t, std::slice::from_ref(&candidate), now)
        .await
        .expect("activate");
    let manual = SensorId::new(candidate.as_str());
    let activated = (DeploymentStatus::Syncing, ServiceStatus::Onboarding);
    assert_eq!(statuses(store.as_ref(), &manual).await, activated);
    assert!(matches!(
        report(store.as_ref(), "dc1.contoso.com", now).await,
        CandidateOutcome::Activated {
            credential_issued: true,
            ..
        }
    ));

    // Automated: activated and handed its credential on arrival.
    store
        .save_activation_mode(&t, ActivationMode::Automated, now)
        .await
        .expect("mode");
    let CandidateOutcome::Activated { sensor: auto, .. } =
        report(store.as_ref(), "dc2.contoso.com", now).await
    else {
        panic!("automated mode activates");
    };

    full_sweep_agrees(&db, &[&manual, &auto], now, activated, "activation").await;
}

#[tokio::test]
async fn enrolments_and_settings_changes_store_what_the_engine_derives() {
    let db = TestDatabase::new().expect("test database");
    let store = db.open(catalogue()).await.expect("open");
    let t = tenant(A);
    let now = ts("2026-05-01T12:00:00Z");
    let request = EnrollRequest {
        computer_dns_name: "adfs1.contoso.com".into(),
        sensor_type: SensorType::AdfsIntegrated,
        version: "2.239.1.1".into(),
    };
    let id = super::heartbeats::enroll(store.as_ref(), &request, now).await;
    // An AD FS sensor without its DC list.
    full_sweep_agrees(
        &db,
        &[&id],
        now,
        (DeploymentStatus::NotConfigured, ServiceStatus::Starting),
        "enrolment",
    )
    .await;

    // Given its DC list, it waits for the sensor to pull it.
    let dcs = |names: Vec<String>| SettingsPatch {
        domain_controller_dns_names: Some(names),
        ..SettingsPatch::default()
    };
    store
        .save_sensor_settings(&t, &id, &dcs(vec!["dc1.contoso.com".into()]))
        .await
        .expect("store")
        .expect("patched");
    let later = now + chrono::Duration::seconds(30);
    full_sweep_agrees(
        &db,
        &[&id],
        later,
        (DeploymentStatus::Syncing, ServiceStatus::Starting),
        "DC list given",
    )
    .await;

    // Without it again, it is not configured.
    store
        .save_sensor_settings(&t, &id, &dcs(vec![]))
        .await
        .expect("store")
        .expect("patched");
    full_sweep_agrees(
        &db,
        &[&id],
        later,
        (DeploymentStatus::NotConfigured, ServiceStatus::Starting),
        "DC list removed",
    )
    .await;
}
