//! The client side of Picket's agent protocol (`/agent/v1`), shared by the real agent and the
//! simulator.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What an agent keeps between runs (the credential is a secret: the file is owner-only).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub tenant_id: String,
    pub sensor_id: String,
    pub credential: String,
}

/// Never prints the credential.
impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("tenant_id", &self.tenant_id)
            .field("sensor_id", &self.sensor_id)
            .field("credential", &"<redacted>")
            .finish()
    }
}

/// The sensor's own state, as it reports it.
#[derive(Debug, Clone)]
pub struct Report {
    pub service_status: &'static str,
    pub version: String,
    pub applied_settings_version: u64,
    /// `idle`, `inProgress` or `failed`, with its target.
    pub update: (&'static str, Option<String>),
    pub host_issues: Vec<Value>,
    /// Outcomes of the account actions carried out since the last check-in:
    /// (correlation id, done, detail).
    pub account_action_results: Vec<(String, bool, String)>,
    /// A migration that failed, with why.
    pub migration_failure: Option<String>,
    /// The host's network adapters, sent with the next check-in (then cleared).
    pub network_adapters: Option<Vec<Value>>,
    /// The domain's accounts, sent with the next check-in (then cleared).
    pub directory_accounts: Option<Vec<Value>>,
}

impl Report {
    fn body(&self) -> Value {
        let mut body = json!({
            "serviceStatus": self.service_status,
            "version": self.version,
            "appliedSettingsVersion": self.applied_settings_version,
            "hostIssues": self.host_issues,
        });
        if let (state, Some(target)) = &self.update {
            body["update"] = json!({"state": state, "targetVersion": target});
        }
        if let Some(accounts) = &self.directory_accounts {
            body["directoryAccounts"] = Value::Array(accounts.clone());
        }
        if let Some(adapters) = &self.network_adapters {
            body["networkAdapters"] = Value::Array(adapters.clone());
        }
        if let Some(why) = &self.migration_failure {
            body["migration"] = json!({"state": "failed", "detail": why});
        }
        if !self.account_action_results.is_empty() {
            body["accountActionResults"] = self
                .account_action_results
                .iter()
                .map(|(id, done, detail)| {
                    json!({"correlationId": id, "outcome": if *done { "done" } else { "failed" }, "detail": detail})
                })
                .collect();
        }
        body
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    None,
    Update(String),
    Stop,
    /// Move from the classic sensor to the unified one of this version (older agents read an
    /// unknown command as none, and the migration stays under way until they are upgraded).
    Migrate(String),
}

/// An action on an Active Directory account that this sensor's domain controller carries out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountActionOrder {
    pub correlation_id: String,
    /// `disable`, `enable` or `forcePasswordReset`.
    pub action: String,
    pub account_id: String,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub desired_settings_version: u64,
    pub command: Command,
    pub next_check_in_secs: u64,
    /// Orders older servers do not send: none.
    pub account_actions: Vec<AccountActionOrder>,
    /// Configure the host's auditing (older servers: never).
    pub auto_auditing: bool,
}

/// Why a call did not get an answer: the server refused (final) or could not be reached.
#[derive(Debug)]
pub enum CallError {
    Refused { status: u16, message: String },
    Unreachable(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused { status, message } => write!(f, "refused ({status}): {message}"),
            CallError::Unreachable(e) => write!(f, "server unreachable: {e}"),
        }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    server: String,
}

impl Client {
    pub fn new(server: &str, ca_file: Option<&std::path::Path>) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .pool_max_idle_per_host(1024);
        if let Some(path) = ca_file {
            let pem = std::fs::read(path)?;
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
        }
        Ok(Self {
            http: builder.build()?,
            server: server.trim_end_matches('/').to_string(),
        })
    }

    /// The same client (connection pool, timeouts, trust) aimed at another server.
    pub fn with_server(&self, server: &str) -> Self {
        Self {
            http: self.http.clone(),
            server: server.trim_end_matches('/').to_string(),
        }
    }

