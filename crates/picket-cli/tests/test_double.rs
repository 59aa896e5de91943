//! The built `picket` as test authors and operators use it against a running `serve --demo`:
//! `requests verify` passing and failing on the right inputs, the client retrying injected
//! 503s, snapshots restored under a running server, and backups written while it serves,
//! restored into a fresh store (PostgreSQL too, when available), and refused when damaged.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use support::*;

const DEMO: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";
const RW: &[&str] = &["SecurityIdentitiesSensors.ReadWrite.All"];
const CANDIDATE: &str = "c0633ebb-8cfb-f17a-0b9e-000000000001";
const SENSOR: &str = "b3c1b5fc-828c-45fa-a1e1-000000000001";

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env("PICKET_LOG", "warn");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().to_string();
        if name.starts_with("PICKET_") || name.starts_with("AZURE_") {
            cmd.env_remove(name);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("picket runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn send(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut r = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            url,
        )
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn demo(dir: &Path) -> Server {
    Server::start(dir, &["--demo"])
}

#[tokio::test]
async fn requests_verify_passes_and_fails_on_what_was_called() {
    let dir = tempfile::tempdir().expect("dir");
    let server = demo(dir.path());
    let token = token(dir.path(), DEMO, RW);
    let env = [
        ("PICKET_ENDPOINT", server.base.as_str()),
        ("PICKET_TOKEN", token.as_str()),
    ];
    let (status, _) = send(
        "POST",
        &format!(
            "{}/beta/security/identities/sensorCandidates/activate",
            server.base
        ),
        &token,
        Some(json!({ "serverIds": [CANDIDATE] })),
    )
    .await;
    assert_eq!(status, 200);

    let verify = |extra: &[&str]| {
        let mut args = vec![
            "requests",
            "verify",
            "--operation",
            "activateSensorCandidates",
        ];
        args.extend_from_slice(extra);
        run(&args, &env)
    };
    let ok = verify(&["--body-contains", CANDIDATE, "--count", "1"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("ok: 1 matching"));

    let twice = verify(&["--count", "2"]);
    assert_eq!(twice.status.code(), Some(1), "{}", text(&twice));
    assert!(text(&twice).contains("FAILED: 1 matching requests, exactly 2 expected"));
    assert!(text(&twice).contains(CANDIDATE), "what was seen is shown");

    let other = verify(&["--body-contains", "c0633ebb-8cfb-f17a-0b9e-000000000002"]);
    assert_eq!(other.status.code(), Some(1));
    assert!(
        text(&other).contains("same operation, not matching"),
        "{}",
        text(&other)
    );
    assert!(
        text(&other).contains(CANDIDATE),
        "the near miss's body: {}",
        text(&other)
    );

    let listed = run(&["requests", "list", "--json"], &env);
    assert!(listed.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["body"], json!({ "serverIds": [CANDIDATE] }));
    let cleared = run(&["requests", "clear"], &env);
    assert!(text(&cleared).contains("removed 1 requests"));
    let none = verify(&["--count", "0"]);
    assert!(none.status.success(), "{}", text(&none));
}

#[tokio::test]
async fn the_client_rides_out_injected_503s_and_a_next_3_rule_fails_three_calls() {
    let dir = tempfile::tempdir().expect("dir");
    let server = demo(dir.path());
    let token = token(dir.path(), DEMO, RW);
    let env = [
        ("PICKET_ENDPOINT", server.base.as_str()),
        ("PICKET_TOKEN", token.as_str()),
    ];
    let added = run(
        &[
            "faults",
            "add",
            "--operation",
            "listSensors",
            "--effect",
            "503",
            "--retry-after",
            "1",
            "--next",
            "3",
        ],
        &env,
    );
    assert!(added.status.success(), "{}", text(&added));
    let rule = String::from_utf8_lossy(&added.stdout).trim().to_string();

    let listed = run(&["sensors", "list", "--output", "json"], &env);
    assert!(listed.status.success(), "{}", text(&listed));
    assert!(text(&listed).contains("retrying"), "{}", text(&listed));
    assert!(text(&listed).contains(SENSOR));

    let rules = run(&["faults", "list"], &env);
    assert!(
        text(&rules).contains(&rule) && text(&rules).contains("(matched 4, fired 3)"),
        "{}",
        text(&rules)
    );
    let journal = run(
        &["requests", "list", "--operation", "listSensors", "--json"],
        &env,
    );
    let statuses: Vec<u64> = String::from_utf8_lossy(&journal.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["status"]
                .as_u64()
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(statuses, [503, 503, 503, 200]);

    // With fewer attempts than failures the command fails, saying why.
    run(
        &[
            "faults",
            "add",
            "--effect",
            "503",
            "--retry-after",
            "1",
            "--next",
            "3",
        ],
        &env,
    );
    let give_up = run(&["sensors", "list", "--attempts", "2"], &env);
    assert!(!give_up.status.success());
    assert!(text(&give_up).contains("503"), "{}", text(&give_up));
    let removed = run(&["faults", "remove", &rule], &env);
    assert!(removed.status.success(), "{}", text(&removed));
    let cleared = run(&["faults", "clear"], &env);
    assert!(
        text(&cleared).contains("removed 1 rules"),
        "{}",
        text(&cleared)
    );
}

#[tokio::test]
async fn a_snapshot_restored_from_the_cli_resets_a_serving_tenant() {
    let dir = tempfile::tempdir().expect("dir");
    let server = demo(dir.path());
    let token = token(dir.path(), DEMO, RW);
    let data = dir.path().to_str().expect("utf-8");
    let saved = run(
        &[
            "snapshot",
            "save",
            "clean",
            "--tenant",
            DEMO,
            "--data-dir",
            data,
        ],
        &[],
    );
    assert!(saved.status.success(), "{}", text(&saved));
    let url = format!("{}/beta/security/identities/sensors/{SENSOR}", server.base);
    let (_, before) = send("GET", &url, &token, None).await;
    let (status, _) = send(
        "PATCH",
        &url,
        &token,
        Some(json!({"settings": {"description": "changed"}})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send("DELETE", &url, &token, None).await;
    assert_eq!(status, 204);

    let restored = run(
        &[
            "snapshot",
            "restore",
            "clean",
            "--tenant",
            DEMO,
            "--data-dir",
            data,
        ],
        &[],
    );
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(text(&restored).contains("Restored snapshot 'clean'"));
    let (status, after) = send("GET", &url, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(after["settings"], before["settings"]);
    let missing = run(
        &[
            "snapshot",
            "restore",
            "nope",
            "--tenant",
            DEMO,
            "--data-dir",
            data,
        ],
        &[],
    );
    assert!(!missing.status.success());
    assert!(text(&missing).contains("no snapshot named 'nope'"));
    let unscoped = run(&["snapshot", "list", "--data-dir", data], &[]);
    assert_eq!(
        unscoped.status.code(),
        Some(2),
        "whose snapshots must be said"
    );
}

/// Sensor ids and settings, as the API answers them.
async fn sensors(base: &str, token: &str) -> Vec<(String, Value)> {
    let (status, page) = send(
        "GET",
        &format!("{base}/beta/security/identities/sensors?$top=500"),
        token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let mut out: Vec<(String, Value)> = page["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or("").to_string(),
                s["settings"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_elsewhere_and_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let mut server = demo(dir.path());
    let token = token(dir.path(), DEMO, RW);
    let data = dir.path().to_str().expect("utf-8");
    // A simulated fleet enrols and keeps checking in through the backup.
    let (status, key) = send(
        "GET",
        &format!(
            "{}/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            server.base
        ),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let demo_sensors = sensors(&server.base, &token).await.len();
    let mut fleet = Command::new(BIN)
        .args([
            "agent",
            "simulate",
            "--endpoint",
            &server.base,
            "--tenant",
            DEMO,
            "--sensors",
            "30",
        ])
        .args([
            "--interval",
            "0.2",
            "--duration",
            "60",
            "--failure-rate",
            "0",
        ])
        .arg("--access-key")
        .arg(key["deploymentAccessKey"].as_str().expect("key"))
        .env("PICKET_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the fleet starts");
    let mut enrolled = 0;
    for _ in 0..200 {
        enrolled = sensors(&server.base, &token).await.len() - demo_sensors;
        if enrolled == 30 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(enrolled, 30, "the simulated sensors enrolled");
    // Writes acknowledged before the backup starts must all be in it.
    let url = format!("{}/beta/security/identities/sensors/{SENSOR}", server.base);
    let (status, _) = send(
        "PATCH",
        &url,
        &token,
        Some(json!({"settings": {"description": "acknowledged"}})),
    )
    .await;
    assert_eq!(status, 200);
    let before_backup = sensors(&server.base, &token).await;
    // Reads go on while the backup runs.
    let base = server.base.clone();
    let reader_token = token.clone();
    let readers = tokio::spawn(async move {
        let mut ok = 0;
        for _ in 0..200 {
            if send(
                "GET",
                &format!("{base}/v1.0/security/identities/sensors"),
                &reader_token,
                None,
            )
            .await
            .0 == 200
            {
                ok += 1;
            }
        }
        ok
    });
    let file = dir.path().join("picket.backup");
    let file_arg = file.to_str().expect("utf-8");
    let backed = run(&["backup", "--out", file_arg, "--data-dir", data], &[]);
    assert!(backed.status.success(), "{}", text(&backed));
    assert_eq!(readers.await.expect("readers"), 200);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("file").permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read a backup");
    }
    let _ = fleet.kill();
    let _ = fleet.wait();
    let expected = sensors(&server.base, &token).await;
    server.stop();
    // Check-ins after the backup started may change statuses, never which sensors exist.
    let ids = |list: &[(String, Value)]| list.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&expected), ids(&before_backup));

    // Into a fresh SQLite installation.
    let target = tempfile::tempdir().expect("dir");
    let target_arg = target.path().to_str().expect("utf-8");
    let restored = run(&["restore", file_arg, "--data-dir", target_arg], &[]);
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(text(&restored).contains("every table's count and checksum match"));
    let again = run(&["restore", file_arg, "--data-dir", target_arg], &[]);
    assert!(
        !again.status.success() && text(&again).contains("not empty"),
        "{}",
        text(&again)
    );
    let copy = Server::start(target.path(), &[]);
    // The signing keys came along: the old token is still good.
    assert_eq!(sensors(&copy.base, &token).await, expected);
    assert!(expected
        .iter()
        .any(|(_, s)| s["description"] == "acknowledged"));
    drop(copy);

    // A damaged file is refused before anything is created.
    let damaged = dir.path().join("damaged.backup");
    let original = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &damaged,
        original.replacen("acknowledged", "acknowledgeD", 1),
    )
    .expect("write");
    let empty = tempfile::tempdir().expect("dir");
    let refused = run(
        &[
            "restore",
            damaged.to_str().expect("utf-8"),
            "--data-dir",
            empty.path().to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("does not match the manifest"),
        "{}",
        text(&refused)
    );
    assert!(
        std::fs::read_dir(empty.path())
            .expect("dir")
            .next()
            .is_none(),
        "nothing written"
    );

    // Into PostgreSQL, when there is one: the same answers from the other engine.
    let db = picket_store::testing::TestDatabase::new().expect("db");
    let Some(database) = postgres_schema_url(&db).await else {
        return;
    };
    let pg_dir = tempfile::tempdir().expect("dir");
    let restored = run(
        &[
            "restore",
            file_arg,
            "--data-dir",
            pg_dir.path().to_str().expect("utf-8"),
            "--database",
            &database,
        ],
        &[],
    );
    assert!(restored.status.success(), "{}", text(&restored));
    let pg = Server::start(pg_dir.path(), &["--database", &database]);
    assert_eq!(sensors(&pg.base, &token).await, expected);
}

#[tokio::test]
async fn serve_starts_with_the_fault_rules_of_a_file() {
    let dir = tempfile::tempdir().expect("dir");
    let rules = dir.path().join("faults.json");
    std::fs::write(
        &rules,
        json!([{"tenantId": DEMO, "operation": "listSensors", "effect": "503", "retryAfterSeconds": 1, "nextN": 1}])
            .to_string(),
    )
    .expect("write");
    let server = Server::start(
        dir.path(),
        &["--demo", "--faults", rules.to_str().expect("utf-8")],
    );
    assert!(
        server.lines.iter().any(|l| l.contains("Fault rules: 1")),
        "{:?}",
        server.lines
    );
    let token = token(dir.path(), DEMO, RW);
    let url = format!("{}/v1.0/security/identities/sensors", server.base);
    let (first, body) = send("GET", &url, &token, None).await;
    assert_eq!(
        (first, body["error"]["code"].as_str()),
        (503, Some("ServiceUnavailable"))
    );
    assert_eq!(send("GET", &url, &token, None).await.0, 200);
    // A file that is not a list of rules stops serve before it listens.
    std::fs::write(&rules, "[{\"effect\": \"418\", \"tenantId\": \"x\"}]").expect("write");
    let out = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--faults",
            rules.to_str().expect("utf-8"),
            "--data-dir",
            dir.path().to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("faults.json"), "{}", text(&out));
}
