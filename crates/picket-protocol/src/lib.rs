//! Picket's agent protocol, `/agent/v1`: every request a sensor agent sends and every answer the
//! server gives, defined once. `picket-server` decodes the requests and encodes the answers with
//! these types; `picket-agent` does the reverse. The wire format is JSON over HTTP(S):
//!
//! | call | request | answer |
//! |------|---------|--------|
//! | `POST /agent/v1/enroll` | [`EnrollRequest`] | 201 (200 on reinstall) [`EnrollAnswer`] |
//! | `POST /agent/v1/candidates/report` | [`CandidateReport`] | 202 / 200 [`CandidateAnswer`] |
//! | `POST /agent/v1/tenants/{tenant}/sensors/{sensor}/checkIn` (`Authorization: Bearer <credential>`) | [`CheckInRequest`] | 200 [`CheckInAnswer`] |
//!
//! Any refusal (4xx, 5xx) carries an [`ErrorBody`].
//!
//! # Version
//!
//! [`PROTOCOL_VERSION`] travels in the [`VERSION_HEADER`] header, both ways: the agent sends it
//! with every request, the server with every `/agent/v1` answer. It is never in a body, so the
//! JSON stays what version 1 agents and servers (which sent no header) exchange; a missing
//! header means version 1. The server does not act on the agent's version yet; the agent keeps
//! the server's, for the rule on new request fields below.
//!
//! # Compatibility rule (an older agent with a newer server, and the reverse)
//!
//! Answers (server → agent) are read leniently:
//! - unknown fields are ignored (no answer type denies unknown fields), so an older agent reads
//!   a newer server's answer;
//! - a field added after version 1 is optional with a default (`accountActions`: none,
//!   `autoAuditing`: off), so a newer agent reads an older server's answer;
//! - an unknown value where the agent branches is kept, not fatal: a `command` of an unknown
//!   `type` is [`Command::Unknown`] (the agent does nothing, as for `none`), a candidate `state`
//!   it does not know is [`CandidateAnswer::Unknown`] (it keeps waiting);
//! - a field every version-1 server sends (`desiredSettingsVersion`, `command`,
//!   `nextCheckInSeconds`, the enrolment's `credential` …) is required: without it the answer
//!   is malformed, an error for the agent, never a silent default.
//!
//! Requests (agent → server) are read strictly, as the server always has:
//! - an unknown field is refused with 400 `BadRequest` naming it (`deny_unknown_fields` on
//!   every request type), so a misspelt field is never silently dropped;
//! - a field added after version 1 is optional with a default, so an older agent's request
//!   (without it) is accepted;
//! - so a newer agent sends a field introduced in version N only to a server that announced
//!   version N or later in [`VERSION_HEADER`]. (The fields added before the header existed,
//!   `accountActionResults`, `migration`, `networkAdapters` and `directoryAccounts`, are
//!   version 1.)
//!
//! A change that breaks these rules (a field removed, renamed or made required, a meaning
//! changed) needs a new path (`/agent/v2`), not a new version number.
//!
//! # Plain strings
//!
//! Values the server checks against its domain's enums (`serviceStatus`, `sensorType`,
//! `severity`, update and migration states, outcomes, identity providers, `deploymentStatus`,
//! account actions) are plain strings here: the server keeps validating them with its own
//! messages (in `picket-server`, against `picket-domain`), a value a newer side adds passes an
//! older side's decoding untouched, and this crate depends on serde alone, so the agent
//! carries no domain, OData or time code. Only the command, on which the agent acts, is an
//! enum. The spellings the agent sends are constants ([`update_state`], [`outcome`],
//! [`migration_state`]).

use serde::{Deserialize, Serialize};

/// This crate's protocol version (see the crate doc for how it travels and what it promises).
pub const PROTOCOL_VERSION: u32 = 1;

/// The header carrying [`PROTOCOL_VERSION`] on requests and answers.
pub const VERSION_HEADER: &str = "picket-agent-protocol";

/// `POST`: a classic sensor enrols with its tenant's deployment access key.
pub const ENROLL_PATH: &str = "/agent/v1/enroll";
/// `POST`: a machine onboarded to endpoint protection reports itself as a sensor candidate.
pub const CANDIDATE_REPORT_PATH: &str = "/agent/v1/candidates/report";
/// `POST`: a sensor checks in (the route pattern; [`check_in_path`] fills it in).
pub const CHECK_IN_ROUTE: &str = "/agent/v1/tenants/{tenant}/sensors/{sensor}/checkIn";

