//! Each type against the exact JSON the other side sends today (the samples are what
//! `picket-agent` and `picket-server` put on the wire before this crate existed, field order
//! included), and back; then the compatibility rule of the crate doc.

use picket_protocol::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// `value` serialises to exactly `json` (compact, same order) and `json` parses to `value`.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T, json: &str) {
    let compact = serde_json::to_string(
        &serde_json::from_str::<serde_json::Value>(json).expect("the sample is JSON"),
    )
    .expect("compact");
    assert_eq!(serde_json::to_string(value).expect("serialises"), compact);
    assert_eq!(&serde_json::from_str::<T>(json).expect("parses"), value);
}

fn parse<T: DeserializeOwned>(json: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(json)
}

const TENANT: &str = "6f1e0d2c-7a5b-4c3d-9e8f-0a1b2c3d4e5f";

#[test]
fn enrolment() {
    round_trip(
        &EnrollRequest {
            tenant_id: TENANT.into(),
            access_key: "key".into(),
            computer_dns_name: "dc1.contoso.com".into(),
            sensor_type: "domainControllerIntegrated".into(),
            version: "2.239.18124.58593".into(),
        },
        r#"{"tenantId": "6f1e0d2c-7a5b-4c3d-9e8f-0a1b2c3d4e5f", "accessKey": "key",
            "computerDnsName": "dc1.contoso.com", "sensorType": "domainControllerIntegrated",
            "version": "2.239.18124.58593"}"#,
    );
    round_trip(
        &EnrollAnswer {
            tenant_id: TENANT.into(),
            sensor_id: "a1b2".into(),
            credential: Credential("c-r-e-d".into()),
            reinstalled: false,
            check_in_interval_seconds: 60,
        },
        r#"{"tenantId": "6f1e0d2c-7a5b-4c3d-9e8f-0a1b2c3d4e5f", "sensorId": "a1b2",
            "credential": "c-r-e-d", "reinstalled": false, "checkInIntervalSeconds": 60}"#,
    );
    let answer: EnrollAnswer = parse(
        r#"{"tenantId": "t", "sensorId": "s", "credential": "c", "reinstalled": true,
            "checkInIntervalSeconds": 60}"#,
    )
    .expect("parses");
    assert!(
        !format!("{answer:?}").contains("\"c\""),
        "the credential is redacted"
    );
}

#[test]
fn candidate_reports() {
    round_trip(
        &CandidateReport {
            tenant_id: TENANT.into(),
            access_key: "key".into(),
            computer_dns_name: "ws1.contoso.com".into(),
            sense_client_version: "10.8760.19041.1000".into(),
        },
        r#"{"tenantId": "6f1e0d2c-7a5b-4c3d-9e8f-0a1b2c3d4e5f", "accessKey": "key",
            "computerDnsName": "ws1.contoso.com", "senseClientVersion": "10.8760.19041.1000"}"#,
    );
    round_trip(
        &CandidateAnswer::Waiting {
            candidate_id: "cand-1".into(),
            next_report_seconds: 60,
        },
        r#"{"state": "waiting", "candidateId": "cand-1", "nextReportSeconds": 60}"#,
    );
    round_trip(
        &CandidateAnswer::Activated {
            tenant_id: TENANT.into(),
            sensor_id: "s-1".into(),
            credential: Some(Credential("secret".into())),
            check_in_interval_seconds: 60,
        },
        r#"{"state": "activated", "tenantId": "6f1e0d2c-7a5b-4c3d-9e8f-0a1b2c3d4e5f",
            "sensorId": "s-1", "credential": "secret", "checkInIntervalSeconds": 60}"#,
    );
    let handed_out = CandidateAnswer::Activated {
        tenant_id: TENANT.into(),
        sensor_id: "s-1".into(),
        credential: None,
        check_in_interval_seconds: 60,
    };
    round_trip(
        &handed_out,
        r#"{"state": "activated", "tenantId": "6f1e0d2c-7a5b-4c3d-9e8f-0a1b2c3d4e5f",
            "sensorId": "s-1", "credential": null, "checkInIntervalSeconds": 60}"#,
    );
    assert!(!format!("{:?}", parse::<CandidateAnswer>(
        r#"{"state": "activated", "tenantId": "t", "sensorId": "s", "credential": "secret", "checkInIntervalSeconds": 1}"#
    ).expect("parses")).contains("secret"));
}

/// A check-in as an agent sends it with nothing to add: no update under way, no results.
const QUIET_CHECK_IN: &str = r#"{"serviceStatus": "running", "version": "2.239.18124.58593",
    "appliedSettingsVersion": 3, "hostIssues": []}"#;

