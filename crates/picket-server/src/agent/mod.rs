//! The sensor agent protocol, `/agent/v1` (JSON over HTTP/HTTPS), and the deployment package.
//!
//! - `POST /agent/v1/enroll` — a classic sensor enrolls with its tenant's deployment access key
//!   and gets its own credential (shown once; stored as a SHA-256 hash: it is 256 random bits);
//! - `POST /agent/v1/candidates/report` — a machine onboarded to endpoint protection waits
//!   for activation (both in `enrolment`);
//! - `POST /agent/v1/tenants/{tenant}/sensors/{id}/checkIn` — with `Authorization: Bearer
//!   <credential>`: the sensor reports; the answer carries the desired settings, any command
//!   (update, stop, migrate) and when to check in next (`check_in`, with the account actions
//!   and migrations riding check-ins in `account_actions` and `migrations`);
//! - `GET /downloads/{tenant}/{file}.zip` — the deployment package (`package`).
//!
//! The bodies are `picket-protocol`'s types (shared with the agent; its crate doc has the
//! compatibility rule): requests are decoded strictly (an unknown field is a 400), then checked
//! against the domain's bounds (`request`). Refusals are `ApiError`s in the agent protocol's
//! envelope, `{"error": {"code", "message", "innerError"}}` (`response.rs`).

pub mod account_actions;
pub mod check_in;
pub mod enrolment;
pub mod migrations;
pub mod package;
pub(crate) mod request;

use crate::state::AppState;
use axum::response::Response;
use picket_protocol as wire;

/// The `/agent/v1` routes; every answer names the protocol version it speaks.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route(wire::ENROLL_PATH, post(enrolment::enroll))
        .route(
            wire::CANDIDATE_REPORT_PATH,
            post(enrolment::report_candidate),
        )
        .route(wire::CHECK_IN_ROUTE, post(check_in::check_in))
        .layer(axum::middleware::map_response(
            |mut r: Response| async move {
                r.headers_mut().insert(
                    wire::VERSION_HEADER,
                    axum::http::HeaderValue::from(wire::PROTOCOL_VERSION),
                );
                r
            },
        ))
}

/// Every agent body decoder over the same bytes (the fuzz targets' entry): true if any accepts.
pub(crate) fn decode_bodies(data: &[u8]) -> bool {
    let enroll = request::parse::<wire::EnrollRequest>(data).is_ok();
    let candidate = request::parse::<wire::CandidateReport>(data).is_ok();
    let check_in = check_in::decode_check_in(data).is_ok();
    enroll || candidate || check_in
}
