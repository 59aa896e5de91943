//! `picket` as a client, end to end: the built binary against a spawned `picket serve` (demo
//! tenant, token service over HTTPS, throttling, a 2,500-sensor tenant) and against a local
//! stand-in for Microsoft Graph and Entra that records exactly what was sent.

mod support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use support::*;

const DEMO_TENANT: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";
const TENANT: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";

/// What one CLI run left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    fn json(self) -> Value {
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    fn lines(self) -> Vec<Value> {
        self.ok()
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect()
    }
}

/// Runs `picket ARGS` with a clean environment: a private home for profiles and the token
/// cache, no inherited credentials, no terminal on stdin.
async fn cli(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("HOME", home)
        .env("PICKET_LOG", "warn");
    for var in [
        "PICKET_TOKEN",
        "PICKET_PROFILE",
        "PICKET_ENDPOINT",
        "PICKET_GRAPH_URL",
        "PICKET_API",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_AUTHORITY_HOST",
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .await
        .expect("picket runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The demo token from `export … PICKET_TOKEN=…` (alone on its line or after the endpoint).
fn demo_token(server: &Server) -> String {
    server
        .lines
        .iter()
        .filter(|l| l.starts_with("export "))
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| w.strip_prefix("PICKET_TOKEN="))
        .expect("demo prints a token")
        .to_string()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect()
}

/// A stand-in file server for the package download.
async fn package_host() -> String {
    let app = axum::Router::new().route(
        "/Azure%20ATP%20Sensor%20Setup.zip",
        axum::routing::get(|| async { b"PK\x03\x04 sensor package".to_vec() }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn every_command_and_format_against_the_demo_tenant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let files = package_host().await;
    let package_url = format!("{files}/Azure%20ATP%20Sensor%20Setup.zip");
    let server = Server::start(
        &dir.path().join("data"),
        &["--demo", "--package-url", &package_url],
    );
    let token = demo_token(&server);
    let env = [
        ("PICKET_TOKEN", token.as_str()),
        ("PICKET_ENDPOINT", server.base.as_str()),
    ];
    let run = |args: &'static [&'static str]| cli(&home, args, &env);

    // sensors list, in every format.
    let table = run(&["sensors", "list"]).await.ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 13, "{table}");
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("HEALTH") && lines[0].ends_with("ID")
    );
    assert!(lines.iter().any(|l| l.starts_with("DC3")
        && l.contains("emea.contoso.com")
        && l.contains("notHealthyHigh")));
    assert!(
        !table.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    let json = run(&["sensors", "list", "-o", "json"]).await.json();
    assert_eq!(json.as_array().map(Vec::len), Some(12));
    let jsonl = run(&["sensors", "list", "--output", "jsonl"]).await.lines();
    assert_eq!(ids(&jsonl), ids(json.as_array().expect("array")));
    let csv = run(&["sensors", "list", "-o", "csv"]).await.ok();
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("displayName,domainName,sensorType,version,deploymentStatus,serviceStatus,healthStatus,openHealthIssuesCount,id")
    );
    assert_eq!(rows.count(), 12);
    let high = run(&[
        "sensors",
        "list",
        "--health",
        "notHealthyHigh",
        "-o",
        "jsonl",
    ])
    .await
    .lines();
    assert_eq!(ids(&high), ["b3c1b5fc-828c-45fa-a1e1-000000000012"]);
    let some = run(&["sensors", "list", "--top", "2", "--max", "5", "-o", "jsonl"])
        .await
        .lines();
    assert_eq!(some.len(), 5);
    let filtered = run(&[
        "sensors",
        "list",
        "--domain",
        "fabrikam.local",
        "--filter",
        "sensorType eq 'domainControllerStandalone'",
        "-o",
        "jsonl",
    ])
    .await
    .lines();
    assert_eq!(ids(&filtered), ["b3c1b5fc-828c-45fa-a1e1-000000000009"]);
    let v1 = cli(
        &home,
        &[
            "sensors", "list", "--api", "v1.0", "-o", "jsonl", "--max", "1",
        ],
        &env,
    )
    .await
    .lines();
    assert!(
        v1[0].get("serviceStatus").is_some() && v1[0].get("migrationState").is_none(),
        "v1.0 has serviceStatus, not migrationState: {}",
        v1[0]
    );

    // show, update, delete.
    let shown = run(&[
        "sensors",
        "show",
        "b3c1b5fc-828c-45fa-a1e1-000000000007",
        "--issues",
        "-o",
        "json",
    ])
    .await
    .json();
    assert_eq!(shown["displayName"], "DC1");
    assert_eq!(shown["healthIssues"].as_array().map(Vec::len), Some(2));
    let shown = run(&["sensors", "show", "b3c1b5fc-828c-45fa-a1e1-000000000007"])
        .await
        .ok();
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("deploymentStatus") && l.ends_with("disconnected")),
        "{shown}"
    );
    let updated = run(&[
        "sensors",
        "update",
        "b3c1b5fc-828c-45fa-a1e1-000000000009",
        "--description",
        "rack 4's standalone",
        "--dc-dns-names",
        "DC1.fabrikam.local",
        "--delayed-deployment",
        "false",
        "-o",
        "json",
    ])
    .await
    .json();
    assert_eq!(updated["settings"]["description"], "rack 4's standalone");
    assert_eq!(
        updated["settings"]["domainControllerDnsNames"],
        json!(["DC1.fabrikam.local"])
    );
    assert_eq!(updated["settings"]["isDelayedDeploymentEnabled"], false);
    let refused = run(&[
        "sensors",
        "update",
        "b3c1b5fc-828c-45fa-a1e1-000000000003",
        "--delayed-deployment",
        "true",
    ])
    .await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.starts_with("error: 400 BadRequest: ")
            && refused.stderr.contains("(request-id "),
        "{}",
        refused.stderr
    );
    let nothing = run(&["sensors", "update", "b3c1b5fc-828c-45fa-a1e1-000000000003"]).await;
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert_eq!(
        run(&["sensors", "show", " "]).await.code,
        2,
        "an empty id is a usage error"
    );
    let versioned = format!("{}/v1.0", server.base);
    let v1 = cli(
        &home,
        &[
            "sensors",
            "list",
            "--endpoint",
            &versioned,
            "-o",
            "jsonl",
            "--max",
            "1",
        ],
        &env,
    )
    .await
    .lines();
    assert!(
        v1[0].get("migrationState").is_none() && v1[0].get("serviceStatus").is_some(),
        "the endpoint named v1.0"
    );
    let unasked = run(&["sensors", "delete", "b3c1b5fc-828c-45fa-a1e1-000000000011"]).await;
    assert_eq!(
        unasked.code, 2,
        "no terminal and no --yes: {}",
        unasked.stderr
    );
    assert!(unasked.stderr.contains("--yes"));
    assert_eq!(
        run(&[
            "sensors",
            "delete",
            "b3c1b5fc-828c-45fa-a1e1-000000000011",
            "--yes"
        ])
        .await
        .ok()
        .trim(),
        "deleted sensor b3c1b5fc-828c-45fa-a1e1-000000000011"
    );
    // Bulk: what a status or filter selects, named in the question.
    let none = run(&[
        "sensors",
        "delete",
        "--deployment-status",
        "unreachable",
        "--yes",
    ])
    .await
    .ok();
    assert_eq!(none.trim(), "No sensors match.");
    let unasked = run(&["sensors", "delete", "--filter", "displayName eq 'ENTRA1'"]).await;
    assert_eq!(unasked.code, 2);
    assert!(
        unasked
            .stderr
            .contains("Delete 1 sensor (ENTRA1.contoso.com)?"),
        "{}",
        unasked.stderr
    );
    let bulk = run(&[
        "sensors",
        "delete",
        "--filter",
        "displayName eq 'ENTRA1'",
        "--yes",
    ])
    .await
    .ok();
    assert_eq!(
        bulk.trim(),
        "deleted sensor ENTRA1.contoso.com (b3c1b5fc-828c-45fa-a1e1-000000000006)"
    );
    assert_eq!(
        run(&["sensors", "delete"]).await.code,
        2,
        "nothing selected"
    );
    let gone = run(&["sensors", "show", "b3c1b5fc-828c-45fa-a1e1-000000000011"]).await;
    assert_eq!(gone.code, 1);
    let line = gone.stderr.trim();
    assert!(
        line.starts_with("error: 404 NotFound: ")
            && line.contains("(request-id ")
            && !line.contains('\n'),
        "{line}"
    );

    // health issues: filters, show, close / suppress / reopen.
    let open = run(&["health-issues", "list", "--status", "open", "-o", "jsonl"])
        .await
        .lines();
    assert!(!open.is_empty() && open.iter().all(|i| i["status"] == "open"));
    let counted = run(&[
        "health-issues",
        "list",
        "--status",
        "open",
        "--count",
        "-o",
        "json",
    ])
    .await
    .json();
    assert_eq!(counted, json!({ "count": open.len() }));
    assert_eq!(
        run(&["sensors", "list", "--count", "--type", "adfsIntegrated"])
            .await
            .ok()
            .trim(),
        "1"
    );
    assert_eq!(
        run(&["sensors", "list", "--count", "--max", "2"])
            .await
            .code,
        2
    );
    let high = run(&[
        "health-issues",
        "list",
        "--severity",
        "high",
        "--type",
        "sensor",
        "-o",
        "jsonl",
    ])
    .await
    .lines();
    assert!(
        !high.is_empty()
            && high
                .iter()
                .all(|i| i["severity"] == "high" && i["healthIssueType"] == "sensor")
    );
    let dc1 = run(&["health-issues", "list", "--sensor", "DC1", "-o", "jsonl"])
        .await
        .lines();
    assert!(!dc1.is_empty());
    for i in &dc1 {
        let names = i["sensorDNSNames"].as_array().expect("names");
        assert!(
            names.iter().any(|n| n
                .as_str()
                .is_some_and(|n| n.to_lowercase().starts_with("dc1."))),
            "{i}"
        );
    }
    let fabrikam = run(&[
        "health-issues",
        "list",
        "--domain",
        "fabrikam.local",
        "--status",
        "open",
        "--status",
        "suppressed",
        "-o",
        "jsonl",
    ])
    .await
    .lines();
    assert!(!fabrikam.is_empty());
    assert!(fabrikam.iter().all(|i| i["domainNames"]
        .as_array()
        .is_some_and(|d| d.contains(&json!("fabrikam.local")))));
    let quoted = run(&[
        "health-issues",
        "list",
        "--domain",
        "o'hare.test",
        "-o",
        "jsonl",
    ])
    .await
    .lines();
    assert!(
        quoted.is_empty(),
        "a quote in a value is escaped, not an error"
    );
    const ISSUE: &str = "5e4d2c1b-0a9f-4e8d-b7c6-000000000002";
    let suppressed = run(&["health-issues", "suppress", ISSUE, "-o", "jsonl"])
        .await
        .lines();
    assert_eq!(suppressed[0]["status"], "suppressed");
    let shown = run(&["health-issues", "show", ISSUE, "-o", "json"])
        .await
        .json();
    assert_eq!(shown["status"], "suppressed");
    assert_eq!(
        run(&["health-issues", "reopen", ISSUE, "-o", "jsonl"])
            .await
            .lines()[0]["status"],
        "open"
    );
    let closed = run(&["health-issues", "close", ISSUE]).await.ok();
    assert!(
        closed
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("closed") && l.ends_with(ISSUE)),
        "{closed}"
    );

    // candidates: list, activate by pattern (asks first), by id, nothing matched.
    let csv = run(&["candidates", "list", "-o", "csv"]).await.ok();
    assert_eq!(
        csv.lines().next(),
        Some("computerDnsName,senseClientVersion,lastSeenDateTime,id")
    );
    assert_eq!(csv.lines().count(), 4);
    let one = run(&[
        "candidates",
        "show",
        "c0633ebb-8cfb-f17a-0b9e-000000000002",
        "-o",
        "json",
    ])
    .await
    .json();
    assert_eq!(one["computerDnsName"], "dc3.fabrikam.local");
    let unasked = run(&["candidates", "activate", "--name", "DC4.*"]).await;
    assert_eq!(unasked.code, 2, "{}", unasked.stderr);
    assert!(
        unasked.stderr.contains("Activate 2 candidates")
            && unasked.stderr.contains("dc4.contoso.com"),
        "{}",
        unasked.stderr
    );
    let done = run(&[
        "candidates",
        "activate",
        "--name",
        "DC4.*",
        "--yes",
        "-o",
        "json",
    ])
    .await
    .json();
    assert_eq!(done["activated"].as_array().map(Vec::len), Some(2));
    let left = run(&["candidates", "list", "-o", "jsonl"]).await.lines();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["computerDnsName"], "dc3.fabrikam.local");
    assert_eq!(
        run(&["sensors", "list", "-o", "jsonl"]).await.lines().len(),
        12,
        "12 - 2 deleted + 2 activated"
    );
    let none = run(&["candidates", "activate", "--name", "nothing-*", "--yes"]).await;
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("matches 'nothing-*'"));
    assert_eq!(run(&["candidates", "activate"]).await.code, 2);
    let bad = run(&["candidates", "activate", "no-such-id", "--yes"]).await;
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.starts_with("error: 400 BadRequest"),
        "{}",
        bad.stderr
    );

    // activation mode.
    assert_eq!(
        run(&["activation", "show", "-o", "json"]).await.json(),
        json!({"activationMode": "manual"})
    );
    let set = run(&["activation", "set", "automated"]).await.ok();
    assert_eq!(set.trim(), "activationMode  automated");
    assert_eq!(
        run(&["candidates", "list"]).await.ok().trim(),
        "No items.",
        "automated mode activates the waiting candidate"
    );
    assert_eq!(run(&["activation", "set", "sometimes"]).await.code, 2);

    // access key: masked unless revealed; regenerating asks first.
    let masked = run(&["access-key", "show"]).await.ok();
    assert!(masked.contains("********") && masked.contains("--reveal"));
    let key = run(&["access-key", "show", "--reveal", "-o", "json"])
        .await
        .json()["deploymentAccessKey"]
        .as_str()
        .expect("key")
        .to_string();
    assert!(key.len() > 20 && !masked.contains(&key));
    assert_eq!(
        run(&["access-key", "show", "-o", "json"]).await.json(),
        json!({"deploymentAccessKey": "********"})
    );
    assert_eq!(run(&["access-key", "regenerate"]).await.code, 2);
    let quiet = run(&["access-key", "regenerate", "--yes"]).await;
    assert!(quiet.stderr.contains("--reveal"));
    let after_quiet = run(&["access-key", "show", "--reveal", "-o", "json"])
        .await
        .json()["deploymentAccessKey"]
        .clone();
    assert_ne!(after_quiet, json!(key));
    assert!(!quiet.stdout.contains(after_quiet.as_str().expect("key")));
    let fresh = run(&[
        "access-key",
        "regenerate",
        "--yes",
        "--reveal",
        "-o",
        "jsonl",
    ])
    .await
    .lines();
    assert_ne!(fresh[0]["deploymentAccessKey"], after_quiet);

    // package: show and download.
    let package = run(&["package", "show", "-o", "json"]).await.json();
    assert_eq!(
        package,
        json!({"downloadUrl": package_url, "version": "2.239.18124.58593"})
    );
    let target = dir.path().join("pkg.zip");
    let target_s = target.to_str().expect("utf8").to_string();
    let saved = cli(&home, &["package", "download", "--out", &target_s], &env).await;
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    assert_eq!(
        std::fs::read(&target).expect("downloaded"),
        b"PK\x03\x04 sensor package"
    );
    assert!(
        saved.stderr.contains("19 bytes, version 2.239.18124.58593"),
        "{}",
        saved.stderr
    );
    assert_eq!(
        cli(&home, &["package", "download", "--out", &target_s], &env)
            .await
            .code,
        2,
        "an existing file is kept"
    );

    // watch: one frame, worst health first, counts on top (12 + the candidate automated mode activated).
    let frame = run(&["watch", "sensors", "--once"]).await.ok();
    let lines: Vec<&str> = frame.lines().collect();
    assert!(lines[0].starts_with("13 sensors at "), "{frame}");
    assert!(
        lines[1].starts_with("health:") && lines[1].contains("notHealthyHigh 1"),
        "{frame}"
    );
    assert!(
        lines[2].starts_with("deployment:") && lines[2].contains("upToDate"),
        "{frame}"
    );
    assert!(lines[4].starts_with("NAME"));
    assert!(
        lines[5].starts_with("DC3") && lines[5].contains("notHealthyHigh"),
        "{frame}"
    );
    assert!(lines.last().is_some_and(|l| l.contains("healthy")));

    // usage, permission and sign-in errors.
    assert_eq!(run(&["sensors", "list", "-o", "xml"]).await.code, 2);
    assert_eq!(run(&["sensors", "list", "--health", "sick"]).await.code, 2);
    let reader = support::token(
        &dir.path().join("data"),
        DEMO_TENANT,
        &["SecurityIdentitiesHealth.Read.All"],
    );
    let denied = cli(
        &home,
        &["sensors", "list"],
        &[("PICKET_TOKEN", &reader), ("PICKET_ENDPOINT", &server.base)],
    )
    .await;
    assert_eq!(denied.code, 1);
    assert!(
        denied
            .stderr
            .starts_with("error: 403 UnknownError: Missing ")
            && denied.stderr.contains("SecurityIdentitiesSensors")
            && denied.stderr.contains("(request-id "),
        "{}",
        denied.stderr
    );
    let forged = cli(
        &home,
        &[
            "sensors",
            "list",
            "--token",
            "not-a-token",
            "--endpoint",
            &server.base,
        ],
        &[],
    )
    .await;
    assert_eq!(forged.code, 3);
    assert!(
        forged
            .stderr
            .starts_with("error: sign-in failed: 401 InvalidAuthenticationToken"),
        "{}",
        forged.stderr
    );
    let nobody = cli(&home, &["sensors", "list", "--endpoint", &server.base], &[]).await;
    assert_eq!(nobody.code, 3, "{}", nobody.stderr);
    let unreachable = cli(
        &home,
        &[
            "sensors",
            "list",
            "--endpoint",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ],
        &[],
    )
    .await;
    assert_eq!(unreachable.code, 1);
    assert!(unreachable
        .stderr
        .starts_with("error: cannot reach http://127.0.0.1:9/beta/security/identities/sensors"));

    // completions and help.
    let bash = run(&["completions", "bash"]).await.ok();
    assert!(bash.contains("health-issues") && bash.contains("--endpoint"));
    let help = run(&["--help"]).await.ok();
    for command in [
        "serve",
        "sensors",
        "health-issues",
        "candidates",
        "activation",
        "access-key",
        "package",
        "watch",
        "completions",
    ] {
        assert!(
            help.contains(&format!("  {command} ")),
            "{command} missing from --help"
        );
    }
    for args in [
        &["sensors", "list", "--help"][..],
        &["health-issues", "close", "--help"],
        &["candidates", "activate", "--help"],
        &["access-key", "regenerate", "--help"],
        &["package", "download", "--help"],
        &["watch", "sensors", "--help"],
    ] {
        let text = cli(&home, args, &[]).await.ok();
        assert!(
            text.contains("Example") && text.contains("picket "),
            "{args:?} has no example"
        );
    }
}

