//! One Graph request from start to finish, whether it came over HTTP or inside `$batch`:
//! authenticate, resolve the route, authorize, check the body, run the handler, and render
//! any error as Graph's envelope.

use crate::access;
use crate::audit;
use crate::context::{GraphRequest, RequestContext};
use crate::error::ApiError;
use crate::graph::handlers::{self, Call};
use crate::graph::permissions::authorize;
use crate::graph::routes::{self, Method, Operation};
use crate::response::GraphResponse;
use crate::state::AppState;
use crate::throttle::Class;
use picket_auth::Caller;

pub async fn execute(state: &AppState, req: GraphRequest) -> GraphResponse {
    let started = std::time::Instant::now();
    let outcome = run(state, &req).await;
    let op = outcome.op;
    let response = outcome.result.unwrap_or_else(|e| {
        // The store's failures reach Graph only as these two (see `From<StoreError>`).
        match e {
            ApiError::ServiceUnavailable(_) => state.metrics.store_failure("unavailable"),
            ApiError::Internal(_) => state.metrics.store_failure("internal"),
            _ => {}
        }
        if e.status() >= 500 && !matches!(e, ApiError::Injected { .. }) {
            // Internal detail goes to the log only; the client gets a generic message.
            tracing::error!(request_id = %req.ids.request_id, error = %e, "request failed");
        }
        GraphResponse::error(&e, &req.ids.request_id, &req.ids.client_request_id)
    });
    let elapsed = started.elapsed();
    let operation = op.as_ref().map_or(crate::metrics::UNMATCHED, |o| o.name());
    state
        .metrics
        .graph_request(operation, response.status, elapsed);
    tracing::debug!(
        request_id = %req.ids.request_id,
        method = %req.method,
        operation,
        status = response.status,
        micros = elapsed.as_micros() as u64,
        "graph request"
    );
    if let Some(caller) = &outcome.caller {
        journal(state, &req, caller, op, &response, elapsed, outcome.fault);
    }
    response
}

/// What became of a request, for the answer and the journal.
struct Outcome {
    result: Result<GraphResponse, ApiError>,
    op: Option<Operation>,
    /// Known once the token was verified.
    caller: Option<std::sync::Arc<Caller>>,
    /// The fault rule that fired on it, as the journal names it.
    fault: Option<String>,
}

fn journal(
    state: &AppState,
    req: &GraphRequest,
    caller: &std::sync::Arc<Caller>,
    op: Option<Operation>,
    response: &GraphResponse,
    elapsed: std::time::Duration,
    fault: Option<String>,
) {
    if !state.journal.enabled() {
        return;
    }
    let entry = crate::journal::Entry {
        id: state.journal.next_id(),
        time: chrono::Utc::now(),
        actor: caller.clone(),
        app_id: Some(caller.app_id().to_string()),
        method: req.method.clone(),
        path: (req.version.as_str(), req.path.clone()),
        query: req.query.clone(),
        operation: op.map(|o| o.name()),
        status: response.status,
        latency_ms: elapsed.as_secs_f64() * 1000.0,
        request_id: req.ids.request_id.clone(),
        client_request_id: req.ids.client_request_id.clone(),
        body: crate::journal::kept_body(&req.body),
        injected_fault: fault,
    };
    state.journal.record(caller.tenant.as_str(), entry);
}

async fn run(state: &AppState, req: &GraphRequest) -> Outcome {
    let fail =
        |e: ApiError, op: Option<Operation>, caller: Option<std::sync::Arc<Caller>>| Outcome {
            result: Err(e),
            op,
            caller,
            fault: None,
        };
    let now = state.clock.now();
    let caller = match access::authenticate(state, req.authorization.as_deref()).await {
        Ok(c) => c,
        Err(e) => return fail(e, None, None),
    };
    let class = if req.method.eq_ignore_ascii_case("GET") {
        Class::Read
    } else {
        Class::Write
    };
    if let Err(e) = access::throttle(state, &caller, class) {
        return fail(e, None, Some(caller));
    }
    let segments = match split_path(&req.path) {
        Ok(s) => s,
        Err(e) => return fail(e, None, Some(caller)),
    };
    let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let op = match routes::resolve(Method::parse(&req.method), &refs) {
        Ok(op) => op,
        Err(e) => return fail(e, None, Some(caller)),
    };
    if op.needs_onboarding() {
        match state
            .onboarding
            .is_onboarded(state.store.as_ref(), &caller.tenant)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                let e = ApiError::Forbidden(crate::onboarding::NOT_ONBOARDED.into());
                return fail(e, Some(op), Some(caller));
            }
            Err(e) => return fail(e.into(), Some(op), Some(caller)),
        }
    }
    let fault = match inject(state, req, &caller, &op).await {
        Ok(fault) => fault,
        Err((e, label)) => {
            return Outcome {
                result: Err(e),
                op: Some(op),
                caller: Some(caller),
                fault: Some(label),
            }
        }
    };
    let result = authorized(state, req, &caller, &op, now).await;
    // Refused writes are audited too: they are what an investigation looks for.
    if op.audited() {
        let status = match &result {
            Ok(r) => r.status,
            Err(e) => e.status(),
        };
        audit::record_request(state, &caller, op.name(), req, status, now).await;
    }
    Outcome {
        result,
        op: Some(op),
        caller: Some(caller),
        fault,
    }
}

/// Applies the first fault rule that fires on this call: an answer in its place (`Err`), or
/// a delay before it is served (`Ok` with the rule's label).
async fn inject(
    state: &AppState,
    req: &GraphRequest,
    caller: &Caller,
    op: &Operation,
) -> Result<Option<String>, (ApiError, String)> {
    if !state.faults.active() {
        return Ok(None);
    }
    let path = format!("/{}", req.path);
    let call = crate::faults::Call {
        tenant: caller.tenant.as_str(),
        app: Some(caller.app_id()),
        operation: op.name(),
        path: &path,
        method: &req.method,
        token_service: false,
    };
    let Some(fired) = state.faults.pick(&call) else {
        return Ok(None);
    };
    let label = fired.label();
    tracing::info!(request_id = %req.ids.request_id, fault = %label, "injected fault");
    match fired.effect {
        crate::faults::Effect::Delay(d) => {
            tokio::time::sleep(d).await;
            Ok(Some(label))
        }
        crate::faults::Effect::Answer {
            status,
            code,
            message,
            retry_after,
        } => Err((
            ApiError::Injected {
                status,
                code,
                message,
                retry_after,
                drop_connection: false,
            },
            label,
        )),
        crate::faults::Effect::Drop => Err((
            ApiError::Injected {
                status: 502,
                code: "BadGateway",
                message: "The connection was dropped",
                retry_after: None,
                drop_connection: true,
            },
            label,
        )),
    }
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

/// Percent-decodes each segment. Empty segments (`//`, a leading or trailing `/`) are skipped,
/// as Graph treats `/v1.0//organization` as `/v1.0/organization`; an encoded empty segment
/// cannot be told apart from none, which is what Graph does too.
fn split_path(path: &str) -> Result<Vec<String>, ApiError> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let decoded = percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map_err(|_| ApiError::BadRequest("The request path is not valid UTF-8".into()))?;
            Ok(decoded.into_owned())
        })
        .collect()
}