/// A check-in carrying every field, as a domain controller's agent sends it.
const FULL_CHECK_IN: &str = r#"{
    "serviceStatus": "running",
    "version": "2.239.18124.58593",
    "appliedSettingsVersion": 3,
    "hostIssues": [{"issueTypeId": "directoryServicesAdvancedAuditing",
                    "displayName": "Directory Services Advanced Auditing is not enabled as required",
                    "severity": "medium"}],
    "update": {"state": "inProgress", "targetVersion": "2.240.18200.1"},
    "directoryAccounts": [{"samAccountName": "adele.vance0", "displayName": "Adele Vance",
                           "isEnabled": true,
                           "onPremisesSecurityIdentifier": "S-1-5-21-3623811015-3361044348-30300820-1100",
                           "also": [["entraID", "adele.vance0@contoso.onmicrosoft.com"],
                                    ["okta", "adele.vance0@contoso.okta.com"]]}],
    "networkAdapters": [{"id": "1", "name": "Ethernet0", "isEnabled": true},
                        {"id": "2", "name": "Ethernet1 (backup)", "isEnabled": false}],
    "migration": {"state": "failed", "detail": "dc1.contoso.com: the unified sensor did not start"},
    "accountActionResults": [{"correlationId": "c-1", "outcome": "done",
                              "detail": "dc1.contoso.com: disable alice"}]
}"#;

fn full_check_in() -> CheckInRequest {
    CheckInRequest {
        applied_settings_version: 3,
        host_issues: vec![HostIssue {
            issue_type_id: "directoryServicesAdvancedAuditing".into(),
            display_name: "Directory Services Advanced Auditing is not enabled as required".into(),
            severity: "medium".into(),
        }],
        update: Some(UpdateReport::in_progress("2.240.18200.1")),
        directory_accounts: Some(vec![DirectoryAccount {
            sam_account_name: "adele.vance0".into(),
            display_name: "Adele Vance".into(),
            is_enabled: true,
            on_premises_security_identifier: Some(
                "S-1-5-21-3623811015-3361044348-30300820-1100".into(),
            ),
            also: vec![
                (
                    "entraID".into(),
                    "adele.vance0@contoso.onmicrosoft.com".into(),
                ),
                ("okta".into(), "adele.vance0@contoso.okta.com".into()),
            ],
        }]),
        network_adapters: Some(vec![
            NetworkAdapter {
                id: "1".into(),
                name: "Ethernet0".into(),
                is_enabled: true,
            },
            NetworkAdapter {
                id: "2".into(),
                name: "Ethernet1 (backup)".into(),
                is_enabled: false,
            },
        ]),
        migration: Some(MigrationReport {
            state: migration_state::FAILED.into(),
            detail: Some("dc1.contoso.com: the unified sensor did not start".into()),
        }),
        account_action_results: vec![ActionResult {
            correlation_id: "c-1".into(),
            outcome: outcome::DONE.into(),
            detail: Some("dc1.contoso.com: disable alice".into()),
        }],
        ..CheckInRequest::running("2.239.18124.58593")
    }
}

#[test]
fn check_in_requests() {
    round_trip(
        &CheckInRequest {
            applied_settings_version: 3,
            ..CheckInRequest::running("2.239.18124.58593")
        },
        QUIET_CHECK_IN,
    );
    round_trip(&full_check_in(), FULL_CHECK_IN);
    round_trip(
        &UpdateReport::failed("2.240.18200.1"),
        r#"{"state": "failed", "targetVersion": "2.240.18200.1"}"#,
    );
    assert_eq!(
        UpdateReport::in_progress("2.1").in_progress_target(),
        Some("2.1")
    );
    assert_eq!(UpdateReport::failed("2.1").in_progress_target(), None);
}

/// What the server answered a domain controller's check-in with, before this crate.
const CHECK_IN_ANSWER: &str = r#"{
    "desiredSettingsVersion": 4,
    "settings": {"description": "DC in Paris", "domainControllerDnsNames": ["dc1.contoso.com"],
                 "isDelayedDeploymentEnabled": true},
    "command": {"type": "update", "version": "2.240.18200.1"},
    "deploymentStatus": "updating",
    "nextCheckInSeconds": 60,
    "serverTime": "2024-05-01T10:00:00Z",
    "accountActions": [{"correlationId": "c-2", "action": "disable", "accountId": "alice"}],
    "autoAuditing": true
}"#;

