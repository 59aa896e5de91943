//! Graph over HTTP: an axum request becomes a [`GraphRequest`] (request ids, the version root,
//! at most [`MAX_BODY_BYTES`] of body), and its [`GraphResponse`] goes back with Graph's
//! standard headers on every answer (spec §3.1).

use crate::context::{ApiVersion, GraphRequest, RequestIds};
use crate::edge::{self, header_str};
use crate::error::ApiError;
use crate::graph::{batch, dispatch, metadata};
use crate::response::{graph_http, Envelope};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;

/// The largest Graph request body (413 beyond).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every path not routed elsewhere, and every path under a version root.
pub(crate) async fn graph_entry(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Made by `http::front`, whose span already carries the request id.
    let ids = parts
        .extensions
        .get::<RequestIds>()
        .cloned()
        .unwrap_or_else(|| RequestIds::new(header_str(&parts.headers, "client-request-id")));
    let error = |e: ApiError| e.respond(Envelope::Graph(&ids));

    let path = parts.uri.path().trim_start_matches('/');
    let (version_segment, rest) = path.split_once('/').unwrap_or((path, ""));
    let Some(version) = ApiVersion::parse(version_segment) else {
        return error(ApiError::not_found_segment(version_segment));
    };
    if metadata::is_metadata_path(rest) {
        return metadata::respond(&parts.method, version, &ids);
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
        base_url: edge::request_base(&state, &parts.headers, &parts.extensions),
    };
    let response = if rest.eq_ignore_ascii_case("$batch") {
        batch::execute_batch(&state, request).await
    } else {
        dispatch::execute(&state, request).await
    };
    graph_http(response, &ids).map(Body::from)
}
