//! Reads see every write at once, whatever made it. Each kind of write is made after the same
//! sensor was read twice (so anything that kept the first answer would serve the second from
//! it), and the very next read must show the write. Both engines; on PostgreSQL the other store
//! is a second replica on the same database, on SQLite another process's view of the file.

use crate::support::*;
use picket_domain::rules::SettingsPatch;
use picket_domain::time::ManualClock;
use picket_domain::{SensorId, TenantId};
use serde_json::{json, Value};
use std::sync::Arc;

async fn read_twice(app: &TestApp, id: &str) -> Value {
    let path = format!("/v1.0/security/identities/sensors/{id}");
    let first = app.get_ok(&path, &admin()).await;
    let second = app.get_ok(&path, &admin()).await;
    assert_eq!(first, second, "nothing was written between two reads");
    second
}

async fn read(app: &TestApp, id: &str) -> Value {
    app.get_ok(&format!("/v1.0/security/identities/sensors/{id}"), &admin())
        .await
}

#[tokio::test]
async fn graph_writes_to_the_sensor_and_to_its_issues_are_read_at_once() {
    let app = TestApp::standard().await;
    assert_eq!(
        read_twice(&app, DC1).await["settings"]["description"],
        "dc1 settings"
    );
    app.patch(
        &format!("/v1.0/security/identities/sensors/{DC1}"),
        &admin(),
        json!({"settings": {"description": "patched"}}),
    )
    .await
    .expect(200);
    assert_eq!(read(&app, DC1).await["settings"]["description"], "patched");

    // Closing the sensor's only open issue changes the sensor's health.
    assert_eq!(
        read_twice(&app, DC2).await["healthStatus"],
        "notHealthyHigh"
    );
    app.patch(
        &format!("/v1.0/security/identities/healthIssues/{H2}"),
        &admin(),
        json!({"status": "closed"}),
    )
    .await
    .expect(200);
    assert_eq!(read(&app, DC2).await["healthStatus"], "healthy");

    read_twice(&app, SA1).await;
    app.delete(
        &format!("/v1.0/security/identities/sensors/{SA1}"),
        &admin(),
    )
    .await
    .expect(204);
    app.get(
        &format!("/v1.0/security/identities/sensors/{SA1}"),
        &admin(),
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn check_ins_and_sweeps_are_read_at_once() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = TestApp::builder().manual_clock(clock).start().await;
    let key = app.access_key().await;
    let (id, credential) = app.enroll_dc(&key, "dc9.contoso.com").await;
    let credential = credential.as_str();
    let check_in_path = format!("/agent/v1/tenants/{TENANT_A}/sensors/{id}/checkIn");
    let check_in = |applied: u64| {
        app.send_json(
            "POST",
            &check_in_path,
            credential,
            Some(
                json!({"serviceStatus": "running", "version": PACKAGE_VERSION,
                        "appliedSettingsVersion": applied}),
            ),
        )
    };

    assert_eq!(read_twice(&app, &id).await["serviceStatus"], "starting");
    let desired = check_in(0).await.expect(200).json["desiredSettingsVersion"]
        .as_u64()
        .expect("desired settings version");
    assert_eq!(read(&app, &id).await["serviceStatus"], "running");
    check_in(desired).await.expect(200);
    assert_eq!(read_twice(&app, &id).await["deploymentStatus"], "upToDate");

    // Eleven silent minutes: the sweep the clock's advance runs disconnects it.
    app.send_json(
        "POST",
        "/admin/v1/clock/advance",
        &admin(),
        Some(json!({"by": "11m"})),
    )
    .await
    .expect(200);
    assert_eq!(read(&app, &id).await["deploymentStatus"], "disconnected");

    // Heard again: connected at once.
    read_twice(&app, &id).await;
    check_in(desired).await.expect(200);
    assert_eq!(read(&app, &id).await["deploymentStatus"], "upToDate");
}

/// A write this server did not make: another process on the SQLite file (e.g. `picket seed`
/// or an operator command), another replica on PostgreSQL.
#[tokio::test]
async fn writes_through_another_store_on_the_same_database_are_read_at_once() {
    let app = TestApp::standard().await;
    let other = app.another_store().await;
    let tenant = TenantId::new(TENANT_A);
    for round in 0..3 {
        read_twice(&app, DC1).await;
        let description = format!("written elsewhere {round}");
        let saved = other
            .save_sensor_settings(
                &tenant,
                &SensorId::new(DC1),
                &SettingsPatch {
                    description: Some(Some(description.clone())),
                    ..SettingsPatch::default()
                },
            )
            .await
            .expect("write through the other store");
        assert!(saved.is_some(), "the other store knows the sensor");
        assert_eq!(
            read(&app, DC1).await["settings"]["description"],
            description.as_str()
        );
    }

    read_twice(&app, FAB).await;
    let deleted = other
        .delete_sensor(&tenant, &SensorId::new(FAB), chrono::Utc::now())
        .await
        .expect("delete through the other store");
    assert!(deleted);
    app.get(
        &format!("/v1.0/security/identities/sensors/{FAB}"),
        &admin(),
    )
    .await
    .expect(404);
}
