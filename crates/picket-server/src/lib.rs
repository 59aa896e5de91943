//! Picket's HTTP server: the Microsoft Graph API of Defender for Identity's sensor management
//! (`/v1.0` and `/beta` `/security/identities/…`) with `$batch`, a token service shaped like
//! Entra ID's, the sensor agents' protocol and the operators' endpoints, over any
//! [`picket_store::Store`].
//!
//! The modules form no cycle, at any level (`tests/module_graph.rs`); from the top down:

// Building and serving: the one builder, the router and its front, the listeners.
pub mod app;
pub mod http;
pub mod tls;

// The endpoint families, each in its folder or file.
mod admin;
pub mod agent;
pub mod console;
pub mod graph;
mod probes;
mod sts;

// What the families share: who may call, what a request and its answer are, the one error
// type and its renderer, the audit log, the HTTP layer's own facts and refusals.
mod access;
pub mod audit;
pub mod context;
pub mod edge;
pub mod error;
mod request_scope;
pub mod response;

// What one process keeps: the shared state and its parts, background work, metrics.
pub mod device_code;
pub mod faults;
pub mod journal;
pub mod metrics;
pub mod onboarding;
pub mod signing;
pub mod state;
mod sweeper;
pub mod throttle;

// Seeding and tools.
pub mod demo;
pub mod fixture;
#[doc(hidden)]
pub mod fuzzing;

pub use graph::MAX_BODY_BYTES;
pub use http::{router, serve, serve_metrics};
pub use state::{ApiSettings, AppState, FleetSettings, IdentitySettings};
