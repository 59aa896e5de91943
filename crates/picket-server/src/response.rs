//! What an operation answers, and the one renderer of errors.
//!
//! A Graph operation answers a [`GraphResponse`], whether it travels as an HTTP response or
//! inside a `$batch` reply. Every refusal of every endpoint family is an [`ApiError`], made
//! into HTTP here and only here ([`ApiError::render`]), in the envelope of the family that
//! answers ([`Envelope`]):
//!
//! - Graph (`/v1.0`, `/beta`, the console's API, the HTTP layer's refusals on Graph, agent and
//!   admin paths): `{"error": {"code", "message", "innerError": {"date", "request-id",
//!   "client-request-id"}}}` with Graph's headers (spec §3.1, §3.2);
//! - the agent protocol, `/admin/v1` and the package downloads: `picket_protocol::ErrorBody`,
//!   `{"error": {"code", "message", "innerError": {"date", "request-id"}}}`, as plain
//!   `application/json` with the request's id in `request-id`;
//! - the token service: Entra's OAuth error JSON (`error`, `error_description` starting
//!   `AADSTS{n}:`, `error_codes`, `timestamp`, `trace_id`, `correlation_id`).

use crate::context::RequestIds;
use crate::error::{ApiError, OAuthError};
use axum::http::{header, HeaderValue, StatusCode};
use bytes::Bytes;
use serde_json::{json, Value};

