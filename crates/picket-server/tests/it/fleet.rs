//! The living fleet over the agent protocol, on a manual clock: enrolment with the access key,
//! check-ins, silence turning into issues and statuses, settings sync, deletion, re-install.

use crate::support::*;
use picket_domain::time::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

struct Fleet {
    app: TestApp,
}

impl Fleet {
    async fn start() -> Fleet {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let app = TestApp::builder().manual_clock(clock).start().await;
        Fleet { app }
    }

    async fn access_key(&self) -> String {
        self.app.access_key().await
    }

    async fn enroll(&self, key: &str, name: &str) -> Resp {
        self.app
            .send_json(
                "POST",
                "/agent/v1/enroll",
                "unused",
                Some(json!({"tenantId": TENANT_A, "accessKey": key, "computerDnsName": name,
                            "sensorType": "domainControllerIntegrated", "version": PACKAGE_VERSION})),
            )
            .await
    }

    async fn check_in(&self, sensor: &str, credential: &str, body: Value) -> Resp {
        self.app
            .send_json(
                "POST",
                &format!("/agent/v1/tenants/{TENANT_A}/sensors/{sensor}/checkIn"),
                credential,
                Some(body),
            )
            .await
    }

    async fn advance(&self, by: &str) -> Value {
        self.app
            .send_json(
                "POST",
                "/admin/v1/clock/advance",
                &admin(),
                Some(json!({ "by": by })),
            )
            .await
            .expect(200)
            .json
    }

    async fn sensor(&self, id: &str) -> Value {
        self.app
            .get_ok(&format!("/beta/security/identities/sensors/{id}"), &admin())
            .await
    }

    async fn issues(&self, id: &str) -> Vec<Value> {
        self.app
            .get_ok(
                &format!("/beta/security/identities/sensors/{id}/healthIssues"),
                &admin(),
            )
            .await["value"]
            .as_array()
            .expect("value")
            .clone()
    }
}

fn running(applied: u64) -> Value {
    json!({"serviceStatus": "running", "version": PACKAGE_VERSION, "appliedSettingsVersion": applied})
}

#[tokio::test]
async fn enrolled_sensor_goes_silent_disconnects_and_recovers() {
    let f = Fleet::start().await;
    let key = f.access_key().await;
    let enrolled = f.enroll(&key, "DC7.Contoso.com").await.expect(201);
    let id = enrolled.json["sensorId"].as_str().expect("id").to_string();
    let credential = enrolled.json["credential"]
        .as_str()
        .expect("cred")
        .to_string();
    let sensor = f.sensor(&id).await;
    assert_eq!(sensor["displayName"], "dc7");
    assert_eq!(sensor["domainName"], "contoso.com");
    assert_eq!(sensor["serviceStatus"], "starting");

    let answer = f.check_in(&id, &credential, running(0)).await.expect(200);
    assert_eq!(answer.json["command"]["type"], "none");
    let desired = answer.json["desiredSettingsVersion"]
        .as_u64()
        .expect("version");
    f.check_in(&id, &credential, running(desired))
        .await
        .expect(200);
    let sensor = f.sensor(&id).await;
    assert_eq!(
        (
            sensor["deploymentStatus"].as_str(),
            sensor["serviceStatus"].as_str(),
            sensor["healthStatus"].as_str()
        ),
        (Some("upToDate"), Some("running"), Some("healthy"))
    );

    // Five minutes of silence: the issue is raised; ten: disconnected, and the issue is high.
    f.advance("6m").await;
    let issues = f.issues(&id).await;
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0]["displayName"], "Sensor stopped communicating");
    assert_eq!(issues[0]["status"], "open");
    assert_eq!(issues[0]["sensorDNSNames"], json!(["dc7.contoso.com"]));
    assert_eq!(f.sensor(&id).await["deploymentStatus"], "upToDate");
    let swept = f.advance("5m").await;
    assert!(
        swept["sweep"]["statusChanges"].as_u64() >= Some(1),
        "{swept}"
    );
    let sensor = f.sensor(&id).await;
    assert_eq!(
        (
            sensor["deploymentStatus"].as_str(),
            sensor["serviceStatus"].as_str(),
            sensor["healthStatus"].as_str()
        ),
        (
            Some("disconnected"),
            Some("unknown"),
            Some("notHealthyHigh")
        )
    );
    let issue_id = f.issues(&id).await[0]["id"].clone();

    // Heard again: the issue closes (the same issue), statuses return.
    f.check_in(&id, &credential, running(desired))
        .await
        .expect(200);
    let sensor = f.sensor(&id).await;
    assert_eq!(
        (
            sensor["deploymentStatus"].as_str(),
            sensor["healthStatus"].as_str()
        ),
        (Some("upToDate"), Some("healthy"))
    );
    let issues = f.issues(&id).await;
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["id"], issue_id);
    assert_eq!(issues[0]["status"], "closed");

    // Silent again: the closed issue reopens rather than a duplicate being raised.
    f.advance("6m").await;
    let issues = f.issues(&id).await;
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0]["id"].clone(), issues[0]["status"].as_str()),
        (issue_id.clone(), Some("open"))
    );

    // Suppressed by an admin: stays suppressed while the silence lasts.
    app_patch_issue(&f.app, issue_id.as_str().expect("id"), "suppressed").await;
    f.advance("1h").await;
    assert_eq!(f.issues(&id).await[0]["status"], "suppressed");
}

