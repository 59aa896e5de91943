//! The harness: a real Picket server on `127.0.0.1:0` over a fresh store (a SQLite file, or a
//! PostgreSQL schema of its own when `PICKET_TEST_DATABASE_URL` is set), tokens from a
//! signing key made once per test process, a standard fixture with known ids, and helpers that
//! check Graph's response conventions.

use picket_auth::{DirectoryRole, KeyRing, SigningKey, TokenRequest, TokenVerifier};
use picket_domain::time::ManualClock;
use picket_domain::{DeploymentPackage, TenantId};
use picket_server::app::{Server, ServerConfig};
use picket_server::metrics::MetricsSettings;
use picket_server::throttle::ThrottleSettings;
use picket_server::{ApiSettings, AppState};
use picket_store::testing::TestDatabase;
use picket_store::{Catalogue, Fixture, Store};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};

pub const ISSUER: &str = "https://sts.picket.test";
pub const TENANT_A: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
pub const TENANT_B: &str = "11111111-2222-3333-4444-555555555555";
pub const VERSIONS: [&str; 2] = ["v1.0", "beta"];

pub const PACKAGE_URL: &str = "https://sensorpackage.picket.test/Azure%20ATP%20Sensor%20Setup.zip";
pub const PACKAGE_VERSION: &str = "2.239.18124.58593";
pub const UNIFIED_VERSION: &str = "3.1.25311.1";

pub const SENSORS_READ: &str = "SecurityIdentitiesSensors.Read.All";
pub const SENSORS_RW: &str = "SecurityIdentitiesSensors.ReadWrite.All";
pub const HEALTH_READ: &str = "SecurityIdentitiesHealth.Read.All";
pub const HEALTH_RW: &str = "SecurityIdentitiesHealth.ReadWrite.All";
pub const ALL_PERMISSIONS: [&str; 4] = [SENSORS_READ, SENSORS_RW, HEALTH_READ, HEALTH_RW];

// The standard fixture (see `standard_fixture`).
pub const DC1: &str = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e01";
pub const DC2: &str = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e02";
pub const ADFS: &str = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e03";
pub const SA1: &str = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e04";
pub const FAB: &str = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e05";
/// Sensors in their default order (createdDateTime, then id).
pub const SENSOR_ORDER: [&str; 5] = [DC1, DC2, ADFS, SA1, FAB];

pub const H1: &str = "5e4d2c1b-0a9f-4e8d-b7c6-000000000001";
pub const H2: &str = "5e4d2c1b-0a9f-4e8d-b7c6-000000000002";
pub const H3: &str = "5e4d2c1b-0a9f-4e8d-b7c6-000000000003";
pub const H4: &str = "5e4d2c1b-0a9f-4e8d-b7c6-000000000004";
pub const H5: &str = "5e4d2c1b-0a9f-4e8d-b7c6-000000000005";
pub const H6: &str = "5e4d2c1b-0a9f-4e8d-b7c6-000000000006";
/// Issues in their default order (createdDateTime descending).
pub const ISSUE_ORDER: [&str; 6] = [H6, H5, H4, H3, H2, H1];

pub const C_WIN11: &str = "c0633ebb-8cfb-f17a-0b9e-83aa661f53a3";
pub const C_DC4: &str = "c0633ebb-8cfb-f17a-0b9e-83aa661f5301";
pub const C_DC5: &str = "c0633ebb-8cfb-f17a-0b9e-83aa661f5302";
/// Candidates in their default order (computerDnsName).
pub const CANDIDATE_ORDER: [&str; 3] = [C_DC4, C_DC5, C_WIN11];

fn signing_key_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| SigningKey::generate_pem().expect("RSA key generation"))
}

/// The issuer key every test server trusts (generated once per process: RSA keygen is slow).
pub fn signing_key() -> Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(SigningKey::from_pem(signing_key_pem()).expect("valid PEM")))
        .clone()
}

/// The PEM of the trusted key, for crafting tokens by hand.
pub fn trusted_pem() -> &'static str {
    signing_key_pem()
}

/// A second key the servers do not trust.
pub fn untrusted_key() -> Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = SigningKey::generate_pem().expect("RSA key generation");
        Arc::new(SigningKey::from_pem(&pem).expect("valid PEM"))
    })
    .clone()
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// An application token (`roles`) for `tenant`.
pub fn app_token(tenant: &str, roles: &[&str]) -> String {
    let request = TokenRequest {
        tenant: tenant.into(),
        roles: strings(roles),
        lifetime_secs: 3600,
        ..Default::default()
    };
    signing_key().issue(ISSUER, &request, unix_now()).token
}

