//! The `picket` binary end to end: serve (demo, seed, restart, SIGTERM), token, seed.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_picket");
const DEMO_TENANT: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";
const OTHER_TENANT: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";

struct Server {
    child: Child,
    base: String,
    lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    fn start(data_dir: &Path, extra: &[&str]) -> Server {
        let child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("PICKET_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("picket starts");
        // Owned by `Server` at once, so its Drop reaps the child on every path.
        let mut server = Server {
            child,
            base: String::new(),
            lines: Vec::new(),
        };
        let stdout = server.child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("server prints its address");
            server.lines.push(line.clone());
            if let Some(base) = line.strip_prefix("Picket listening on ") {
                server.base = base.to_string();
                return server;
            }
        }
    }

    fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("server did not stop within 5 s of SIGTERM");
    }
}

fn token(data_dir: &Path, tenant: &str, roles: &[&str]) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["token", "--tenant", tenant, "--data-dir"])
        .arg(data_dir);
    for r in roles {
        cmd.args(["--role", r]);
    }
    let out = cmd.output().expect("token runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

async fn get(base: &str, path: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn demo_serves_a_dozen_sensors_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(dir.path(), &["--demo"]);
    assert!(server.lines.iter().any(|l| l.contains(DEMO_TENANT)));
    let demo_token = server
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("export PICKET_TOKEN="))
        .expect("demo prints a token")
        .to_string();
    let (status, body) = get(
        &server.base,
        "/beta/security/identities/sensors",
        &demo_token,
    )
    .await;
    assert_eq!(status, 200);
    let sensors = body["value"].as_array().expect("value");
    assert_eq!(sensors.len(), 12);
    let types: std::collections::HashSet<&str> = sensors
        .iter()
        .filter_map(|s| s["sensorType"].as_str())
        .collect();
    assert_eq!(
        types.len(),
        5,
        "every sensor type is represented: {types:?}"
    );
    let (status, issues) = get(
        &server.base,
        "/v1.0/security/identities/healthIssues",
        &demo_token,
    )
    .await;
    assert_eq!(status, 200);
    let statuses: std::collections::HashSet<&str> = issues["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|i| i["status"].as_str())
        .collect();
    assert_eq!(
        statuses.len(),
        3,
        "open, closed and suppressed issues: {statuses:?}"
    );
    // A token minted by `picket token` against the same data directory is accepted.
    let cli_token = token(
        dir.path(),
        DEMO_TENANT,
        &["SecurityIdentitiesSensors.Read.All"],
    );
    let (status, candidates) = get(
        &server.base,
        "/beta/security/identities/sensorCandidates",
        &cli_token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(candidates["value"].as_array().map(Vec::len), Some(3));
    assert!(server.stop().success(), "graceful shutdown exits 0");
}

#[tokio::test]
async fn seed_rejects_bad_fixtures_whole_and_state_survives_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"sensors": [
            {"id": "s-1", "displayName": "DC1", "domainName": "contoso.com", "sensorType": "domainControllerIntegrated", "version": "2.239.1.1"},
            {"id": "s-2", "displayName": "ADFS1", "domainName": "contoso.com", "sensorType": "adfsIntegrated", "version": "2.239.1.1"}],
          "healthIssues": [{"displayName": "Sensor stopped communicating", "healthIssueType": "sensor", "severity": "high", "sensorDNSNames": ["dc1.contoso.com"]}]}"#,
    )
    .expect("write");
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"sensors": [{"id": "s-3", "displayName": "DC3", "domainName": "contoso.com", "sensorType": "domainControllerIntegrated", "version": "2.1"},
                        {"id": "s-4", "displayName": "DC4", "domainName": "contoso.com", "sensorType": "toaster", "version": "2.1"}]}"#,
    )
    .expect("write");
    let seed = |file: &Path| {
        Command::new(BIN)
            .args(["seed"])
            .arg(file)
            .args(["--tenant", OTHER_TENANT, "--data-dir"])
            .arg(dir.path())
            .env("PICKET_LOG", "warn")
            .output()
            .expect("seed runs")
    };
    let out = seed(&good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 sensors"));
    let out = seed(&bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sensors[1].sensorType"),
        "names the bad field: {err}"
    );

    let mut server = Server::start(dir.path(), &[]);
    let t = token(
        dir.path(),
        OTHER_TENANT,
        &["SecurityIdentitiesSensors.Read.All"],
    );
    let (_, body) = get(
        &server.base,
        "/beta/security/identities/sensors?$orderby=displayName",
        &t,
    )
    .await;
    let ids: Vec<&str> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["s-2", "s-1"], "the bad fixture added nothing");
    assert_eq!(body["value"][1]["healthStatus"], "notHealthyHigh");
    assert!(server.stop().success());

    let mut server = Server::start(dir.path(), &[]);
    let (status, body) = get(&server.base, "/beta/security/identities/sensors/s-1", &t).await;
    assert_eq!(status, 200, "data and signing key survive a restart");
    assert_eq!(body["openHealthIssuesCount"], 1);
    assert!(server.stop().success());
}

#[test]
fn refuses_unsupported_databases_and_bad_tenants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "mysql://x",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
    let out = Command::new(BIN)
        .args(["token", "--tenant", "not-a-guid", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a GUID"));
}
