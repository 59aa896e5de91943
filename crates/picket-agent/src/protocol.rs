//! The client side of Picket's agent protocol (`/agent/v1`), shared by the real agent and the
//! simulator.

use anyhow::Result;
pub use picket_protocol as wire;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
pub use wire::{AccountActionOrder, Command};

/// What a sensor reports at each check-in.
pub type Report = wire::CheckInRequest;

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

/// Why a call did not get an answer: the server refused (final), could not be reached, or
/// answered with something that is not the protocol's answer.
#[derive(Debug)]
pub enum CallError {
    Refused {
        status: u16,
        message: String,
    },
    Unreachable(String),
    /// A 2xx answer that does not parse as the call's answer (a required field missing or of
    /// the wrong type): retried like an unreachable server, never read as defaults.
    Malformed {
        status: u16,
        detail: String,
    },
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused { status, message } => write!(f, "refused ({status}): {message}"),
            CallError::Unreachable(e) => write!(f, "server unreachable: {e}"),
            CallError::Malformed { status, detail } => {
                write!(f, "malformed answer ({status}): {detail}")
            }
        }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    server: String,
    /// The protocol version the server announced last (0: no answer yet).
    server_version: Arc<AtomicU32>,
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
            server_version: Arc::default(),
        })
    }

    /// The same client (connection pool, timeouts, trust) aimed at another server.
    pub fn with_server(&self, server: &str) -> Self {
        Self {
            http: self.http.clone(),
            server: server.trim_end_matches('/').to_string(),
            server_version: Arc::default(),
        }
    }

    /// The protocol version the server announced in its last answer (`None` before any):
    /// a request field newer than version 1 goes only to a server of its version or later.
    pub fn server_protocol_version(&self) -> Option<u32> {
        Some(self.server_version.load(Ordering::Relaxed)).filter(|v| *v > 0)
    }

    async fn post<A: DeserializeOwned>(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: &impl Serialize,
    ) -> Result<(u16, A), CallError> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.server))
            .header(wire::VERSION_HEADER, wire::PROTOCOL_VERSION)
            .json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let version = wire::version_from_header(
            response
                .headers()
                .get(wire::VERSION_HEADER)
                .and_then(|v| v.to_str().ok()),
        );
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        if status >= 500 {
            return Err(CallError::Unreachable(format!("status {status}")));
        }
        if status >= 400 {
            let message = serde_json::from_slice::<wire::ErrorBody>(&bytes)
                .map_or_else(|_| "no message".to_string(), |b| b.error.message);
            return Err(CallError::Refused { status, message });
        }
        self.server_version.store(version, Ordering::Relaxed);
        serde_json::from_slice(&bytes)
            .map(|answer| (status, answer))
            .map_err(|e| CallError::Malformed {
                status,
                detail: e.to_string(),
            })
    }

    pub async fn enroll(
        &self,
        tenant: &str,
        access_key: &str,
        computer: &str,
        sensor_type: &str,
        version: &str,
    ) -> Result<Identity, CallError> {
        let body = wire::EnrollRequest {
            tenant_id: tenant.into(),
            access_key: access_key.into(),
            computer_dns_name: computer.into(),
            sensor_type: sensor_type.into(),
            version: version.into(),
        };
        let (_, answer): (_, wire::EnrollAnswer) =
            self.post(wire::ENROLL_PATH, None, &body).await?;
        Ok(Identity {
            tenant_id: answer.tenant_id,
            sensor_id: answer.sensor_id,
            credential: answer.credential.0,
        })
    }

    /// `Ok(None)` while waiting for activation.
    pub async fn report_candidate(
        &self,
        tenant: &str,
        access_key: &str,
        computer: &str,
        sense_version: &str,
    ) -> Result<Option<Identity>, CallError> {
        let body = wire::CandidateReport {
            tenant_id: tenant.into(),
            access_key: access_key.into(),
            computer_dns_name: computer.into(),
            sense_client_version: sense_version.into(),
        };
        let (_, answer) = self.post(wire::CANDIDATE_REPORT_PATH, None, &body).await?;
        match answer {
            wire::CandidateAnswer::Activated {
                tenant_id,
                sensor_id,
                credential: Some(credential),
                ..
            } => Ok(Some(Identity {
                tenant_id,
                sensor_id,
                credential: credential.0,
            })),
            wire::CandidateAnswer::Activated {
                credential: None, ..
            } => Err(CallError::Refused {
                status: 409,
                message: "activated, but the credential was handed out before (state file lost?)"
                    .into(),
            }),
            wire::CandidateAnswer::Waiting { .. } | wire::CandidateAnswer::Unknown => Ok(None),
        }
    }

    pub async fn check_in(
        &self,
        id: &Identity,
        report: &Report,
    ) -> Result<wire::CheckInAnswer, CallError> {
        let path = wire::check_in_path(&id.tenant_id, &id.sensor_id);
        let (_, answer) = self.post(&path, Some(&id.credential), report).await?;
        Ok(answer)
    }
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
        .map(|r| r.correlation_id)
        .collect();
    let mut done_now = Vec::new();
    for order in orders
        .iter()
        .filter(|o| !reported.contains(&o.correlation_id))
    {
        let (done, detail) = carry_out(order, computer);
        report.account_action_results.push(wire::ActionResult {
            correlation_id: order.correlation_id.clone(),
            outcome: if done {
                wire::outcome::DONE
            } else {
                wire::outcome::FAILED
            }
            .into(),
            detail: Some(detail),
        });
        done_now.push((order.clone(), done));
    }
    done_now
}