/// The check-in path of one sensor.
pub fn check_in_path(tenant: &str, sensor: &str) -> String {
    format!("/agent/v1/tenants/{tenant}/sensors/{sensor}/checkIn")
}

/// The version an answer's [`VERSION_HEADER`] value names: a missing or unreadable header is
/// version 1 (servers before the header).
pub fn version_from_header(value: Option<&str>) -> u32 {
    value
        .and_then(|v| v.trim().parse().ok())
        .filter(|v| *v >= 1)
        .unwrap_or(1)
}

fn yes() -> bool {
    true
}

// ---------------------------------------------------------------------------------------------
// Enrolment and candidate reports
// ---------------------------------------------------------------------------------------------

/// `POST /agent/v1/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrollRequest {
    /// A GUID.
    pub tenant_id: String,
    pub access_key: String,
    pub computer_dns_name: String,
    /// A `sensorType` member, e.g. `domainControllerIntegrated`.
    pub sensor_type: String,
    /// The installed classic sensor version (`2.x`).
    pub version: String,
}

/// A sensor's credential (its bearer token for check-ins): a string on the wire, never
/// printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Credential(pub String);

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The enrolment's answer: the sensor's own credential, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollAnswer {
    pub tenant_id: String,
    pub sensor_id: String,
    pub credential: Credential,
    /// The same computer enrolled before (200 instead of 201).
    pub reinstalled: bool,
    pub check_in_interval_seconds: u64,
}

/// `POST /agent/v1/candidates/report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CandidateReport {
    pub tenant_id: String,
    pub access_key: String,
    pub computer_dns_name: String,
    /// Like `10.8760.19041.1000`.
    pub sense_client_version: String,
}

/// The candidate report's answer, by `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum CandidateAnswer {
    /// 202: not activated yet; report again later.
    #[serde(rename_all = "camelCase")]
    Waiting {
        candidate_id: String,
        next_report_seconds: u64,
    },
    /// 200: activated; the credential comes with the first answer after activation only
    /// (`null` afterwards).
    #[serde(rename_all = "camelCase")]
    Activated {
        tenant_id: String,
        sensor_id: String,
        credential: Option<Credential>,
        check_in_interval_seconds: u64,
    },
    /// A state a newer server has and this agent does not know: keep waiting.
    #[serde(other, skip_serializing)]
    Unknown,
}

// ---------------------------------------------------------------------------------------------
// Check-in
// ---------------------------------------------------------------------------------------------

/// The spellings of [`UpdateReport::state`].
pub mod update_state {
    pub const IDLE: &str = "idle";
    pub const IN_PROGRESS: &str = "inProgress";
    pub const FAILED: &str = "failed";
}

/// The spellings of [`ActionResult::outcome`].
pub mod outcome {
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
}

/// The spellings of [`MigrationReport::state`].
pub mod migration_state {
    /// The only one: a success shows as the unified sensor's version.
    pub const FAILED: &str = "failed";
}

/// `POST /agent/v1/tenants/{tenant}/sensors/{sensor}/checkIn`: the sensor's own state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckInRequest {
    /// A `serviceStatus` member, e.g. `running`.
    pub service_status: String,
    /// The installed sensor version.
    pub version: String,
    /// The settings version the sensor has applied.
    #[serde(default)]
    pub applied_settings_version: u64,
    /// At most 50.
    #[serde(default)]
    pub host_issues: Vec<HostIssue>,
    /// No update under way: absent (or `idle`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateReport>,
    /// The accounts of the domain, as a domain controller's sensor reads its directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_accounts: Option<Vec<DirectoryAccount>>,
    /// The host's network adapters, sent when they change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_adapters: Option<Vec<NetworkAdapter>>,
    /// A migration that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationReport>,
    /// Outcomes of account actions carried out since the last check-in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account_action_results: Vec<ActionResult>,
}

