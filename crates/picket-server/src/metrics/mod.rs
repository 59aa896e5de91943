//! `/metrics`: what operators' dashboards read, in the Prometheus text format (0.0.4).
//!
//! Why `prometheus-client`: it is the Prometheus project's own Rust client, its registry is a
//! plain value (no global recorder, unlike the `metrics` facade), so each [`Metrics`] lives in
//! its app's state and two apps in one process count apart; its families are label-typed, so
//! every label here is a `&'static str` or a status code and cardinality stays bounded by
//! construction; collectors let the fleet and pool gauges be read at scrape time.
//!
//! Counting happens where requests already pass once: `http::front` (every request, by
//! family), `dispatch::execute` (Graph, by operation), `agent_api` (check-ins, enrolments, the
//! sweep), `sts::token` (token issuance) and the throttles' refusals. Each is a read lock and an
//! atomic add on a family that already holds the label set.

mod fleet;
mod pool;

use picket_store::{Store, StoreError};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// How `/metrics` is served and how many tenants get a label of their own.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    /// The tenants with the most sensors, at most this many, get their own `tenant` label in
    /// the fleet gauges; the rest are summed under `tenant="other"`.
    pub tenant_labels: usize,
    /// `/metrics` is served on a listener of its own (`--metrics-listen`), not on the main ones.
    pub own_listener: bool,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            tenant_labels: DEFAULT_TENANT_LABELS,
            own_listener: false,
        }
    }
}

pub const DEFAULT_TENANT_LABELS: usize = 20;