/// The type of the host issue a domain controller reports while its Windows advanced audit
/// policy is not what the sensor needs (one of the auditing issues of the health catalogue).
pub const AUDITING_ISSUE: &str = "directoryServicesAdvancedAuditing";

/// The auditing host issue ([`AUDITING_ISSUE`]).
pub fn auditing_issue() -> wire::HostIssue {
    wire::HostIssue {
        issue_type_id: AUDITING_ISSUE.into(),
        display_name: "Directory Services Advanced Auditing is not enabled as required".into(),
        severity: "medium".into(),
    }
}

/// The host issue an agent reports after a failed migration.
pub fn migration_issue() -> wire::HostIssue {
    wire::HostIssue {
        issue_type_id: "sensorMigrationFailed".into(),
        display_name: "Sensor migration failed".into(),
        severity: "high".into(),
    }
}

/// The failure report of a migration, with why.
pub fn migration_failure(why: String) -> wire::MigrationReport {
    wire::MigrationReport {
        state: wire::migration_state::FAILED.into(),
        detail: Some(why),
    }
}

/// The adapters a simulated host reports: production traffic on the first, a backup network
/// on the second.
pub fn host_adapters() -> Vec<wire::NetworkAdapter> {
    let adapter = |id: &str, name: &str, is_enabled| wire::NetworkAdapter {
        id: id.into(),
        name: name.into(),
        is_enabled,
    };
    vec![
        adapter("1", "Ethernet0", true),
        adapter("2", "Ethernet1 (backup)", false),
    ]
}

/// What a sensor whose update is under way reports next, given the answer's command: the
/// update done (the new version installed) or failed, or a new one started on an `update`
/// command; anything else leaves it as it is.
pub fn next_update(report: &mut Report, command: &Command, fails_updates: bool) -> UpdateStep {
    let target = report
        .update
        .as_ref()
        .and_then(|u| u.in_progress_target())
        .map(str::to_string);
    match (target, command) {
        (Some(target), _) if fails_updates => {
            report.update = Some(wire::UpdateReport::failed(target));
            UpdateStep::Unchanged
        }
        (Some(target), _) => {
            report.version = target.clone();
            report.update = None;
            UpdateStep::Updated(target)
        }
        (None, Command::Update { version }) => {
            report.update = Some(wire::UpdateReport::in_progress(version.clone()));
            UpdateStep::Started(version.clone())
        }
        (None, _) => UpdateStep::Unchanged,
    }
}

/// What [`next_update`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum UpdateStep {
    Unchanged,
    Started(String),
    Updated(String),
}