async fn app_patch_issue(app: &TestApp, id: &str, status: &str) {
    app.patch(
        &format!("/beta/security/identities/healthIssues/{id}"),
        &admin(),
        json!({ "status": status }),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn settings_sync_keys_deletion_and_reinstall() {
    let f = Fleet::start().await;
    let key = f.access_key().await;
    let enrolled = f.enroll(&key, "dc8.contoso.com").await.expect(201);
    let id = enrolled.json["sensorId"].as_str().expect("id").to_string();
    let credential = enrolled.json["credential"]
        .as_str()
        .expect("cred")
        .to_string();
    let v1 = f.check_in(&id, &credential, running(0)).await.json["desiredSettingsVersion"]
        .as_u64()
        .expect("v");
    f.check_in(&id, &credential, running(v1)).await.expect(200);

    // A PATCH through Graph: syncing at once (in the answer and on reads), until the sensor
    // acknowledges the new settings.
    let patched = f
        .app
        .patch(
            &format!("/beta/security/identities/sensors/{id}"),
            &admin(),
            json!({"settings": {"description": "moved to rack 4"}}),
        )
        .await
        .expect(200);
    assert_eq!(patched.json["deploymentStatus"], "syncing");
    assert_eq!(f.sensor(&id).await["deploymentStatus"], "syncing");
    let answer = f.check_in(&id, &credential, running(v1)).await.expect(200);
    let v2 = answer.json["desiredSettingsVersion"].as_u64().expect("v");
    assert_eq!(v2, v1 + 1);
    assert_eq!(answer.json["settings"]["description"], "moved to rack 4");
    assert_eq!(f.sensor(&id).await["deploymentStatus"], "syncing");
    f.check_in(&id, &credential, running(v2)).await.expect(200);
    assert_eq!(f.sensor(&id).await["deploymentStatus"], "upToDate");

    // Host issues the sensor reports are raised, and closed when no longer reported.
    let mut body = running(v2);
    body["hostIssues"] = json!([{"issueTypeId": "1033", "displayName": "NTLM Auditing is not enabled", "severity": "medium"}]);
    f.check_in(&id, &credential, body).await.expect(200);
    let issues = f.issues(&id).await;
    assert_eq!(issues[0]["displayName"], "NTLM Auditing is not enabled");
    assert_eq!(f.sensor(&id).await["healthStatus"], "notHealthyMedium");
    f.check_in(&id, &credential, running(v2)).await.expect(200);
    assert_eq!(f.issues(&id).await[0]["status"], "closed");

    // Regenerating the key stops new enrolments with the old key, not the enrolled sensor.
    f.app
        .post(
            "/v1.0/security/identities/sensors/regenerateDeploymentAccessKey",
            &admin(),
            None,
        )
        .await
        .expect(200);
    let refused = f.enroll(&key, "dc9.contoso.com").await;
    assert_eq!(
        (refused.status, refused.json["error"]["code"].as_str()),
        (401, Some("InvalidAccessKey"))
    );
    f.check_in(&id, &credential, running(v2)).await.expect(200);
    // A wrong credential is refused.
    assert_eq!(f.check_in(&id, "forged", running(v2)).await.status, 401);

    // A re-install of the same computer: same sensor, new credential; the old one stops.
    let new_key = f.access_key().await;
    let again = f.enroll(&new_key, "DC8.contoso.com").await.expect(200);
    assert_eq!(again.json["sensorId"], id.as_str());
    assert_eq!(again.json["reinstalled"], true);
    assert_eq!(f.check_in(&id, &credential, running(v2)).await.status, 401);
    let credential = again.json["credential"].as_str().expect("cred").to_string();

    // Deleted through Graph: the agent is told to stop.
    f.app
        .delete(&format!("/beta/security/identities/sensors/{id}"), &admin())
        .await
        .expect(204);
    let stop = f.check_in(&id, &credential, running(v2)).await.expect(200);
    assert_eq!(stop.json["command"]["type"], "stop");
    f.app
        .get(&format!("/beta/security/identities/sensors/{id}"), &admin())
        .await
        .expect(404);
}

#[tokio::test]
async fn agent_inputs_are_validated_and_the_clock_is_guarded() {
    let f = Fleet::start().await;
    let key = f.access_key().await;
    let bad_bodies = [
        json!({"tenantId": "nope", "accessKey": key, "computerDnsName": "a.b", "sensorType": "adfsIntegrated", "version": "2.1.0"}),
        json!({"tenantId": TENANT_A, "accessKey": key, "computerDnsName": "a.b", "sensorType": "printer", "version": "2.1.0"}),
        json!({"tenantId": TENANT_A, "accessKey": key, "computerDnsName": "no-domain", "sensorType": "adfsIntegrated", "version": "2.1.0"}),
        json!({"tenantId": TENANT_A, "accessKey": key, "computerDnsName": "a.b", "sensorType": "adfsIntegrated", "version": "3.1.0.0"}),
        json!({"tenantId": TENANT_A, "accessKey": key, "computerDnsName": "a.b", "sensorType": "adfsIntegrated", "version": "2.1.0", "extra": 1}),
        json!([1, 2]),
    ];
    for body in bad_bodies {
        let r = f
            .app
            .send_json("POST", "/agent/v1/enroll", "x", Some(body.clone()))
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.json["error"]["message"].is_string());
    }
    let before = f.app.snapshot(&admin()).await;
    let enrolled = f.enroll(&key, "adfs1.contoso.com").await.expect(201);
    let id = enrolled.json["sensorId"].as_str().expect("id").to_string();
    let credential = enrolled.json["credential"]
        .as_str()
        .expect("cred")
        .to_string();
    for body in [
        json!({"serviceStatus": "exploded", "version": "2.1.0"}),
        json!({"serviceStatus": "running", "version": "x"}),
        json!({"serviceStatus": "running", "version": "2.1.0", "update": {"state": "failed"}}),
        json!({"serviceStatus": "running", "version": "2.1.0", "hostIssues": [{"issueTypeId": "1", "displayName": "x", "severity": "apocalyptic"}]}),
    ] {
        assert_eq!(f.check_in(&id, &credential, body).await.status, 400);
    }
    assert_ne!(
        f.app.snapshot(&admin()).await,
        before,
        "the enrolment itself was stored"
    );
    // The clock needs a write token.
    let r = f
        .app
        .send_json(
            "POST",
            "/admin/v1/clock/advance",
            &app_token(TENANT_A, &[SENSORS_READ]),
            Some(json!({"by": "1m"})),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = f
        .app
        .send_json(
            "POST",
            "/admin/v1/clock/advance",
            &admin(),
            Some(json!({"by": "soon"})),
        )
        .await;
    assert_eq!(r.status, 400);
    // A wall-clock server has no clock to move.
    let wall = TestApp::empty().await;
    let r = wall
        .send_json(
            "POST",
            "/admin/v1/clock/advance",
            &admin(),
            Some(json!({"by": "1m"})),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn candidates_wait_get_activated_and_become_unified_sensors() {
    let f = Fleet::start().await;
    let key = f.access_key().await;
    let report = |name: &'static str| {
        let key = key.clone();
        let app = &f.app;
        async move {
            app.send_json(
                "POST",
                "/agent/v1/candidates/report",
                "unused",
                Some(
                    json!({"tenantId": TENANT_A, "accessKey": key, "computerDnsName": name,
                            "senseClientVersion": "10.8760.19041.1000"}),
                ),
            )
            .await
        }
    };
    // Manual mode: it waits in sensorCandidates; reporting again does not duplicate it.
    let waiting = report("dc20.contoso.com").await.expect(202);
    let candidate = waiting.json["candidateId"]
        .as_str()
        .expect("id")
        .to_string();
    report("DC20.contoso.com").await.expect(202);
    let listed = f
        .app
        .get_ok("/beta/security/identities/sensorCandidates", &admin())
        .await;
    assert_eq!(listed["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["value"][0]["id"], candidate.as_str());

    // Activated through Graph: the next report says so and hands out the credential, once.
    f.app
        .post(
            "/beta/security/identities/sensorCandidates/activate",
            &admin(),
            Some(json!({"serverIds": [candidate]})),
        )
        .await
        .expect(200);
    let activated = report("dc20.contoso.com").await.expect(200);
    assert_eq!(activated.json["state"], "activated");
    assert_eq!(activated.json["sensorId"], candidate.as_str());
    let credential = activated.json["credential"]
        .as_str()
        .expect("credential")
        .to_string();
    let again = report("dc20.contoso.com").await.expect(200);
    assert!(again.json["credential"].is_null());
    assert_eq!(f.sensor(&candidate).await["serviceStatus"], "onboarding");
    let unified =
        json!({"serviceStatus": "running", "version": "3.1.25311.1", "appliedSettingsVersion": 1});
    f.check_in(&candidate, &credential, unified)
        .await
        .expect(200);
    let sensor = f.sensor(&candidate).await;
    assert_eq!(
        (
            sensor["serviceStatus"].as_str(),
            sensor["deploymentStatus"].as_str()
        ),
        (Some("running"), Some("upToDate"))
    );

    // Automated mode: a new machine is activated on arrival.
    f.app
        .patch(
            "/beta/security/identities/sensorCandidateActivationConfiguration",
            &admin(),
            json!({"activationMode": "automated"}),
        )
        .await
        .expect(200);
    let auto = report("dc21.contoso.com").await.expect(200);
    assert_eq!(auto.json["state"], "activated");
    assert!(auto.json["credential"].is_string());
    let listed = f
        .app
        .get_ok("/beta/security/identities/sensorCandidates", &admin())
        .await;
    assert_eq!(listed["value"].as_array().map(Vec::len), Some(0));
    // A wrong key is refused.
    let refused = f
        .app
        .send_json(
            "POST",
            "/agent/v1/candidates/report",
            "unused",
            Some(json!({"tenantId": TENANT_A, "accessKey": "nope", "computerDnsName": "dc22.contoso.com",
                        "senseClientVersion": "10.8760.19041.1000"})),
        )
        .await;
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn publishing_a_release_rolls_it_out_one_per_domain_and_delayed_later() {
    let f = Fleet::start().await;
    let key = f.access_key().await;
    let mut sensors = Vec::new();
    for name in [
        "r1.contoso.com",
        "r2.contoso.com",
        "r3.fabrikam.com",
        "r4.contoso.com",
    ] {
        let e = f.enroll(&key, name).await.expect(201);
        sensors.push((
            e.json["sensorId"].as_str().expect("id").to_string(),
            e.json["credential"].as_str().expect("cred").to_string(),
        ));
    }
    let delayed = &sensors[3];
    f.app
        .patch(
            &format!("/beta/security/identities/sensors/{}", delayed.0),
            &admin(),
            json!({"settings": {"isDelayedDeploymentEnabled": true}}),
        )
        .await
        .expect(200);
    let state = |s: &str, target: Option<&str>| match target {
        Some(t) => {
            json!({"serviceStatus": "running", "version": PACKAGE_VERSION, "appliedSettingsVersion": 9,
                          "update": {"state": s, "targetVersion": t}})
        }
        None => {
            json!({"serviceStatus": "running", "version": PACKAGE_VERSION, "appliedSettingsVersion": 9})
        }
    };
    // Nothing newer than what runs: no command.
    let answer = f
        .check_in(&sensors[0].0, &sensors[0].1, state("idle", None))
        .await
        .expect(200);
    assert_eq!(answer.json["command"]["type"], "none");

    f.app
        .store
        .publish_release("2.240.18200.1", chrono::Utc::now())
        .await
        .expect("publish");
    f.advance("1m").await;
    let package = f
        .app
        .get_ok(
            "/beta/security/identities/sensors/getDeploymentPackageUri()",
            &admin(),
        )
        .await;
    assert_eq!(package["version"], "2.240.18200.1");
    let cmd = |r: &Resp| r.json["command"].clone();
    let r1 = f
        .check_in(&sensors[0].0, &sensors[0].1, state("idle", None))
        .await
        .expect(200);
    assert_eq!(
        cmd(&r1),
        json!({"type": "update", "version": "2.240.18200.1"})
    );
    f.check_in(
        &sensors[0].0,
        &sensors[0].1,
        state("inProgress", Some("2.240.18200.1")),
    )
    .await
    .expect(200);
    assert_eq!(
        f.sensor(&sensors[0].0).await["deploymentStatus"],
        "updating"
    );
    // One at a time per domain: r2 waits, r3 (another domain) goes.
    let r2 = f
        .check_in(&sensors[1].0, &sensors[1].1, state("idle", None))
        .await
        .expect(200);
    assert_eq!(cmd(&r2)["type"], "none");
    let r3 = f
        .check_in(&sensors[2].0, &sensors[2].1, state("idle", None))
        .await
        .expect(200);
    assert_eq!(cmd(&r3)["type"], "update");
    // r1 fails: updateFailed, a health issue, and it is not told to retry the same release.
    let failed = f
        .check_in(
            &sensors[0].0,
            &sensors[0].1,
            state("failed", Some("2.240.18200.1")),
        )
        .await
        .expect(200);
    assert_eq!(cmd(&failed)["type"], "none");
    assert_eq!(
        f.sensor(&sensors[0].0).await["deploymentStatus"],
        "updateFailed"
    );
    let issues = f.issues(&sensors[0].0).await;
    assert_eq!(issues[0]["displayName"], "Sensor update failed");
    assert_eq!(issues[0]["status"], "open");
    // The domain's slot is free again: r2 goes.
    let r2 = f
        .check_in(&sensors[1].0, &sensors[1].1, state("idle", None))
        .await
        .expect(200);
    assert_eq!(cmd(&r2)["type"], "update");
    // The delayed ring waits 72 hours.
    let d = f
        .check_in(&delayed.0, &delayed.1, state("idle", None))
        .await
        .expect(200);
    assert_eq!(cmd(&d)["type"], "none");
    let mut done = state("idle", None);
    done["version"] = json!("2.240.18200.1");
    f.check_in(&sensors[1].0, &sensors[1].1, done.clone())
        .await
        .expect(200);
    assert_eq!(f.sensor(&sensors[1].0).await["version"], "2.240.18200.1");
    f.advance("73h").await;
    let d = f
        .check_in(&delayed.0, &delayed.1, state("idle", None))
        .await
        .expect(200);
    assert_eq!(cmd(&d)["type"], "update");
    // A repeated publish is refused politely.
    assert!(!f
        .app
        .store
        .publish_release("2.240.18200.1", chrono::Utc::now())
        .await
        .expect("publish"));
}

#[tokio::test]
async fn global_issues_aggregate_sensors_and_domains() {
    let f = Fleet::start().await;
    let key = f.access_key().await;
    let mut sensors = Vec::new();
    for name in ["g1.contoso.com", "g2.fabrikam.com"] {
        let e = f.enroll(&key, name).await.expect(201);
        let (id, cred) = (
            e.json["sensorId"].as_str().expect("id").to_string(),
            e.json["credential"].as_str().expect("cred").to_string(),
        );
        f.check_in(&id, &cred, running(1)).await.expect(200);
        sensors.push((id, cred));
    }
    let global = || async {
        let list = f
            .app
            .get_ok(
                "/beta/security/identities/healthIssues?$filter=healthIssueType eq 'global'",
                &admin(),
            )
            .await;
        list["value"].as_array().expect("value").clone()
    };
    // Three newer releases make both sensors outdated: one global issue lists them.
    for v in ["2.240.1.1", "2.241.1.1", "2.242.1.1"] {
        f.app
            .store
            .publish_release(v, chrono::Utc::now())
            .await
            .expect("publish");
    }
    f.advance("1m").await;
    assert_eq!(
        f.sensor(&sensors[0].0).await["deploymentStatus"],
        "outdated"
    );
    let g = global().await;
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0]["displayName"], "Sensors outdated");
    assert_eq!(
        g[0]["sensorDNSNames"],
        json!(["g1.contoso.com", "g2.fabrikam.com"])
    );
    assert_eq!(g[0]["domainNames"], json!(["contoso.com", "fabrikam.com"]));
    // One is updated: the global issue lists only the other.
    let mut updated = running(1);
    updated["version"] = json!("2.242.1.1");
    f.check_in(&sensors[0].0, &sensors[0].1, updated.clone())
        .await
        .expect(200);
    f.advance("1m").await;
    let g = global().await;
    assert_eq!(g[0]["sensorDNSNames"], json!(["g2.fabrikam.com"]));
    assert_eq!(g[0]["status"], "open");
    // Both updated: closed (the same issue).
    f.check_in(&sensors[1].0, &sensors[1].1, updated.clone())
        .await
        .expect(200);
    f.check_in(&sensors[0].0, &sensors[0].1, updated)
        .await
        .expect(200);
    f.advance("1m").await;
    let after = global().await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["id"], g[0]["id"]);
    assert_eq!(after[0]["status"], "closed");
}

#[tokio::test]
async fn sweeps_look_at_silent_sensors_and_at_every_sensor_after_a_release() {
    let f = Fleet::start().await;
    let key = f.access_key().await;
    let mut sensors = Vec::new();
    for name in ["dc1.sweep.test", "dc2.sweep.test", "dc3.sweep.test"] {
        let e = f.enroll(&key, name).await.expect(201);
        let id = e.json["sensorId"].as_str().expect("id").to_string();
        let credential = e.json["credential"].as_str().expect("cred").to_string();
        f.check_in(&id, &credential, running(0)).await.expect(200);
        sensors.push((id, credential));
    }
    let evaluated = |v: &Value| v["sweep"]["sensors"].as_u64();
    // The first sweep of a store looks at every sensor.
    assert_eq!(evaluated(&f.advance("1m").await), Some(3));
    // Then only silent ones: none yet, 3 minutes after the last check-ins.
    assert_eq!(evaluated(&f.advance("2m").await), Some(0));
    // dc1 keeps checking in; dc2 and dc3 fall silent past five minutes.
    f.check_in(&sensors[0].0, &sensors[0].1, running(1))
        .await
        .expect(200);
    let swept = f.advance("3m").await;
    assert_eq!(evaluated(&swept), Some(2), "{swept}");
    assert_eq!(
        f.issues(&sensors[1].0).await[0]["displayName"],
        "Sensor stopped communicating"
    );
    assert!(f.issues(&sensors[0].0).await.is_empty());
    // A published release concerns every sensor: the next sweep looks at all three.
    f.app
        .store
        .publish_release("2.250.1.1", chrono::Utc::now())
        .await
        .expect("publish");
    f.check_in(&sensors[0].0, &sensors[0].1, running(1))
        .await
        .expect(200);
    assert_eq!(evaluated(&f.advance("10s").await), Some(3));
}

#[tokio::test]
async fn repeated_check_ins_are_heartbeats_that_still_see_every_change() {
    let f = Fleet::start().await;
    let key = f.access_key().await;
    let e = f.enroll(&key, "dc1.heartbeat.test").await.expect(201);
    let id = e.json["sensorId"].as_str().expect("id").to_string();
    let cred = e.json["credential"].as_str().expect("cred").to_string();
    let v = f.check_in(&id, &cred, running(0)).await.json["desiredSettingsVersion"]
        .as_u64()
        .expect("v");
    f.check_in(&id, &cred, running(v)).await.expect(200);
    assert_eq!(f.sensor(&id).await["deploymentStatus"], "upToDate");

    // A heartbeat 20 s later counts as being heard from: 4 min 50 s after it (5 min 10 s after
    // the last full check-in) the sensor has not stopped communicating.
    f.advance("20s").await;
    let beat = f.check_in(&id, &cred, running(v)).await.expect(200);
    assert_eq!(beat.json["command"]["type"], "none");
    assert_eq!(beat.json["deploymentStatus"], "upToDate");
    f.advance("290s").await;
    assert!(f.issues(&id).await.is_empty(), "{:?}", f.issues(&id).await);
    f.advance("20s").await;
    assert_eq!(
        f.issues(&id).await[0]["displayName"],
        "Sensor stopped communicating"
    );
    // Back: a full check-in closes the issue; the next one is a heartbeat again.
    f.check_in(&id, &cred, running(v)).await.expect(200);
    assert_eq!(f.issues(&id).await[0]["status"], "closed");
    f.check_in(&id, &cred, running(v)).await.expect(200);

    // Every change reaches the very next check-in: settings,
    f.app
        .patch(
            &format!("/beta/security/identities/sensors/{id}"),
            &admin(),
            json!({"settings": {"description": "rack 9"}}),
        )
        .await
        .expect(200);
    let a = f.check_in(&id, &cred, running(v)).await.expect(200);
    assert_eq!(a.json["desiredSettingsVersion"], v + 1);
    assert_eq!(a.json["settings"]["description"], "rack 9");
    f.check_in(&id, &cred, running(v + 1)).await.expect(200);
    f.check_in(&id, &cred, running(v + 1)).await.expect(200);
    // a release to roll out,
    f.app
        .store
        .publish_release("2.250.1.1", chrono::Utc::now())
        .await
        .expect("publish");
    f.advance("1s").await;
    let a = f.check_in(&id, &cred, running(v + 1)).await.expect(200);
    assert_eq!(
        a.json["command"],
        json!({"type": "update", "version": "2.250.1.1"})
    );
    // a wrong credential, and the sensor's deletion.
    f.check_in(&id, "not-the-credential", running(v + 1))
        .await
        .expect(401);
    f.app
        .delete(&format!("/beta/security/identities/sensors/{id}"), &admin())
        .await
        .expect(204);
    let a = f.check_in(&id, &cred, running(v + 1)).await.expect(200);
    assert_eq!(a.json["command"]["type"], "stop");
}