/// An RSA certificate with its key in one PEM file (the shape AZURE_CLIENT_CERTIFICATE_PATH takes).
fn rsa_certificate(dir: &Path) -> (String, String) {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("rsa key");
    let key_pem = key
        .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .expect("pkcs8")
        .to_string();
    let pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&key_pem, &rcgen::PKCS_RSA_SHA256)
        .expect("key pair");
    let cert = rcgen::CertificateParams::new(vec!["picket-cli-test".to_string()])
        .expect("params")
        .self_signed(&pair)
        .expect("self-signed");
    let cert_file = dir.join("cert.pem");
    std::fs::write(&cert_file, cert.pem()).expect("write");
    let both = dir.join("cert-and-key.pem");
    std::fs::write(&both, format!("{}{key_pem}", cert.pem())).expect("write");
    (
        cert_file.to_str().expect("utf8").into(),
        both.to_str().expect("utf8").into(),
    )
}

#[tokio::test]
async fn signs_in_at_the_token_service_with_a_secret_a_certificate_or_a_profile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    let home = dir.path().join("home");
    // Store commands never create an installation; `picket init` does.
    picket(&d, &["init"]);
    picket(
        &d,
        &["tenants", "create", "--id", TENANT, "--name", "Fabrikam"],
    );
    let fixture = dir.path().join("f.json");
    std::fs::write(&fixture, r#"{"sensors": [{"id": "s-1", "displayName": "DC1", "domainName": "fabrikam.com", "sensorType": "domainControllerIntegrated", "version": "2.239.1.1"}]}"#).expect("write");
    picket(
        &d,
        &["seed", fixture.to_str().expect("utf8"), "--tenant", TENANT],
    );
    let created = picket(
        &d,
        &[
            "apps",
            "create",
            "--tenant",
            TENANT,
            "--name",
            "ops",
            "--grant",
            "SecurityIdentitiesSensors.ReadWrite.All",
        ],
    );
    let client_id = field(&created, "client id:").to_string();
    let secret = field(&created, "client secret: ").to_string();
    let (cert, cert_and_key) = rsa_certificate(dir.path());
    let created = picket(
        &d,
        &[
            "apps",
            "create",
            "--tenant",
            TENANT,
            "--name",
            "ci",
            "--cert",
            &cert,
            "--grant",
            "SecurityIdentitiesSensors.Read.All",
        ],
    );
    let cert_client = field(&created, "client id:").to_string();
    let server = Server::start(&d, &["--tls-listen", "127.0.0.1:0"]);
    let (https, ca) = server.https.clone().expect("https");

    // A client secret from azure-identity's variables, over HTTPS trusting Picket's CA.
    let env = [
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", client_id.as_str()),
        ("AZURE_CLIENT_SECRET", secret.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ];
    let listed = cli(
        &home,
        &["sensors", "list", "--endpoint", &https, "-o", "jsonl"],
        &env,
    )
    .await
    .lines();
    assert_eq!(ids(&listed), ["s-1"]);
    // The token is cached (0600, without the secret) and reused: one token request for two calls.
    let cache = home.join("cache/picket/token-default.json");
    let cached = std::fs::read_to_string(&cache).expect("token cache");
    assert!(!cached.contains(&secret) && cached.contains("accessToken"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&cache)
                .expect("meta")
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let key = cli(
        &home,
        &[
            "access-key",
            "show",
            "--reveal",
            "-o",
            "json",
            "--endpoint",
            &https,
        ],
        &env,
    )
    .await
    .json();
    assert!(key["deploymentAccessKey"]
        .as_str()
        .is_some_and(|k| !k.is_empty()));
    let issued = picket(
        &d,
        &["audit", "--tenant", TENANT, "--operation", "issueToken"],
    );
    assert_eq!(issued.lines().count(), 1, "{issued}");

    // Without the CA the TLS handshake fails (exit 1), with a wrong secret sign-in fails (exit 3).
    let untrusted = cli(
        &home,
        &["sensors", "list", "--endpoint", &https, "--no-token-cache"],
        &env[..3],
    )
    .await;
    assert_eq!(untrusted.code, 1, "{}", untrusted.stderr);
    assert!(
        untrusted.stderr.contains("cannot reach"),
        "{}",
        untrusted.stderr
    );
    // Entra's secret alphabet has `-`: a secret that begins with one is a value, not a flag.
    for attempt in ["not-it", "-TG8Q~not-it"] {
        let wrong = cli(
            &home,
            &[
                "sensors",
                "list",
                "--endpoint",
                &https,
                "--no-token-cache",
                "--client-secret",
                attempt,
            ],
            &env,
        )
        .await;
        assert_eq!(wrong.code, 3, "{attempt}: {}", wrong.stderr);
        assert!(
            wrong
                .stderr
                .contains("sign-in failed: 401 invalid_client: AADSTS7000215"),
            "{}",
            wrong.stderr
        );
        assert!(!wrong.stderr.contains("not-it") && !wrong.stderr.contains(&secret));
    }
    let unknown = cli(
        &home,
        &[
            "sensors",
            "list",
            "--endpoint",
            &https,
            "--no-token-cache",
            "--client-id",
            "00000000-0000-0000-0000-000000000000",
        ],
        &env,
    )
    .await;
    assert_eq!(unknown.code, 3, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("AADSTS700016"),
        "{}",
        unknown.stderr
    );

    // A certificate: the client assertion (RS256, x5t) is accepted; the app may only read.
    let by_cert = cli(
        &home,
        &[
            "sensors",
            "list",
            "-o",
            "jsonl",
            "--endpoint",
            &https,
            "--ca-file",
            &ca,
            "--tenant",
            TENANT,
            "--client-id",
            &cert_client,
            "--certificate",
            &cert_and_key,
        ],
        &[],
    )
    .await
    .lines();
    assert_eq!(ids(&by_cert), ["s-1"]);
    let denied = cli(
        &home,
        &[
            "access-key",
            "show",
            "--endpoint",
            &https,
            "--ca-file",
            &ca,
            "--tenant",
            TENANT,
            "--client-id",
            &cert_client,
            "--certificate",
            &cert_and_key,
        ],
        &[],
    )
    .await;
    assert_eq!(denied.code, 1);
    assert!(
        denied
            .stderr
            .starts_with("error: 403 UnknownError: Missing "),
        "{}",
        denied.stderr
    );

    // A profile names it all; graph requests go to the plain-HTTP listener, sign-in to HTTPS.
    std::fs::create_dir_all(home.join("config/picket")).expect("mkdir");
    std::fs::write(
        home.join("config/picket/profiles.toml"),
        format!(
            "[lab]\nendpoint = \"{}\"\nauthority = \"{https}\"\nca-file = \"{ca}\"\ntenant = \"{TENANT}\"\nclient-id = \"{client_id}\"\nclient-secret = \"{secret}\"\napi = \"v1.0\"\n",
            server.base
        ),
    )
    .expect("profile");
    let listed = cli(
        &home,
        &["sensors", "list", "--profile", "lab", "-o", "jsonl"],
        &[],
    )
    .await
    .lines();
    assert_eq!(ids(&listed), ["s-1"]);
    assert!(home.join("cache/picket/token-lab.json").exists());
    let missing = cli(&home, &["sensors", "list", "--profile", "nope"], &[]).await;
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no profile 'nope'") && missing.stderr.contains("lab"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn throttled_lists_wait_for_retry_after_and_finish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let server = Server::start(
        &dir.path().join("data"),
        &["--demo", "--throttle-app-reads", "2/s:2"],
    );
    let token = demo_token(&server);
    let env = [
        ("PICKET_TOKEN", token.as_str()),
        ("PICKET_ENDPOINT", server.base.as_str()),
    ];
    let started = std::time::Instant::now();
    let run = cli(
        &home,
        &["sensors", "list", "--top", "2", "-o", "jsonl"],
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 12, "six pages, every sensor");
    assert!(
        run.stderr.contains("429 from the server; retrying in"),
        "{}",
        run.stderr
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1500),
        "it waited"
    );
    // With a single attempt the 429 is the answer.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mut last = None;
    for _ in 0..4 {
        let r = cli(
            &home,
            &[
                "sensors",
                "list",
                "--top",
                "1",
                "--attempts",
                "1",
                "-o",
                "jsonl",
            ],
            &env,
        )
        .await;
        if r.code != 0 {
            last = Some(r);
            break;
        }
    }
    let r = last.expect("a run was throttled");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: 429 TooManyRequests: "),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn paging_collects_every_sensor_of_a_2500_sensor_tenant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    let home = dir.path().join("home");
    let sensors: Vec<Value> = (0..2500)
        .map(|n| json!({"id": format!("s-{n:05}"), "displayName": format!("DC{n}"), "domainName": "big.test", "sensorType": "domainControllerIntegrated", "version": "2.239.1.1"}))
        .collect();
    let fixture = dir.path().join("big.json");
    let candidates: Vec<Value> = (0..120)
        .map(|n| json!({"computerDnsName": format!("dc{n}.new.test"), "senseClientVersion": "10.8780.27711.1000"}))
        .collect();
    std::fs::write(
        &fixture,
        json!({ "sensors": sensors, "sensorCandidates": candidates }).to_string(),
    )
    .expect("write");
    picket(&d, &["init"]);
    let seeded = picket(
        &d,
        &["seed", fixture.to_str().expect("utf8"), "--tenant", TENANT],
    );
    assert!(seeded.contains("2500 sensors"), "{seeded}");
    let server = Server::start(&d, &[]);
    let token = support::token(&d, TENANT, &["SecurityIdentitiesSensors.ReadWrite.All"]);
    let env = [
        ("PICKET_TOKEN", token.as_str()),
        ("PICKET_ENDPOINT", server.base.as_str()),
    ];
    let all = cli(
        &home,
        &["sensors", "list", "-o", "jsonl", "--top", "1000"],
        &env,
    )
    .await
    .lines();
    let mut got = ids(&all);
    assert_eq!(got.len(), 2500);
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 2500, "no sensor twice");
    assert_eq!(got[0], "s-00000");
    assert_eq!(got[2499], "s-02499");
    // Server-driven pages (100 by default) are followed too; --max stops early.
    let table = cli(&home, &["sensors", "list"], &env).await.ok();
    assert_eq!(table.lines().count(), 2501);
    let csv = cli(
        &home,
        &["sensors", "list", "-o", "csv", "--max", "1234"],
        &env,
    )
    .await
    .ok();
    assert_eq!(csv.lines().count(), 1235);
    let json = cli(
        &home,
        &["sensors", "list", "-o", "json", "--top", "999"],
        &env,
    )
    .await
    .json();
    assert_eq!(json.as_array().map(Vec::len), Some(2500));

    // 120 candidates go in three activate calls (the progress bar stays hidden without a terminal).
    let activated = cli(
        &home,
        &["candidates", "activate", "--all", "--yes", "-o", "jsonl"],
        &env,
    )
    .await;
    assert_eq!(activated.code, 0, "{}", activated.stderr);
    assert!(
        activated.stderr.is_empty(),
        "no progress bar in a pipe: {}",
        activated.stderr
    );
    let ids: Value = serde_json::from_str(activated.stdout.trim()).expect("json");
    assert_eq!(ids["activated"].as_array().map(Vec::len), Some(120));
    assert_eq!(
        cli(&home, &["candidates", "list"], &env).await.ok().trim(),
        "No items."
    );
    let all = cli(
        &home,
        &["sensors", "list", "-o", "jsonl", "--top", "1000"],
        &env,
    )
    .await
    .lines();
    assert_eq!(all.len(), 2620);
    assert_eq!(
        cli(&home, &["candidates", "activate", "--all", "--yes"], &env)
            .await
            .ok()
            .trim(),
        "No candidates are waiting."
    );
}

