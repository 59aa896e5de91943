//! Picket's HTTP server: the Microsoft Graph sensor-management API of Defender for Identity
//! (`/v1.0` and `/beta` `/security/identities/…`) with `$batch`, over any [`picket_store::Store`].

pub mod account_actions;
mod admin;
pub mod agent_api;
pub mod app;
pub mod audit;
mod batch;
mod body;
mod collection;
pub mod console;
pub mod context;
pub mod demo;
pub mod device_code;
mod device_login;
mod dispatch;
pub mod edge;
pub mod error;
pub mod faults;
pub mod fixture;
#[doc(hidden)]
pub mod fuzzing;
mod handlers;
pub mod http;
pub mod journal;
pub mod metadata;
pub mod metrics;
pub mod migrations;
pub mod onboarding;
pub mod package;
mod probes;
mod render;
mod request_scope;
pub mod response;
pub mod routes;
pub mod signing;
pub mod state;
mod sts;
pub mod throttle;
pub mod tls;

pub use http::{router, MAX_BODY_BYTES};
pub use state::{ApiSettings, AppState, FleetSettings, IdentitySettings};

use std::future::Future;
use tokio::net::TcpListener;

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
    axum::serve(listener, probes::metrics_router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
