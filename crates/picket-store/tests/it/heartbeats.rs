//! Check-ins through two stores on one database (two replicas on PostgreSQL, two processes on
//! one SQLite file): a heartbeat's heard-from time reaches the other replica within a flush,
//! a change made through one replica reaches the other's very next check-in, and check-ins of
//! many sensors at once through both lose nothing.

use super::{catalogue, tenant, ts, A};
use picket_domain::rules::SettingsPatch;
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_store::fleet::{
    AgentCommand, CheckInAnswer, CheckInReport, EnrollRequest, FleetPolicy, UpdateReport,
};
use picket_store::testing::TestDatabase;
use picket_store::Store;
use std::sync::Arc;
use std::time::Duration;

fn report(applied: u64) -> CheckInReport {
    CheckInReport {
        service_status: ServiceStatus::Running,
        version: "2.239.1.1".into(),
        applied_settings_version: applied,
        update: UpdateReport::Idle,
        host_issues: vec![],
    }
}

async fn check_in(
    store: &dyn Store,
    sensor: &SensorId,
    applied: u64,
    now: Timestamp,
) -> CheckInAnswer {
    store
        .check_in(
            &tenant(A),
            sensor,
            "hash-of-credential",
            &report(applied),
            now,
            &FleetPolicy::default(),
        )
        .await
        .expect("store")
        .expect("accepted")
}

/// Enrolls a classic sensor of tenant A with its deployment access key; returns its id.
pub(super) async fn enroll(store: &dyn Store, request: &EnrollRequest, now: Timestamp) -> SensorId {
    let t = tenant(A);
    let key = store.deployment_access_key(&t).await.expect("key");
    store
        .enroll(
            &t,
            key.expose(),
            request,
            "hash-of-credential",
            now,
            &FleetPolicy::default(),
        )
        .await
        .expect("store")
        .expect("enrolled")
        .sensor
        .id
}

/// Enrolls `name` through `store` and brings it to `upToDate` (first check-in, then the
/// settings acknowledgement); returns its id and settings version.
async fn enrolled(store: &dyn Store, name: &str, now: Timestamp) -> (SensorId, u64) {
    let request = EnrollRequest {
        computer_dns_name: format!("{name}.contoso.com"),
        sensor_type: SensorType::DomainControllerIntegrated,
        version: "2.239.1.1".into(),
    };
    let sensor = enroll(store, &request, now).await;
    let v = check_in(store, &sensor, 0, now)
        .await
        .desired_settings_version;
    let answer = check_in(store, &sensor, v, now).await;
    assert_eq!(
        answer.sensor.expect("sensor").deployment_status,
        DeploymentStatus::UpToDate
    );
    (sensor, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_reach_the_other_replica_within_a_flush_and_see_its_changes() {
    let db = TestDatabase::new().expect("test database");
    let (a, b) = (
        db.open(catalogue()).await.expect("open a"),
        db.open(catalogue()).await.expect("open b"),
    );
    let t0 = ts("2026-05-01T12:00:00Z");
    let (id, v) = enrolled(a.as_ref(), "dc1", t0).await;

    // A heartbeat through A, four minutes on; B sweeps eleven minutes after the enrolment.
    // Had A's heard-from time stayed in A, B would find the sensor silent for ten minutes.
    let beat = check_in(a.as_ref(), &id, v, t0 + chrono::Duration::minutes(4)).await;
    assert_eq!(beat.command, AgentCommand::None);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let swept = b
        .sweep(t0 + chrono::Duration::minutes(11), &FleetPolicy::default())
        .await
        .expect("sweep");
    assert_eq!(swept.status_changes, 0, "{swept:?}");
    let s = b
        .find_sensor(&tenant(A), &id)
        .await
        .expect("find")
        .expect("sensor");
    assert_eq!(s.deployment_status, DeploymentStatus::UpToDate);

    // Silent for ten minutes after that heartbeat: B's sweep disconnects it.
    let swept = b
        .sweep(t0 + chrono::Duration::minutes(15), &FleetPolicy::default())
        .await
        .expect("sweep");
    assert_eq!(swept.status_changes, 1, "{swept:?}");

    // Back, then a settings change through B reaches A's very next check-in.
    let t1 = t0 + chrono::Duration::minutes(16);
    check_in(a.as_ref(), &id, v, t1).await;
    check_in(a.as_ref(), &id, v, t1).await;
    let patch = SettingsPatch {
        description: Some(Some("rack 9".into())),
        ..SettingsPatch::default()
    };
    b.save_sensor_settings(&tenant(A), &id, &patch)
        .await
        .expect("store")
        .expect("patched");
    let answer = check_in(a.as_ref(), &id, v, t1 + chrono::Duration::seconds(5)).await;
    assert_eq!(answer.desired_settings_version, v + 1);
    let s = answer.sensor.expect("sensor");
    assert_eq!(s.settings.description.as_deref(), Some("rack 9"));
    assert_eq!(s.deployment_status, DeploymentStatus::Syncing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_check_ins_through_two_replicas_lose_nothing() {
    let db = TestDatabase::new().expect("test database");
    let replicas: Vec<Arc<dyn Store>> = vec![
        db.open(catalogue()).await.expect("open a"),
        db.open(catalogue()).await.expect("open b"),
    ];
    let t0 = ts("2026-05-01T12:00:00Z");
    let mut sensors = Vec::new();
    for i in 0..24 {
        sensors.push(enrolled(replicas[i % 2].as_ref(), &format!("dc{i}"), t0).await);
    }
    // Every sensor checks in 20 times, alternating replicas, all sensors at once; half of them
    // report a host issue halfway, which a full check-in must raise.
    let tasks: Vec<_> = sensors
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, (id, v))| {
            let replicas = replicas.clone();
            tokio::spawn(async move {
                for n in 0..20u32 {
                    let mut r = report(v);
                    if i % 2 == 0 && n >= 10 {
                        r.host_issues = vec![picket_store::fleet::HostIssue {
                            issue_type_id: "1031".into(),
                            display_name: "Directory Services Object Auditing".into(),
                            severity: HealthIssueSeverity::Medium,
                        }];
                    }
                    let now = t0 + chrono::Duration::seconds(i64::from(n) * 10);
                    replicas[(i + n as usize) % 2]
                        .check_in(
                            &tenant(A),
                            &id,
                            "hash-of-credential",
                            &r,
                            now,
                            &FleetPolicy::default(),
                        )
                        .await
                        .expect("store")
                        .expect("accepted");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("check-ins");
    }
    for (i, (id, _)) in sensors.iter().enumerate() {
        let s = replicas[0]
            .find_sensor(&tenant(A), id)
            .await
            .expect("find")
            .expect("sensor");
        let expected = if i % 2 == 0 { 1 } else { 0 };
        assert_eq!(s.open_health_issues_count, expected, "{s:?}");
    }
}