/// The operation label of Graph requests that matched no operation (bad token, unknown path).
pub const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationStatus {
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FamilyStatus {
    family: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FamilyLabel {
    family: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabel {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantResult {
    grant_type: &'static str,
    result: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Request latencies: half a millisecond (a cached read) to ten seconds (a stuck store).
fn request_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// Sweeps: a few milliseconds (nothing silent) to a minute (every sensor of a large fleet).
fn sweep_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ])
}

/// One app's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    settings: MetricsSettings,
    fleet: Arc<fleet::FleetGauges>,
    graph_requests: Family<OperationStatus, Counter>,
    graph_latency: Histograms<OperationLabel>,
    http_requests: Family<FamilyStatus, Counter>,
    http_latency: Histograms<FamilyLabel>,
    check_ins: Family<KindLabel, Counter>,
    check_in_latency: Histograms<KindLabel>,
    enrolments: Family<ResultLabel, Counter>,
    sweep_duration: Histogram,
    sweep_sensors: Counter,
    store_errors: Family<KindLabel, Counter>,
    throttled: Family<ClassLabel, Counter>,
    tokens: Family<GrantResult, Counter>,
}

impl Metrics {
    pub fn new(store: Arc<dyn Store>, settings: MetricsSettings) -> Self {
        let mut registry = Registry::with_prefix("picket");
        let store_errors = Family::<KindLabel, Counter>::default();
        let m = Self {
            fleet: Arc::new(fleet::FleetGauges::new(
                store.clone(),
                settings.tenant_labels,
                store_errors.clone(),
            )),
            settings,
            graph_requests: Family::default(),
            graph_latency: Family::new_with_constructor(request_histogram as fn() -> Histogram),
            http_requests: Family::default(),
            http_latency: Family::new_with_constructor(request_histogram as fn() -> Histogram),
            check_ins: Family::default(),
            check_in_latency: Family::new_with_constructor(request_histogram as fn() -> Histogram),
            enrolments: Family::default(),
            sweep_duration: sweep_histogram(),
            sweep_sensors: Counter::default(),
            store_errors,
            throttled: Family::default(),
            tokens: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "graph_requests",
            "Graph requests by operation (routes.rs name; 'unmatched' when none) and HTTP status",
            m.graph_requests.clone(),
        );
        registry.register(
            "graph_request_duration_seconds",
            "Time to answer a Graph request, by operation",
            m.graph_latency.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by family (graph, agent, admin, token, probe, other) and status",
            m.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by family",
            m.http_latency.clone(),
        );
        registry.register(
            "check_ins",
            "Sensor check-ins answered, by kind (heartbeat: answered from a read; full: evaluated)",
            m.check_ins.clone(),
        );
        registry.register(
            "check_in_duration_seconds",
            "Time to answer a check-in, by kind",
            m.check_in_latency.clone(),
        );
        registry.register(
            "enrolments",
            "Classic sensor enrolments, by result (enrolled, reinstalled, refused)",
            m.enrolments.clone(),
        );
        registry.register(
            "sweep_duration_seconds",
            "Time a fleet sweep took (timer or clock advance)",
            m.sweep_duration.clone(),
        );
        registry.register(
            "sweep_sensors_evaluated",
            "Sensors evaluated by fleet sweeps",
            m.sweep_sensors.clone(),
        );
        registry.register(
            "store_errors",
            "Store failures seen by requests and background work, by kind (unavailable, internal)",
            m.store_errors.clone(),
        );
        registry.register(
            "throttled_requests",
            "Requests refused with 429, by class (read, write, token, failed_credentials)",
            m.throttled.clone(),
        );
        registry.register(
            "token_requests",
            "Token endpoint requests by grant type and result (issued, or the OAuth error)",
            m.tokens.clone(),
        );
        // Series that dashboards alert on exist from the start at 0, so a rate over them is
        // defined before the first failure.
        for kind in ["unavailable", "internal"] {
            drop(m.store_errors.get_or_create(&KindLabel { kind }));
        }
        for class in [
            "read",
            "write",
            "token",
            crate::throttle::FAILED_CREDENTIALS,
        ] {
            drop(m.throttled.get_or_create(&ClassLabel { class }));
        }
        for kind in ["heartbeat", "full"] {
            drop(m.check_ins.get_or_create(&KindLabel { kind }));
        }
        registry.register_collector(Box::new(m.fleet.clone()));
        registry.register_collector(Box::new(pool::PoolGauges::new(store)));
        Self { registry, ..m }
    }

    pub fn settings(&self) -> &MetricsSettings {
        &self.settings
    }

    /// The text a scrape gets. The fleet gauges come from a census at most a few seconds old
    /// (see `fleet`), so a scrape costs the encoding only.
    pub async fn render(&self) -> String {
        self.fleet.refresh_if_stale().await;
        let mut text = String::new();
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
        {
            // Only a formatter error (never from a String); the scrape shows what was written.
            tracing::warn!(error = %e, "cannot encode the metrics");
        }
        text
    }

    pub fn graph_request(&self, operation: &'static str, status: u16, elapsed: Duration) {
        self.graph_requests
            .get_or_create(&OperationStatus { operation, status })
            .inc();
        self.graph_latency
            .get_or_create(&OperationLabel { operation })
            .observe(elapsed.as_secs_f64());
    }

    pub fn http_request(&self, family: &'static str, status: u16, elapsed: Duration) {
        self.http_requests
            .get_or_create(&FamilyStatus { family, status })
            .inc();
        self.http_latency
            .get_or_create(&FamilyLabel { family })
            .observe(elapsed.as_secs_f64());
    }

    pub fn check_in(&self, heartbeat: bool, elapsed: Duration) {
        let kind = if heartbeat { "heartbeat" } else { "full" };
        self.check_ins.get_or_create(&KindLabel { kind }).inc();
        self.check_in_latency
            .get_or_create(&KindLabel { kind })
            .observe(elapsed.as_secs_f64());
    }

    /// `result`: enrolled, reinstalled or refused.
    pub fn enrolment(&self, result: &'static str) {
        self.enrolments.get_or_create(&ResultLabel { result }).inc();
    }

    pub fn sweep(&self, sensors: u64, elapsed: Duration) {
        self.sweep_duration.observe(elapsed.as_secs_f64());
        self.sweep_sensors.inc_by(sensors);
    }

    pub fn store_error(&self, e: &StoreError) {
        if let Some(kind) = failure_kind(e) {
            self.store_failure(kind);
        }
    }

    /// A store failure known only by its kind (`unavailable`, `internal`), as Graph's error
    /// keeps it.
    pub fn store_failure(&self, kind: &'static str) {
        self.store_errors.get_or_create(&KindLabel { kind }).inc();
    }

    /// `class`: read, write, token or failed_credentials.
    pub fn throttled(&self, class: &'static str) {
        self.throttled.get_or_create(&ClassLabel { class }).inc();
    }

    pub fn token_request(&self, grant_type: &'static str, result: &'static str) {
        self.tokens
            .get_or_create(&GrantResult { grant_type, result })
            .inc();
    }
}

/// The `kind` label of a store error that is a failure of the store; `None` for refusals of
/// bad input.
fn failure_kind(e: &StoreError) -> Option<&'static str> {
    match e {
        StoreError::Unavailable(_) | StoreError::SchemaBehind(_) => Some("unavailable"),
        StoreError::Internal(_) => Some("internal"),
        StoreError::Rule(_)
        | StoreError::UnknownCandidates(_)
        | StoreError::Conflict(_)
        | StoreError::Invalid(_) => None,
    }
}

/// The family label of a path that is not Graph's: a fixed set, never the path itself.
pub fn family_of(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "agent" => "agent",
        "admin" => "admin",
        "healthz" | "readyz" | "metrics" => "probe",
        "downloads" | "" => "other",
        // `/{tenant}/oauth2/…`, `/{tenant}/discovery/…`, `/{tenant}/v2.0/…`, `/{tenant}/devicelogin`.
        _ if is_token_service(path) => "token",
        _ => "other",
    }
}

fn is_token_service(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/').skip(1);
    matches!(
        segments.next(),
        Some("oauth2" | "discovery" | "v2.0" | "devicelogin")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_a_fixed_set() {
        assert_eq!(family_of("/agent/v1/enroll"), "agent");
        assert_eq!(family_of("/admin/v1/faults"), "admin");
        assert_eq!(family_of("/metrics"), "probe");
        assert_eq!(family_of("/t/oauth2/v2.0/token"), "token");
        assert_eq!(family_of("/t/discovery/v2.0/keys"), "token");
        assert_eq!(
            family_of("/t/v2.0/.well-known/openid-configuration"),
            "token"
        );
        assert_eq!(family_of("/downloads/t/x.zip"), "other");
        assert_eq!(family_of("/whatever/else"), "other");
        assert_eq!(family_of("/"), "other");
    }
}
