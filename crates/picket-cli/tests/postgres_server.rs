//! Against a PostgreSQL server of this test's own (initdb in a temporary directory, run as the
//! `postgres` user when the test runs as root), which it can stop and start:
//! - TLS: `sslmode=verify-full` with the test CA in `sslrootcert` connects, and every one of
//!   Picket's connections is encrypted; a CA that did not sign the server's certificate is
//!   refused with a message saying so.
//! - A restart under load: while the database is down every request is answered promptly with
//!   a Graph-shaped 503 and `Retry-After`, and the same server process serves again by itself
//!   once the database is back.
//!
//! Skipped, with a note saying why, where no PostgreSQL server binaries are installed.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const TENANT: &str = "5f1c2b7e-8a4d-4c3b-9e6f-0a1b2c3d4e5f";
const G: &str = "/v1.0/security/identities";

/// PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`, `psql`).
fn server_bin_dir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() && dir.join("pg_ctl").exists() {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// One private cluster; stopped (immediately) when dropped.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A cluster with TLS on (certificate for 127.0.0.1 signed by the returned CA), not yet
    /// started; `None` (with a note) where it cannot be made.
    fn create() -> Option<(Cluster, String)> {
        let Some(bin) = server_bin_dir() else {
            eprintln!("NOTE: PostgreSQL server tests skipped: no initdb/pg_ctl found (pg_config --bindir, /usr/lib/postgresql/*/bin)");
            return None;
        };
        let as_postgres = is_root();
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        if as_postgres {
            // initdb refuses to run as root: the cluster belongs to `postgres`.
            set_mode(dir.path(), 0o755);
            let ok = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&data)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                eprintln!("NOTE: PostgreSQL server tests skipped: running as root, and no 'postgres' user to own a cluster");
                return None;
            }
        }
        let port = free_port();
        let cluster = Cluster {
            bin,
            data: data.clone(),
            port,
            as_postgres,
            _dir: dir,
        };
        let data_arg = data.display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data_arg,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let ca = write_certificates(&cluster);
        Some((cluster, ca))
    }

    fn start(&self) {
        let data = self.data.display().to_string();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data} -c ssl=on \
             -c ssl_cert_file=server.crt -c ssl_key_file=server.key -c fsync=off -c max_connections=40",
            self.port
        );
        let log = format!("{data}/server.log");
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
            ],
        );
    }

    fn stop(&self) {
        let data = self.data.display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-m", "fast", "-w", "-t", "60", "stop"],
        );
    }

    fn url(&self, params: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?{params}",
            self.port
        )
    }

    /// Runs one query with psql over a plain connection; returns its rows as text.
    fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .arg(self.url("sslmode=disable"))
            .args(["-Atc", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A CA, and a server certificate for 127.0.0.1 and localhost signed by it, in the data
/// directory (owned by the cluster's user, key readable by it alone); returns the CA's PEM path.
fn write_certificates(cluster: &Cluster) -> String {
    let (ca_pem, cert_pem, key_pem) = certificates("Picket test CA");
    let write = |name: &str, text: &str, mode: u32| {
        let path = cluster.data.join(name);
        std::fs::write(&path, text).expect("write");
        set_mode(&path, mode);
        if cluster.as_postgres {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown {name}");
        }
    };
    write("server.crt", &cert_pem, 0o644);
    write("server.key", &key_pem, 0o600);
    let ca = cluster.data.parent().expect("parent").join("ca.pem");
    std::fs::write(&ca, ca_pem).expect("write CA");
    ca.display().to_string()
}

/// (CA certificate, server certificate, server key) as PEM.
fn certificates(ca_name: &str) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("server key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("server params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("server cert");
    (ca.pem(), cert.pem(), key.serialize_pem())
}

/// Runs a `picket` command that must fail; returns what it printed.
fn picket_fails_on(database: &str, data_dir: &Path, args: &[&str]) -> String {
    let out = picket_output_on(database, data_dir, args);
    assert!(!out.status.success(), "picket {args:?} should have failed");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_postgres_and_a_restart_under_load() {
    let Some((cluster, ca)) = Cluster::create() else {
        return;
    };
    cluster.start();
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("picket");

    // A CA that did not sign the server's certificate: refused, saying why.
    let (other_ca, _, _) = certificates("Some other CA");
    let other = work.path().join("other-ca.pem");
    std::fs::write(&other, other_ca).expect("write");
    let refused = picket_fails_on(
        &cluster.url(&format!(
            "sslmode=verify-full&sslrootcert={}",
            other.display()
        )),
        &dir,
        &["migrate"],
    );
    assert!(
        refused.to_lowercase().contains("certificate"),
        "names the certificate problem: {refused}"
    );

    let url = cluster.url(&format!("sslmode=verify-full&sslrootcert={ca}"));
    picket_on(&url, &dir, &["migrate"]);
    picket_on(
        &url,
        &dir,
        &["tenants", "create", "--id", TENANT, "--name", "Contoso"],
    );
    let token = picket_on(
        &url,
        &dir,
        &[
            "token",
            "--tenant",
            TENANT,
            "--role",
            "SecurityIdentitiesSensors.ReadWrite.All",
        ],
    )
    .trim()
    .to_string();
    let server = Server::start(
        &dir,
        &[
            "--database",
            url.as_str(),
            "--database-statement-timeout",
            "3s",
            "--throttle-app-reads",
            "off",
            "--throttle-tenant-reads",
            "off",
        ],
    );
    let path = format!("{G}/sensors/getDeploymentAccessKey()");
    let (status, body) = get(&server.base, &path, &token).await;
    assert_eq!(status, 200, "{body}");
    let key = body["deploymentAccessKey"].clone();

    // Every connection Picket holds is encrypted.
    let connections = cluster.psql(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a \
         JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'picket'",
    );
    let (encrypted, all) = connections.split_once('|').expect("two counts");
    assert!(all.parse::<u32>().expect("count") > 0, "{connections}");
    assert_eq!(encrypted, all, "every connection is TLS: {connections}");

    // Down: each request answered within a bound, as 503 + Retry-After in Graph's shape.
    cluster.stop();
    let http = reqwest::Client::new();
    let mut unavailable = 0;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let r = http
            .get(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .expect("an answer while the database is down, not a hang");
        slowest = slowest.max(started.elapsed());
        assert_eq!(r.status().as_u16(), 503);
        let retry = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        assert!(retry.is_some_and(|s| s > 0), "Retry-After: {retry:?}");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["error"]["code"], "ServiceUnavailable", "{body}");
        assert!(
            body["error"]["innerError"]["request-id"].is_string(),
            "{body}"
        );
        unavailable += 1;
    }
    assert_eq!(unavailable, 20);
    assert!(
        slowest < Duration::from_secs(10),
        "slowest answer {slowest:?}"
    );

    // Back: the same process serves again without a restart, and its data is intact.
    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let (status, body) = get(&server.base, &path, &token).await;
        if status == 200 {
            break body;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            Instant::now() < deadline,
            "not serving 30 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body["deploymentAccessKey"], key);
    drop(server);
}
