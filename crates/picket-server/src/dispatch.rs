//! One Graph request from start to finish, whether it came over HTTP or inside `$batch`:
//! authenticate, resolve the route, authorize, check the body, run the handler, and render
//! any error as Graph's envelope.

use crate::audit;
use crate::context::{ApiVersion, RequestContext, RequestIds};
use crate::error::ApiError;
use crate::handlers::{self, Call};
use crate::response::GraphResponse;
use crate::routes::{self, Method, Operation};
use crate::state::AppState;
use crate::throttle::Class;
use picket_auth::Caller;

/// A Graph request below a version root.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    pub method: String,
    pub version: ApiVersion,
    /// Path below the version root, without the leading `/`, still percent-encoded.
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: bytes::Bytes,
    pub ids: RequestIds,
    pub base_url: String,
}

pub async fn execute(state: &AppState, req: GraphRequest) -> GraphResponse {
    let started = std::time::Instant::now();
    let (result, op) = run(state, &req).await;
    let response = result.unwrap_or_else(|e| {
        if e.status() >= 500 {
            // Internal detail goes to the log only; the client gets a generic message.
            tracing::error!(request_id = %req.ids.request_id, error = %e, "request failed");
        }
        GraphResponse::error(&e, &req.ids.request_id, &req.ids.client_request_id)
    });
    tracing::debug!(
        request_id = %req.ids.request_id,
        method = %req.method,
        operation = op.map_or("unrouted", |o| o.name()),
        status = response.status,
        micros = started.elapsed().as_micros() as u64,
        "graph request"
    );
    response
}

async fn run(
    state: &AppState,
    req: &GraphRequest,
) -> (Result<GraphResponse, ApiError>, Option<Operation>) {
    let now = state.clock.now();
    let caller = match state
        .verifier
        .verify_header(
            req.authorization.as_deref(),
            crate::state::wall_clock_secs(),
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return (Err(e.into()), None),
    };
    let class = if req.method.eq_ignore_ascii_case("GET") {
        Class::Read
    } else {
        Class::Write
    };
    if let Err(t) = state
        .throttle
        .check(caller.tenant.as_str(), caller.app_id(), class)
    {
        return (Err(t.into()), None);
    }
    let segments = match split_path(&req.path) {
        Ok(s) => s,
        Err(e) => return (Err(e), None),
    };
    let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let op = match routes::resolve(Method::parse(&req.method), &refs) {
        Ok(op) => op,
        Err(e) => return (Err(e), None),
    };
    let result = authorized(state, req, &caller, &op, now).await;
    // Refused writes are audited too: they are what an investigation looks for.
    if op.audited() {
        audit::record_request(state, &caller, &op, req, &result, now).await;
    }
    (result, Some(op))
}

async fn authorized(
    state: &AppState,
    req: &GraphRequest,
    caller: &Caller,
    op: &Operation,
    now: picket_domain::time::Timestamp,
) -> Result<GraphResponse, ApiError> {
    authorize(caller, op)?;
    if !req.body.is_empty() && !is_json(req.content_type.as_deref()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let ctx = RequestContext {
        ids: req.ids.clone(),
        version: req.version,
        base_url: req.base_url.clone(),
        path: req.path.clone(),
    };
    let call = Call {
        state,
        ctx: &ctx,
        caller,
        query: &req.query,
        body: &req.body,
        now,
    };
    handlers::handle(op, &call).await
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Percent-decodes each segment; a trailing `/` is tolerated, empty inner segments are not.
fn split_path(path: &str) -> Result<Vec<String>, ApiError> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    trimmed
        .split('/')
        .map(|s| {
            let decoded = percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map_err(|_| ApiError::BadRequest("The request path is not valid UTF-8".into()))?;
            if decoded.is_empty() {
                return Err(ApiError::not_found_segment(""));
            }
            Ok(decoded.into_owned())
        })
        .collect()
}

/// 403 names the permissions the operation needs (spec §3.2), and for a signed-in user
/// without a suitable directory role, the roles that would allow it.
pub fn authorize(caller: &Caller, op: &Operation) -> Result<(), ApiError> {
    for any_of in op.required() {
        if !caller.has_any(any_of) {
            return Err(missing_permission(caller, any_of));
        }
    }
    let access = op.access();
    if !caller.role_allows(access) {
        let roles: Vec<&str> = picket_auth::roles::roles_allowing(access)
            .into_iter()
            .map(|r| r.display_name())
            .collect();
        return Err(ApiError::Forbidden(format!(
            "Missing role: the signed-in user needs one of the directory roles '{}' to {}",
            roles.join(", "),
            access.describe()
        )));
    }
    Ok(())
}

pub fn missing_permission(caller: &Caller, any_of: &[picket_auth::Permission]) -> ApiError {
    let names: Vec<&str> = any_of.iter().map(|p| p.name()).collect();
    let kind = if caller.is_delegated() {
        "scope"
    } else {
        "role"
    };
    ApiError::Forbidden(format!(
        "Missing {kind} permissions on the request. API requires one of '{}'",
        names.join(", ")
    ))
}
