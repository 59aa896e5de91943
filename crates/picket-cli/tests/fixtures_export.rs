//! `picket fixtures export` end to end: the built binary exports the demo tenant of a spawned
//! `picket serve --demo` through the Graph API, `picket seed` loads the file into a fresh
//! installation, and a second server answers the same; `--anonymize` leaves no original name
//! and keeps every pseudonym consistent; the deployment access key is never read.

mod support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use support::*;

const DEMO_TENANT: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";
const NEW_TENANT: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
const OTHER_TENANT: &str = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";
const READ_ALL: &[&str] = &[
    "SecurityIdentitiesSensors.Read.All",
    "SecurityIdentitiesHealth.Read.All",
];

/// What one CLI run left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `picket ARGS` with a clean environment (a private home, no inherited credentials, no
/// terminal) and the given variables.
async fn cli(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("HOME", home)
        .env("PICKET_LOG", "warn");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().to_string();
        if (name.starts_with("PICKET_") || name.starts_with("AZURE_")) && name != "PICKET_LOG" {
            cmd.env_remove(name);
        }
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

/// The demo token from the `export PICKET_TOKEN=…` line `serve --demo` prints.
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

/// A demo server whose time stands still, so nothing changes between export and comparison.
fn demo_server(data: &Path) -> (Server, String) {
    let server = Server::start(data, &["--demo", "--clock", "manual"]);
    let token = demo_token(&server);
    (server, token)
}

/// A recording pass-through in front of a server: every request's method and target, in order.
#[derive(Clone)]
struct Recorder {
    upstream: String,
    seen: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

async fn pass_through(
    State(r): State<Recorder>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    r.seen
        .lock()
        .expect("lock")
        .push(format!("{method} {target}"));
    // The Host header goes along, so the server's nextLinks point back at the recorder.
    let mut request = r.http.request(method, format!("{}{target}", r.upstream));
    for (name, value) in &headers {
        if name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = match request.body(body).send().await {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let mut out = HeaderMap::new();
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            out.insert(name.clone(), value.clone());
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    (status, out, bytes).into_response()
}

/// The recorder on a loopback port: what it saw and `http://ADDR`.
async fn recorder(upstream: &str) -> (Arc<Mutex<Vec<String>>>, String) {
    let state = Recorder {
        upstream: upstream.to_string(),
        seen: Arc::default(),
        http: reqwest::Client::new(),
    };
    let seen = state.seen.clone();
    let app = axum::Router::new().fallback(pass_through).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (seen, base)
}

/// Every item of a collection through the API, by id, without annotations of the page.
async fn collection(base: &str, token: &str, name: &str) -> BTreeMap<String, Value> {
    let (status, body) = get(
        base,
        &format!("/beta/security/identities/{name}?$top=1000"),
        token,
    )
    .await;
    assert_eq!(status, 200, "{name}: {body}");
    assert!(body.get("@odata.nextLink").is_none(), "one page of {name}");
    body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|v| (v["id"].as_str().expect("id").to_string(), v.clone()))
        .collect()
}

async fn activation_mode(base: &str, token: &str) -> String {
    let (status, body) = get(
        base,
        "/beta/security/identities/sensorCandidateActivationConfiguration",
        token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["activationMode"]
        .as_str()
        .expect("activationMode")
        .to_string()
}

/// What the API answers about a tenant: sensors, candidates, health issues, activation mode.
#[derive(Debug, PartialEq)]
struct TenantState {
    sensors: BTreeMap<String, Value>,
    candidates: BTreeMap<String, Value>,
    issues: BTreeMap<String, Value>,
    activation: String,
}

async fn tenant_state(base: &str, token: &str) -> TenantState {
    TenantState {
        sensors: collection(base, token, "sensors").await,
        candidates: collection(base, token, "sensorCandidates").await,
        issues: collection(base, token, "healthIssues").await,
        activation: activation_mode(base, token).await,
    }
}

/// Asserts the copy answers exactly as the source did, entity by entity (naming the first
/// that differs).
fn same(copy: &TenantState, source: &TenantState) {
    for (what, c, s) in [
        ("sensor", &copy.sensors, &source.sensors),
        ("candidate", &copy.candidates, &source.candidates),
        ("health issue", &copy.issues, &source.issues),
    ] {
        assert_eq!(
            c.keys().collect::<Vec<_>>(),
            s.keys().collect::<Vec<_>>(),
            "{what} ids"
        );
        for (id, entity) in s {
            assert_eq!(&c[id], entity, "{what} {id}");
        }
    }
    assert_eq!(copy.activation, source.activation, "activation mode");
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("fixture written");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn text_of(path: &Path) -> &str {
    path.to_str().expect("utf8 path")
}

#[tokio::test]
async fn an_exported_tenant_seeds_into_a_fresh_installation_and_answers_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let (source, token) = demo_server(&dir.path().join("source"));
    let before = tenant_state(&source.base, &token).await;
    assert!(
        !before.sensors.is_empty() && !before.candidates.is_empty() && !before.issues.is_empty(),
        "the demo tenant has something of each"
    );

    // Through the recorder, with pages of 5, so nextLinks are followed.
    let (seen, via) = recorder(&source.base).await;
    let file = dir.path().join("fixture.json");
    let run = cli(
        &home,
        &[
            "fixtures",
            "export",
            "--endpoint",
            &via,
            "--top",
            "5",
            "--tenant-id",
            NEW_TENANT,
            "--out",
            text_of(&file),
        ],
        &[("PICKET_TOKEN", &token)],
    )
    .await
    .ok();
    assert_eq!(run.stdout, "", "with --out nothing goes to stdout");
    let summary: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(summary.len(), 1, "one line: {}", run.stderr);
    assert!(
        summary[0].contains(&format!(
            "{} sensors, {} candidates, {} health issues, activation mode manual",
            before.sensors.len(),
            before.candidates.len(),
            before.issues.len()
        )),
        "{}",
        summary[0]
    );
    let requests = seen.lock().expect("lock").clone();
    let pages = |name: &str| {
        requests
            .iter()
            .filter(|r| r.starts_with(&format!("GET /beta/security/identities/{name}?")))
            .count()
    };
    assert_eq!(
        pages("sensors"),
        before.sensors.len().div_ceil(5),
        "{requests:#?}"
    );
    assert_eq!(pages("healthIssues"), before.issues.len().div_ceil(5));
    assert_eq!(
        pages("sensorCandidates"),
        before.candidates.len().div_ceil(5)
    );
    assert!(requests
        .iter()
        .any(|r| r == "GET /beta/security/identities/sensorCandidateActivationConfiguration"));
    assert!(
        !requests
            .iter()
            .any(|r| r.to_ascii_lowercase().contains("accesskey")),
        "{requests:#?}"
    );

    // The file: exactly the fixture fields (seed refuses unknown ones), ids kept.
    let fixture = read_json(&file);
    assert_eq!(fixture["tenantId"], NEW_TENANT);
    assert_eq!(fixture["activationMode"], "manual");
    let ids = |key: &str| -> BTreeSet<String> {
        fixture[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids("sensors"), before.sensors.keys().cloned().collect());
    assert_eq!(
        ids("sensorCandidates"),
        before.candidates.keys().cloned().collect()
    );
    assert_eq!(ids("healthIssues"), before.issues.keys().cloned().collect());

    // Seeded (into the tenantId the file names) in a fresh installation, then served.
    let target = dir.path().join("target");
    picket(&target, &["init"]);
    let seeded = picket(&target, &["seed", text_of(&file)]);
    assert!(seeded.contains(NEW_TENANT), "{seeded}");
    let copy = Server::start(&target, &["--clock", "manual"]);
    let copy_token = support::token(&target, NEW_TENANT, READ_ALL);
    let after = tenant_state(&copy.base, &copy_token).await;
    // Whole entities: every field the fixture carries, and the health derived from the issues.
    same(&after, &before);
    assert_eq!(
        tenant_state(&source.base, &token).await,
        before,
        "the source did not change meanwhile"
    );

    // Once automated (which activates the waiting candidates), the copy is automated too.
    cli(
        &home,
        &["activation", "set", "automated"],
        &[("PICKET_TOKEN", &token), ("PICKET_ENDPOINT", &source.base)],
    )
    .await
    .ok();
    let automated = tenant_state(&source.base, &token).await;
    assert_eq!(automated.activation, "automated");
    let run = cli(
        &home,
        &["fixtures", "export", "--tenant-id", OTHER_TENANT],
        &[("PICKET_TOKEN", &token), ("PICKET_ENDPOINT", &source.base)],
    )
    .await
    .ok();
    let second = dir.path().join("automated.json");
    std::fs::write(&second, &run.stdout).expect("write");
    picket(&target, &["seed", text_of(&second)]);
    let other_token = support::token(&target, OTHER_TENANT, READ_ALL);
    let copied = tenant_state(&copy.base, &other_token).await;
    assert_eq!(copied.activation, "automated");
    same(&copied, &automated);
}

/// Host names in `text`: its words and the labels of its dotted words, lower-cased.
fn labels(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.'))
        .flat_map(|w| w.split('.'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts `pairs` (original, pseudonym) is a one-to-one mapping; returns it.
fn one_to_one(what: &str, pairs: &[(String, String)]) -> BTreeMap<String, String> {
    let mut forward = BTreeMap::new();
    let mut back = BTreeMap::new();
    for (orig, anon) in pairs {
        let orig = orig.to_lowercase();
        if let Some(prev) = forward.insert(orig.clone(), anon.clone()) {
            assert_eq!(&prev, anon, "{what} '{orig}' got two pseudonyms");
        }
        if let Some(prev) = back.insert(anon.clone(), orig.clone()) {
            assert_eq!(prev, orig, "{what} pseudonym '{anon}' stands for two names");
        }
    }
    forward
}

#[tokio::test]
async fn anonymized_exports_name_nothing_real_are_consistent_and_still_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let (source, token) = demo_server(&dir.path().join("source"));
    let env = [
        ("PICKET_TOKEN", token.as_str()),
        ("PICKET_ENDPOINT", &source.base),
    ];
    let plain = cli(&home, &["fixtures", "export"], &env).await.ok();
    let original: Value = serde_json::from_str(&plain.stdout).expect("JSON on stdout");
    let run = cli(&home, &["fixtures", "export", "--anonymize"], &env)
        .await
        .ok();
    assert!(
        run.stderr.contains("anonymized:") && run.stderr.lines().count() == 1,
        "{}",
        run.stderr
    );
    let text = run.stdout;
    let anon: Value = serde_json::from_str(&text).expect("JSON on stdout");
    assert_eq!(
        anon["tenantId"], DEMO_TENANT,
        "default: the tenant exported"
    );

    // No original name is left: not a host name as a word or a DNS label, not a domain.
    let words = labels(&text);
    let lower = text.to_lowercase();
    let mut hosts = BTreeSet::new();
    let mut domains = BTreeSet::new();
    let (sensors, anon_sensors) = (
        original["sensors"].as_array().expect("sensors"),
        anon["sensors"].as_array().expect("sensors"),
    );
    for s in sensors {
        hosts.insert(s["displayName"].as_str().expect("name").to_lowercase());
        domains.insert(s["domainName"].as_str().expect("domain").to_lowercase());
    }
    for c in original["sensorCandidates"].as_array().expect("candidates") {
        let name = c["computerDnsName"].as_str().expect("name").to_lowercase();
        let (host, domain) = name.split_once('.').expect("a DNS name");
        hosts.insert(host.to_string());
        domains.insert(domain.to_string());
    }
    for i in original["healthIssues"].as_array().expect("issues") {
        domains.extend(strings(&i["domainNames"]).iter().map(|d| d.to_lowercase()));
    }
    assert!(
        hosts.len() >= 5 && domains.len() >= 3,
        "{hosts:?} {domains:?}"
    );
    for host in &hosts {
        assert!(!words.contains(host), "host name {host} left in {text}");
    }
    for domain in &domains {
        assert!(
            !lower.contains(domain.as_str()),
            "domain {domain} left in {text}"
        );
        let label = domain.split('.').next().expect("label");
        assert!(
            !lower.contains(label),
            "domain label {label} left in {text}"
        );
    }

    // Same shape, same ids, same order; names replaced one-to-one, in the documented forms.
    assert_eq!(sensors.len(), anon_sensors.len());
    let mut host_pairs = Vec::new();
    let mut domain_pairs = Vec::new();
    for (o, a) in sensors.iter().zip(anon_sensors) {
        assert_eq!(o["id"], a["id"]);
        assert_eq!(o["version"], a["version"]);
        let name = a["displayName"].as_str().expect("name");
        let number = name.strip_prefix("host-").expect("host-NNNN");
        assert!(
            number.len() == 4 && number.chars().all(|c| c.is_ascii_digit()),
            "{name}"
        );
        let domain = a["domainName"].as_str().expect("domain");
        let number = domain
            .strip_prefix("domain-")
            .and_then(|d| d.strip_suffix(".example"))
            .expect("domain-NN.example");
        assert!(
            number.len() == 2 && number.chars().all(|c| c.is_ascii_digit()),
            "{domain}"
        );
        host_pairs.push((o["displayName"].as_str().expect("name").into(), name.into()));
        domain_pairs.push((o["domainName"].as_str().expect("d").into(), domain.into()));
        let description = a["settings"]["description"].as_str().expect("description");
        assert_eq!(
            description,
            format!("{name} sensor"),
            "the demo's descriptions name the host"
        );
    }
    let host_map = one_to_one("host name", &host_pairs);
    let domain_map = one_to_one("domain", &domain_pairs);
    assert!(
        host_map.len() < sensors.len(),
        "the demo repeats names across domains (DC1)"
    );
    // A sensor's DNS name anywhere (issues, domain controller lists) is its pseudonyms joined.
    let fqdn = |name: &str| -> Option<String> {
        let lower = name.to_lowercase();
        let (host, domain) = lower.split_once('.')?;
        Some(format!(
            "{}.{}",
            host_map.get(host)?,
            domain_map.get(domain)?
        ))
    };
    let mut checked = 0;
    let pairs = original["healthIssues"]
        .as_array()
        .expect("issues")
        .iter()
        .zip(anon["healthIssues"].as_array().expect("issues"));
    for (o, a) in pairs {
        assert_eq!(o["id"], a["id"]);
        assert_eq!(o["status"], a["status"]);
        for (name, pseudonym) in strings(&o["sensorDNSNames"])
            .iter()
            .zip(strings(&a["sensorDNSNames"]))
        {
            assert_eq!(fqdn(name).as_deref(), Some(pseudonym.as_str()), "{name}");
            checked += 1;
        }
        for (domain, pseudonym) in strings(&o["domainNames"])
            .iter()
            .zip(strings(&a["domainNames"]))
        {
            assert_eq!(domain_map.get(&domain.to_lowercase()), Some(&pseudonym));
        }
    }
    for (o, a) in sensors.iter().zip(anon_sensors) {
        for (name, pseudonym) in strings(&o["settings"]["domainControllerDnsNames"])
            .iter()
            .zip(strings(&a["settings"]["domainControllerDnsNames"]))
        {
            assert_eq!(fqdn(name).as_deref(), Some(pseudonym.as_str()), "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 10, "DNS names checked: {checked}");

    // It still seeds, and the health derived from the issues is the source's, sensor by sensor:
    // the issues still name their sensors.
    let file = dir.path().join("anonymized.json");
    std::fs::write(&file, &text).expect("write");
    let target = dir.path().join("target");
    picket(&target, &["init"]);
    picket(&target, &["seed", text_of(&file), "--tenant", NEW_TENANT]);
    let copy = Server::start(&target, &["--clock", "manual"]);
    let copy_token = support::token(&target, NEW_TENANT, READ_ALL);
    let before = tenant_state(&source.base, &token).await;
    let after = tenant_state(&copy.base, &copy_token).await;
    assert_eq!(after.sensors.len(), before.sensors.len());
    assert_eq!(after.candidates.len(), before.candidates.len());
    assert_eq!(after.issues.len(), before.issues.len());
    let mut unhealthy = 0;
    for (id, sensor) in &before.sensors {
        let copied = &after.sensors[id];
        for field in [
            "healthStatus",
            "openHealthIssuesCount",
            "sensorType",
            "deploymentStatus",
        ] {
            assert_eq!(copied[field], sensor[field], "{field} of {id}");
        }
        unhealthy += usize::from(sensor["healthStatus"] != "healthy");
    }
    assert!(unhealthy >= 3, "the demo has unhealthy sensors to compare");
}

/// The audit log's entries for one operation in a tenant.
fn audited(data: &Path, operation: &str) -> usize {
    picket(
        data,
        &[
            "audit",
            "--tenant",
            DEMO_TENANT,
            "--json",
            "--operation",
            operation,
        ],
    )
    .lines()
    .filter(|l| !l.trim().is_empty())
    .count()
}

#[tokio::test]
async fn the_deployment_access_key_is_never_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let data = dir.path().join("source");
    let (source, token) = demo_server(&data);
    let env = [
        ("PICKET_TOKEN", token.as_str()),
        ("PICKET_ENDPOINT", &source.base),
    ];
    assert_eq!(audited(&data, "getDeploymentAccessKey"), 0);
    for args in [
        &["fixtures", "export"][..],
        &["fixtures", "export", "--anonymize", "--top", "2"],
    ] {
        let run = cli(&home, args, &env).await.ok();
        assert!(!run.stdout.contains("deploymentAccessKey"));
    }
    assert_eq!(
        audited(&data, "getDeploymentAccessKey"),
        0,
        "no export read the key"
    );
    // The check can fail: a read of the key is in the log at once.
    let shown = cli(&home, &["access-key", "show"], &env).await.ok();
    assert!(
        shown.stdout.contains("deploymentAccessKey"),
        "{}",
        shown.stdout
    );
    assert_eq!(audited(&data, "getDeploymentAccessKey"), 1);
}

#[tokio::test]
async fn an_existing_file_is_kept_without_force_and_a_bad_tenant_id_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let (source, token) = demo_server(&dir.path().join("source"));
    let env = [
        ("PICKET_TOKEN", token.as_str()),
        ("PICKET_ENDPOINT", &source.base),
    ];
    let file = dir.path().join("fixture.json");
    std::fs::write(&file, "keep me").expect("write");
    let run = cli(
        &home,
        &["fixtures", "export", "--out", text_of(&file)],
        &env,
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me");
    cli(
        &home,
        &["fixtures", "export", "--out", text_of(&file), "--force"],
        &env,
    )
    .await
    .ok();
    assert_eq!(read_json(&file)["tenantId"], DEMO_TENANT);
    let run = cli(
        &home,
        &["fixtures", "export", "--tenant-id", "contoso"],
        &env,
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a GUID"), "{}", run.stderr);
}