    async fn post(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Result<(u16, Value), CallError> {
        let mut request = self.http.post(format!("{}{path}", self.server)).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let json: Value = response.json().await.unwrap_or(Value::Null);
        if status >= 500 {
            return Err(CallError::Unreachable(format!("status {status}")));
        }
        if status >= 400 {
            let message = json["error"]["message"]
                .as_str()
                .unwrap_or("no message")
                .to_string();
            return Err(CallError::Refused { status, message });
        }
        Ok((status, json))
    }

    pub async fn enroll(
        &self,
        tenant: &str,
        access_key: &str,
        computer: &str,
        sensor_type: &str,
        version: &str,
    ) -> Result<Identity, CallError> {
        let body = json!({"tenantId": tenant, "accessKey": access_key, "computerDnsName": computer,
                          "sensorType": sensor_type, "version": version});
        let (_, json) = self.post("/agent/v1/enroll", None, &body).await?;
        identity(&json).ok_or_else(|| CallError::Unreachable("malformed enrolment answer".into()))
    }

    /// `Ok(None)` while waiting for activation.
    pub async fn report_candidate(
        &self,
        tenant: &str,
        access_key: &str,
        computer: &str,
        sense_version: &str,
    ) -> Result<Option<Identity>, CallError> {
        let body = json!({"tenantId": tenant, "accessKey": access_key, "computerDnsName": computer,
                          "senseClientVersion": sense_version});
        let (_, json) = self
            .post("/agent/v1/candidates/report", None, &body)
            .await?;
        if json["state"] == "activated" {
            return match identity(&json) {
                Some(id) => Ok(Some(id)),
                None => Err(CallError::Refused {
                    status: 409,
                    message:
                        "activated, but the credential was handed out before (state file lost?)"
                            .into(),
                }),
            };
        }
        Ok(None)
    }

    pub async fn check_in(&self, id: &Identity, report: &Report) -> Result<Answer, CallError> {
        let path = format!(
            "/agent/v1/tenants/{}/sensors/{}/checkIn",
            id.tenant_id, id.sensor_id
        );
        let (_, json) = self
            .post(&path, Some(&id.credential), &report.body())
            .await?;
        let command = match json["command"]["type"].as_str() {
            Some("update") => Command::Update(
                json["command"]["version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
            Some("stop") => Command::Stop,
            Some("migrate") => Command::Migrate(
                json["command"]["version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
            _ => Command::None,
        };
        let account_actions = json["accountActions"]
            .as_array()
            .map(|orders| {
                orders
                    .iter()
                    .filter_map(|o| {
                        Some(AccountActionOrder {
                            correlation_id: o["correlationId"].as_str()?.to_string(),
                            action: o["action"].as_str()?.to_string(),
                            account_id: o["accountId"].as_str()?.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Answer {
            desired_settings_version: json["desiredSettingsVersion"].as_u64().unwrap_or(0),
            command,
            next_check_in_secs: json["nextCheckInSeconds"].as_u64().unwrap_or(60),
            account_actions,
            auto_auditing: json["autoAuditing"].as_bool().unwrap_or(false),
        })
    }
}

fn identity(json: &Value) -> Option<Identity> {
    Some(Identity {
        tenant_id: json["tenantId"].as_str()?.to_string(),
        sensor_id: json["sensorId"].as_str()?.to_string(),
        credential: json["credential"].as_str()?.to_string(),
    })
}

/// Exponential backoff with full jitter, capped: retry 1 waits up to 1 s, then 2, 4 … 60 s.
pub fn backoff(attempt: u32) -> std::time::Duration {
    use rand::Rng;
    let cap = 60_000u64.min(1000u64.saturating_mul(1 << attempt.min(6)));
    std::time::Duration::from_millis(rand::thread_rng().gen_range(cap / 4..=cap))
}

/// Carries out an account action on this domain controller (simulated: the directory is the
/// server's; an account named `…locked…` refuses, as a protected account would). Returns
/// (done, detail).
pub fn carry_out(order: &AccountActionOrder, computer: &str) -> (bool, String) {
    if order.account_id.to_ascii_lowercase().contains("locked") {
        return (
            false,
            format!(
                "{computer}: access denied to {} (a protected account)",
                order.account_id
            ),
        );
    }
    (
        true,
        format!("{computer}: {} {}", order.action, order.account_id),
    )
}

/// After a check-in: forgets the results it carried (the server has them now) and carries out
/// the orders not yet carried out, whose results go with the next check-in. Returns the orders
/// carried out now.
pub fn exchange_account_actions(
    report: &mut Report,
    orders: &[AccountActionOrder],
    computer: &str,
) -> Vec<(AccountActionOrder, bool)> {
    let reported: Vec<String> = report
        .account_action_results
        .drain(..)
        .map(|(id, _, _)| id)
        .collect();
    let mut done_now = Vec::new();
    for order in orders
        .iter()
        .filter(|o| !reported.contains(&o.correlation_id))
    {
        let (done, detail) = carry_out(order, computer);
        report
            .account_action_results
            .push((order.correlation_id.clone(), done, detail));
        done_now.push((order.clone(), done));
    }
    done_now
}

/// The host issue a domain controller reports while its Windows advanced audit policy is not
/// what the sensor needs (one of the auditing issues of the health catalogue).
pub fn auditing_issue() -> Value {
    json!({
        "issueTypeId": "directoryServicesAdvancedAuditing",
        "displayName": "Directory Services Advanced Auditing is not enabled as required",
        "severity": "medium",
    })
}

/// The host issue an agent reports after a failed migration.
pub fn migration_issue() -> Value {
    json!({
        "issueTypeId": "sensorMigrationFailed",
        "displayName": "Sensor migration failed",
        "severity": "high",
    })
}

/// The adapters a simulated host reports: production traffic on the first, a backup network
/// on the second.
pub fn host_adapters() -> Vec<Value> {
    vec![
        json!({"id": "1", "name": "Ethernet0", "isEnabled": true}),
        json!({"id": "2", "name": "Ethernet1 (backup)", "isEnabled": false}),
    ]
}

/// A believable directory of `size` accounts for `domain`: people, administrators and service
/// accounts, one in seven disabled, some also in Entra ID or Okta. The same domain always
/// gives the same directory.
pub fn directory(domain: &str, size: usize) -> Vec<Value> {
    const FIRST: [&str; 16] = [
        "Adele", "Alex", "Diego", "Grady", "Isaiah", "Johanna", "Joni", "Lee", "Lidia", "Lynne",
        "Megan", "Miriam", "Nestor", "Patti", "Pradeep", "Irvin",
    ];
    const LAST: [&str; 16] = [
        "Vance",
        "Wilber",
        "Siciliani",
        "Archie",
        "Langer",
        "Lorenz",
        "Sherman",
        "Gu",
        "Holloway",
        "Robbins",
        "Bowen",
        "Graham",
        "Wilke",
        "Fernandez",
        "Gupta",
        "Sayers",
    ];
    let label = domain.split('.').next().unwrap_or(domain);
    (0..size)
        .map(|i| {
            let (first, last) = (FIRST[i % 16], LAST[(i / 16 + i) % 16]);
            let (sam, name) = match i % 10 {
                8 => (
                    format!("adm-{}{i}", first.to_lowercase()),
                    format!("Admin {first} {last}"),
                ),
                9 => (format!("svc-app{i:03}"), format!("svc-app{i:03}")),
                _ => (
                    format!(
                        "{}.{}{}",
                        first.to_lowercase(),
                        last.to_lowercase(),
                        i / 256
                    ),
                    format!("{first} {last}"),
                ),
            };
            let mut also = Vec::new();
            if i % 3 == 0 && i % 10 < 8 {
                also.push(json!(["entraID", format!("{sam}@{label}.onmicrosoft.com")]));
            }
            if i % 5 == 0 && i % 10 < 8 {
                also.push(json!(["okta", format!("{sam}@{label}.okta.com")]));
            }
            json!({
                "samAccountName": sam,
                "displayName": name,
                "isEnabled": i % 7 != 6,
                "onPremisesSecurityIdentifier":
                    format!("S-1-5-21-3623811015-3361044348-30300820-{}", 1100 + i),
                "also": also,
            })
        })
        .collect()
}
