//! A newcomer's first hour: one installation found the same way from any directory, a
//! configuration file, no store created by accident, `status`, `reset`, and a server that fails
//! early on a busy port.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::BIN;

/// `picket ARGS` run in `cwd` with a private home: the per-user data and config directories
/// live under `home`, and no PICKET_* variable of the caller leaks in.
fn picket_in(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("PICKET_LOG", "warn")
        .stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().to_string();
        if name.starts_with("PICKET_") && name != "PICKET_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.output().expect("picket runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn store_commands_never_create_an_installation_and_say_what_to_do() {
    let home = tempfile::tempdir().expect("home");
    let elsewhere = tempfile::tempdir().expect("cwd");
    for args in [
        &["releases", "publish", "2.240.18200.1"][..],
        &["tenants", "create", "--name", "Contoso"],
        &["token", "--tenant", "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47"],
    ] {
        let out = picket_in(elsewhere.path(), home.path(), args);
        let (stdout, stderr) = text(&out);
        assert!(!out.status.success(), "{args:?} succeeded: {stdout}");
        assert!(stderr.contains("no Picket installation"), "{stderr}");
        assert!(stderr.contains("picket init"), "{stderr}");
        assert!(!stdout.contains("published"), "{stdout}");
    }
    assert!(
        std::fs::read_dir(elsewhere.path())
            .expect("dir")
            .next()
            .is_none(),
        "nothing was created in the current directory"
    );
    assert!(
        !home.path().join("data/picket").exists(),
        "nothing was created in the per-user data directory"
    );
}

#[test]
fn every_directory_finds_the_same_installation() {
    let home = tempfile::tempdir().expect("home");
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let out = picket_in(a.path(), home.path(), &["init"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let installation = home.path().join("data/picket/picket.db");
    assert!(
        installation.exists(),
        "init creates the per-user installation"
    );
    let out = picket_in(
        b.path(),
        home.path(),
        &["tenants", "create", "--name", "Contoso"],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let out = picket_in(a.path(), home.path(), &["tenants", "list"]);
    assert!(text(&out).0.contains("Contoso"), "{:?}", text(&out));
    let out = picket_in(b.path(), home.path(), &["status"]);
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(
        stdout.contains(&installation.display().to_string()),
        "{stdout}"
    );
    assert!(stdout.contains("Tenants:            1"), "{stdout}");
    assert!(stdout.contains("Endpoint:           graph"), "{stdout}");
}

#[test]
fn a_configuration_file_holds_the_flags_of_every_command() {
    let home = tempfile::tempdir().expect("home");
    let cwd = tempfile::tempdir().expect("cwd");
    let data = home.path().join("srv-picket");
    let config_dir = home.path().join("config/picket");
    std::fs::create_dir_all(&config_dir).expect("config dir");
    // The per-user file is read by default.
    std::fs::write(
        config_dir.join("config.toml"),
        format!("data-dir = {:?}\n", data.display().to_string()),
    )
    .expect("write");
    let out = picket_in(cwd.path(), home.path(), &["init"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(data.join("picket.db").exists(), "data-dir from the file");
    let out = picket_in(cwd.path(), home.path(), &["status"]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("applied: data-dir"), "{stdout}");
    // --config names another file; its unknown keys are refused by name.
    let other = cwd.path().join("other.toml");
    std::fs::write(&other, "lisen = \"127.0.0.1:1\"\n").expect("write");
    let out = picket_in(
        cwd.path(),
        home.path(),
        &["--config", other.to_str().expect("utf8"), "status"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("unknown key 'lisen'"),
        "{:?}",
        text(&out)
    );
    let out = picket_in(
        cwd.path(),
        home.path(),
        &["status", "--config", "/nonexistent/picket.toml"],
    );
    assert!(!out.status.success());
    assert!(text(&out).1.contains("does not exist"));
}

#[test]
fn serve_on_a_busy_port_fails_first_and_touches_nothing() {
    let home = tempfile::tempdir().expect("home");
    let cwd = tempfile::tempdir().expect("cwd");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let data = cwd.path().join("data");
    let out = picket_in(
        cwd.path(),
        home.path(),
        &[
            "serve",
            "--demo",
            "--listen",
            &addr,
            "--data-dir",
            data.to_str().expect("utf8"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert_eq!(stdout, "", "nothing printed before the error");
    assert!(
        stderr.contains(&addr) && stderr.contains("--listen"),
        "{stderr}"
    );
    assert!(!data.exists(), "the data directory was not created");
}

#[test]
fn reset_is_confirmed_then_starts_afresh() {
    let home = tempfile::tempdir().expect("home");
    let cwd = tempfile::tempdir().expect("cwd");
    assert!(picket_in(cwd.path(), home.path(), &["init"])
        .status
        .success());
    assert!(picket_in(
        cwd.path(),
        home.path(),
        &["tenants", "create", "--name", "Contoso"]
    )
    .status
    .success());
    let out = picket_in(cwd.path(), home.path(), &["reset"]);
    assert!(!out.status.success(), "no terminal, no --yes: refused");
    assert!(text(&out).1.contains("--yes"), "{:?}", text(&out));
    let out = picket_in(cwd.path(), home.path(), &["tenants", "list"]);
    assert!(text(&out).0.contains("Contoso"), "still there");
    let out = picket_in(cwd.path(), home.path(), &["reset", "--yes"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = picket_in(cwd.path(), home.path(), &["tenants", "list"]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("no Picket installation"));
    assert!(picket_in(cwd.path(), home.path(), &["init"])
        .status
        .success());
    let out = picket_in(cwd.path(), home.path(), &["tenants", "list"]);
    assert!(!text(&out).0.contains("Contoso"), "{:?}", text(&out));
}

/// The package `getDeploymentPackageUri` points at is served by Picket itself: `picket package
/// download` fetches it, and the agent inside enrols with the access key.
#[tokio::test]
async fn the_deployment_package_holds_an_agent_that_enrols() {
    let agent = Path::new(BIN).with_file_name("picket-agent");
    assert!(
        agent.is_file(),
        "{} is missing: cargo build -p picket-agent",
        agent.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let server = support::Server::start(&dir.path().join("data"), &["--demo"]);
    let token = server
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("export PICKET_TOKEN="))
        .expect("demo token")
        .to_string();
    assert!(
        server
            .lines
            .iter()
            .any(|l| l == &format!("export PICKET_ENDPOINT={}", server.base)),
        "the demo banner names the endpoint: {:?}",
        server.lines
    );
    let zip_path = dir.path().join("sensor.zip");
    let out = Command::new(BIN)
        .args(["package", "download", "--out"])
        .arg(&zip_path)
        .env("PICKET_ENDPOINT", &server.base)
        .env("PICKET_TOKEN", &token)
        .output()
        .expect("download runs");
    assert!(out.status.success(), "{:?}", text(&out));

    let unpacked = dir.path().join("pkg");
    let file = std::fs::File::open(&zip_path).expect("zip");
    zip::ZipArchive::new(file)
        .expect("a zip archive")
        .extract(&unpacked)
        .expect("extract");
    let readme = std::fs::read_to_string(unpacked.join("README.txt")).expect("README");
    assert!(readme.contains(&server.base), "{readme}");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(unpacked.join("picket.json")).expect("picket.json"),
    )
    .expect("json");
    assert_eq!(manifest["endpoint"], server.base.as_str());
    let tenant = manifest["tenantId"].as_str().expect("tenant").to_string();

    let key = reqwest::Client::new()
        .get(format!(
            "{}/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("key")
        .json::<serde_json::Value>()
        .await
        .expect("json")["deploymentAccessKey"]
        .as_str()
        .expect("key")
        .to_string();
    let mut child = Command::new(unpacked.join("picket-agent"))
        .args(["run", "--endpoint", &server.base, "--tenant", &tenant])
        .args(["--access-key", &key, "--computer", "dc42.contoso.com"])
        .args(["--check-in-every", "200ms", "--state-dir"])
        .arg(dir.path().join("agent-state"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the packaged agent starts");
    let mut enrolled = false;
    for _ in 0..100 {
        let (status, body) = support::get(
            &server.base,
            "/beta/security/identities/sensors?$filter=displayName eq 'dc42'",
            &token,
        )
        .await;
        if status == 200 && body["value"].as_array().is_some_and(|v| v.len() == 1) {
            enrolled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(enrolled, "the packaged agent enrolled as dc42");
}

/// `picket demo --in-memory`: one command to a live fleet, and nothing left behind.
#[tokio::test]
async fn demo_in_memory_reaches_a_live_fleet_and_leaves_nothing() {
    use std::io::BufRead;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let home = tempfile::tempdir().expect("home");
    let mut child = Command::new(BIN)
        .args(["demo", "--in-memory", "--listen", &listen])
        .args(["--sensors", "6", "--interval", "1"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("PICKET_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let (mut scratch, mut token, mut endpoint) = (None, None, None);
    while token.is_none() || endpoint.is_none() || scratch.is_none() {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the demo prints its block");
        if let Some(p) = line.strip_prefix("Throwaway installation: ") {
            scratch = Some(p.trim_end_matches(" (deleted on exit)").to_string());
        } else if let Some(t) = line.strip_prefix("export PICKET_TOKEN=") {
            token = Some(t.to_string());
        } else if let Some(e) = line.strip_prefix("export PICKET_ENDPOINT=") {
            endpoint = Some(e.to_string());
        }
    }
    let (token, endpoint) = (token.expect("token"), endpoint.expect("endpoint"));
    let scratch = std::path::PathBuf::from(scratch.expect("scratch"));
    assert_eq!(endpoint, format!("http://{listen}"));
    assert!(scratch.join("picket.db").exists());
    let mut live = 0;
    for _ in 0..150 {
        let (status, body) = support::get(
            &endpoint,
            "/beta/security/identities/sensors?$filter=startswith(displayName,'demo')&$top=100",
            &token,
        )
        .await;
        if status == 200 {
            live = body["value"].as_array().map_or(0, Vec::len);
            if live >= 6 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let stopped = child.wait().expect("wait");
    assert_eq!(live, 6, "the simulated fleet enrolled");
    assert!(stopped.success(), "the demo stops cleanly on SIGTERM");
    assert!(!scratch.exists(), "the throwaway installation is gone");
    assert!(
        !home.path().join("data/picket").exists(),
        "the user's installation was not touched"
    );
}

/// The one binary carries the agent: `picket agent` is `picket-agent`.
#[test]
fn picket_carries_the_agent() {
    let home = tempfile::tempdir().expect("home");
    let out = picket_in(home.path(), home.path(), &["agent", "run", "--help"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains("--access-key"), "{:?}", text(&out));
}
