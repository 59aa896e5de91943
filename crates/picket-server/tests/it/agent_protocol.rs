//! The server speaks `picket-protocol` exactly: its answers parse as the shared types and are
//! all of them (serialising the parsed answer gives the same JSON back), every `/agent/v1`
//! answer names the protocol version, an older agent's request is accepted and the agent's
//! own bodies (serialised from the same types) are too.

use crate::support::*;
use picket_protocol as wire;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

/// The answer parses as `T`, and `T` says everything it said (no field lost or invented).
fn speaks<T: DeserializeOwned + Serialize>(r: &Resp) -> T {
    assert_eq!(
        r.headers
            .get(wire::VERSION_HEADER)
            .and_then(|v| v.to_str().ok()),
        Some(wire::PROTOCOL_VERSION.to_string().as_str()),
        "the version header: {:?}",
        r.headers
    );
    let parsed: T =
        serde_json::from_value(r.json.clone()).unwrap_or_else(|e| panic!("{e}: {}", r.text));
    assert_eq!(serde_json::to_value(&parsed).expect("serialises"), r.json);
    parsed
}

async fn post(app: &TestApp, path: &str, bearer: &str, body: &impl Serialize) -> Resp {
    let body = serde_json::to_value(body).expect("json");
    app.send_json("POST", path, bearer, Some(body)).await
}

#[tokio::test]
async fn the_server_answers_in_the_shared_types() {
    let app = TestApp::builder().start().await;
    let key = app.access_key().await;
    let enroll = wire::EnrollRequest {
        tenant_id: TENANT_A.into(),
        access_key: key.clone(),
        computer_dns_name: "dc9.contoso.com".into(),
        sensor_type: "domainControllerIntegrated".into(),
        version: PACKAGE_VERSION.into(),
    };
    let r = post(&app, wire::ENROLL_PATH, "unused", &enroll)
        .await
        .expect(201);
    let enrolled: wire::EnrollAnswer = speaks(&r);
    assert!(!enrolled.reinstalled);
    let path = wire::check_in_path(TENANT_A, &enrolled.sensor_id);
    let credential = enrolled.credential.0.as_str();

    // The first agents' check-in: none of the fields added since.
    let r = post(
        &app,
        &path,
        credential,
        &json!({"serviceStatus": "running", "version": PACKAGE_VERSION}),
    )
    .await
    .expect(200);
    let answer: wire::CheckInAnswer = speaks(&r);
    assert_eq!(answer.command, wire::Command::None);
    assert!(answer.settings.is_some() && answer.deployment_status.is_some());

    // Today's agent, every field filled in (as the shared type serialises it).
    let full = wire::CheckInRequest {
        applied_settings_version: answer.desired_settings_version,
        host_issues: vec![wire::HostIssue {
            issue_type_id: "directoryServicesAdvancedAuditing".into(),
            display_name: "Directory Services Advanced Auditing is not enabled as required".into(),
            severity: "medium".into(),
        }],
        update: Some(wire::UpdateReport::failed("2.240.18200.1")),
        directory_accounts: Some(vec![wire::DirectoryAccount {
            sam_account_name: "adele.vance".into(),
            display_name: "Adele Vance".into(),
            is_enabled: true,
            on_premises_security_identifier: Some("S-1-5-21-1-2-3-1100".into()),
            also: vec![("entraID".into(), "adele@contoso.onmicrosoft.com".into())],
        }]),
        network_adapters: Some(vec![wire::NetworkAdapter {
            id: "1".into(),
            name: "Ethernet0".into(),
            is_enabled: true,
        }]),
        migration: Some(wire::MigrationReport {
            state: wire::migration_state::FAILED.into(),
            detail: Some("not asked to migrate: ignored".into()),
        }),
        account_action_results: vec![wire::ActionResult {
            correlation_id: "unknown".into(),
            outcome: wire::outcome::DONE.into(),
            detail: None,
        }],
        ..wire::CheckInRequest::running(PACKAGE_VERSION)
    };
    let r = post(&app, &path, credential, &full).await.expect(200);
    let _: wire::CheckInAnswer = speaks(&r);

    // A field the server does not know is refused, naming it, in the shared error body.
    let mut unknown = serde_json::to_value(&full).expect("json");
    unknown["rebootPending"] = json!(true);
    let r = post(&app, &path, credential, &unknown).await.expect(400);
    let refusal: wire::ErrorBody = speaks(&r);
    assert!(
        refusal.error.message.contains("rebootPending"),
        "{}",
        refusal.error.message
    );
    assert_eq!(refusal.error.code, "BadRequest");
    // An identity provider the server does not know.
    let mut odd = full.clone();
    if let Some(accounts) = odd.directory_accounts.as_mut() {
        accounts[0].also[0].0 = "myspace".into();
    }
    let r = post(&app, &path, credential, &odd).await.expect(400);
    assert!(r.text.contains("myspace"), "{}", r.text);
    let quiet = wire::CheckInRequest::running(PACKAGE_VERSION);
    let r = post(&app, &path, "wrong", &quiet).await.expect(401);
    let _: wire::ErrorBody = speaks(&r);

    // A candidate waiting for activation.
    let report = wire::CandidateReport {
        tenant_id: TENANT_A.into(),
        access_key: key,
        computer_dns_name: "ws9.contoso.com".into(),
        sense_client_version: "10.8760.19041.1000".into(),
    };
    let r = post(&app, wire::CANDIDATE_REPORT_PATH, "unused", &report).await;
    if r.status == 202 {
        let waiting: wire::CandidateAnswer = speaks(&r);
        assert!(matches!(waiting, wire::CandidateAnswer::Waiting { .. }));
    } else {
        let activated: wire::CandidateAnswer = speaks(&r.expect(200));
        assert!(matches!(activated, wire::CandidateAnswer::Activated { .. }));
    }
}