/// A delegated token (`scp`) for `tenant`, of a Security Administrator (so only the scopes
/// decide).
pub fn user_token(tenant: &str, scopes: &[&str]) -> String {
    user_token_with_roles(tenant, scopes, &[DirectoryRole::SecurityAdministrator])
}

/// A delegated token of a user holding exactly these directory roles (`wids`).
pub fn user_token_with_roles(tenant: &str, scopes: &[&str], roles: &[DirectoryRole]) -> String {
    let request = TokenRequest {
        tenant: tenant.into(),
        scopes: strings(scopes),
        user: Some("00000000-0000-0000-0000-00000000a11c".into()),
        wids: roles.iter().map(|r| r.template_id().to_string()).collect(),
        lifetime_secs: 3600,
        ..Default::default()
    };
    signing_key().issue(ISSUER, &request, unix_now()).token
}

/// Tenant A, every permission.
pub fn admin() -> String {
    app_token(TENANT_A, &ALL_PERMISSIONS)
}

/// One HTTP answer: status, headers, body text, and the body as JSON (`Null` when not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    /// Panics with the body when the status differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// `value[].id` of a collection.
    pub fn ids(&self) -> Vec<String> {
        self.value()
            .iter()
            .map(|v| v["id"].as_str().expect("id is a string").to_string())
            .collect()
    }

    pub fn value(&self) -> &Vec<Value> {
        self.json["value"]
            .as_array()
            .unwrap_or_else(|| panic!("no value array in {}", self.text))
    }

    pub fn next_link(&self) -> Option<String> {
        self.json
            .get("@odata.nextLink")
            .map(|l| l.as_str().expect("nextLink is a string").to_string())
    }

    /// Keys of the top-level JSON object, in order.
    pub fn keys(&self) -> Vec<String> {
        self.json
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

pub struct TestApp {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    pub store: Arc<dyn Store>,
    /// The server's own state (for reloading keys and issuers as `serve` does periodically).
    pub state: AppState,
    client: reqwest::Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    /// Its background tasks stop with the app.
    _server: Server,
    /// Dropped last: the server and store stop before their database goes.
    db: TestDatabase,
}

pub struct TestAppBuilder {
    page_size: u32,
    seeds: Vec<(String, Value)>,
    /// Off unless a test sets limits, so timing never makes other tests flaky.
    throttle: ThrottleSettings,
    manual_clock: Option<Arc<ManualClock>>,
    metrics: MetricsSettings,
    /// A store the test made itself (e.g. on a PostgreSQL cluster of its own).
    store: Option<Arc<dyn Store>>,
}

impl TestAppBuilder {
    /// Serve this store instead of a fresh one on the engine the environment selects.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// At most `n` tenants named in the fleet gauges of `/metrics`.
    pub fn metrics_tenant_labels(mut self, n: usize) -> Self {
        self.metrics.tenant_labels = n;
        self
    }

    /// Time moves only through `POST /admin/v1/clock/advance` (or the returned clock).
    pub fn manual_clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.manual_clock = Some(clock);
        self
    }

    pub fn throttle(mut self, settings: ThrottleSettings) -> Self {
        self.throttle = settings;
        self
    }

    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n;
        self
    }

    /// A fixture (Graph-shaped JSON, as `picket seed` reads) to load before the server starts.
    pub fn seed(mut self, tenant: &str, fixture: Value) -> Self {
        self.seeds.push((tenant.to_string(), fixture));
        self
    }

    pub async fn start(self) -> TestApp {
        let db = TestDatabase::new().expect("test database");
        let catalogue = Catalogue {
            unified_sensor_version: UNIFIED_VERSION.into(),
        };
        let store = match self.store {
            Some(store) => store,
            None => db.open(catalogue).await.expect("open store"),
        };
        let verifier = Arc::new(TokenVerifier::new(
            Arc::new(KeyRing::new(vec![signing_key()])),
            ISSUER,
        ));
        // The server `picket serve` builds, with the test's settings: its keys are the test
        // key (not re-read from the store) and no sweeper runs on the wall clock, so timing
        // never moves a status under a test.
        let server = Server::start(ServerConfig {
            manual_clock: self.manual_clock.clone(),
            api: ApiSettings {
                default_page_size: self.page_size,
                public_url: None,
                package: DeploymentPackage {
                    download_url: PACKAGE_URL.into(),
                    version: PACKAGE_VERSION.into(),
                },
                agent_binary: None,
            },
            throttle: self.throttle.clone(),
            metrics: self.metrics.clone(),
            base_release: Some(PACKAGE_VERSION.into()),
            ..ServerConfig::new(store.clone(), verifier)
        })
        .await;
        let state = server.state().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = server.serve(listener, async move {
            let _ = rx.await;
        });
        tokio::spawn(async move {
            let _ = serving.await;
        });
        let app = TestApp {
            base: format!("http://127.0.0.1:{port}"),
            store,
            state,
            client: reqwest::Client::builder().build().expect("client"),
            _shutdown: tx,
            _server: server,
            db,
        };
        for (tenant, fixture) in self.seeds {
            app.seed(&tenant, &fixture).await;
        }
        app
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            page_size: 100,
            seeds: Vec::new(),
            throttle: ThrottleSettings::default(),
            manual_clock: None,
            metrics: MetricsSettings::default(),
            store: None,
        }
    }

    /// Another store on this app's database, as another process sees the SQLite file or
    /// another replica the PostgreSQL database: its writes reach this server only through the
    /// database.
    pub async fn another_store(&self) -> Arc<dyn Store> {
        let catalogue = Catalogue {
            unified_sensor_version: UNIFIED_VERSION.into(),
        };
        self.db.open(catalogue).await.expect("open another store")
    }

    /// Enrols a domain controller's agent in tenant A with `key`; answers the agent's
    /// `(sensor id, credential)`.
    pub async fn enroll_dc(&self, key: &str, computer: &str) -> (String, String) {
        let enrolled = self
            .send_json(
                "POST",
                "/agent/v1/enroll",
                "unused",
                Some(json!({"tenantId": TENANT_A, "accessKey": key, "computerDnsName": computer,
                            "sensorType": "domainControllerIntegrated", "version": PACKAGE_VERSION})),
            )
            .await
            .expect(201);
        let field = |name: &str| enrolled.json[name].as_str().expect(name).to_string();
        (field("sensorId"), field("credential"))
    }

    /// An empty server.
    pub async fn empty() -> TestApp {
        Self::builder().start().await
    }

    /// Tenant A holds the standard fixture; tenant B is empty.
    pub async fn standard() -> TestApp {
        Self::builder()
            .seed(TENANT_A, standard_fixture())
            .start()
            .await
    }

    /// Tenant A's deployment access key, as an administrator reads it through Graph.
    pub async fn access_key(&self) -> String {
        self.get_ok(
            "/v1.0/security/identities/sensors/getDeploymentAccessKey()",
            &admin(),
        )
        .await["deploymentAccessKey"]
            .as_str()
            .expect("key")
            .to_string()
    }

    pub fn token(&self, tenant: &str, roles: &[&str]) -> String {
        app_token(tenant, roles)
    }

    pub fn delegated_token(&self, tenant: &str, scopes: &[&str]) -> String {
        user_token(tenant, scopes)
    }

    /// Loads a Graph-shaped JSON fixture into `tenant`.
    pub async fn seed(&self, tenant: &str, fixture: &Value) {
        let (_, parsed) =
            picket_server::fixture::parse_fixture(&fixture.to_string(), chrono::Utc::now())
                .expect("valid fixture");
        self.seed_fixture(tenant, &parsed).await;
    }

    pub async fn seed_fixture(&self, tenant: &str, fixture: &Fixture) {
        let tenant = TenantId::parse(tenant).expect("tenant GUID");
        picket_store::seed_all(self.store.as_ref(), &tenant, fixture)
            .await
            .expect("seed");
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// Any request: `body` is sent as is with the given headers.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(
            "GET",
            path,
            Some(token),
            &[("Accept", "application/json")],
            None,
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.send("DELETE", path, Some(token), &[], None).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.send_json("PATCH", path, token, Some(body)).await
    }

    /// POST; `None` sends no body at all.
    pub async fn post(&self, path: &str, token: &str, body: Option<Value>) -> Resp {
        self.send_json("POST", path, token, body).await
    }

    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Resp {
        match body {
            Some(b) => {
                let bytes = serde_json::to_vec(&b).expect("json");
                self.send(
                    method,
                    path,
                    Some(token),
                    &[("Content-Type", "application/json")],
                    Some(bytes),
                )
                .await
            }
            None => self.send(method, path, Some(token), &[], None).await,
        }
    }

    /// GET returning the JSON body after asserting 200.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        self.get(path, token).await.expect(200).json
    }

    /// Everything tenant A holds, for "nothing changed" checks: sensors (beta), issues,
    /// candidates, activation mode.
    pub async fn snapshot(&self, token: &str) -> Value {
        json!({
            "sensors": self.get_ok("/beta/security/identities/sensors?$top=1000", token).await["value"],
            "healthIssues": self.get_ok("/beta/security/identities/healthIssues?$top=1000", token).await["value"],
            "candidates": self.get_ok("/beta/security/identities/sensorCandidates?$top=1000", token).await["value"],
            "mode": self.get_ok("/beta/security/identities/sensorCandidateActivationConfiguration", token).await["activationMode"],
        })
    }
}