/// A believable directory of `size` accounts for `domain`: people, administrators and service
/// accounts, one in seven disabled, some also in Entra ID or Okta. The same domain always
/// gives the same directory.
pub fn directory(domain: &str, size: usize) -> Vec<wire::DirectoryAccount> {
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
                also.push(("entraID".into(), format!("{sam}@{label}.onmicrosoft.com")));
            }
            if i % 5 == 0 && i % 10 < 8 {
                also.push(("okta".into(), format!("{sam}@{label}.okta.com")));
            }
            wire::DirectoryAccount {
                sam_account_name: sam,
                display_name: name,
                is_enabled: i % 7 != 6,
                on_premises_security_identifier: Some(format!(
                    "S-1-5-21-3623811015-3361044348-30300820-{}",
                    1100 + i
                )),
                also,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server answering every request with `status`, `body` and `headers`; it sends each
    /// request it read (head and body) down the channel.
    async fn canned(
        status: u16,
        body: &'static str,
        headers: &'static str,
    ) -> (Client, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let Ok(n) = socket.read(&mut buf).await else {
                            return;
                        };
                        seen.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&seen).to_string();
                        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                            let length = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if rest.len() >= length {
                                let _ = tx.send(text);
                                break;
                            }
                        }
                        if n == 0 {
                            return;
                        }
                    }
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        (Client::new(&url, None).expect("client"), rx)
    }

    fn identity() -> Identity {
        Identity {
            tenant_id: "t".into(),
            sensor_id: "s".into(),
            credential: "c".into(),
        }
    }

    #[tokio::test]
    async fn a_newer_servers_answer_is_read_and_an_unknown_command_kept() {
        let (client, mut requests) = canned(
            200,
            r#"{"desiredSettingsVersion": 7, "settings": null,
                "command": {"type": "reboot", "at": "later"}, "deploymentStatus": "syncing",
                "nextCheckInSeconds": 30, "serverTime": "2024-05-01T10:00:00Z",
                "accountActions": [], "autoAuditing": true, "quarantine": {"hosts": []}}"#,
            "picket-agent-protocol: 2\r\n",
        )
        .await;
        assert_eq!(client.server_protocol_version(), None);
        let answer = client
            .check_in(&identity(), &Report::running("2.239.18124.58593"))
            .await
            .expect("a newer answer is read");
        assert_eq!(answer.command, Command::Unknown);
        assert_eq!(
            (
                answer.desired_settings_version,
                answer.next_check_in_seconds
            ),
            (7, 30)
        );
        assert!(answer.auto_auditing);
        assert_eq!(client.server_protocol_version(), Some(2));
        // What went out: the version header, the credential, the body the server expects.
        let request = requests.recv().await.expect("a request");
        let (head, body) = request.split_once("\r\n\r\n").expect("head and body");
        let head = head.to_ascii_lowercase();
        assert!(head.starts_with("post /agent/v1/tenants/t/sensors/s/checkin "));
        assert!(head.contains("\r\npicket-agent-protocol: 1\r\n"), "{head}");
        assert!(head.contains("\r\nauthorization: bearer c\r\n"), "{head}");
        assert_eq!(
            body,
            r#"{"serviceStatus":"running","version":"2.239.18124.58593","appliedSettingsVersion":0,"hostIssues":[]}"#
        );
    }

    #[tokio::test]
    async fn an_older_servers_answer_gets_the_defaults_of_later_fields() {
        let (client, _) = canned(
            200,
            r#"{"desiredSettingsVersion": 1, "settings": null, "command": {"type": "none"},
                "deploymentStatus": null, "nextCheckInSeconds": 60,
                "serverTime": "2024-05-01T10:00:00Z"}"#,
            "",
        )
        .await;
        let answer = client
            .check_in(&identity(), &Report::running("2.1"))
            .await
            .expect("read");
        assert_eq!(answer.command, Command::None);
        assert!(answer.account_actions.is_empty() && !answer.auto_auditing);
        assert_eq!(client.server_protocol_version(), Some(1), "no header: 1");
    }

    #[tokio::test]
    async fn a_malformed_answer_is_an_error() {
        for body in [
            // No nextCheckInSeconds: once read as 60.
            r#"{"desiredSettingsVersion": 1, "settings": null, "command": {"type": "none"},
                "deploymentStatus": null, "serverTime": "2024-05-01T10:00:00Z"}"#,
            // An update without its version: once read as an update to "".
            r#"{"desiredSettingsVersion": 1, "settings": null, "command": {"type": "update"},
                "deploymentStatus": null, "nextCheckInSeconds": 60,
                "serverTime": "2024-05-01T10:00:00Z"}"#,
            "<html>proxy error</html>",
        ] {
            let (client, _) = canned(200, body, "").await;
            match client.check_in(&identity(), &Report::running("2.1")).await {
                Err(CallError::Malformed { status: 200, .. }) => {}
                other => panic!("{body}: {other:?}"),
            }
        }
        let (client, _) = canned(201, r#"{"tenantId": "t", "sensorId": "s"}"#, "").await;
        assert!(matches!(
            client
                .enroll("t", "k", "a.b", "adfsIntegrated", "2.1")
                .await,
            Err(CallError::Malformed { status: 201, .. })
        ));
    }

    #[tokio::test]
    async fn refusals_carry_the_servers_message() {
        let (client, _) = canned(
            401,
            r#"{"error": {"code": "InvalidCredential", "message": "Unknown sensor or wrong credential",
                "innerError": {"date": "d", "request-id": "r"}}}"#,
            "",
        )
        .await;
        match client.check_in(&identity(), &Report::running("2.1")).await {
            Err(CallError::Refused { status, message }) => {
                assert_eq!(status, 401);
                assert_eq!(message, "Unknown sensor or wrong credential");
            }
            other => panic!("{other:?}"),
        }
        let (client, _) = canned(400, "nope", "").await;
        assert!(matches!(
            client.check_in(&identity(), &Report::running("2.1")).await,
            Err(CallError::Refused { status: 400, message }) if message == "no message"
        ));
        let (client, _) = canned(503, "{}", "").await;
        assert!(matches!(
            client.check_in(&identity(), &Report::running("2.1")).await,
            Err(CallError::Unreachable(_))
        ));
    }

    #[tokio::test]
    async fn candidates_wait_through_states_they_do_not_know() {
        for body in [
            r#"{"state": "waiting", "candidateId": "c", "nextReportSeconds": 60}"#,
            r#"{"state": "queued", "position": 4}"#,
        ] {
            let (client, _) = canned(202, body, "").await;
            assert!(client
                .report_candidate("t", "k", "a.b", "10.8760.1.1")
                .await
                .expect("read")
                .is_none());
        }
        let (client, _) = canned(
            200,
            r#"{"state": "activated", "tenantId": "t", "sensorId": "s", "credential": "c",
                "checkInIntervalSeconds": 60}"#,
            "",
        )
        .await;
        let id = client
            .report_candidate("t", "k", "a.b", "10.8760.1.1")
            .await
            .expect("read")
            .expect("activated");
        assert_eq!((id.sensor_id.as_str(), id.credential.as_str()), ("s", "c"));
    }

    #[test]
    fn a_simulated_update_takes_one_check_in() {
        let mut report = Report::running("2.1");
        let update = Command::Update {
            version: "2.2".into(),
        };
        assert_eq!(
            next_update(&mut report, &update, false),
            UpdateStep::Started("2.2".into())
        );
        assert_eq!(
            next_update(&mut report, &Command::None, false),
            UpdateStep::Updated("2.2".into())
        );
        assert_eq!((report.version.as_str(), &report.update), ("2.2", &None));
        assert_eq!(
            next_update(&mut report, &update, true),
            UpdateStep::Started("2.2".into())
        );
        assert_eq!(
            next_update(&mut report, &Command::Unknown, true),
            UpdateStep::Unchanged
        );
        assert_eq!(report.update, Some(wire::UpdateReport::failed("2.2")));
    }

    #[test]
    fn account_actions_are_carried_out_once() {
        let mut report = Report::running("2.1");
        let orders = [
            AccountActionOrder {
                correlation_id: "1".into(),
                action: "disable".into(),
                account_id: "alice".into(),
            },
            AccountActionOrder {
                correlation_id: "2".into(),
                action: "disable".into(),
                account_id: "locked-admin".into(),
            },
        ];
        let done = exchange_account_actions(&mut report, &orders, "dc1");
        assert_eq!(
            done.iter().map(|(_, d)| *d).collect::<Vec<_>>(),
            [true, false]
        );
        let outcomes: Vec<_> = report
            .account_action_results
            .iter()
            .map(|r| r.outcome.as_str())
            .collect();
        assert_eq!(outcomes, ["done", "failed"]);
        // The same orders again (the server has not seen the results yet): not again.
        assert!(exchange_account_actions(&mut report, &orders, "dc1").is_empty());
    }
}
