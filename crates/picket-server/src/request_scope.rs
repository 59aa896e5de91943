//! The request being handled: its id, in a tracing span around the whole of its handling (so
//! every log line inside carries `request_id`) and in a task-local, so the agent protocol's
//! error envelope (`/agent`, `/admin`, rendered in `response.rs`) names the id the log shows.
//! Task-local, not global: each request's task sees its own id, and tasks outside a request
//! none.

use std::future::Future;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `handling` as the request `request_id`.
pub async fn run<F: Future>(request_id: String, handling: F) -> F::Output {
    let span = tracing::info_span!("request", request_id = %request_id);
    REQUEST_ID
        .scope(request_id, handling.instrument(span))
        .await
}

/// The id of the request this task is handling, else a fresh one.
pub fn current_or_new() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| uuid::Uuid::new_v4().to_string())
}