/// One request as the stand-in saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct StandIn {
    seen: Arc<Mutex<Vec<Seen>>>,
    base: Arc<Mutex<String>>,
    polls: Arc<Mutex<u32>>,
    unavailable_once: Arc<Mutex<bool>>,
}

/// Microsoft Graph and Entra ID as far as the CLI needs them, answering like the real services.
async fn stand_in(
    State(s): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    s.seen.lock().expect("lock").push(Seen {
        method: method.to_string(),
        target: target.clone(),
        headers,
        body: body.clone(),
    });
    let base = s.base.lock().expect("lock").clone();
    let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
    let sensor = |id: &str, health: &str| json!({"id": id, "displayName": id.to_uppercase(), "domainName": "contoso.com", "healthStatus": health, "deploymentStatus": "upToDate"});
    match (method.as_str(), uri.path()) {
        ("POST", "/contoso.onmicrosoft.com/oauth2/v2.0/token") if body.contains("grant_type=client_credentials") => {
            ok(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "graph-token"}))
        }
        ("POST", "/organizations/oauth2/v2.0/devicecode") => ok(json!({
            "device_code": "dev-123", "user_code": "ABCD-EFGH", "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900, "interval": 1, "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."
        })),
        ("POST", "/organizations/oauth2/v2.0/token") => {
            let mut polls = s.polls.lock().expect("lock");
            *polls += 1;
            if *polls == 1 {
                (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "authorization_pending", "error_description": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending."}))).into_response()
            } else {
                ok(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "user-token", "refresh_token": "refresh-1"}))
            }
        }
        ("GET", "/beta/security/identities/sensors") if uri.query().is_some_and(|q| q.contains("$skip=2")) => {
            ok(json!({"value": [sensor("dc3", "notHealthyHigh")]}))
        }
        ("GET", "/beta/security/identities/sensors") => ok(json!({
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#security/identities/sensors",
            "@odata.nextLink": format!("{base}/beta/security/identities/sensors?$filter=healthStatus%20ne%20%27healthy%27&$top=2&$skip=2"),
            "value": [sensor("dc1", "notHealthyLow"), sensor("dc2", "notHealthyMedium")]
        })),
        ("GET", "/beta/security/identities/sensors/microsoft.graph.security.getDeploymentAccessKey()") => {
            ok(json!({"@odata.type": "#microsoft.graph.security.deploymentAccessKeyType", "deploymentAccessKey": "k-1", "sensorDeploymentAccessKey": "k-1"}))
        }
        ("POST", "/beta/security/identities/sensors/microsoft.graph.security.regenerateDeploymentAccessKey") => ok(json!({"deploymentAccessKey": "k-2"})),
        ("GET", "/v1.0/security/identities/sensors/microsoft.graph.security.getDeploymentPackageUri()") => {
            ok(json!({"downloadUrl": "https://sensorpackage-prd.mdi.securitycenter.microsoft.com/x.zip", "version": "2.239.18124.58593"}))
        }
        ("PATCH", "/beta/security/identities/sensors/dc1") => ok(sensor("dc1", "healthy")),
        ("DELETE", "/beta/security/identities/sensors/dc1") => StatusCode::NO_CONTENT.into_response(),
        ("PATCH", "/beta/security/identities/healthIssues/i-1") => ok(json!({"id": "i-1", "status": "suppressed"})),
        ("GET", "/beta/security/identities/healthIssues") if !std::mem::replace(&mut *s.unavailable_once.lock().expect("lock"), true) => {
            (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], axum::Json(json!({"error": {"code": "ServiceUnavailable", "message": "try later"}}))).into_response()
        }
        ("GET", "/beta/security/identities/healthIssues") => ok(json!({"value": []})),
        ("POST", "/short.example/oauth2/v2.0/token") => ok(json!({"token_type": "Bearer", "expires_in": 200, "access_token": "graph-token"})),
        ("GET", "/beta/security/identities/sensorCandidates") => ok(json!({"value": [
            {"id": "c-1", "computerDnsName": "dc8.contoso.com"}, {"id": "c-2", "computerDnsName": "web1.contoso.com"}, {"id": "c-3", "computerDnsName": "dc9.contoso.com"}
        ]})),
        ("POST", "/beta/security/identities/sensorCandidates/microsoft.graph.security.activate") => StatusCode::OK.into_response(),
        ("PATCH", "/beta/security/identities/sensorCandidateActivationConfiguration") => ok(json!({"activationMode": "automated"})),
        _ => (StatusCode::NOT_FOUND, [("request-id", "rid-404")], axum::Json(json!({"error": {"code": "NotFound", "message": format!("Resource not found for the segment '{}'", uri.path())}}))).into_response(),
    }
}