/// Percent-encodes a query value completely (so `&`, `+`, `#`, `'` and spaces survive).
pub fn enc(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SS` (Graph error dates: no fraction, no zone).
pub fn is_error_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// `YYYY-MM-DDTHH:MM:SS.fffffffZ` (seven fractional digits, UTC).
pub fn is_graph_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 28
        && is_error_date(&s[..19])
        && b[19] == b'.'
        && b[20..27].iter().all(u8::is_ascii_digit)
        && b[27] == b'Z'
}

/// The Graph error envelope (spec §3.2) with this status and code; returns the message.
#[track_caller]
pub fn assert_error(resp: &Resp, status: u16, code: &str) -> String {
    assert_eq!(resp.status, status, "status; body: {}", resp.text);
    assert!(
        resp.content_type().starts_with("application/json"),
        "error content type is '{}' for {}",
        resp.content_type(),
        resp.text
    );
    assert_eq!(
        resp.keys(),
        vec!["error"],
        "envelope has only 'error': {}",
        resp.text
    );
    let error = &resp.json["error"];
    assert_eq!(error["code"], json!(code), "code in {}", resp.text);
    let mut message = error["message"]
        .as_str()
        .unwrap_or_else(|| panic!("message missing: {}", resp.text));
    if code == "UnknownError" {
        // A missing permission, as the real service answers it: no message, and Picket's
        // explanation where clients do not branch (spec §7.5).
        assert_eq!(
            message, "",
            "UnknownError has an empty message: {}",
            resp.text
        );
        message = error["innerError"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("innerError.message missing: {}", resp.text));
    }
    assert!(!message.is_empty(), "empty message");
    let inner = &error["innerError"];
    let date = inner["date"]
        .as_str()
        .unwrap_or_else(|| panic!("innerError.date missing: {}", resp.text));
    assert!(
        is_error_date(date),
        "innerError.date '{date}' is not YYYY-MM-DDTHH:MM:SS"
    );
    let parsed = chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%S")
        .expect("date parses")
        .and_utc();
    let skew = (chrono::Utc::now() - parsed).num_seconds().abs();
    assert!(
        skew < 300,
        "innerError.date '{date}' is UTC now (off by {skew} s)"
    );
    assert_eq!(
        inner["request-id"].as_str(),
        resp.header("request-id"),
        "innerError.request-id = request-id header"
    );
    assert_eq!(
        inner["client-request-id"].as_str(),
        resp.header("client-request-id"),
        "innerError.client-request-id = header"
    );
    message.to_string()
}

/// Tenant A's standard data: five sensors of every kind over two domains, six issues of each
/// status and type, three candidates.
///
/// Derived health: DC1 notHealthyMedium/1 (H1 open; H4 suppressed), DC2 notHealthyHigh/1 (H2),
/// ADFS1 notHealthyLow/1 (H3), SA1 healthy/0 (H5 closed), DC1.fabrikam notHealthyMedium/2 (H1, H6).
pub fn standard_fixture() -> Value {
    json!({
        "activationMode": "manual",
        "sensors": [
            {"id": DC1, "displayName": "DC1", "domainName": "contoso.com", "sensorType": "domainControllerIntegrated",
             "version": "2.239.18124.58593", "deploymentStatus": "upToDate", "serviceStatus": "running",
             "createdDateTime": "2023-11-16T09:41:24.2585071Z",
             "settings": {"description": "dc1 settings", "domainControllerDnsNames": ["DC1.contoso.com"], "isDelayedDeploymentEnabled": true}},
            {"id": DC2, "displayName": "DC2", "domainName": "contoso.com", "sensorType": "domainControllerIntegrated",
             "version": "3.1.25311.1", "deploymentStatus": "upToDate", "serviceStatus": "running",
             "createdDateTime": "2024-01-10T08:00:00Z",
             "settings": {"description": "dc2 unified"}},
            {"id": ADFS, "displayName": "ADFS1", "domainName": "contoso.com", "sensorType": "adfsIntegrated",
             "version": "2.239.18124.58593", "deploymentStatus": "notConfigured", "serviceStatus": "stopped",
             "createdDateTime": "2024-02-01T00:00:00Z",
             "settings": {"domainControllerDnsNames": ["DC1.contoso.com"]}},
            {"id": SA1, "displayName": "SA1", "domainName": "fabrikam.local", "sensorType": "domainControllerStandalone",
             "version": "2.236.17800.1", "deploymentStatus": "outdated", "serviceStatus": "starting",
             "createdDateTime": "2024-03-05T12:00:00Z",
             "settings": {"description": "standalone", "domainControllerDnsNames": ["DC1.fabrikam.local", "DC2.fabrikam.local"], "isDelayedDeploymentEnabled": true}},
            {"id": FAB, "displayName": "DC1", "domainName": "fabrikam.local", "sensorType": "domainControllerIntegrated",
             "version": "2.239.18124.58593", "deploymentStatus": "disconnected", "serviceStatus": "unknown",
             "createdDateTime": "2024-04-01T00:00:00Z"}
        ],
        "healthIssues": [
            {"id": H1, "displayName": "Directory Services Object Auditing is not configured as required",
             "description": "Directory Services Object Auditing is not configured as required on contoso.com",
             "healthIssueType": "Global", "severity": "medium", "status": "open", "issueTypeId": "1031",
             "domainNames": ["contoso.com", "fabrikam.local"], "sensorDNSNames": ["DC1.contoso.com", "DC1.fabrikam.local"],
             "additionalInformation": ["Descendant User Objects (Schema-Id-Guid: bf967aba-0de6-11d0-a285-00aa003049e2)"],
             "recommendations": ["Please configure the Directory Services Object Auditing events according to the guidance as described in https://aka.ms/mdi/objectauditing"],
             "recommendedActionCommands": ["Import-Module DefenderForIdentity", "Set-MDIConfiguration -Configuration DomainObjectAuditing -Mode Domain -Force"],
             "createdDateTime": "2024-05-01T10:00:00.1234567Z"},
            {"id": H2, "displayName": "Sensor service failed to start", "healthIssueType": "sensor", "severity": "high",
             "status": "open", "issueTypeId": "1011", "domainNames": ["contoso.com"], "sensorDNSNames": ["DC2.contoso.com"],
             "createdDateTime": "2024-05-02T00:00:00Z"},
            {"id": H3, "displayName": "AD FS sensor is not configured", "healthIssueType": "sensor", "severity": "low",
             "status": "open", "issueTypeId": "1020", "domainNames": ["contoso.com"], "sensorDNSNames": ["ADFS1.contoso.com"],
             "createdDateTime": "2024-05-03T00:00:00Z"},
            {"id": H4, "displayName": "NTLM Auditing is not enabled", "healthIssueType": "sensor", "severity": "medium",
             "status": "suppressed", "issueTypeId": "1032", "domainNames": ["contoso.com"], "sensorDNSNames": ["DC1.contoso.com"],
             "createdDateTime": "2024-05-04T00:00:00Z"},
            {"id": H5, "displayName": "Sensor reached a memory resource limit", "healthIssueType": "sensor", "severity": "medium",
             "status": "closed", "issueTypeId": "1040", "domainNames": ["fabrikam.local"], "sensorDNSNames": ["SA1.fabrikam.local"],
             "createdDateTime": "2024-05-05T00:00:00Z"},
            {"id": H6, "displayName": "Sensor stopped communicating", "healthIssueType": "sensor", "severity": "medium",
             "status": "open", "issueTypeId": "1002", "domainNames": ["fabrikam.local"], "sensorDNSNames": ["DC1.fabrikam.local"],
             "createdDateTime": "2024-05-06T00:00:00Z"}
        ],
        "sensorCandidates": [
            {"id": C_WIN11, "computerDnsName": "win-11.def.defensor.local", "senseClientVersion": "10.8780.27711.1000",
             "lastSeenDateTime": "2024-10-29T19:55:10.9452778Z"},
            {"id": C_DC4, "computerDnsName": "dc4.contoso.com", "senseClientVersion": "10.8780.27711.1000",
             "lastSeenDateTime": "2024-10-30T00:00:00Z"},
            {"id": C_DC5, "computerDnsName": "dc5.emea.contoso.com", "senseClientVersion": "10.8760.27600.1012",
             "lastSeenDateTime": "2024-10-31T00:00:00Z"}
        ]
    })
}

/// `/{version}/security/identities/{rest}`.
pub fn p(version: &str, rest: &str) -> String {
    format!("/{version}/security/identities/{rest}")
}

/// The expected `@odata.context` for a fragment.
pub fn ctx(app: &TestApp, version: &str, fragment: &str) -> String {
    format!("{}/{version}/$metadata#{fragment}", app.base)
}

pub fn owned(ids: &[&str]) -> Vec<String> {
    strings(ids)
}
