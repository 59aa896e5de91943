//! The `picket` binary end to end: serve (demo, seed, restart, SIGTERM), token, seed, and the
//! store commands and server on PostgreSQL (when `PICKET_TEST_DATABASE_URL` is set).

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::*;
const DEMO_TENANT: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";
const OTHER_TENANT: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";

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
    picket(dir.path(), &["init"]);
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

/// Runs `picket ARGS` with the store at `database`, asserting success; returns stdout.

#[tokio::test]
async fn store_commands_and_serve_work_on_postgres() {
    use picket_store::testing::TestDatabase;
    let db = TestDatabase::new().expect("test database");
    let Some(url) = postgres_schema_url(&db).await else {
        return; // SQLite only: the note says the PostgreSQL runs were skipped.
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();

    // One migration behind: `serve` (and every store command) refuses and names the command
    // that fixes it; `picket migrate` applies what is missing. The latest migration is undone
    // by hand: its row, and the tables and indexes it creates.
    let (latest, _, latest_sql) = picket_store::postgres::MIGRATIONS
        .last()
        .copied()
        .expect("migrations");
    let mut undo = format!("DELETE FROM schema_migrations WHERE version = {latest};");
    for line in latest_sql.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
            let table = rest.split_whitespace().next().expect("table name");
            undo.push_str(&format!(" DROP TABLE {table};"));
        }
        let index = line
            .strip_prefix("CREATE INDEX ")
            .or_else(|| line.strip_prefix("CREATE UNIQUE INDEX "));
        if let Some(rest) = index {
            let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest);
            let name = rest.split_whitespace().next().expect("index name");
            undo.push_str(&format!(" DROP INDEX {name};"));
        }
    }
    let behind = Command::new("psql")
        .arg(&url)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c"])
        .arg(&undo)
        .status()
        .expect("psql runs");
    assert!(behind.success());
    let refused = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(d)
        .env("PICKET_DATABASE_URL", &url)
        .env("PICKET_LOG", "warn")
        .output()
        .expect("picket runs");
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains(&format!("version {}", latest - 1)) && why.contains("picket migrate"),
        "{why}"
    );
    let migrated = picket_on(&url, d, &["migrate"]);
    assert!(migrated.contains("(1 migration applied)"), "{migrated}");
    let again = picket_on(&url, d, &["migrate"]);
    assert!(again.contains("(0 migrations applied)"), "{again}");

    picket_on(
        &url,
        d,
        &[
            "tenants",
            "create",
            "--id",
            OTHER_TENANT,
            "--name",
            "Contoso",
        ],
    );
    assert!(picket_on(&url, d, &["tenants", "list"]).contains("Contoso"));
    let fixture = d.join("f.json");
    std::fs::write(&fixture, r#"{"sensors": [{"id": "s-1", "displayName": "DC1", "domainName": "contoso.com", "sensorType": "domainControllerIntegrated", "version": "2.239.1.1"}, {"id": "s-2", "displayName": "dc2", "domainName": "contoso.com", "sensorType": "adfsIntegrated", "version": "2.239.1.1"}]}"#).expect("write");
    let seeded = picket_on(
        &url,
        d,
        &[
            "seed",
            fixture.to_str().expect("utf8"),
            "--tenant",
            OTHER_TENANT,
        ],
    );
    assert!(seeded.contains("2 sensors"), "{seeded}");
    let created = picket_on(
        &url,
        d,
        &["apps", "create", "--tenant", OTHER_TENANT, "--name", "soar"],
    );
    assert!(created.contains("client"), "{created}");
    assert!(picket_on(&url, d, &["apps", "list", "--tenant", OTHER_TENANT]).contains("soar"));
    picket_on(&url, d, &["releases", "publish", "2.240.18200.1"]);
    assert!(picket_on(&url, d, &["releases", "list"]).contains("2.240.18200.1"));

    let server = Server::start(d, &["--database", &url]);
    let token = picket_on(
        &url,
        d,
        &[
            "token",
            "--tenant",
            OTHER_TENANT,
            "--role",
            "SecurityIdentitiesSensors.Read.All",
        ],
    );
    let (status, body) = get(
        &server.base,
        "/v1.0/security/identities/sensors?$orderby=displayName%20desc",
        token.trim(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|s| s["displayName"].as_str())
        .collect();
    assert_eq!(
        names,
        ["dc2", "DC1"],
        "case-insensitive order, as on SQLite"
    );
    // The same rows, seen through the store in the test's schema.
    let store = db
        .open(picket_store::Catalogue {
            unified_sensor_version: "3.1.25311.1".into(),
        })
        .await
        .expect("reopen");
    assert_eq!(store.list_tenants().await.expect("tenants").len(), 1);
    assert!(picket_on(&url, d, &["keys", "list"]).lines().count() >= 1);
}

/// client_credentials over the HTTPS token endpoint: (status, body).
async fn client_credentials(
    https: &(String, String),
    tenant: &str,
    id: &str,
    secret: &str,
) -> (u16, Value) {
    let ca = std::fs::read(&https.1).expect("CA file");
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("CA"))
        .build()
        .expect("client");
    let r = client
        .post(format!("{}/{tenant}/oauth2/v2.0/token", https.0))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request over https");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn identity_commands_drive_the_running_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Store commands never create an installation; `picket init` does.
    picket(dir.path(), &["init"]);
    let tenant_line = picket(
        d,
        &[
            "tenants",
            "create",
            "--id",
            OTHER_TENANT,
            "--name",
            "Fabrikam",
        ],
    );
    assert!(tenant_line.contains("Fabrikam"));
    assert!(picket(d, &["tenants", "list"]).contains(OTHER_TENANT));
    let created = picket(
        d,
        &[
            "apps",
            "create",
            "--tenant",
            OTHER_TENANT,
            "--name",
            "soar",
            "--grant",
            "SecurityIdentitiesSensors.Read.All",
        ],
    );
    let client_id = field(&created, "client id:").to_string();
    let secret = field(&created, "client secret: ").to_string();
    // Only a hint of the secret is ever shown again.
    let listed = picket(d, &["apps", "list", "--tenant", OTHER_TENANT]);
    assert!(!listed.contains(&secret) && listed.contains(&format!("hint {}", &secret[..3])));

    let mut server = Server::start(d, &["--tls-listen", "127.0.0.1:0"]);
    let https = server.https.clone().expect("https listener");
    let (status, body) = client_credentials(&https, OTHER_TENANT, &client_id, &secret).await;
    assert_eq!(status, 200, "{body}");
    let app_token = body["access_token"].as_str().expect("token").to_string();
    let (status, _) = get(
        &server.base,
        "/v1.0/security/identities/sensors",
        &app_token,
    )
    .await;
    assert_eq!(status, 200);

    // Revoking the grant: new tokens carry no roles and Graph refuses them.
    picket(
        d,
        &[
            "apps",
            "revoke",
            &client_id,
            "SecurityIdentitiesSensors.Read.All",
            "--tenant",
            OTHER_TENANT,
        ],
    );
    let (_, body) = client_credentials(&https, OTHER_TENANT, &client_id, &secret).await;
    let bare = body["access_token"].as_str().expect("token").to_string();
    let (status, err) = get(&server.base, "/v1.0/security/identities/sensors", &bare).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("UnknownError"))
    );
    // Removing the secret: the token endpoint refuses it as Entra does.
    let shown = picket(d, &["apps", "show", &client_id, "--tenant", OTHER_TENANT]);
    let key_id = field(&shown, "secret:").to_string();
    picket(
        d,
        &[
            "apps",
            "remove-credential",
            &client_id,
            &key_id,
            "--tenant",
            OTHER_TENANT,
        ],
    );
    let (status, body) = client_credentials(&https, OTHER_TENANT, &client_id, &secret).await;
    assert_eq!(
        (status, body["error_codes"][0].as_u64()),
        (401, Some(7000215)),
        "{body}"
    );

    // A signed-in reader reads but cannot write.
    picket(
        d,
        &[
            "users",
            "create",
            "--tenant",
            OTHER_TENANT,
            "--upn",
            "ana@fabrikam.test",
            "--role",
            "Security Reader",
        ],
    );
    let user_token = picket(
        d,
        &[
            "token",
            "--tenant",
            OTHER_TENANT,
            "--user",
            "ana@fabrikam.test",
            "--scope",
            "SecurityIdentitiesSensors.ReadWrite.All",
        ],
    )
    .trim()
    .to_string();
    let (status, _) = get(
        &server.base,
        "/v1.0/security/identities/sensors",
        &user_token,
    )
    .await;
    assert_eq!(status, 200);
    let r = reqwest::Client::new()
        .post(format!(
            "{}/v1.0/security/identities/sensors/regenerateDeploymentAccessKey",
            server.base
        ))
        .bearer_auth(&user_token)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 403);

    // Key rotation reaches the running server: both keys published, old tokens still valid.
    let old_kid = field(&picket(d, &["keys", "list"]), "").to_string();
    let rotated = picket(d, &["keys", "rotate"]);
    let new_kid = field(&rotated, "new signing key ").to_string();
    assert_ne!(old_kid, new_kid);
    let jwks_url = format!("{}/{OTHER_TENANT}/discovery/v2.0/keys", server.base);
    let mut kids = Vec::new();
    for _ in 0..100 {
        let jwks: Value = reqwest::get(&jwks_url)
            .await
            .expect("jwks")
            .json()
            .await
            .expect("json");
        kids = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().unwrap_or_default().to_string())
            .collect();
        if kids.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(kids, vec![new_kid.clone(), old_kid.clone()]);
    let (status, _) = get(
        &server.base,
        "/v1.0/security/identities/sensors",
        &user_token,
    )
    .await;
    assert_eq!(status, 200, "tokens of the retired key still work");
    picket(d, &["keys", "remove", &old_kid]);
    let mut status = 200;
    for _ in 0..100 {
        status = get(
            &server.base,
            "/v1.0/security/identities/sensors",
            &user_token,
        )
        .await
        .0;
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 401, "a removed key's tokens are refused");
    assert!(server.stop().success());

    // The audit log outlives the server and never holds the secret.
    let audit = picket(d, &["audit", "--tenant", OTHER_TENANT, "--json"]);
    let ops: Vec<String> = audit
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json line")["operation"]
                .as_str()
                .expect("op")
                .to_string()
        })
        .collect();
    for op in [
        "createTenant",
        "createApp",
        "issueToken",
        "revokeAppPermissions",
        "removeAppCredential",
        "createUser",
        "regenerateDeploymentAccessKey",
    ] {
        assert!(ops.iter().any(|o| o == op), "{op} missing from {ops:?}");
    }
    assert!(!audit.contains(&secret));
    let only_tokens = picket(
        d,
        &[
            "audit",
            "--tenant",
            OTHER_TENANT,
            "--operation",
            "issueToken",
            "--since",
            "1h",
        ],
    );
    assert_eq!(only_tokens.lines().count(), 3, "{only_tokens}");
}