/// The recording stand-in on a loopback port: its state and `http://ADDR`.
async fn start_stand_in() -> (StandIn, String) {
    let state = StandIn::default();
    let app = axum::Router::new()
        .fallback(stand_in)
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    *state.base.lock().expect("lock") = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, base)
}

#[tokio::test]
async fn the_same_commands_reach_microsoft_graph_with_exactly_what_the_sdks_send() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().to_path_buf();
    let (state, base) = start_stand_in().await;
    let env = [
        ("PICKET_GRAPH_URL", base.as_str()),
        ("AZURE_AUTHORITY_HOST", base.as_str()),
        ("AZURE_TENANT_ID", "contoso.onmicrosoft.com"),
        ("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
        ("AZURE_CLIENT_SECRET", "s3cr3t~value"),
    ];
    let run = |args: &'static [&'static str]| cli(&home, args, &env);

    let listed = run(&[
        "sensors",
        "list",
        "--health",
        "notHealthyLow",
        "--health",
        "notHealthyMedium",
        "--health",
        "notHealthyHigh",
        "--top",
        "2",
        "-o",
        "jsonl",
    ])
    .await
    .lines();
    assert_eq!(ids(&listed), ["dc1", "dc2", "dc3"]);
    assert_eq!(
        run(&["access-key", "show", "--reveal", "-o", "json"])
            .await
            .json(),
        json!({"deploymentAccessKey": "k-1"})
    );
    run(&["access-key", "regenerate", "--yes"]).await.ok();
    let package = run(&["package", "show", "--api", "v1.0", "-o", "json"])
        .await
        .json();
    assert_eq!(package["version"], "2.239.18124.58593");
    run(&["sensors", "update", "dc1", "--description", "DC1 rack 4"])
        .await
        .ok();
    run(&["sensors", "delete", "dc1", "--yes"]).await.ok();
    run(&["health-issues", "suppress", "i-1"]).await.ok();
    let retried = run(&[
        "health-issues",
        "list",
        "--status",
        "open",
        "--sensor",
        "dc1.contoso.com",
        "--domain",
        "o'hare.com",
    ])
    .await;
    assert_eq!(retried.code, 0, "{}", retried.stderr);
    assert!(
        retried
            .stderr
            .contains("503 from the server; retrying in 1.0 s"),
        "{}",
        retried.stderr
    );
    let activated = run(&[
        "candidates",
        "activate",
        "--name",
        "DC?.contoso.com",
        "--yes",
        "-o",
        "json",
    ])
    .await
    .json();
    assert_eq!(activated, json!({"activated": ["c-1", "c-3"]}));
    run(&["activation", "set", "automated"]).await.ok();
    let missing = run(&["sensors", "show", "nope"]).await;
    assert_eq!(missing.code, 1);
    assert_eq!(missing.stderr.trim(), "error: 404 NotFound: Resource not found for the segment '/beta/security/identities/sensors/nope' (request-id rid-404)");

    let seen = state.seen.lock().expect("lock").clone();
    let graph: Vec<&Seen> = seen
        .iter()
        .filter(|s| !s.target.contains("/oauth2/"))
        .collect();
    let lines: Vec<(String, String, String)> = graph
        .iter()
        .map(|s| (s.method.clone(), s.target.clone(), s.body.clone()))
        .collect();
    let expect = |m: &str, t: &str, b: &str| (m.to_string(), t.to_string(), b.to_string());
    assert_eq!(
        lines,
        vec![
            expect("GET", "/beta/security/identities/sensors?$filter=%28healthStatus%20eq%20%27notHealthyLow%27%20or%20healthStatus%20eq%20%27notHealthyMedium%27%20or%20healthStatus%20eq%20%27notHealthyHigh%27%29&$top=2", ""),
            expect("GET", "/beta/security/identities/sensors?$filter=healthStatus%20ne%20%27healthy%27&$top=2&$skip=2", ""),
            expect("GET", "/beta/security/identities/sensors/microsoft.graph.security.getDeploymentAccessKey()", ""),
            expect("POST", "/beta/security/identities/sensors/microsoft.graph.security.regenerateDeploymentAccessKey", ""),
            expect("GET", "/v1.0/security/identities/sensors/microsoft.graph.security.getDeploymentPackageUri()", ""),
            expect("PATCH", "/beta/security/identities/sensors/dc1", r#"{"settings":{"description":"DC1 rack 4"}}"#),
            expect("DELETE", "/beta/security/identities/sensors/dc1", ""),
            expect("PATCH", "/beta/security/identities/healthIssues/i-1", r#"{"status":"suppressed"}"#),
            expect("GET", "/beta/security/identities/healthIssues?$filter=status%20eq%20%27open%27%20and%20sensorDNSNames%2Fany%28x%3Ax%20eq%20%27dc1.contoso.com%27%29%20and%20domainNames%2Fany%28x%3Ax%20eq%20%27o%27%27hare.com%27%29", ""),
            // Again after the 503's Retry-After.
            expect("GET", "/beta/security/identities/healthIssues?$filter=status%20eq%20%27open%27%20and%20sensorDNSNames%2Fany%28x%3Ax%20eq%20%27dc1.contoso.com%27%29%20and%20domainNames%2Fany%28x%3Ax%20eq%20%27o%27%27hare.com%27%29", ""),
            expect("GET", "/beta/security/identities/sensorCandidates?$top=1000", ""),
            expect("POST", "/beta/security/identities/sensorCandidates/microsoft.graph.security.activate", r#"{"serverIds":["c-1","c-3"]}"#),
            expect("PATCH", "/beta/security/identities/sensorCandidateActivationConfiguration", r#"{"activationMode":"automated"}"#),
            expect("GET", "/beta/security/identities/sensors/nope", ""),
        ]
    );
    let mut request_ids = std::collections::HashSet::new();
    for s in &graph {
        let h = |name: &str| {
            s.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(h("authorization"), "Bearer graph-token", "{s:?}");
        assert_eq!(h("accept"), "application/json");
        assert!(h("user-agent").starts_with("picket/"));
        assert!(
            uuid::Uuid::parse_str(&h("client-request-id")).is_ok(),
            "{s:?}"
        );
        request_ids.insert(h("client-request-id"));
        let has_body = !s.body.is_empty();
        assert_eq!(has_body, h("content-type") == "application/json", "{s:?}");
    }
    assert_eq!(
        request_ids.len(),
        graph.len(),
        "a new client-request-id per request"
    );
    // One client-credentials request, cached for every later command (each its own process).
    let token_requests: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.target.contains("/oauth2/"))
        .collect();
    assert_eq!(token_requests.len(), 1, "{token_requests:?}");
    assert_eq!(
        token_requests[0].target,
        "/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert_eq!(
        token_requests[0].body,
        "grant_type=client_credentials&client_id=11111111-2222-3333-4444-555555555555&client_secret=s3cr3t~value&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
    );
    assert_eq!(
        token_requests[0]
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-www-form-urlencoded")
    );

    // A token with less than five minutes left is not reused: each run asks for a new one.
    state.seen.lock().expect("lock").clear();
    let short = [
        ("PICKET_GRAPH_URL", base.as_str()),
        ("AZURE_AUTHORITY_HOST", base.as_str()),
        ("AZURE_TENANT_ID", "short.example"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_CLIENT_SECRET", "s"),
    ];
    for _ in 0..2 {
        let r = cli(&home, &["access-key", "show", "--profile", "short"], &short).await;
        assert_eq!(r.code, 2, "no such profile file: {}", r.stderr);
        cli(&home, &["access-key", "show"], &short).await.ok();
    }
    let token_calls = state
        .seen
        .lock()
        .expect("lock")
        .iter()
        .filter(|s| s.target == "/short.example/oauth2/v2.0/token")
        .count();
    assert_eq!(token_calls, 2);

    // The device code flow: the code is shown, the token endpoint polled until sign-in.
    state.seen.lock().expect("lock").clear();
    let signed_in = cli(
        &home,
        &[
            "health-issues",
            "list",
            "--device-code",
            "--client-id",
            "14d82eec-204b-4c2f-b7e8-296a70dab67e",
            "-o",
            "jsonl",
        ],
        &env[..2],
    )
    .await;
    assert_eq!(signed_in.code, 0, "{}", signed_in.stderr);
    assert!(
        signed_in.stderr.contains("enter the code ABCD-EFGH"),
        "{}",
        signed_in.stderr
    );
    let seen = state.seen.lock().expect("lock").clone();
    let targets: Vec<&str> = seen.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/organizations/oauth2/v2.0/devicecode",
            "/organizations/oauth2/v2.0/token",
            "/organizations/oauth2/v2.0/token",
            "/beta/security/identities/healthIssues"
        ]
    );
    assert_eq!(seen[0].body, "client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default%20offline_access");
    assert_eq!(seen[1].body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&device_code=dev-123");
    assert_eq!(
        seen[3]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer user-token")
    );
    let cached =
        std::fs::read_to_string(home.join("cache/picket/token-default.json")).expect("cache");
    assert!(
        cached.contains("refresh-1"),
        "the refresh token is kept for renewal"
    );
}

/// A JWT with these claims (the client reads `iss` without checking the signature).
fn unsigned_jwt(claims: Value) -> String {
    use base64::Engine;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes()),
        b64(b"not-a-signature")
    )
}

#[tokio::test]
async fn a_picket_token_never_goes_to_graph_and_no_token_crosses_plain_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let server = Server::start(&dir.path().join("data"), &["--demo"]);
    let token = demo_token(&server);
    let refused = format!(
        "error: this token was issued by https://sts.picket.local/{DEMO_TENANT}/, not by Microsoft Entra ID; it is not sent to Microsoft Graph. Set --endpoint (or PICKET_ENDPOINT) to your Picket server, e.g. http://127.0.0.1:8080"
    );

    // `--endpoint graph` aimed at a recording stand-in on loopback: still Graph, so the Picket
    // token is refused by every command, and the stand-in hears nothing.
    let (state, base) = start_stand_in().await;
    let commands: [&[&str]; 8] = [
        &["sensors", "list"],
        &["sensors", "delete", "dc1", "--yes"],
        &["health-issues", "list"],
        &["candidates", "list"],
        &["activation", "show"],
        &["access-key", "show"],
        &["package", "show"],
        &["watch", "sensors", "--interval", "1"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.extend([
            "--endpoint",
            "graph",
            "--graph-url",
            &base,
            "--token",
            &token,
        ]);
        let run = tokio::time::timeout(std::time::Duration::from_secs(30), cli(&home, &args, &[]))
            .await
            .expect("refused at once");
        assert_eq!(run.code, 2, "{command:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim(), refused, "{command:?}");
    }
    // The same from PICKET_TOKEN alone (the default endpoint, graph.microsoft.com).
    let run = cli(
        &home,
        &["sensors", "list"],
        &[("PICKET_TOKEN", token.as_str())],
    )
    .await;
    assert_eq!((run.code, run.stderr.trim()), (2, refused.as_str()));
    let run = cli(
        &home,
        &["sensors", "list"],
        &[
            ("PICKET_TOKEN", token.as_str()),
            ("PICKET_GRAPH_URL", base.as_str()),
        ],
    )
    .await;
    assert_eq!((run.code, run.stderr.trim()), (2, refused.as_str()));
    assert!(
        state.seen.lock().expect("lock").is_empty(),
        "the Graph stand-in was sent something"
    );

    // A token Microsoft Entra ID issued goes to the same stand-in as before.
    let entra = unsigned_jwt(
        json!({"iss": format!("https://sts.windows.net/{TENANT}/"), "aud": "https://graph.microsoft.com"}),
    );
    let listed = cli(
        &home,
        &["sensors", "list", "-o", "jsonl", "--graph-url", &base],
        &[("PICKET_TOKEN", entra.as_str())],
    )
    .await
    .lines();
    assert_eq!(ids(&listed), ["dc1", "dc2", "dc3"]);
    let seen = state.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(
            s.headers.get("authorization").and_then(|v| v.to_str().ok()),
            Some(format!("Bearer {entra}").as_str())
        );
    }

    // Plain http to a host that is not this machine: refused before any connection (192.0.2.1
    // is TEST-NET-1; a connection attempt would hang until the 10 s connect timeout).
    let started = std::time::Instant::now();
    let run = cli(
        &home,
        &[
            "sensors",
            "list",
            "--endpoint",
            "http://192.0.2.1:8080",
            "--token",
            &token,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "error: not sending the bearer token over plain http to http://192.0.2.1:8080: only a loopback address (127.0.0.0/8, ::1, localhost) may be reached without TLS; use https://192.0.2.1:8080"
    );
    let run = cli(
        &home,
        &["access-key", "show"],
        &[
            ("PICKET_ENDPOINT", "https://192.0.2.1:8443"),
            ("AZURE_AUTHORITY_HOST", "http://192.0.2.1:8080"),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s3cr3t"),
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "error: not sending the client secret over plain http to http://192.0.2.1:8080: only a loopback address (127.0.0.0/8, ::1, localhost) may be reached without TLS; use https://192.0.2.1:8080"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "took {:?}: something was contacted",
        started.elapsed()
    );

    // The Picket token at its own server over loopback http works as ever.
    for endpoint in [
        server.base.clone(),
        server.base.replace("127.0.0.1", "localhost"),
    ] {
        let listed = cli(
            &home,
            &[
                "sensors",
                "list",
                "-o",
                "jsonl",
                "--endpoint",
                &endpoint,
                "--token",
                &token,
            ],
            &[],
        )
        .await
        .lines();
        assert_eq!(listed.len(), 12, "{endpoint}");
    }
}

/// Runs `picket ARGS` on a pseudo-terminal (util-linux `script`), typing `keys` after `after`.
#[cfg(unix)]
async fn on_terminal(
    home: &Path,
    args: &str,
    env: &[(&str, &str)],
    keys: Option<(std::time::Duration, &[u8])>,
) -> Option<Run> {
    use tokio::io::AsyncWriteExt;
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: no /usr/bin/script to make a terminal");
        return None;
    }
    let mut cmd = tokio::process::Command::new("/usr/bin/script");
    cmd.args([
        "-qfec",
        &format!("stty cols 200 rows 40 2>/dev/null; exec {BIN} {args}"),
        "/dev/null",
    ])
    .env("XDG_CONFIG_HOME", home.join("config"))
    .env("XDG_CACHE_HOME", home.join("cache"))
    .env("TERM", "xterm-256color")
    .env_remove("NO_COLOR")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("script runs");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some((after, bytes)) = keys {
        tokio::time::sleep(after).await;
        stdin.write_all(bytes).await.expect("type");
        stdin.flush().await.expect("flush");
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("finishes")
        .expect("output");
    drop(stdin);
    Some(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(unix)]
#[tokio::test]
async fn a_terminal_gets_colour_and_watch_gives_it_back_on_ctrl_c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let server = Server::start(&dir.path().join("data"), &["--demo"]);
    let token = demo_token(&server);
    let env = [
        ("PICKET_TOKEN", token.as_str()),
        ("PICKET_ENDPOINT", server.base.as_str()),
    ];
    let Some(coloured) = on_terminal(&home, "sensors list", &env, None).await else {
        return;
    };
    assert_eq!(coloured.code, 0, "{}", coloured.stdout);
    assert!(
        coloured.stdout.contains("\x1b[") && coloured.stdout.contains("notHealthyHigh"),
        "{}",
        coloured.stdout
    );
    let mut plain_env = env.to_vec();
    plain_env.push(("NO_COLOR", "1"));
    let plain = on_terminal(&home, "sensors list", &plain_env, None)
        .await
        .expect("ran");
    assert!(
        plain.stdout.contains("notHealthyHigh") && !plain.stdout.contains("\x1b["),
        "{}",
        plain.stdout
    );

    // Live view: alternate screen and hidden cursor, redrawn each second, restored on Ctrl-C.
    let watched = on_terminal(
        &home,
        "watch sensors --interval 1",
        &env,
        Some((std::time::Duration::from_millis(2500), b"\x03")),
    )
    .await
    .expect("ran");
    assert_eq!(
        watched.code, 0,
        "Ctrl-C ends the view cleanly: {}",
        watched.stdout
    );
    let out = &watched.stdout;
    let entered = out
        .find("\x1b[?1049h")
        .expect("enters the alternate screen");
    let left = out
        .rfind("\x1b[?1049l")
        .expect("leaves the alternate screen");
    let shown = out.rfind("\x1b[?25h").expect("shows the cursor again");
    assert!(entered < left && out.contains("\x1b[?25l"));
    assert!(shown < left || shown > entered);
    assert!(out.matches("12 sensors at").count() >= 2, "redrawn: {out}");
}

/// Device code against Picket's own token service: the CLI shows a code, an administrator
/// approves it with `picket device-codes approve`, and the waiting command goes on as the user.
#[tokio::test]
async fn device_code_sign_in_at_picket_goes_on_once_an_administrator_approves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    let home = dir.path().join("home");
    // Store commands never create an installation; `picket init` does.
    picket(&d, &["init"]);
    picket(
        &d,
        &["tenants", "create", "--id", TENANT, "--name", "Fabrikam"],
    );
    let fixture = dir.path().join("f.json");
    std::fs::write(&fixture, r#"{"sensors": [{"id": "s-1", "displayName": "DC1", "domainName": "fabrikam.com", "sensorType": "domainControllerIntegrated", "version": "2.239.1.1"}]}"#).expect("write");
    picket(
        &d,
        &["seed", fixture.to_str().expect("utf8"), "--tenant", TENANT],
    );
    let created = picket(
        &d,
        &[
            "apps",
            "create",
            "--tenant",
            TENANT,
            "--name",
            "console",
            "--grant",
            "SecurityIdentitiesSensors.Read.All",
        ],
    );
    let client_id = field(&created, "client id:").to_string();
    picket(
        &d,
        &[
            "users",
            "create",
            "--tenant",
            TENANT,
            "--upn",
            "ana@fabrikam.test",
            "--role",
            "Security Reader",
        ],
    );
    let admin = picket(
        &d,
        &[
            "token",
            "--tenant",
            TENANT,
            "--scope",
            "SecurityIdentitiesSensors.Read.All",
            "--directory-role",
            "Global Administrator",
        ],
    )
    .trim()
    .to_string();
    let server = Server::start(&d, &["--tls-listen", "127.0.0.1:0"]);
    let (https, ca) = server.https.clone().expect("https");

    let mut waiting = tokio::process::Command::new(BIN)
        .args([
            "sensors",
            "list",
            "-o",
            "jsonl",
            "--endpoint",
            &https,
            "--ca-file",
            &ca,
            "--tenant",
            TENANT,
            "--client-id",
            &client_id,
            "--device-code",
        ])
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("HOME", &home)
        .env_remove("PICKET_TOKEN")
        .env_remove("AZURE_CLIENT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("picket runs");
    // The code is in the message on stderr.
    let stderr = waiting.stderr.take().expect("stderr");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let message = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("a message in time")
        .expect("stderr readable")
        .expect("a line");
    assert!(
        message.contains(&format!("{https}/{TENANT}/devicelogin")),
        "{message}"
    );
    let code = message
        .split_whitespace()
        .map(|w| w.trim_end_matches('.'))
        .find(|w| w.len() == 9 && w.as_bytes()[4] == b'-')
        .unwrap_or_else(|| panic!("no code in: {message}"))
        .to_string();

    // Someone who is not a Global Administrator cannot approve it.
    let reader = picket(
        &d,
        &[
            "token",
            "--tenant",
            TENANT,
            "--scope",
            "SecurityIdentitiesSensors.Read.All",
            "--directory-role",
            "Security Reader",
        ],
    )
    .trim()
    .to_string();
    let refused = cli(
        &home,
        &[
            "device-codes",
            "approve",
            &code,
            "--user",
            "ana@fabrikam.test",
            "--server",
            &server.base,
            "--token",
            &reader,
        ],
        &[],
    )
    .await;
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("403"), "{}", refused.stderr);

    let approved = cli(
        &home,
        &[
            "device-codes",
            "approve",
            &code,
            "--user",
            "ana@fabrikam.test",
            "--server",
            &https,
            "--ca-file",
            &ca,
            "--token",
            &admin,
        ],
        &[],
    )
    .await
    .ok();
    assert!(
        approved.contains("ana@fabrikam.test") && approved.contains(&client_id),
        "{approved}"
    );
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        waiting.wait_with_output(),
    )
    .await
    .expect("the command finishes after approval")
    .expect("output");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let listed: Vec<Value> = String::from_utf8(out.stdout)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(ids(&listed), ["s-1"]);
}
