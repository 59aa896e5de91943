//! The agent's command line refuses what it cannot use, before touching the network; it finds
//! its server by `--endpoint`/`PICKET_ENDPOINT` (or the older `--server`/`PICKET_SERVER`), and
//! colours its log only for a terminal.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AGENT: &str = env!("CARGO_BIN_EXE_picket-agent");

#[test]
fn bad_arguments_are_refused() {
    let run = |args: &[&str]| Command::new(AGENT).args(args).output().expect("runs");
    let out = run(&[
        "run",
        "--endpoint",
        "http://127.0.0.1:9",
        "--tenant",
        "t",
        "--access-key",
        "k",
        "--computer",
        "a.b",
        "--check-in-every",
        "1ms",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
    let out = run(&[
        "simulate",
        "--endpoint",
        "http://127.0.0.1:9",
        "--tenant",
        "t",
        "--access-key",
        "k",
        "--failure-rate",
        "2",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--failure-rate"));
    let help = run(&["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("simulate"));
    for sub in ["run", "simulate"] {
        let help = String::from_utf8_lossy(&run(&[sub, "--help"]).stdout).into_owned();
        assert!(
            help.contains("--endpoint <URL>")
                && help.contains("PICKET_ENDPOINT")
                && help.contains("http://127.0.0.1:8080"),
            "{help}"
        );
        // The old name works but is not advertised.
        assert!(!help.contains("--server"), "{help}");
    }
}

/// A loopback port nobody listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Starts `picket-agent ARGS` with `env` (stderr piped, so not a terminal) and returns the
/// first log line saying the server is unreachable; the agent is then killed.
fn first_unreachable_line(args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(AGENT);
    cmd.args(args)
        .arg("--state-dir")
        .arg(dir.path())
        .env_remove("PICKET_ENDPOINT")
        .env_remove("PICKET_SERVER")
        .env_remove("NO_COLOR")
        .env("PICKET_AGENT_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("agent starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let found = loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains("unreachable") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) if Instant::now() > deadline => break None,
            Err(_) => {}
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    found.unwrap_or_else(|| panic!("no 'unreachable' log line; stderr: {seen:?}"))
}

#[test]
fn the_endpoint_flag_its_variable_and_the_old_server_names_all_work() {
    let run_args = |flag: Option<(&'static str, String)>| {
        let mut args = vec![
            "run".to_string(),
            "--tenant".into(),
            "t".into(),
            "--access-key".into(),
            "k".into(),
            "--computer".into(),
            "dc1.contoso.com".into(),
        ];
        if let Some((name, url)) = flag {
            args.push(name.into());
            args.push(url);
        }
        args
    };
    let line = |flag: Option<(&'static str, String)>, env: &[(&str, &str)]| {
        let args = run_args(flag);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        first_unreachable_line(&args, env)
    };
    let (a, b) = (closed_port(), closed_port());
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    let names = |line: &str, port: u16| line.contains(&format!("127.0.0.1:{port}/agent/v1/"));

    let l = line(Some(("--endpoint", url(a))), &[]);
    assert!(names(&l, a), "{l}");
    // The log goes to a pipe here: no colour codes in it.
    assert!(l.contains("WARN") && !l.contains('\x1b'), "{l:?}");
    let l = line(Some(("--server", url(a))), &[]);
    assert!(names(&l, a), "--server is still accepted: {l}");
    let l = line(None, &[("PICKET_ENDPOINT", &url(a))]);
    assert!(names(&l, a), "{l}");
    let l = line(None, &[("PICKET_SERVER", &url(b))]);
    assert!(
        names(&l, b),
        "PICKET_SERVER when PICKET_ENDPOINT is unset: {l}"
    );
    let l = line(
        None,
        &[("PICKET_ENDPOINT", &url(a)), ("PICKET_SERVER", &url(b))],
    );
    assert!(names(&l, a), "PICKET_ENDPOINT wins: {l}");
    let l = line(
        Some(("--endpoint", url(b))),
        &[("PICKET_ENDPOINT", &url(a))],
    );
    assert!(names(&l, b), "the flag wins: {l}");
    // `simulate` takes the same flag under both names (it retries an unreachable server
    // quietly, so only the parse is checked here; fleet_e2e runs it against a server).
    for flag in ["--endpoint", "--server"] {
        let out = Command::new(AGENT)
            .args([
                "simulate",
                flag,
                &url(a),
                "--tenant",
                "t",
                "--access-key",
                "k",
                "--help",
            ])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{flag}: {out:?}");
    }
}

/// On a terminal (util-linux `script` makes one) the log is coloured; `NO_COLOR` turns it off.
#[cfg(unix)]
#[test]
fn a_terminal_gets_a_coloured_log() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: no /usr/bin/script to make a terminal");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = closed_port();
    let on_terminal = |no_color: bool| {
        let mut cmd = Command::new("/usr/bin/script");
        cmd.args([
            "-qfec",
            &format!(
                "exec timeout -s TERM 3 {AGENT} run --endpoint http://127.0.0.1:{port} --tenant t --access-key k --computer dc1.contoso.com --state-dir {}",
                dir.path().display()
            ),
            "/dev/null",
        ])
        .env("PICKET_AGENT_LOG", "warn")
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stderr(Stdio::null());
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().expect("script runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_terminal(false);
    assert!(
        coloured.contains("unreachable") && coloured.contains("\x1b["),
        "{coloured:?}"
    );
    let plain = on_terminal(true);
    assert!(
        plain.contains("unreachable") && !plain.contains("\x1b["),
        "{plain:?}"
    );
}