#[test]
fn bad_serve_and_identity_arguments_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("runs")
    };
    let out = run(&["serve", "--throttle-app-reads", "lots"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a rate"));
    picket(dir.path(), &["init"]);
    let out = run(&["apps", "create", "--tenant", OTHER_TENANT, "--name", "x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    picket(
        dir.path(),
        &["tenants", "create", "--id", OTHER_TENANT, "--name", "T"],
    );
    let out = run(&[
        "apps",
        "create",
        "--tenant",
        OTHER_TENANT,
        "--name",
        "x",
        "--grant",
        "Directory.ReadWrite.All",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a permission Picket grants"));
    let out = run(&[
        "users",
        "create",
        "--tenant",
        OTHER_TENANT,
        "--upn",
        "a@b",
        "--role",
        "Helpdesk",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory role"));
}

#[tokio::test]
async fn migrate_data_copies_a_sqlite_installation_on_postgres() {
    use picket_store::testing::TestDatabase;
    let db = TestDatabase::new().expect("test database");
    // The target schema exists and is migrated, but holds no rows.
    let Some(url) = postgres_schema_url(&db).await else {
        return; // SQLite only: the note says the PostgreSQL runs were skipped.
    };

    // A SQLite installation with two tenants, an app, a user, a release and a signing key.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("sqlite");
    picket(&d, &["init"]);
    picket(
        &d,
        &[
            "tenants",
            "create",
            "--id",
            OTHER_TENANT,
            "--name",
            "Contoso",
        ],
    );
    picket(
        &d,
        &[
            "tenants",
            "create",
            "--id",
            DEMO_TENANT,
            "--name",
            "Fabrikam",
        ],
    );
    let fixture = dir.path().join("f.json");
    // More sensors than one INSERT carries (200 rows), so the copy crosses batch boundaries.
    let sensors: Vec<serde_json::Value> = (0..450)
        .map(|i| serde_json::json!({"id": format!("s-{i:03}"), "displayName": format!("DC{i:03}"),
            "domainName": "contoso.com", "sensorType": "domainControllerIntegrated", "version": "2.239.1.1"}))
        .collect();
    let body = serde_json::json!({"sensors": sensors, "healthIssues": [{"displayName": "Sensor stopped communicating",
        "healthIssueType": "sensor", "severity": "medium", "status": "open", "sensorDNSNames": ["DC001.contoso.com"]}]});
    std::fs::write(&fixture, body.to_string()).expect("write");
    picket(
        &d,
        &[
            "seed",
            fixture.to_str().expect("utf8"),
            "--tenant",
            OTHER_TENANT,
        ],
    );
    picket(
        &d,
        &["apps", "create", "--tenant", OTHER_TENANT, "--name", "soar"],
    );
    picket(
        &d,
        &[
            "users",
            "create",
            "--tenant",
            DEMO_TENANT,
            "--upn",
            "ana@fabrikam.test",
            "--role",
            "Security Reader",
        ],
    );
    picket(&d, &["releases", "publish", "2.240.18200.1"]);
    let token = picket(
        &d,
        &[
            "token",
            "--tenant",
            OTHER_TENANT,
            "--role",
            "SecurityIdentitiesSensors.Read.All",
            "--role",
            "SecurityIdentitiesHealth.Read.All",
        ],
    )
    .trim()
    .to_string();

    let from = format!("sqlite://{}", d.join("picket.db").display());
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("PICKET_LOG", "warn")
            .output()
            .expect("picket runs")
    };
    let copied = run(&["migrate-data", "--from", &from, "--to", &url]);
    let out = String::from_utf8_lossy(&copied.stdout).to_string();
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(out.contains("counts verified"), "{out}");
    let sensors_line = out
        .lines()
        .find(|l| l.starts_with("sensors "))
        .expect("sensors line");
    assert!(sensors_line.contains(" 450 rows copied"), "{sensors_line}");

    // The copy serves the same answers, to a token of the original installation's key.
    let pg_dir = dir.path().join("pg");
    let server = Server::start(&pg_dir, &["--database", &url]);
    let (status, listed) = get(
        &server.base,
        "/beta/security/identities/sensors?$orderby=displayName&$top=1000",
        &token,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let names: Vec<&str> = listed["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|s| s["displayName"].as_str())
        .collect();
    assert_eq!(names.len(), 450);
    assert_eq!((names[0], names[449]), ("DC000", "DC449"));
    assert_eq!(listed["value"][1]["healthStatus"], "notHealthyMedium");
    assert_eq!(listed["value"][2]["healthStatus"], "healthy");
    let (status, issues) = get(
        &server.base,
        "/beta/security/identities/healthIssues",
        &token,
    )
    .await;
    assert_eq!(status, 200, "{issues}");
    assert_eq!(issues["value"].as_array().map(Vec::len), Some(1));
    drop(server);

    // A target that holds rows is refused, and nothing changes; told otherwise, it is topped up.
    let again = run(&["migrate-data", "--from", &from, "--to", &url]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let forced = run(&[
        "migrate-data",
        "--from",
        &from,
        "--to",
        &url,
        "--into-non-empty",
    ]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
}

/// The ticket of a console sign-in link `{base}/console/#tenant=T&ticket=S`.
fn ticket_of(link: &str, base: &str) -> String {
    let fragment = link
        .strip_prefix(&format!("{base}/console/#tenant={DEMO_TENANT}&ticket="))
        .unwrap_or_else(|| panic!("not a console link of {base}: {link}"));
    fragment.to_string()
}

async fn console_sign_in(base: &str, ticket: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/{DEMO_TENANT}/oauth2/v2.0/signin"))
        .header("Origin", base)
        .form(&[("ticket", ticket)])
        .send()
        .await
        .expect("signin");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn demo_prints_a_console_link_and_console_link_prints_more() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(dir.path(), &["--demo"]);
    let base = server.base.clone();
    let banner = server
        .lines
        .iter()
        .position(|l| l.starts_with("Console sign-in as admin@demo.picket.local"))
        .unwrap_or_else(|| panic!("no console sign-in line in {:?}", server.lines));
    let link = server.lines[banner + 1].clone();
    assert!(
        server.lines[banner + 2].contains("picket console-link --tenant"),
        "{:?}",
        server.lines
    );
    let (status, body) = console_sign_in(&base, &ticket_of(&link, &base)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["userPrincipalName"], "admin@demo.picket.local");
    // The link works once.
    let (status, body) = console_sign_in(&base, &ticket_of(&link, &base)).await;
    assert_eq!(status, 400, "{body}");

    // Another link, for the demo's reader, from the store command.
    let out = picket(
        dir.path(),
        &[
            "console-link",
            "--tenant",
            DEMO_TENANT,
            "--user",
            "reader@demo.picket.local",
            "--endpoint",
            &format!("{base}/"),
            "--lifetime",
            "2m",
        ],
    );
    let link = out.trim();
    let (status, body) = console_sign_in(&base, &ticket_of(link, &base)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["user"]["userPrincipalName"],
        "reader@demo.picket.local"
    );

    // An unknown user is named.
    let refused = Command::new(BIN)
        .args([
            "console-link",
            "--tenant",
            DEMO_TENANT,
            "--user",
            "nobody@demo.picket.local",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("no user 'nobody@demo.picket.local'"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());
    assert!(server.stop().success());

    // A restarted demo keeps its users (no second pair) and prints a fresh link.
    let mut again = Server::start(dir.path(), &["--demo"]);
    assert!(again
        .lines
        .iter()
        .any(|l| l.starts_with("Console sign-in as admin@demo.picket.local")));
    let users = picket(dir.path(), &["users", "list", "--tenant", DEMO_TENANT]);
    assert_eq!(users.matches("@demo.picket.local").count(), 2, "{users}");
    assert!(again.stop().success());
}

#[test]
fn public_clients_and_console_registrations_are_made_by_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    picket(dir.path(), &["init"]);
    picket(
        dir.path(),
        &["tenants", "create", "--id", OTHER_TENANT, "--name", "T"],
    );
    let out = picket(
        dir.path(),
        &[
            "apps",
            "create",
            "--tenant",
            OTHER_TENANT,
            "--name",
            "console elsewhere",
            "--public",
            "--redirect-uri",
            "https://a.example/console/",
        ],
    );
    assert!(
        out.contains("public client: PKCE required, no secret"),
        "{out}"
    );
    assert!(
        out.contains("redirect URI: https://a.example/console/"),
        "{out}"
    );
    assert!(!out.contains("client secret:"), "{out}");
    let refused = |args: &[&str], why: &str| {
        let out = Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("runs");
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(stderr.contains(why), "{stderr}");
    };
    let public_app = format!("apps create --tenant {OTHER_TENANT} --name x --public");
    let public_app: Vec<&str> = public_app.split(' ').collect();
    refused(&public_app, "--redirect-uri");
    let relative = [&public_app[..], &["--redirect-uri", "/console/"]].concat();
    refused(&relative, "absolute http(s) URL");
    let issuer = "https://login.example/t/v2.0";
    let add = |extra: &[&str]| {
        let mut args = vec![
            "issuers",
            "add",
            "--tenant",
            OTHER_TENANT,
            "--issuer",
            issuer,
            "--jwks-uri",
            "https://login.example/keys",
            "--audience",
            "api://picket",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let args = add(&["--console-client-id", "spa-1"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(&args, "--authorization-endpoint");
    let args = add(&[
        "--console-client-id",
        "spa-1",
        "--authorization-endpoint",
        "https://login.example/t/authorize",
        "--token-endpoint",
        "https://login.example/t/token",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = picket(dir.path(), &args);
    assert!(out.contains("\"Sign in with login.example\""), "{out}");
    assert!(out.contains("scopes api://picket/.default"), "{out}");
    let listed = picket(dir.path(), &["issuers", "list", "--tenant", OTHER_TENANT]);
    assert!(
        listed.contains("console sign-in \"login.example\": client id spa-1"),
        "{listed}"
    );
    picket(
        dir.path(),
        &[
            "issuers",
            "remove",
            "--tenant",
            OTHER_TENANT,
            "--issuer",
            issuer,
        ],
    );
    let listed = picket(dir.path(), &["issuers", "list", "--tenant", OTHER_TENANT]);
    assert!(!listed.contains("console sign-in"), "{listed}");
}
