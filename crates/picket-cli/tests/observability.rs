//! The real `picket serve` as an operator's tools see it: with `PICKET_LOG_FORMAT=json` every
//! line on stdout and stderr is a JSON object and the lines logged while handling a request
//! carry its request id; with `--metrics-listen`, `/metrics` is served there and only there.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::*;

/// The demo tenant (`serve --demo` loads it).
const TENANT: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";

/// Every line of both streams, as it comes.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    for stream in [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    rx
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn json_logs_carry_request_ids_and_metrics_has_its_own_listener() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .args(["--metrics-listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("PICKET_LOG_FORMAT", "json")
        .env("PICKET_LOG", "info,picket_server=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("picket starts");
    let rx = lines_of(&mut child);
    let mut seen: Vec<String> = Vec::new();
    let (mut base, mut metrics) = (None, None);
    while base.is_none() || metrics.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server announces its listeners");
        let parsed: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if let Some(url) = message(&parsed).strip_prefix("Picket listening on ") {
            base = Some(url.to_string());
        }
        if let Some(url) = message(&parsed).strip_prefix("Metrics on ") {
            metrics = Some(url.to_string());
        }
        seen.push(line);
    }
    let (base, metrics) = (base.expect("base"), metrics.expect("metrics"));

    let client = reqwest::Client::new();
    let token = token(dir.path(), TENANT, &["SecurityIdentitiesSensors.Read.All"]);
    let r = client
        .get(format!("{base}/v1.0/security/identities/sensors"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let request_id = r
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .expect("request-id")
        .to_string();
    let scraped = client.get(&metrics).send().await.expect("scrape");
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.expect("text");
    assert!(
        text.contains(r#"picket_graph_requests_total{operation="listSensors",status="200"} 1"#),
        "{text}"
    );
    let on_main = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("main");
    // Graph's answer to an unknown first segment, not the metrics.
    assert_eq!(
        on_main.status(),
        400,
        "/metrics is only on its own listener"
    );
    assert!(!on_main.text().await.expect("body").contains("picket_"));

    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
    seen.extend(rx.try_iter());
    // The reader threads end with the process; take what they still hold.
    std::thread::sleep(Duration::from_millis(200));
    seen.extend(rx.try_iter());

    let parsed: Vec<Value> = seen
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of_request: Vec<&Value> = parsed
        .iter()
        .filter(|l| l.to_string().contains(&request_id))
        .collect();
    assert!(
        !of_request.is_empty(),
        "the request logged nothing: {seen:#?}"
    );
    for line in &of_request {
        assert_eq!(
            line["span"]["request_id"], request_id,
            "inside the request's span: {line}"
        );
    }
    assert!(
        !seen.iter().any(|l| l.contains(&token)),
        "a token reached the log"
    );
}
