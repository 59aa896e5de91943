//! Real `picket-agent` processes against a real `picket serve --clock manual`: enrolment,
//! silence and recovery, settings sync, key regeneration, deletion, candidates, a failed update.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const TENANT: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";

fn agent_bin() -> PathBuf {
    let path = Path::new(BIN).with_file_name("picket-agent");
    assert!(
        path.exists(),
        "{} is missing: cargo build -p picket-agent",
        path.display()
    );
    path
}

struct Agent {
    child: Child,
    out: std::sync::mpsc::Receiver<String>,
}

impl Agent {
    fn start(base: &str, key: &str, computer: &str, state: &Path, extra: &[&str]) -> Agent {
        Agent::start_with("--endpoint", base, key, computer, state, extra)
    }

    /// `endpoint_flag` is `--endpoint`, or `--server` (its older name, still accepted).
    fn start_with(
        endpoint_flag: &str,
        base: &str,
        key: &str,
        computer: &str,
        state: &Path,
        extra: &[&str],
    ) -> Agent {
        let mut child = Command::new(agent_bin())
            .args([
                "run",
                endpoint_flag,
                base,
                "--tenant",
                TENANT,
                "--access-key",
                key,
                "--computer",
                computer,
                "--check-in-every",
                "100ms",
                "--state-dir",
            ])
            .arg(state)
            .args(extra)
            .env_remove("PICKET_ENDPOINT")
            .env_remove("PICKET_SERVER")
            .env("PICKET_AGENT_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("agent starts");
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Agent { child, out: rx }
    }

    fn wait_for_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(line) = self.out.recv_timeout(Duration::from_millis(200)) {
                if line.contains(needle) {
                    return line;
                }
            }
        }
        panic!("agent never printed '{needle}'");
    }

    fn exit(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("agent did not exit");
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Env {
    server: Server,
    token: String,
    dir: tempfile::TempDir,
}

impl Env {
    async fn graph(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = reqwest::Client::new();
        let mut r = client
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.server.base),
            )
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn sensor_named(&self, name: &str) -> Option<Value> {
        let (_, list) = self
            .graph(
                "GET",
                &format!("/beta/security/identities/sensors?$filter=displayName eq '{name}'"),
                None,
            )
            .await;
        list["value"].as_array().and_then(|v| v.first().cloned())
    }

    /// Polls until `check` holds for the sensor (agents check in every 100 ms).
    async fn until(&self, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.sensor_named(name).await {
                if check(&s) {
                    return s;
                }
                if Instant::now() > deadline {
                    panic!("{name}: never {what}; last seen {s}");
                }
            } else if Instant::now() > deadline {
                panic!("{name}: never appeared");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn advance(&self, by: &str) {
        let out = Command::new(BIN)
            .args([
                "clock",
                "advance",
                by,
                "--server",
                &self.server.base,
                "--token",
                &self.token,
            ])
            .output()
            .expect("clock advance");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn issues(&self, id: &str) -> Vec<Value> {
        self.graph(
            "GET",
            &format!("/beta/security/identities/sensors/{id}/healthIssues"),
            None,
        )
        .await
        .1["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn key(&self) -> String {
        self.graph(
            "GET",
            "/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            None,
        )
        .await
        .1["deploymentAccessKey"]
            .as_str()
            .expect("key")
            .to_string()
    }
}

async fn env() -> Env {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(dir.path(), &["--clock", "manual", "--demo"]);
    let token = server
        .lines
        .iter()
        .filter(|l| l.starts_with("export "))
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| w.strip_prefix("PICKET_TOKEN="))
        .expect("demo token")
        .to_string();
    Env { server, token, dir }
}

fn status_of(s: &Value) -> (String, String, String) {
    let f = |k: &str| s[k].as_str().unwrap_or_default().to_string();
    (f("deploymentStatus"), f("serviceStatus"), f("healthStatus"))
}

#[tokio::test]
async fn agents_live_go_silent_recover_sync_and_stop() {
    let e = env().await;
    let key = e.key().await;
    let state = e.dir.path().join("agent-1");
    let agent = Agent::start(&e.server.base, &key, "e2e1.contoso.com", &state, &[]);
    agent.wait_for_line("enrolled as sensor");
    let sensor = e
        .until("e2e1", "running and synced", |s| {
            s["serviceStatus"] == "running" && s["deploymentStatus"] == "upToDate"
        })
        .await;
    let id = sensor["id"].as_str().expect("id").to_string();
    assert_eq!(
        status_of(&sensor),
        ("upToDate".into(), "running".into(), "healthy".into())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(state.join("agent.json"))
            .expect("state file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Stopped: 5 minutes → issue; 10 minutes → disconnected, health high.
    agent.stop();
    e.advance("6m");
    let issues = e.issues(&id).await;
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (
            issues[0]["displayName"].as_str(),
            issues[0]["status"].as_str()
        ),
        (Some("Sensor stopped communicating"), Some("open"))
    );
    e.advance("5m");
    let s = e.sensor_named("e2e1").await.expect("sensor");
    assert_eq!(
        status_of(&s),
        (
            "disconnected".into(),
            "unknown".into(),
            "notHealthyHigh".into()
        )
    );

    // Restarted (same state dir, same sensor): issue closed, up to date.
    let agent = Agent::start(&e.server.base, &key, "e2e1.contoso.com", &state, &[]);
    e.until("e2e1", "recovered", |s| {
        s["deploymentStatus"] == "upToDate" && s["healthStatus"] == "healthy"
    })
    .await;
    assert_eq!(e.issues(&id).await[0]["status"], "closed");

    // Settings changed while the agent is away: syncing; acknowledged once it is back.
    agent.stop();
    let (status, _) = e
        .graph(
            "PATCH",
            &format!("/beta/security/identities/sensors/{id}"),
            Some(json!({"settings": {"description": "rack 7"}})),
        )
        .await;
    assert_eq!(status, 200);
    e.advance("1m");
    assert_eq!(
        e.sensor_named("e2e1").await.expect("sensor")["deploymentStatus"],
        "syncing"
    );
    let agent = Agent::start(&e.server.base, &key, "e2e1.contoso.com", &state, &[]);
    e.until("e2e1", "synced", |s| s["deploymentStatus"] == "upToDate")
        .await;

    // A regenerated key: new enrolments with the old key fail; the enrolled sensor is fine.
    let (status, _) = e
        .graph(
            "POST",
            "/v1.0/security/identities/sensors/regenerateDeploymentAccessKey",
            None,
        )
        .await;
    assert_eq!(status, 200);
    // (Started with `--server`, the agent's older name for `--endpoint`: it still reaches the
    // server, which refuses the old key.)
    let late = Agent::start_with(
        "--server",
        &e.server.base,
        &key,
        "e2e2.contoso.com",
        &e.dir.path().join("agent-2"),
        &[],
    );
    late.wait_for_line("refused (401)");
    assert!(!late.exit().success());
    e.advance("30s");
    e.until("e2e1", "still fine", |s| {
        s["deploymentStatus"] == "upToDate"
    })
    .await;

    // Deleted through Graph: the agent is told to stop and exits cleanly.
    let (status, _) = e
        .graph(
            "DELETE",
            &format!("/beta/security/identities/sensors/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    agent.wait_for_line("sensor deleted: stopping");
    assert!(agent.exit().success());
    assert!(!state.join("agent.json").exists());
}

#[tokio::test]
async fn candidate_activation_and_a_failed_rollout() {
    let e = env().await;
    let key = e.key().await;
    let candidate = Agent::start(
        &e.server.base,
        &key,
        "e2e-c1.contoso.com",
        &e.dir.path().join("c1"),
        &["--candidate"],
    );
    candidate.wait_for_line("waiting for activation");
    let (_, list) = e
        .graph("GET", "/beta/security/identities/sensorCandidates?$filter=computerDnsName eq 'e2e-c1.contoso.com'", None)
        .await;
    let cid = list["value"][0]["id"]
        .as_str()
        .expect("candidate listed")
        .to_string();
    let (status, _) = e
        .graph(
            "POST",
            "/beta/security/identities/sensorCandidates/activate",
            Some(json!({"serverIds": [cid]})),
        )
        .await;
    assert_eq!(status, 200);
    candidate.wait_for_line("activated as sensor");
    let s = e
        .until("E2E-C1", "running", |s| s["serviceStatus"] == "running")
        .await;
    assert!(s["version"].as_str().is_some_and(|v| v.starts_with("3.")));

    // A release that fails to install on this sensor.
    let out = Command::new(BIN)
        .args(["releases", "publish", "2.240.18200.1", "--data-dir"])
        .arg(e.dir.path())
        .output()
        .expect("publish");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.advance("1m"); // picks up the catalogue
    let failing = Agent::start(
        &e.server.base,
        &key,
        "e2e-u1.contoso.com",
        &e.dir.path().join("u1"),
        &["--fail-updates"],
    );
    failing.wait_for_line("updating to 2.240.18200.1");
    let s = e
        .until("e2e-u1", "update failed", |s| {
            s["deploymentStatus"] == "updateFailed"
        })
        .await;
    let issues = e.issues(s["id"].as_str().expect("id")).await;
    assert!(
        issues
            .iter()
            .any(|i| i["displayName"] == "Sensor update failed" && i["status"] == "open"),
        "{issues:?}"
    );
    // A healthy one updates.
    let fine = Agent::start(
        &e.server.base,
        &key,
        "e2e-u2.contoso.com",
        &e.dir.path().join("u2"),
        &[],
    );
    fine.wait_for_line("updated to 2.240.18200.1");
    e.until("e2e-u2", "updated", |s| s["version"] == "2.240.18200.1")
        .await;
    let (_, package) = e
        .graph(
            "GET",
            "/beta/security/identities/sensors/getDeploymentPackageUri()",
            None,
        )
        .await;
    assert_eq!(package["version"], "2.240.18200.1");
}

/// kill -9 in the middle of enrolments, check-ins and Graph writes: after a restart every
/// answered write is there, and no computer became two sensors.
#[tokio::test]
async fn a_killed_server_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(
        dir.path(),
        &[
            "--demo",
            "--throttle-app-writes",
            "off",
            "--throttle-app-reads",
            "off",
        ],
    );
    let token = server
        .lines
        .iter()
        .filter(|l| l.starts_with("export "))
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| w.strip_prefix("PICKET_TOKEN="))
        .expect("demo token")
        .to_string();
    let e = Env { server, token, dir };
    let key = e.key().await;
    // A simulated fleet checking in as fast as it can, alongside.
    let mut sim = Command::new(agent_bin())
        .args([
            "simulate",
            "--endpoint",
            &e.server.base,
            "--tenant",
            TENANT,
            "--access-key",
            &key,
            "--sensors",
            "50",
            "--interval",
            "0",
            "--duration",
            "20",
            "--concurrency",
            "8",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("simulate");

    // Writers: enrol a computer, then PATCH its description with a rising counter.
    let base = e.server.base.clone();
    let acknowledged =
        std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String, u32)>::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (base, key, token, acked) = (
            base.clone(),
            key.clone(),
            e.token.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..1000u32 {
                let computer = format!("crash{w}-{i}.contoso.com");
                let Ok(r) = client
                    .post(format!("{base}/agent/v1/enroll"))
                    .json(&json!({"tenantId": TENANT, "accessKey": key, "computerDnsName": computer,
                                  "sensorType": "domainControllerIntegrated", "version": "2.239.18124.58593"}))
                    .send()
                    .await
                else {
                    return;
                };
                if !r.status().is_success() {
                    return;
                }
                let body: Value = r.json().await.unwrap_or_default();
                let id = body["sensorId"].as_str().unwrap_or_default().to_string();
                acked.lock().expect("lock").push((computer.clone(), id.clone(), 0));
                for n in 1..=3u32 {
                    let ok = client
                        .patch(format!("{base}/beta/security/identities/sensors/{id}"))
                        .bearer_auth(&token)
                        .json(&json!({"settings": {"description": format!("rev {n}")}}))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    if !ok {
                        return;
                    }
                    acked.lock().expect("lock").push((computer.clone(), id.clone(), n));
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = e.server.child.id().to_string();
    Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("kill -9");
    for w in writers {
        let _ = w.await;
    }
    let _ = sim.kill();
    let _ = sim.wait();
    let acked = acknowledged.lock().expect("lock").clone();
    assert!(
        acked.len() > 20,
        "too few writes before the kill: {}",
        acked.len()
    );

    let Env {
        mut server,
        token,
        dir,
    } = e;
    let _ = server.child.wait();
    let restarted = Server::start(dir.path(), &[]);
    let e = Env {
        server: restarted,
        token,
        dir,
    };
    let mut last: std::collections::HashMap<String, (String, u32)> =
        std::collections::HashMap::new();
    for (computer, id, n) in &acked {
        let entry = last.entry(computer.clone()).or_insert((id.clone(), 0));
        entry.1 = entry.1.max(*n);
    }
    for (computer, (id, rev)) in &last {
        let (status, sensor) = e
            .graph(
                "GET",
                &format!("/beta/security/identities/sensors/{id}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{computer} was acknowledged but is gone");
        if *rev > 0 {
            let stored: u32 = sensor["settings"]["description"]
                .as_str()
                .and_then(|d| d.strip_prefix("rev "))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            assert!(
                stored >= *rev,
                "{computer}: acknowledged rev {rev}, stored {stored}"
            );
        }
    }
    // No computer is two sensors.
    let (_, all) = e
        .graph(
            "GET",
            "/beta/security/identities/sensors?$top=1000&$select=displayName,domainName",
            None,
        )
        .await;
    let mut names: Vec<String> = all["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|s| {
            format!(
                "{}.{}",
                s["displayName"].as_str().unwrap_or_default(),
                s["domainName"].as_str().unwrap_or_default()
            )
            .to_lowercase()
        })
        .collect();
    let total = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), total, "duplicate sensors after the crash");
}

/// The identity of the demo directory with this AD account name.
async fn identity_of(e: &Env, sam: &str) -> Value {
    let (status, list) = e
        .graph(
            "GET",
            "/v1.0/security/identities/identityAccounts?$top=100",
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|i| {
            i["accounts"][0]["identifier"]
                .as_str()
                .is_some_and(|a| a.starts_with(&format!("{sam}@")))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no identity {sam}"))
}

#[tokio::test]
async fn an_ad_account_action_reaches_a_domain_controller_and_comes_back() {
    let e = env().await;
    let key = e.key().await;
    let adele = identity_of(&e, "adelev").await;
    let id = adele["id"].as_str().expect("id").to_string();
    assert_eq!(adele["isEnabled"], json!(true));
    // Asked before any sensor of contoso.com runs: it waits.
    let (status, result) = e
        .graph(
            "POST",
            &format!("/v1.0/security/identities/identityAccounts/{id}/invokeAction"),
            Some(json!({"accountId": "adelev@contoso.com", "action": "disable", "identityProvider": "activeDirectory"})),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    let correlation = result["correlationId"]
        .as_str()
        .expect("correlation id")
        .to_string();
    assert_eq!(
        identity_of(&e, "adelev").await["isEnabled"],
        json!(true),
        "not before a DC carries it out"
    );

    // A domain controller of another domain never gets it; one of contoso.com does.
    let other = Agent::start(
        &e.server.base,
        &key,
        "dc7.fabrikam.local",
        &e.dir.path().join("fab"),
        &[],
    );
    other.wait_for_line("enrolled as sensor");
    let agent = Agent::start(
        &e.server.base,
        &key,
        "dc9.contoso.com",
        &e.dir.path().join("dc9"),
        &[],
    );
    agent.wait_for_line("account action disable adelev@contoso.com: done");
    let deadline = Instant::now() + Duration::from_secs(20);
    while identity_of(&e, "adelev").await["isEnabled"] != json!(false) {
        assert!(Instant::now() < deadline, "isEnabled never turned false");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A protected account: the DC refuses, the action ends failed, the identity is unchanged.
    let locked = identity_of(&e, "t0-locked").await;
    let locked_id = locked["id"].as_str().expect("id").to_string();
    let (status, _) = e
        .graph(
            "POST",
            &format!("/beta/security/identities/identityAccounts/{locked_id}/invokeAction"),
            Some(json!({"accountId": "t0-locked@contoso.com", "action": "disable", "identityProvider": "activeDirectory"})),
        )
        .await;
    assert_eq!(status, 200);
    agent.wait_for_line("account action disable t0-locked@contoso.com: failed");
    // The audit log has each action's correlation id and outcome.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new(BIN)
            .args(["audit", "--tenant", TENANT, "--data-dir"])
            .arg(e.dir.path())
            .output()
            .expect("audit");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let outcomes = text
            .lines()
            .filter(|l| l.contains("accountAction"))
            .collect::<Vec<_>>();
        if outcomes
            .iter()
            .any(|l| l.contains(&correlation) && l.contains("done"))
            && outcomes
                .iter()
                .any(|l| l.contains("t0-locked") && l.contains("failed"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "audit never showed both outcomes:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(identity_of(&e, "t0-locked").await["isEnabled"], json!(true));
    agent.stop();
    other.stop();
}

#[tokio::test]
async fn automatic_auditing_closes_the_auditing_issue_of_a_host() {
    let e = env().await;
    let key = e.key().await;
    let agent = Agent::start(
        &e.server.base,
        &key,
        "audit1.contoso.com",
        &e.dir.path().join("audit1"),
        &["--auditing-not-configured"],
    );
    agent.wait_for_line("enrolled as sensor");
    let sensor = e.until("audit1", "enrolled", |_| true).await;
    let id = sensor["id"].as_str().expect("id").to_string();
    // The agent reported its host's network adapters with its first check-in.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, adapters) = e
            .graph(
                "GET",
                &format!("/v1.0/security/identities/sensors/{id}/settings/networkAdapters"),
                None,
            )
            .await;
        let names: Vec<&str> = adapters["value"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
            .unwrap_or_default();
        if names == ["Ethernet0", "Ethernet1 (backup)"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "adapters never arrived: {adapters}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let auditing = |issues: &[Value]| {
        issues
            .iter()
            .find(|i| {
                i["displayName"]
                    == "Directory Services Advanced Auditing is not enabled as required"
            })
            .map(|i| i["status"].as_str().unwrap_or("").to_string())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while auditing(&e.issues(&id).await).as_deref() != Some("open") {
        assert!(
            Instant::now() < deadline,
            "the auditing issue never opened: {:?}",
            e.issues(&id).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = e
        .graph(
            "PATCH",
            "/v1.0/security/identities/settings/autoAuditingConfiguration",
            Some(json!({"isAutomatic": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    agent.wait_for_line("auditing configured automatically");
    let deadline = Instant::now() + Duration::from_secs(20);
    while auditing(&e.issues(&id).await).as_deref() != Some("closed") {
        assert!(
            Instant::now() < deadline,
            "the auditing issue never closed: {:?}",
            e.issues(&id).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A host whose policy drifts once automatic auditing is off reports again; a host that
    // does not drift keeps its configuration (turning it off changes no host).
    let drifting = Agent::start(
        &e.server.base,
        &key,
        "audit2.contoso.com",
        &e.dir.path().join("audit2"),
        &["--auditing-not-configured", "--auditing-drifts"],
    );
    drifting.wait_for_line("auditing configured automatically");
    let drifting_id = e.until("audit2", "enrolled", |_| true).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (status, _) = e
        .graph(
            "PATCH",
            "/beta/security/identities/settings/autoAuditingConfiguration",
            Some(json!({"isAutomatic": false})),
        )
        .await;
    assert_eq!(status, 200);
    drifting.wait_for_line("auditing drifted");
    let deadline = Instant::now() + Duration::from_secs(20);
    while auditing(&e.issues(&drifting_id).await).as_deref() != Some("open") {
        assert!(
            Instant::now() < deadline,
            "the drifted host's issue never reopened"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        auditing(&e.issues(&id).await).as_deref(),
        Some("closed"),
        "the steady host changed nothing"
    );
    drifting.stop();
    agent.stop();
}

#[tokio::test]
async fn a_classic_sensor_migrates_to_the_unified_sensor_and_a_failed_one_says_so() {
    let e = env().await;
    let key = e.key().await;
    let good = Agent::start(
        &e.server.base,
        &key,
        "mig1.contoso.com",
        &e.dir.path().join("mig1"),
        &[],
    );
    let bad = Agent::start(
        &e.server.base,
        &key,
        "mig2.contoso.com",
        &e.dir.path().join("mig2"),
        &["--fail-migration"],
    );
    good.wait_for_line("enrolled as sensor");
    bad.wait_for_line("enrolled as sensor");
    let id_of = |s: Value| s["id"].as_str().expect("id").to_string();
    let (good_id, bad_id) = (
        id_of(e.until("mig1", "enrolled", |_| true).await),
        id_of(e.until("mig2", "enrolled", |_| true).await),
    );
    let state = |id: String| {
        let e = &e;
        async move {
            e.graph(
                "GET",
                &format!("/beta/security/identities/sensorMigration/{id}"),
                None,
            )
            .await
            .1["migrationState"]
                .as_str()
                .unwrap_or("")
                .to_string()
        }
    };
    assert_eq!(state(good_id.clone()).await, "readyForMigration");
    let (status, result) = e
        .graph(
            "POST",
            "/beta/security/identities/sensorMigration/migrate",
            Some(json!({"sensorIds": [good_id, bad_id]})),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["failedMigrationSensorIds"], json!([]));
    good.wait_for_line("migrated to the unified sensor");
    bad.wait_for_line("failed");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (g, b) = (state(good_id.clone()).await, state(bad_id.clone()).await);
        if g == "upToDate" && b == "migrationFailed" {
            break;
        }
        assert!(Instant::now() < deadline, "states stayed {g} / {b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The migrated sensor is a unified one now, with the same id; the failed one has an issue.
    let (_, sensor) = e
        .graph(
            "GET",
            &format!("/beta/security/identities/sensors/{good_id}"),
            None,
        )
        .await;
    assert!(
        sensor["version"].as_str().unwrap_or("").starts_with("3."),
        "{sensor}"
    );
    assert_eq!(sensor["migrationState"], "upToDate");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !e
        .issues(&bad_id)
        .await
        .iter()
        .any(|i| i["displayName"] == "Sensor migration failed" && i["status"] == "open")
    {
        assert!(
            Instant::now() < deadline,
            "no migration issue: {:?}",
            e.issues(&bad_id).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    good.stop();
    bad.stop();
}

#[tokio::test]
async fn a_tenant_without_defender_for_identity_is_onboarded_by_its_first_sensor() {
    let e = env().await;
    let tenant = "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
    let data = e.dir.path().to_str().expect("utf-8");
    let made = Command::new(BIN)
        .args([
            "tenants",
            "create",
            "--id",
            tenant,
            "--name",
            "Fabrikam",
            "--not-onboarded",
            "--data-dir",
            data,
        ])
        .output()
        .expect("tenants create");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = token(
        e.dir.path(),
        tenant,
        &["SecurityIdentitiesSensors.Read.All"],
    );
    let list = || {
        let (base, token) = (e.server.base.clone(), token.clone());
        async move { get(&base, "/v1.0/security/identities/sensors", &token).await }
    };
    let (status, body) = list().await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Tenant is not onboarded to Microsoft Defender for Identity. After license is purchased, first login to portal and sensor are required."
    );
    // The deployment access key, as an operator would hand it to the first domain controller.
    let store = picket_store::SqliteStore::open(
        &e.dir.path().join("picket.db"),
        picket_store::Catalogue {
            unified_sensor_version: "3.1.25311.1".into(),
        },
    )
    .await
    .expect("store");
    let key = picket_store::Store::deployment_access_key(
        &store,
        &picket_domain::TenantId::parse(tenant).expect("tenant"),
    )
    .await
    .expect("key")
    .expose()
    .to_string();
    drop(store);
    let mut agent = Command::new(agent_bin())
        .args([
            "run",
            "--endpoint",
            &e.server.base,
            "--tenant",
            tenant,
            "--access-key",
            &key,
        ])
        .args([
            "--computer",
            "dc1.fabrikam.com",
            "--check-in-every",
            "100ms",
            "--state-dir",
        ])
        .arg(e.dir.path().join("fab-agent"))
        .env("PICKET_AGENT_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agent");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = list().await;
        if status == 200 && body["value"].as_array().is_some_and(|v| v.len() == 1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never onboarded: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = agent.kill();
    let _ = agent.wait();
}

#[tokio::test]
async fn a_domain_controller_reports_its_directory_as_identity_accounts() {
    let e = env().await;
    let key = e.key().await;
    let count = || async {
        let (_, n) = e
            .graph(
                "GET",
                "/beta/security/identities/identityAccounts?$top=1&$count=true",
                None,
            )
            .await;
        n["@odata.count"].as_u64().unwrap_or(0)
    };
    let before = count().await;
    let agent = Agent::start(
        &e.server.base,
        &key,
        "dir1.fabrikam.local",
        &e.dir.path().join("dir1"),
        &["--directory", "30"],
    );
    agent.wait_for_line("enrolled as sensor");
    let deadline = Instant::now() + Duration::from_secs(20);
    while count().await < before + 30 {
        assert!(Instant::now() < deadline, "the directory never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, page) = e
        .graph(
            "GET",
            "/beta/security/identities/identityAccounts?$filter=domain%20eq%20'fabrikam.local'&$top=100",
            None,
        )
        .await;
    let reported: Vec<&Value> = page["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter(|i| {
            i["accounts"][0]["identifier"]
                .as_str()
                .is_some_and(|a| a.ends_with("@fabrikam.local"))
        })
        .collect();
    assert!(reported.len() >= 30, "{}", reported.len());
    assert!(
        reported.iter().any(|i| i["isEnabled"] == json!(false)),
        "some are disabled"
    );
    assert!(reported.iter().any(|i| i["displayName"]
        .as_str()
        .is_some_and(|n| n.starts_with("Admin "))));
    assert!(reported.iter().any(|i| i["displayName"]
        .as_str()
        .is_some_and(|n| n.starts_with("svc-"))));
    let providers: Vec<&str> = reported
        .iter()
        .flat_map(|i| i["accounts"].as_array().into_iter().flatten())
        .filter_map(|a| a["identityProvider"].as_str())
        .collect();
    assert!(
        providers.contains(&"okta") && providers.contains(&"entraID"),
        "{providers:?}"
    );
    agent.stop();
}