fn check_in_answer() -> CheckInAnswer {
    CheckInAnswer {
        desired_settings_version: 4,
        settings: Some(Settings {
            description: Some("DC in Paris".into()),
            domain_controller_dns_names: vec!["dc1.contoso.com".into()],
            is_delayed_deployment_enabled: true,
        }),
        command: Command::Update {
            version: "2.240.18200.1".into(),
        },
        deployment_status: Some("updating".into()),
        next_check_in_seconds: 60,
        server_time: "2024-05-01T10:00:00Z".into(),
        account_actions: vec![AccountActionOrder {
            correlation_id: "c-2".into(),
            action: "disable".into(),
            account_id: "alice".into(),
        }],
        auto_auditing: true,
    }
}

#[test]
fn check_in_answers() {
    round_trip(&check_in_answer(), CHECK_IN_ANSWER);
    // A sensor being deleted: no settings, no status, the stop command.
    round_trip(
        &CheckInAnswer {
            desired_settings_version: 0,
            settings: None,
            command: Command::Stop,
            deployment_status: None,
            next_check_in_seconds: 60,
            server_time: "2024-05-01T10:00:00Z".into(),
            account_actions: Vec::new(),
            auto_auditing: false,
        },
        r#"{"desiredSettingsVersion": 0, "settings": null, "command": {"type": "stop"},
            "deploymentStatus": null, "nextCheckInSeconds": 60,
            "serverTime": "2024-05-01T10:00:00Z", "accountActions": [], "autoAuditing": false}"#,
    );
    round_trip(&Command::None, r#"{"type": "none"}"#);
    round_trip(
        &Command::Migrate {
            version: "3.1.25311.1".into(),
        },
        r#"{"type": "migrate", "version": "3.1.25311.1"}"#,
    );
    round_trip(
        &Settings {
            description: None,
            domain_controller_dns_names: Vec::new(),
            is_delayed_deployment_enabled: false,
        },
        r#"{"description": null, "domainControllerDnsNames": [], "isDelayedDeploymentEnabled": false}"#,
    );
}

#[test]
fn refusals() {
    round_trip(
        &ErrorBody {
            error: ErrorDetail {
                code: "InvalidCredential".into(),
                message: "Unknown sensor or wrong credential".into(),
                inner_error: Some(InnerError {
                    date: "2024-05-01T10:00:00".into(),
                    request_id: "5a7c".into(),
                }),
            },
        },
        r#"{"error": {"code": "InvalidCredential", "message": "Unknown sensor or wrong credential",
            "innerError": {"date": "2024-05-01T10:00:00", "request-id": "5a7c"}}}"#,
    );
    // Graph's envelope may carry more (client-request-id): still read.
    let body: ErrorBody = parse(
        r#"{"error": {"code": "BadRequest", "message": "m", "innerError": {"date": "d",
            "request-id": "r", "client-request-id": "c"}, "details": []}}"#,
    )
    .expect("parses");
    assert_eq!(body.error.message, "m");
    assert_eq!(ErrorBody::new("c", "m").error.inner_error, None);
}

#[test]
fn an_older_agent_reads_a_newer_servers_answer() {
    // Fields it does not know, at every level; an order with more to it; a command it does
    // not know (with fields of its own).
    let answer: CheckInAnswer = parse(
        r#"{"desiredSettingsVersion": 4,
            "settings": {"description": null, "domainControllerDnsNames": [],
                         "isDelayedDeploymentEnabled": false, "captureMode": "full"},
            "command": {"type": "reboot", "at": "2024-05-01T11:00:00Z", "reason": {"why": 1}},
            "deploymentStatus": "syncing", "nextCheckInSeconds": 30,
            "serverTime": "2024-05-01T10:00:00Z",
            "accountActions": [{"correlationId": "c", "action": "quarantine", "accountId": "bob",
                                "deadline": 5}],
            "autoAuditing": true, "telemetry": {"level": 3}, "orders": [1, 2]}"#,
    )
    .expect("a newer answer parses");
    assert_eq!(answer.command, Command::Unknown);
    assert_eq!(answer.next_check_in_seconds, 30);
    assert_eq!(answer.account_actions[0].action, "quarantine");
    // A known command with a field added later.
    let command: Command =
        parse(r#"{"type": "update", "version": "2.3", "window": "night"}"#).expect("parses");
    assert_eq!(
        command,
        Command::Update {
            version: "2.3".into()
        }
    );
    // A candidate state it does not know: still waiting.
    assert_eq!(
        parse::<CandidateAnswer>(r#"{"state": "queued", "position": 3}"#).expect("parses"),
        CandidateAnswer::Unknown
    );
    let enrolled: EnrollAnswer = parse(
        r#"{"tenantId": "t", "sensorId": "s", "credential": "c", "reinstalled": false,
            "checkInIntervalSeconds": 60, "region": "eu"}"#,
    )
    .expect("parses");
    assert_eq!(enrolled.sensor_id, "s");
    // An unknown command is never sent.
    assert!(serde_json::to_string(&Command::Unknown).is_err());
}

