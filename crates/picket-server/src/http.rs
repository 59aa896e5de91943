//! The HTTP edge: turns axum requests into [`GraphRequest`]s and [`GraphResponse`]s back into
//! HTTP, with Graph's standard headers on every answer (spec §3.1) and the 1 MiB body limit.

use crate::agent_api;
use crate::batch;
use crate::context::{ApiVersion, RequestIds};
use crate::device_login;
use crate::dispatch::{execute, GraphRequest};
use crate::edge;
use crate::error::ApiError;
use crate::response::{Body as GraphBody, GraphResponse, JSON_CONTENT_TYPE};
use crate::state::AppState;
use crate::sts;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest `/agent/v1` and `/admin/v1` body: a check-in with every field at its bound is
/// under 64 KiB.
pub const MAX_AGENT_BODY_BYTES: usize = 256 * 1024;

pub fn router(state: AppState) -> Router {
    let front = axum::middleware::from_fn_with_state(state.clone(), front);
    let probes = Router::new()
        .route("/healthz", get(crate::probes::healthz))
        .route("/readyz", get(crate::probes::readyz));
    // With `--metrics-listen`, `/metrics` is served only on that listener.
    let probes = if state.metrics.settings().own_listener {
        probes
    } else {
        probes.route("/metrics", get(crate::probes::metrics))
    };
    probes
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(sts::openid_configuration),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(sts::openid_configuration_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(sts::jwks))
        .route("/{tenant}/discovery/keys", get(sts::jwks))
        .route("/{tenant}/oauth2/v2.0/token", post(sts::token))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(device_login::start),
        )
        .route("/{tenant}/devicelogin", get(device_login::page))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(sts::authorize::authorize),
        )
        .route("/{tenant}/oauth2/v2.0/signin", post(sts::console::sign_in))
        .route("/{tenant}/oauth2/v2.0/logout", post(sts::console::log_out))
        .route("/admin/v1/deviceCodes/approve", post(device_login::approve))
        .route("/admin/v1/deviceCodes/deny", post(device_login::deny))
        .merge(agent_api::routes())
        .route("/admin/v1/clock/advance", post(agent_api::advance_clock))
        .route("/downloads/{tenant}/{file}", get(crate::package::download))
        .merge(crate::admin::routes())
        .merge(crate::console::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_AGENT_BODY_BYTES))
        .fallback(graph_entry)
        .layer(front)
        .with_state(state)
}

/// Before any route: Graph's version trees go straight to Graph (no other route may take
/// `/v1.0/…` or `/beta/…`, whatever its pattern). After: a refusal made by the framework
/// itself (no route for the method, a path parameter or body it could not read) is put in the
/// envelope of the path's family (probes stay plain text). Every request is handled inside its
/// request id's span (`request_scope`) and counted once here, by family and status.
async fn front(
    State(state): State<AppState>,
    mut request: Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let graph = edge::is_graph_path(request.uri().path());
    let family = if graph {
        "graph"
    } else {
        crate::metrics::family_of(request.uri().path())
    };
    let ids = RequestIds::new(header_str(request.headers(), "client-request-id"));
    let request_id = ids.request_id.clone();
    request.extensions_mut().insert(ids);
    let metrics = state.metrics.clone();
    let response = crate::request_scope::run(request_id, async move {
        if graph {
            return graph_entry(State(state), request).await;
        }
        if family == "probe" {
            return next.run(request).await;
        }
        let path = request.uri().path().to_owned();
        let response = next.run(request).await;
        edge::in_envelope(&path, response).await
    })
    .await;
    metrics.http_request(family, response.status().as_u16(), started.elapsed());
    response
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Scheme and host for links back to us: the configured public URL, else the request's own
/// scheme (https when it came through the TLS listener or a proxy says so) and Host header.
pub(crate) fn request_base(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host =
        header_str(headers, "host").filter(|h| !h.is_empty() && !h.contains(['/', ' ', '?', '#']));
    let https = extensions.get::<crate::tls::Https>().is_some()
        || header_str(headers, "x-forwarded-proto") == Some("https");
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{}", host.unwrap_or("localhost"))
}

async fn graph_entry(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Made by `front`, whose span already carries the request id.
    let ids = parts
        .extensions
        .get::<RequestIds>()
        .cloned()
        .unwrap_or_else(|| RequestIds::new(header_str(&parts.headers, "client-request-id")));
    let error = |e: ApiError| {
        to_http(
            GraphResponse::error(&e, &ids.request_id, &ids.client_request_id),
            &ids,
        )
    };

    let path = parts.uri.path().trim_start_matches('/');
    let (version_segment, rest) = path.split_once('/').unwrap_or((path, ""));
    let Some(version) = ApiVersion::parse(version_segment) else {
        return error(ApiError::not_found_segment(version_segment));
    };
    if crate::metadata::is_metadata_path(rest) {
        return crate::metadata::respond(&parts.method, version, &ids);
    }
    let too_large = header_str(&parts.headers, "content-length")
        .and_then(|l| l.parse::<usize>().ok())
        .is_some_and(|l| l > MAX_BODY_BYTES);
    if too_large {
        return error(ApiError::PayloadTooLarge);
    }
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) if edge::is_length_limit(&e) => return error(ApiError::PayloadTooLarge),
        Err(_) => return error(edge::unreadable_body()),
    };
    let request = GraphRequest {
        method: parts.method.as_str().to_string(),
        version,
        path: rest.to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        authorization: header_str(&parts.headers, "authorization").map(str::to_string),
        content_type: header_str(&parts.headers, "content-type").map(str::to_string),
        body,
        ids: ids.clone(),
        base_url: request_base(&state, &parts.headers, &parts.extensions),
    };
    let response = if rest.eq_ignore_ascii_case("$batch") {
        batch::execute_batch(&state, request).await
    } else {
        execute(&state, request).await
    };
    to_http(response, &ids)
}

fn to_http(response: GraphResponse, ids: &RequestIds) -> Response {
    to_http_parts(response, ids).map(Body::from)
}

/// A Graph answer with Graph's standard headers, its body as bytes.
pub(crate) fn to_http_parts(
    response: GraphResponse,
    ids: &RequestIds,
) -> axum::http::Response<bytes::Bytes> {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (body, content_type) = match response.body {
        GraphBody::Json(v) => (
            bytes::Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
            Some(JSON_CONTENT_TYPE),
        ),
        GraphBody::Raw(b) => (b, Some(JSON_CONTENT_TYPE)),
        GraphBody::Text(t) => (bytes::Bytes::from(t), Some("text/plain; charset=utf-8")),
        GraphBody::Empty => (bytes::Bytes::new(), None),
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
