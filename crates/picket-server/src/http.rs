//! The router: every endpoint family's routes on one listener, and the front every request
//! passes first (request id and its span, counting for `/metrics`, Graph's version trees
//! before any other route, the framework's refusals put in their family's envelope).

use crate::context::RequestIds;
use crate::edge::{self, header_str};
use crate::graph::entry::graph_entry;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::net::TcpListener;

/// Largest `/agent/v1` and `/admin/v1` body: a check-in with every field at its bound is
/// under 64 KiB.
pub const MAX_AGENT_BODY_BYTES: usize = 256 * 1024;

pub fn router(state: AppState) -> Router {
    let front_state = state.clone();
    let front = tower::layer::layer_fn(move |inner| Front {
        inner,
        state: front_state.clone(),
    });
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
        .merge(crate::sts::routes())
        .merge(crate::agent::routes())
        .route(
            "/downloads/{tenant}/{file}",
            get(crate::agent::package::download),
        )
        .merge(crate::admin::routes())
        .merge(crate::console::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_AGENT_BODY_BYTES))
        .fallback(graph_entry)
        .layer(front)
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        edge::EdgeListener(listener),
        router(state).into_make_service_with_connect_info::<edge::PeerAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves `/metrics` alone (`--metrics-listen`) until `shutdown` resolves.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, crate::probes::metrics_router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Before any route: Graph's version trees go straight to Graph (no other route may take
/// `/v1.0/…` or `/beta/…`, whatever its pattern). After: a refusal made by the framework
/// itself (no route for the method, a path parameter or body it could not read) is put in the
/// envelope of the path's family (probes stay plain text). Every request is handled inside its
/// request id's span (`request_scope`) and counted once here, by family and status.
///
/// A service of its own rather than `axum::middleware::from_fn`: that boxes a clone of the
/// routes and a future holding Graph's whole handling for every request, Graph's included,
/// which never reach the routes.
#[derive(Clone)]
struct Front<S> {
    inner: S,
    state: AppState,
}

impl<S> tower::Service<Request> for Front<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
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
        let state = self.state.clone();
        // Graph never reaches the routes; for the rest, the routes made ready by `poll_ready`
        // are taken and a fresh clone stays behind for the next request.
        let mut routes = (!graph).then(|| {
            let fresh = self.inner.clone();
            std::mem::replace(&mut self.inner, fresh)
        });
        Box::pin(async move {
            let response = crate::request_scope::run(request_id, async {
                let Some(routes) = routes.as_mut() else {
                    return graph_entry(State(state.clone()), request).await;
                };
                let path = (family != "probe").then(|| request.uri().path().to_owned());
                let response = match routes.call(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                match path {
                    None => response,
                    Some(path) => edge::in_envelope(&path, response).await,
                }
            })
            .await;
            state
                .metrics
                .http_request(family, response.status().as_u16(), started.elapsed());
            Ok(response)
        })
    }
}
