//! What orchestrators and monitoring ask of a running server, in plain text: `/healthz`
//! (liveness: 200 while the process serves), `/readyz` (200 while the store answers a
//! trivial query, 503 with a short reason while it does not) and `/metrics` (see `metrics`).

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use picket_store::StoreError;
use std::time::Duration;

/// A store slower than this to answer `SELECT 'ok'` is not ready: requests would queue.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let ping = picket_store::probe::ping(state.store.as_ref());
    let reason = match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(())) => return (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => {
            // The detail goes to the log; the probe's answer stays short and fixed.
            tracing::warn!(error = %e, "not ready");
            state.metrics.store_error(&e);
            not_ready_reason(&e)
        }
        Err(_) => {
            tracing::warn!("not ready: the store did not answer in time");
            state.metrics.store_failure("unavailable");
            "not ready: the store did not answer within 2 s"
        }
    };
    (StatusCode::SERVICE_UNAVAILABLE, reason).into_response()
}

fn not_ready_reason(e: &StoreError) -> &'static str {
    match e {
        StoreError::SchemaBehind(_) => "not ready: the database schema is behind (picket migrate)",
        StoreError::Unavailable(_) => "not ready: the store is unavailable",
        _ => "not ready: the store failed a trivial query",
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render().await;
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}

/// The listener of `--metrics-listen`: `/metrics` alone.
pub(crate) fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}
