//! Sensors joining: a classic sensor enrolls with its tenant's deployment access key, a
//! unified sensor's machine reports itself as a candidate until it is activated. Either way the
//! sensor gets its own credential, and a wrong access key counts against its source and tenant.

use crate::agent::request::{bad, credential_hash, out_of_bounds, parse, unavailable};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use picket_domain::limits;
use picket_domain::{SensorType, TenantId};
use picket_protocol as wire;
use picket_store::fleet::*;
use rand::RngCore;

fn new_credential() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn enroll(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body: wire::EnrollRequest = parse(&body)?;
    let Some(tenant) = TenantId::parse(&body.tenant_id) else {
        return Err(bad("tenantId must be a GUID"));
    };
    let source = crate::edge::source_ip(&extensions);
    check_failures(&state, source, &tenant)?;
    let Some(sensor_type) =
        SensorType::parse(&body.sensor_type).filter(|t| *t != SensorType::UnknownFutureValue)
    else {
        return Err(bad(format!("unknown sensorType '{}'", body.sensor_type)));
    };
    let name =
        limits::host_name("computerDnsName", &body.computer_dns_name).map_err(out_of_bounds)?;
    limits::version("version", &body.version).map_err(out_of_bounds)?;
    if body.access_key.len() > limits::MAX_ACCESS_KEY_LEN {
        return Err(bad(format!(
            "accessKey is longer than {} characters",
            limits::MAX_ACCESS_KEY_LEN
        )));
    }
    if !picket_domain::fleet::releases::is_classic_version(&body.version) {
        return Err(bad(
            "version must be a classic sensor version (2.x); unified sensors are activated, not enrolled",
        ));
    }
    let credential = new_credential();
    let request = EnrollRequest {
        computer_dns_name: name,
        sensor_type,
        version: body.version,
    };
    let now = state.clock.now();
    let outcome = state
        .store
        .enroll(
            &tenant,
            &body.access_key,
            &request,
            &credential_hash(&credential),
            now,
            &state.fleet.policy(),
        )
        .await
        .map_err(|e| unavailable(&state, e))?;
    match outcome {
        Ok(enrolled) => {
            state.metrics.enrolment(if enrolled.reinstalled {
                "reinstalled"
            } else {
                "enrolled"
            });
            // A tenant's first sensor onboards it (spec §7.5).
            state
                .onboarding
                .onboard(state.store.as_ref(), &tenant)
                .await
                .map_err(|e| unavailable(&state, e))?;
            Ok((
                if enrolled.reinstalled {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                axum::Json(wire::EnrollAnswer {
                    tenant_id: tenant.as_str().into(),
                    sensor_id: enrolled.sensor.id.as_str().into(),
                    credential: wire::Credential(credential),
                    reinstalled: enrolled.reinstalled,
                    check_in_interval_seconds: state.fleet.check_in_interval_secs,
                }),
            )
                .into_response())
        }
        Err(_) => {
            state.metrics.enrolment("refused");
            Err(wrong_access_key(&state, source, &tenant, "enrollSensor").await)
        }
    }
}

/// Refuses a source or tenant that has failed too many credentials lately (429).
fn check_failures(
    state: &AppState,
    source: Option<std::net::IpAddr>,
    tenant: &TenantId,
) -> Result<(), ApiError> {
    state
        .throttle
        .failures
        .check(source, tenant.as_str())
        .map_err(|t| {
            state.metrics.throttled(crate::throttle::FAILED_CREDENTIALS);
            ApiError::Coded {
                status: 429,
                code: "TooManyRequests",
                message: format!(
                    "Too many failed attempts with a wrong access key; retry after {} s",
                    t.retry_after_secs
                ),
                retry_after: Some(t.retry_after_secs),
            }
        })
}

/// A wrong deployment access key: counted against its source and tenant, and audited.
async fn wrong_access_key(
    state: &AppState,
    source: Option<std::net::IpAddr>,
    tenant: &TenantId,
    operation: &str,
) -> ApiError {
    state.throttle.failures.record(source, tenant.as_str());
    let request_id = uuid::Uuid::new_v4().to_string();
    let entry = picket_store::NewAuditEntry {
        time: state.clock.now(),
        tenant: tenant.clone(),
        actor: source.map_or_else(|| "agent".into(), |ip| format!("agent:{ip}")),
        operation: operation.into(),
        target: "deploymentAccessKey".into(),
        result: "401 InvalidAccessKey".into(),
        request_id,
        detail: None,
    };
    crate::audit::record(state, &entry).await;
    ApiError::Coded {
        status: 401,
        code: "InvalidAccessKey",
        message: "The deployment access key is not valid for this tenant".into(),
        retry_after: None,
    }
}

/// `POST /agent/v1/candidates/report`: a machine onboarded to endpoint protection reports
/// itself. 202 while it waits in `sensorCandidates`; 200 once activated, with its sensor
/// credential the first time.
pub async fn report_candidate(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body: wire::CandidateReport = parse(&body)?;
    let tenant = TenantId::parse(&body.tenant_id).ok_or_else(|| bad("tenantId must be a GUID"))?;
    let source = crate::edge::source_ip(&extensions);
    check_failures(&state, source, &tenant)?;
    let name =
        limits::host_name("computerDnsName", &body.computer_dns_name).map_err(out_of_bounds)?;
    let name = name.as_str();
    limits::version("senseClientVersion", &body.sense_client_version).map_err(out_of_bounds)?;
    if body.access_key.len() > limits::MAX_ACCESS_KEY_LEN {
        return Err(bad(format!(
            "accessKey is longer than {} characters",
            limits::MAX_ACCESS_KEY_LEN
        )));
    }
    if picket_domain::fleet::releases::version_parts(&body.sense_client_version).len() < 2 {
        return Err(bad("senseClientVersion must look like 10.8760.19041.1000"));
    }
    let credential = new_credential();
    let outcome = state
        .store
        .report_candidate(
            &tenant,
            &body.access_key,
            name,
            &body.sense_client_version,
            &credential_hash(&credential),
            state.clock.now(),
        )
        .await
        .map_err(|e| unavailable(&state, e))?;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(_) => {
            return Err(wrong_access_key(&state, source, &tenant, "reportSensorCandidate").await)
        }
    };
    let interval = state.fleet.check_in_interval_secs;
    Ok(match outcome {
        CandidateOutcome::Waiting { candidate } => (
            StatusCode::ACCEPTED,
            axum::Json(wire::CandidateAnswer::Waiting {
                candidate_id: candidate.as_str().into(),
                next_report_seconds: interval,
            }),
        )
            .into_response(),
        CandidateOutcome::Activated {
            sensor,
            credential_issued,
        } => axum::Json(wire::CandidateAnswer::Activated {
            tenant_id: tenant.as_str().into(),
            sensor_id: sensor.as_str().into(),
            credential: credential_issued.then_some(wire::Credential(credential)),
            check_in_interval_seconds: interval,
        })
        .into_response(),
    })
}
