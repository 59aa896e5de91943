//! Two `picket serve` replicas on one PostgreSQL database, behind this test's own round-robin
//! client that fails over as a load balancer would: a fleet enrolls, checks in and is PATCHed
//! through both, one replica is killed (-9) mid-run, and afterwards no acknowledged write is
//! lost, no computer is two sensors, and the sweeps of both replicas raised each health issue
//! once. Runs when `PICKET_TEST_DATABASE_URL` is set (as in CI).

mod support;

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

const TENANT: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
const SENSORS: usize = 24;
const G: &str = "/v1.0/security/identities";

/// The test's load balancer: request `n` goes to replica `n % 2`, and to the other one when
/// that one does not answer.
struct Balancer {
    bases: Vec<String>,
    http: reqwest::Client,
}

impl Balancer {
    async fn send(
        &self,
        n: usize,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> Option<(u16, Value)> {
        for k in 0..self.bases.len() {
            let base = &self.bases[(n + k) % self.bases.len()];
            let mut r = self
                .http
                .request(method.clone(), format!("{base}{path}"))
                .timeout(Duration::from_secs(10));
            if let Some(t) = bearer {
                r = r.bearer_auth(t);
            }
            if let Some(b) = body {
                r = r.json(b);
            }
            if let Ok(resp) = r.send().await {
                let status = resp.status().as_u16();
                return Some((status, resp.json().await.unwrap_or(Value::Null)));
            }
        }
        None
    }
}

struct Enrolled {
    computer: String,
    id: String,
    credential: String,
}

#[tokio::test]
async fn two_replicas_share_one_truth_and_survive_one_dying_on_postgres() {
    use picket_store::testing::TestDatabase;
    let db = TestDatabase::new().expect("test database");
    // A migrated schema of this test's own; the replicas reach it through the URL's options.
    let Some(url) = postgres_schema_url(&db).await else {
        return; // SQLite only: the note says the PostgreSQL runs were skipped.
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (da, db_dir) = (dir.path().join("a"), dir.path().join("b"));
    picket_on(
        &url,
        &da,
        &["tenants", "create", "--id", TENANT, "--name", "Contoso"],
    );
    // Signing keys live in the database: a token minted here is good at both replicas.
    let token = picket_on(
        &url,
        &da,
        &[
            "token",
            "--tenant",
            TENANT,
            "--role",
            "SecurityIdentitiesSensors.ReadWrite.All",
            "--role",
            "SecurityIdentitiesHealth.ReadWrite.All",
        ],
    )
    .trim()
    .to_string();
    let flags = [
        "--database",
        url.as_str(),
        "--sweep-interval",
        "1",
        "--stopped-communicating-after",
        "4s",
        "--disconnected-after",
        "8s",
        "--throttle-app-writes",
        "off",
        "--throttle-tenant-writes",
        "off",
    ];
    let a = Server::start(&da, &flags);
    let mut b = Server::start(&db_dir, &flags);
    let lb = Arc::new(Balancer {
        bases: vec![a.base.clone(), b.base.clone()],
        http: reqwest::Client::new(),
    });
    let (status, key) = lb
        .send(
            0,
            reqwest::Method::GET,
            &format!("{G}/sensors/getDeploymentAccessKey()"),
            Some(&token),
            None,
        )
        .await
        .expect("an answer");
    assert_eq!(status, 200, "{key}");
    let key = key["deploymentAccessKey"]
        .as_str()
        .expect("key")
        .to_string();

    // Enrolment through both replicas; each computer enrolls a second time through the other
    // one (a re-install), which must be the same sensor.
    let mut fleet = Vec::new();
    for i in 0..SENSORS {
        let computer = format!("dc{i:02}.replicas.test");
        let body = json!({"tenantId": TENANT, "accessKey": key, "computerDnsName": computer,
                          "sensorType": "domainControllerIntegrated", "version": "2.239.18124.58593"});
        let mut ids = Vec::new();
        let mut last = None;
        for n in [i, i + 1] {
            let (status, e) = lb
                .send(
                    n,
                    reqwest::Method::POST,
                    "/agent/v1/enroll",
                    None,
                    Some(&body),
                )
                .await
                .expect("an answer");
            assert!(status == 201 || status == 200, "{status} {e}");
            ids.push(e["sensorId"].as_str().expect("id").to_string());
            last = Some(e);
        }
        assert_eq!(ids[0], ids[1], "a re-install is the same sensor");
        let last = last.expect("enrolled");
        fleet.push(Enrolled {
            computer,
            id: ids[1].clone(),
            credential: last["credential"].as_str().expect("credential").to_string(),
        });
    }
    let fleet = Arc::new(fleet);

    // Check-ins of every sensor, spread over both replicas, and PATCHes of each sensor's
    // description with a rising counter, until the test says stop; B dies in the middle.
    let stop = Arc::new(AtomicBool::new(false));
    let checkins = {
        let (lb, fleet, stop) = (lb.clone(), fleet.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0usize;
            let mut acknowledged = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // The even sensors check in; the odd ones stay silent from enrolment on.
                let s = &fleet[(2 * n) % SENSORS];
                let body = json!({"serviceStatus": "running", "version": "2.239.18124.58593",
                                  "appliedSettingsVersion": 0});
                let path = format!("/agent/v1/tenants/{TENANT}/sensors/{}/checkIn", s.id);
                if let Some((200, _)) = lb
                    .send(
                        n,
                        reqwest::Method::POST,
                        &path,
                        Some(&s.credential),
                        Some(&body),
                    )
                    .await
                {
                    acknowledged += 1;
                }
                n += 1;
            }
            acknowledged
        })
    };
    let patches = {
        let (lb, fleet, stop, token) = (lb.clone(), fleet.clone(), stop.clone(), token.clone());
        tokio::spawn(async move {
            // The last acknowledged description of each sensor.
            let mut last: Vec<Option<String>> = vec![None; SENSORS];
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let i = n % SENSORS;
                let text = format!("rev {n}");
                let body = json!({"settings": {"description": text}});
                let path = format!("{G}/sensors/{}", fleet[i].id);
                if let Some((200, _)) = lb
                    .send(n, reqwest::Method::PATCH, &path, Some(&token), Some(&body))
                    .await
                {
                    last[i] = Some(text);
                }
                n += 1;
            }
            last
        })
    };
    // Both replicas sweep every second while the odd sensors pass the 4 s threshold, so both
    // try to raise the same issues; then B dies and A carries on alone.
    tokio::time::sleep(Duration::from_millis(6000)).await;
    b.child.kill().expect("kill -9 replica B");
    let _ = b.child.wait();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    stop.store(true, Ordering::Relaxed);
    let checked_in = checkins.await.expect("check-ins");
    let last_descriptions = patches.await.expect("patches");
    assert!(checked_in > SENSORS as u64, "{checked_in} check-ins");
    // A's next sweeps see the end of the run.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // One truth: every computer is one sensor, every acknowledged PATCH is there.
    let (status, listed) = get(&a.base, &format!("{G}/sensors?$top=1000"), &token).await;
    assert_eq!(status, 200, "{listed}");
    let sensors = listed["value"].as_array().expect("value");
    assert_eq!(sensors.len(), SENSORS, "{listed}");
    for (i, s) in fleet.iter().enumerate() {
        let found: Vec<&Value> = sensors
            .iter()
            .filter(|v| v["id"] == s.id.as_str())
            .collect();
        assert_eq!(found.len(), 1, "{} is one sensor", s.computer);
        if let Some(text) = &last_descriptions[i] {
            assert_eq!(
                found[0]["settings"]["description"],
                text.as_str(),
                "the last acknowledged PATCH of {}",
                s.computer
            );
        }
    }
    // Each silent sensor has exactly one open "stopped communicating" issue, raised by the
    // sweeps of whichever replica ran them first; the ones that checked in have none.
    let (status, issues) = get(
        &a.base,
        &format!(
            "{G}/healthIssues?$top=1000&$filter=displayName eq 'Sensor stopped communicating'"
        ),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{issues}");
    let issues = issues["value"].as_array().expect("value");
    for (i, s) in fleet.iter().enumerate() {
        let fqdn = s.computer.as_str();
        let naming: Vec<&Value> = issues
            .iter()
            .filter(|v| {
                v["sensorDNSNames"].as_array().is_some_and(|names| {
                    names
                        .iter()
                        .any(|n| n.as_str().is_some_and(|n| n.eq_ignore_ascii_case(fqdn)))
                })
            })
            .collect();
        let open = naming.iter().filter(|v| v["status"] == "open").count();
        if i % 2 == 0 {
            assert_eq!(open, 0, "{fqdn} kept checking in: {naming:?}");
        } else {
            assert_eq!(
                naming.len(),
                1,
                "{fqdn}: one issue, not one per replica: {naming:?}"
            );
            assert_eq!(open, 1, "{fqdn} went silent: {naming:?}");
        }
    }
}