impl CheckInRequest {
    /// A running sensor of `version` with nothing else to say.
    pub fn running(version: impl Into<String>) -> Self {
        Self {
            service_status: "running".into(),
            version: version.into(),
            applied_settings_version: 0,
            host_issues: Vec::new(),
            update: None,
            directory_accounts: None,
            network_adapters: None,
            migration: None,
            account_action_results: Vec::new(),
        }
    }
}

/// An update the sensor is making, or that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateReport {
    /// [`update_state`]: `idle`, `inProgress` or `failed` (the last two with a target).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
}

impl UpdateReport {
    pub fn in_progress(target: impl Into<String>) -> Self {
        Self {
            state: update_state::IN_PROGRESS.into(),
            target_version: Some(target.into()),
        }
    }

    pub fn failed(target: impl Into<String>) -> Self {
        Self {
            state: update_state::FAILED.into(),
            target_version: Some(target.into()),
        }
    }

    /// The target of an update under way.
    pub fn in_progress_target(&self) -> Option<&str> {
        (self.state == update_state::IN_PROGRESS)
            .then_some(self.target_version.as_deref())
            .flatten()
    }
}

/// A problem the host itself reports (it becomes a health issue by the catalogue's rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostIssue {
    /// ≤ 64 characters.
    pub issue_type_id: String,
    /// ≤ 256 characters.
    pub display_name: String,
    /// A `healthIssueSeverity` member: `low`, `medium`, `high`.
    pub severity: String,
}

/// The outcome of an account action the sensor carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionResult {
    pub correlation_id: String,
    /// [`outcome`]: `done` or `failed`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What an agent says of a migration it was ordered to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MigrationReport {
    /// [`migration_state`]: `failed`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One of the host's network adapters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkAdapter {
    /// ≤ 64 characters.
    pub id: String,
    /// ≤ 256 characters.
    pub name: String,
    #[serde(default = "yes")]
    pub is_enabled: bool,
}

/// An account a domain controller's sensor reads from its domain's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryAccount {
    pub sam_account_name: String,
    pub display_name: String,
    #[serde(default = "yes")]
    pub is_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_premises_security_identifier: Option<String>,
    /// The same person's accounts in other systems: (identity provider, identifier), e.g.
    /// `["entraID", "adele@contoso.onmicrosoft.com"]`.
    #[serde(default)]
    pub also: Vec<(String, String)>,
}

/// The check-in's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckInAnswer {
    /// Apply these settings, then report this version as applied.
    pub desired_settings_version: u64,
    /// The sensor's settings (`null` for a sensor being deleted).
    pub settings: Option<Settings>,
    pub command: Command,
    /// The sensor's `deploymentStatus` as the server sees it (`null` for a sensor being
    /// deleted).
    pub deployment_status: Option<String>,
    /// When to check in next.
    pub next_check_in_seconds: u64,
    /// The server's time (`2024-05-01T10:00:00Z`).
    pub server_time: String,
    /// Account actions for this domain controller to carry out (older servers: none).
    #[serde(default)]
    pub account_actions: Vec<AccountActionOrder>,
    /// Configure the host's auditing as the sensor needs it (older servers: off).
    #[serde(default)]
    pub auto_auditing: bool,
}

/// A sensor's settings, as an administrator set them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub description: Option<String>,
    pub domain_controller_dns_names: Vec<String>,
    pub is_delayed_deployment_enabled: bool,
}

/// What the server orders, by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Command {
    None,
    /// Update the classic sensor to this version.
    Update {
        version: String,
    },
    /// The sensor was deleted: forget the credential and stop.
    Stop,
    /// Move from the classic sensor to the unified one of this version (until the sensor
    /// reports that version, or a failure).
    Migrate {
        version: String,
    },
    /// A command a newer server has and this agent does not know: nothing to do.
    #[serde(other, skip_serializing)]
    Unknown,
}

/// An action on an Active Directory account for this sensor's domain controller to carry out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountActionOrder {
    pub correlation_id: String,
    /// An `accountAction` member: `disable`, `enable`, `forcePasswordReset`.
    pub action: String,
    pub account_id: String,
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

/// A refusal (4xx, 5xx): Graph's error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// `BadRequest`, `InvalidAccessKey`, `InvalidCredential`, `TooManyRequests`, …
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner_error: Option<InnerError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerError {
    pub date: String,
    #[serde(rename = "request-id")]
    pub request_id: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                inner_error: None,
            },
        }
    }
}