/// Graph's JSON content type (spec §3.1); the SDKs accept it as JSON.
pub const JSON_CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A response header (never sent) by which a fault rule asks for the connection to be closed
/// without an answer: `edge::RefusingIo` sees it in the head hyper writes and fails the write,
/// so hyper drops the connection and the client reads nothing.
pub const DROP_CONNECTION: &str = "x-picket-drop-connection";

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    /// JSON already serialized (entity and collection reads).
    Raw(Bytes),
    /// `$count` segments answer a bare integer as text/plain (spec §0).
    Text(String),
    Empty,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GraphResponse {
    pub status: u16,
    pub body: Body,
    /// Extra headers such as `WWW-Authenticate`.
    pub headers: Vec<(&'static str, String)>,
}

impl GraphResponse {
    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            body: Body::Json(value),
            headers: Vec::new(),
        }
    }
    /// Serializes a view straight to bytes.
    pub fn serialized(status: u16, value: &impl serde::Serialize) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| ApiError::Internal(format!("cannot serialize the answer: {e}")))?;
        Ok(Self {
            status,
            body: Body::Raw(bytes.into()),
            headers: Vec::new(),
        })
    }
    pub fn text(value: String) -> Self {
        Self {
            status: 200,
            body: Body::Text(value),
            headers: Vec::new(),
        }
    }
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            body: Body::Empty,
            headers: Vec::new(),
        }
    }

    /// The Graph error envelope; `date` is UTC without fraction or zone (spec §3.2).
    pub fn error(err: &ApiError, request_id: &str, client_request_id: &str) -> Self {
        let date = picket_domain::time::format_error_date(&chrono::Utc::now());
        let mut body = json!({
            "error": {
                "code": err.code(),
                "message": err.public_message(),
                "innerError": {
                    "date": date,
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        });
        if let ApiError::MissingPermission(why) = err {
            body["error"]["innerError"]["message"] = json!(why);
        }
        let mut response = Self::json(err.status(), body);
        if let ApiError::Unauthorized(_) = err {
            response.headers.push((
                "WWW-Authenticate",
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"invalid_token\"".into(),
            ));
        }
        if let Some(secs) = retry_after(err) {
            response.headers.push(("Retry-After", secs.to_string()));
        }
        if let ApiError::Injected {
            drop_connection: true,
            ..
        } = err
        {
            response.headers.push((DROP_CONNECTION, "1".into()));
        }
        if let ApiError::TooManyRequests { .. } = err {
            // Graph's throttling body carries these beside date and request-id (spec §3.7).
            if let Body::Json(v) = &mut response.body {
                let inner = &mut v["error"]["innerError"];
                inner["code"] = json!("429");
                inner["message"] = json!("Please retry after");
                inner["status"] = json!("429");
            }
        }
        response
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Re-labels an error response (used for `$batch`'s 424).
    pub fn with_status(mut self, status: u16, code: &str) -> Self {
        self.status = status;
        if let Body::Json(Value::Object(map)) = &mut self.body {
            if let Some(Value::Object(err)) = map.get_mut("error") {
                err.insert("code".into(), Value::String(code.into()));
            }
        }
        self
    }
}

/// `Retry-After` of a refusal in Graph's and the agent protocol's envelopes.
fn retry_after(err: &ApiError) -> Option<u64> {
    match err {
        ApiError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
        ApiError::Injected { retry_after, .. } | ApiError::Coded { retry_after, .. } => {
            *retry_after
        }
        _ => None,
    }
    // An unavailable store or service: come back in 5 s.
    .or(matches!(
        err,
        ApiError::ServiceUnavailable(_) | ApiError::Coded { status: 503, .. }
    )
    .then_some(5))
}

/// The envelope an error answers in: each endpoint family keeps its own (see the module doc).
#[derive(Debug, Clone, Copy)]
pub enum Envelope<'a> {
    /// Graph's, with the request's ids.
    Graph(&'a RequestIds),
    /// The agent protocol's (also `/admin/v1`'s and the downloads'), with the request's id.
    Agent(&'a str),
    /// Entra's OAuth error JSON, with the token service's trace and correlation ids.
    OAuth(&'a RequestIds),
}

impl ApiError {
    /// This refusal as an HTTP answer in `envelope`: the one place any error becomes HTTP.
    pub fn render(&self, envelope: Envelope<'_>) -> axum::http::Response<Bytes> {
        match envelope {
            Envelope::Graph(ids) => graph_http(
                GraphResponse::error(self, &ids.request_id, &ids.client_request_id),
                ids,
            ),
            Envelope::Agent(request_id) => agent_error(self, request_id),
            Envelope::OAuth(ids) => oauth_error(&self.to_oauth(), ids),
        }
    }

    /// [`ApiError::render`] with axum's body.
    pub fn respond(&self, envelope: Envelope<'_>) -> axum::response::Response {
        self.render(envelope).map(axum::body::Body::from)
    }
}

/// A handler axum calls that fails with an `ApiError` is one of the agent protocol's,
/// `/admin/v1`'s or the downloads': it answers in their envelope, with the id of the request's
/// span (`request_scope`), so the answer and the log name the same request. Graph and the
/// token service render with their own ids ([`ApiError::render`]).
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let request_id = crate::request_scope::current_or_new();
        self.respond(Envelope::Agent(&request_id))
    }
}

/// A Graph answer with Graph's standard headers, its body as bytes.
pub fn graph_http(response: GraphResponse, ids: &RequestIds) -> axum::http::Response<Bytes> {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (body, content_type) = match response.body {
        Body::Json(v) => (
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
            Some(JSON_CONTENT_TYPE),
        ),
        Body::Raw(b) => (b, Some(JSON_CONTENT_TYPE)),
        Body::Text(t) => (Bytes::from(t), Some("text/plain; charset=utf-8")),
        Body::Empty => (Bytes::new(), None),
    };
    let mut http = axum::http::Response::new(body);
    *http.status_mut() = status;
    let headers = http.headers_mut();
    if let Some(ct) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put("request-id", &ids.request_id);
    put("client-request-id", &ids.client_request_id);
    put("OData-Version", "4.0");
    put("Cache-Control", "no-cache");
    put("Strict-Transport-Security", "max-age=31536000");
    for (name, value) in &response.headers {
        put(name, value);
    }
    http
}

/// The agent protocol's envelope. A throttled call is told when to come back in its message.
fn agent_error(err: &ApiError, request_id: &str) -> axum::http::Response<Bytes> {
    let message = match err {
        ApiError::TooManyRequests { retry_after_secs } => {
            format!("Too many requests; retry after {retry_after_secs} s")
        }
        other => other.public_message(),
    };
    let body = picket_protocol::ErrorBody {
        error: picket_protocol::ErrorDetail {
            code: err.code().into(),
            message,
            inner_error: Some(picket_protocol::InnerError {
                date: picket_domain::time::format_error_date(&chrono::Utc::now()),
                request_id: request_id.to_string(),
            }),
        },
    };
    let mut r =
        axum::http::Response::new(Bytes::from(serde_json::to_vec(&body).unwrap_or_default()));
    *r.status_mut() = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("request-id", v);
    }
    if let Some(secs) = retry_after(err) {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// Entra's OAuth error JSON; the description carries the AADSTS number and the ids.
fn oauth_error(e: &OAuthError, ids: &RequestIds) -> axum::http::Response<Bytes> {
    let stamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let (trace_id, correlation_id) = (&ids.request_id, &ids.client_request_id);
    let body = json!({
        "error": e.error,
        "error_description": format!(
            "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {stamp}",
            e.code, e.message
        ),
        "error_codes": [e.code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    });
    let mut r = token_service_json(e.status, &body, ids);
    if let Some(secs) = e.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if e.drop_connection {
        r.headers_mut()
            .insert(DROP_CONNECTION, HeaderValue::from_static("1"));
    }
    r
}

/// A token-service answer (success or refusal): JSON with Entra's ids in `x-ms-request-id`
/// (the trace id) and `client-request-id` (the correlation id).
pub fn token_service_json(
    status: StatusCode,
    body: &Value,
    ids: &RequestIds,
) -> axum::http::Response<Bytes> {
    let mut r = axum::http::Response::new(Bytes::from(body.to_string()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&ids.request_id) {
        h.insert("x-ms-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ids.client_request_id) {
        h.insert("client-request-id", v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of(r: &axum::http::Response<Bytes>) -> Value {
        serde_json::from_slice(r.body()).expect("JSON body")
    }

    #[test]
    fn one_refusal_in_each_family_envelope() {
        let ids = RequestIds::new(Some("client-1"));
        let throttled = ApiError::TooManyRequests {
            retry_after_secs: 7,
        };

        let graph = throttled.render(Envelope::Graph(&ids));
        assert_eq!(graph.status(), 429);
        assert_eq!(graph.headers()["retry-after"], "7");
        assert_eq!(graph.headers()["content-type"], JSON_CONTENT_TYPE);
        let body = json_of(&graph);
        assert_eq!(body["error"]["code"], "TooManyRequests");
        assert_eq!(body["error"]["innerError"]["client-request-id"], "client-1");

        let agent = throttled.render(Envelope::Agent("req-1"));
        assert_eq!(agent.status(), 429);
        assert_eq!(agent.headers()["retry-after"], "7");
        assert_eq!(agent.headers()["request-id"], "req-1");
        assert_eq!(agent.headers()["content-type"], "application/json");
        let body: picket_protocol::ErrorBody =
            serde_json::from_slice(agent.body()).expect("agent error body");
        assert_eq!(body.error.code, "TooManyRequests");
        assert_eq!(body.error.message, "Too many requests; retry after 7 s");

        let oauth = throttled.render(Envelope::OAuth(&ids));
        assert_eq!(oauth.status(), 429);
        assert_eq!(oauth.headers()["retry-after"], "7");
        let body = json_of(&oauth);
        assert_eq!(body["error"], "temporarily_unavailable");
        assert_eq!(body["error_codes"][0], 90055);
        assert_eq!(body["correlation_id"], "client-1");
    }

    #[test]
    fn an_unavailable_store_says_when_to_come_back() {
        let e = ApiError::ServiceUnavailable("connection refused".into());
        for r in [
            e.render(Envelope::Graph(&RequestIds::new(None))),
            e.render(Envelope::Agent("r")),
        ] {
            assert_eq!(r.status(), 503);
            assert_eq!(r.headers()["retry-after"], "5");
            assert!(!String::from_utf8_lossy(r.body()).contains("connection refused"));
        }
        let oauth = e.render(Envelope::OAuth(&RequestIds::new(None)));
        assert_eq!(oauth.headers()["retry-after"], "1");
    }
}