#[test]
fn a_newer_agent_reads_an_older_servers_answer() {
    let answer: CheckInAnswer = parse(
        r#"{"desiredSettingsVersion": 1, "settings": null, "command": {"type": "none"},
            "deploymentStatus": "upToDate", "nextCheckInSeconds": 60,
            "serverTime": "2024-05-01T10:00:00Z"}"#,
    )
    .expect("an answer without account actions and auditing parses");
    assert!(answer.account_actions.is_empty());
    assert!(!answer.auto_auditing);
}

#[test]
fn a_malformed_answer_is_an_error_not_a_default() {
    let mut full: serde_json::Value = serde_json::from_str(CHECK_IN_ANSWER).expect("json");
    for required in [
        "desiredSettingsVersion",
        "command",
        "nextCheckInSeconds",
        "serverTime",
    ] {
        let mut answer = full.clone();
        answer.as_object_mut().expect("object").remove(required);
        assert!(
            serde_json::from_value::<CheckInAnswer>(answer).is_err(),
            "{required} is required"
        );
    }
    full["nextCheckInSeconds"] = "soon".into();
    assert!(serde_json::from_value::<CheckInAnswer>(full).is_err());
    for bad in [
        r#"{"type": "update"}"#,
        r#"{"type": "migrate", "version": 3}"#,
        r#"{"version": "2.1"}"#,
        r#""update""#,
        "null",
    ] {
        assert!(parse::<Command>(bad).is_err(), "{bad}");
    }
    assert!(
        parse::<CheckInAnswer>("[]").is_err() && parse::<CheckInAnswer>("").is_err(),
        "not an object"
    );
    assert!(parse::<EnrollAnswer>(r#"{"tenantId": "t", "sensorId": "s"}"#).is_err());
    assert!(parse::<AccountActionOrder>(r#"{"correlationId": "c", "action": "disable"}"#).is_err());
}

#[test]
fn the_server_accepts_an_older_agents_request_and_refuses_unknown_fields() {
    // Only the fields of the first agents: everything added since has a default.
    let request: CheckInRequest =
        parse(r#"{"serviceStatus": "running", "version": "2.239.18124.58593"}"#)
            .expect("an older check-in parses");
    assert_eq!(request, CheckInRequest::running("2.239.18124.58593"));
    let nulls: CheckInRequest = parse(
        r#"{"serviceStatus": "running", "version": "2.1", "update": null, "migration": null,
            "networkAdapters": null, "directoryAccounts": null}"#,
    )
    .expect("nulls are absences");
    assert_eq!(nulls, CheckInRequest::running("2.1"));
    let adapter: NetworkAdapter = parse(r#"{"id": "1", "name": "e0"}"#).expect("parses");
    assert!(adapter.is_enabled, "enabled unless said otherwise");
    let account: DirectoryAccount =
        parse(r#"{"samAccountName": "a", "displayName": "A"}"#).expect("parses");
    assert!(account.is_enabled && account.also.is_empty());
    // Requests are strict: an unknown field is refused, at any level.
    for bad in [
        r#"{"serviceStatus": "running", "version": "2.1", "extra": 1}"#,
        r#"{"serviceStatus": "running", "version": "2.1", "update": {"state": "idle", "eta": 1}}"#,
        r#"{"serviceStatus": "running", "version": "2.1", "hostIssues": [{"issueTypeId": "i",
            "displayName": "d", "severity": "low", "count": 2}]}"#,
    ] {
        let error = parse::<CheckInRequest>(bad).expect_err(bad).to_string();
        assert!(error.contains("unknown field"), "{error}");
    }
    assert!(parse::<EnrollRequest>(
        r#"{"tenantId": "t", "accessKey": "k", "computerDnsName": "a.b",
            "sensorType": "adfsIntegrated", "version": "2.1.0", "extra": 1}"#
    )
    .is_err());
}

#[test]
fn the_version_header() {
    assert_eq!(PROTOCOL_VERSION, 1);
    assert_eq!(version_from_header(None), 1, "servers before the header");
    assert_eq!(version_from_header(Some("2")), 2);
    assert_eq!(version_from_header(Some("two")), 1);
    assert_eq!(version_from_header(Some("0")), 1);
    assert_eq!(
        check_in_path("t", "s"),
        CHECK_IN_ROUTE
            .replace("{tenant}", "t")
            .replace("{sensor}", "s")
    );
}
