//! The agent's command line refuses what it cannot use, before touching the network.

use std::process::Command;

const AGENT: &str = env!("CARGO_BIN_EXE_picket-agent");

#[test]
fn bad_arguments_are_refused() {
    let run = |args: &[&str]| Command::new(AGENT).args(args).output().expect("runs");
    let out = run(&[
        "run",
        "--server",
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
        "--server",
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
}
