//! What the CLI tests share: the `picket` binary run as a server or a command.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_picket");

pub struct Server {
    pub child: Child,
    pub base: String,
    /// `https://ADDR` and the CA file to trust, when started with --tls-listen.
    pub https: Option<(String, String)>,
    pub lines: Vec<String>,
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
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
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
            https: None,
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
            if let Some(rest) = line.strip_prefix("Picket listening on https://") {
                let (addr, note) = rest
                    .split_once(' ')
                    .expect("https line names its trust file");
                let trust = note
                    .trim_start_matches("(trust ")
                    .split(',')
                    .next()
                    .expect("trust file")
                    .trim_end_matches(')');
                server.https = Some((format!("https://{addr}"), trust.to_string()));
            } else if let Some(base) = line.strip_prefix("Picket listening on ") {
                server.base = base.to_string();
                return server;
            }
        }
    }

    pub fn stop(&mut self) -> std::process::ExitStatus {
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

pub fn token(data_dir: &Path, tenant: &str, roles: &[&str]) -> String {
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

pub async fn get(base: &str, path: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Runs `picket ARGS --data-dir DIR`, asserting success; returns stdout.
pub fn picket(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("PICKET_LOG", "warn")
        .output()
        .expect("picket runs");
    assert!(
        out.status.success(),
        "picket {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

pub fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no '{label}' in {text}"))
        .split_whitespace()
        .next()
        .expect("value")
}

/// A migrated PostgreSQL schema of the test's own, as a URL whose options select it (so the
/// `picket` commands reach it as a replica would); `None` without `PICKET_TEST_DATABASE_URL`
/// (the skip note is printed). The schema lives as long as `db`.
pub async fn postgres_schema_url(db: &picket_store::testing::TestDatabase) -> Option<String> {
    let config = db.postgres_config()?;
    drop(
        db.open(picket_store::Catalogue {
            unified_sensor_version: "3.1.25311.1".into(),
        })
        .await
        .expect("open the test schema"),
    );
    let schema = config.schema.clone().expect("schema");
    let sep = if config.url.contains('?') { '&' } else { '?' };
    Some(format!(
        "{}{sep}options=-c%20search_path%3D{schema}",
        config.url
    ))
}

/// Runs `picket ARGS --data-dir DIR` on the store at `database`.
pub fn picket_output_on(database: &str, data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("PICKET_DATABASE_URL", database)
        .env("PICKET_LOG", "warn")
        .output()
        .expect("picket runs")
}

/// Runs `picket ARGS --data-dir DIR` on the store at `database`, asserting success; returns stdout.
pub fn picket_on(database: &str, data_dir: &Path, args: &[&str]) -> String {
    let out = picket_output_on(database, data_dir, args);
    assert!(
        out.status.success(),
        "picket {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}
