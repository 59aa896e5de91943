//! An acknowledged write is on stable storage before its answer: `strace` watches the real
//! `picket serve` (SQLite, the embedded default) and every write path must show an fsync of
//! the write-ahead log between the moment its request left and the moment its answer came.
//! (With `synchronous=NORMAL` the WAL is synced only at checkpoints, and this test fails.)

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::*;

const DEMO_TENANT: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

/// `strace` attached to every thread of a process, logging syncs with epoch times and paths.
struct Syncs {
    child: Child,
    log: std::path::PathBuf,
}

impl Syncs {
    fn attach(pid: u32, log: &std::path::Path) -> Option<Syncs> {
        let mut child = Command::new("strace")
            .args(["-f", "-ttt", "-y", "-e", "trace=fsync,fdatasync", "-p"])
            .arg(pid.to_string())
            .arg("-o")
            .arg(log)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        // strace says "Process N attached" once per thread; wait for the first, then a moment
        // for the rest.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(10)).ok()?;
        if !line.contains("attached") {
            eprintln!("strace: {line}");
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
        Some(Syncs {
            child,
            log: log.to_path_buf(),
        })
    }

    /// Times of the syncs of a `-wal` file, once strace has flushed its log.
    fn wal_syncs(mut self) -> Vec<f64> {
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let text = std::fs::read_to_string(&self.log).expect("strace log");
        text.lines()
            .filter(|l| l.contains("-wal>") && l.contains("sync("))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
            .collect()
    }
}

fn have_strace() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn every_acknowledged_write_synced_its_log_before_the_answer() {
    assert!(
        have_strace(),
        "strace is needed for the durability test: apt-get install strace"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &["--demo"]);
    let token = token(
        dir.path(),
        DEMO_TENANT,
        &[
            "SecurityIdentitiesSensors.ReadWrite.All",
            "SecurityIdentitiesHealth.ReadWrite.All",
        ],
    );
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let sensors = client
        .get(format!("{base}/beta/security/identities/sensors"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json::<Value>()
        .await
        .expect("json");
    let ids: Vec<String> = sensors["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect();
    assert!(ids.len() >= 2);

    let log = dir.path().join("strace.log");
    let syncs = Syncs::attach(server.child.id(), &log).expect("strace attaches to picket serve");

    // (what, method, path, body, token or none): each a write answered 2xx.
    let sensor = |id: &str| format!("/v1.0/security/identities/sensors/{id}");
    let writes: Vec<(&str, &str, String, Option<Value>)> = vec![
        (
            "PATCH sensor settings",
            "PATCH",
            sensor(&ids[0]),
            Some(json!({"settings": {"description": "durable"}})),
        ),
        (
            "PATCH activation mode",
            "PATCH",
            "/v1.0/security/identities/sensorCandidateActivationConfiguration".into(),
            Some(json!({"activationMode": "automated"})),
        ),
        (
            "regenerate the access key",
            "POST",
            "/v1.0/security/identities/sensors/regenerateDeploymentAccessKey".into(),
            None,
        ),
        ("DELETE sensor", "DELETE", sensor(&ids[1]), None),
    ];
    let mut windows = Vec::new();
    for (what, method, path, body) in writes {
        let mut request = client
            .request(method.parse().expect("method"), format!("{base}{path}"))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == "POST" {
            request = request
                .header("Content-Type", "application/json")
                .body("{}");
        }
        let sent = epoch();
        let r = request.send().await.expect("send");
        let answered = epoch();
        assert!(r.status().is_success(), "{what}: {}", r.status());
        let text = r.text().await.unwrap_or_default();
        windows.push((what, sent, answered, text));
    }
    // Enrolment with the key just made.
    let key = windows
        .iter()
        .find(|w| w.0 == "regenerate the access key")
        .map(|w| serde_json::from_str::<Value>(&w.3).expect("key json"))
        .expect("key")["deploymentAccessKey"]
        .as_str()
        .expect("deploymentAccessKey")
        .to_string();
    let sent = epoch();
    let r = client
        .post(format!("{base}/agent/v1/enroll"))
        .json(&json!({"tenantId": DEMO_TENANT, "accessKey": key,
                      "computerDnsName": "dc77.contoso.com",
                      "sensorType": "domainControllerIntegrated", "version": "2.239.18124.58593"}))
        .send()
        .await
        .expect("enroll");
    let answered = epoch();
    assert_eq!(r.status().as_u16(), 201);
    windows.push(("enrolment", sent, answered, String::new()));

    let times = syncs.wal_syncs();
    for (what, sent, answered, _) in &windows {
        assert!(
            times.iter().any(|t| t >= sent && t <= answered),
            "{what}: no WAL sync between {sent:.6} and {answered:.6} (syncs at {times:?})"
        );
    }
    drop(server);
}

/// Identity changes are made by store commands, not by the server: `picket apps create`
/// syncs the log before it prints the new app (its answer).
#[test]
fn identity_changes_by_command_are_synced_before_the_command_answers() {
    assert!(have_strace(), "strace is needed: apt-get install strace");
    let dir = tempfile::tempdir().expect("tempdir");
    picket(dir.path(), &["init"]);
    picket(
        dir.path(),
        &[
            "tenants",
            "create",
            "--id",
            DEMO_TENANT,
            "--name",
            "Contoso",
        ],
    );
    let log = dir.path().join("strace.log");
    let out = Command::new("strace")
        .args([
            "-f",
            "-ttt",
            "-y",
            "-e",
            "trace=fsync,fdatasync,write,pwrite64",
            "-o",
        ])
        .arg(&log)
        .arg(BIN)
        .args([
            "apps",
            "create",
            "--tenant",
            DEMO_TENANT,
            "--name",
            "durable",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("strace runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).expect("log");
    let time = |l: &str| l.split_whitespace().nth(1)?.parse::<f64>().ok();
    let first_answer = text
        .lines()
        .filter(|l| l.contains(" write(1<"))
        .find_map(time)
        .expect("the command printed its answer");
    // The app's commit is the last frame written to the WAL before the answer; a sync of
    // the WAL must follow it, still before the answer.
    let last_frame = text
        .lines()
        .filter(|l| l.contains("-wal>") && l.contains("write"))
        .filter_map(time)
        .filter(|t| *t <= first_answer)
        .fold(f64::NAN, f64::max);
    assert!(
        !last_frame.is_nan(),
        "the command wrote to the WAL:\n{text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.contains("-wal>") && l.contains("sync("))
            .filter_map(time)
            .any(|t| t >= last_frame && t <= first_answer),
        "no WAL sync between the commit at {last_frame:.6} and the answer at {first_answer:.6}:\n{text}"
    );
}
