//! One way to build a Picket server: a [`ServerConfig`] (every setting, wherever it came from:
//! flags, a configuration file, a test) becomes a [`Server`] (the shared state, its background
//! tasks, its router). `picket serve` and every test harness build through here, so the tests
//! start the server users run; where they differ (no sweeper on a wall clock, keys that are not
//! re-read from the store) it is a setting here, not a different path.

use crate::faults::Faults;
use crate::journal::Journal;
use crate::metrics::{Metrics, MetricsSettings};
use crate::state::{ApiSettings, AppState, FleetSettings, IdentitySettings};
use crate::throttle::{Throttle, ThrottleSettings};
use picket_auth::TokenVerifier;
use picket_domain::time::{Clock, ManualClock, SystemClock};
use picket_store::{FleetPolicy, Store};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Everything a server is made from.
pub struct ServerConfig {
    pub store: Arc<dyn Store>,
    pub verifier: Arc<TokenVerifier>,
    /// Time moves only on request (`--clock manual`), and each move sweeps.
    pub manual_clock: Option<Arc<ManualClock>>,
    pub api: ApiSettings,
    pub identity: IdentitySettings,
    pub throttle: ThrottleSettings,
    pub policy: FleetPolicy,
    /// The release configured at start, always part of the catalogue.
    pub base_release: Option<String>,
    pub check_in_interval_secs: u64,
    /// Recent Graph requests kept per tenant.
    pub journal_size: usize,
    pub faults: Faults,
    pub metrics: MetricsSettings,
    /// How often signing keys and trusted issuers are re-read from the store (another replica
    /// or `picket keys rotate` may change them); `None` keeps the verifier as given.
    pub key_reload: Option<Duration>,
    /// How often the fleet is swept on a wall clock; `None`: only when asked.
    pub sweep_interval: Option<Duration>,
}

impl ServerConfig {
    /// The defaults of `picket serve` for everything but the store and the verifier, with
    /// neither periodic task running.
    pub fn new(store: Arc<dyn Store>, verifier: Arc<TokenVerifier>) -> Self {
        Self {
            store,
            verifier,
            manual_clock: None,
            api: ApiSettings {
                default_page_size: 100,
                public_url: None,
                package: picket_domain::DeploymentPackage {
                    download_url: String::new(),
                    version: String::new(),
                },
                agent_binary: None,
            },
            identity: IdentitySettings::default(),
            throttle: ThrottleSettings::default(),
            policy: FleetPolicy::default(),
            base_release: None,
            check_in_interval_secs: FleetSettings::default().check_in_interval_secs,
            journal_size: crate::journal::DEFAULT_SIZE,
            faults: Faults::default(),
            metrics: MetricsSettings::default(),
            key_reload: None,
            sweep_interval: None,
        }
    }
}

/// A built server: its state and the background tasks that keep it current (stopped when
/// the server is dropped).
pub struct Server {
    state: AppState,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Makes the state, loads the release catalogue, and starts the periodic tasks.
    pub async fn start(config: ServerConfig) -> Self {
        let clock: Arc<dyn Clock> = match &config.manual_clock {
            Some(c) => c.clone(),
            None => Arc::new(SystemClock),
        };
        let metrics = Arc::new(Metrics::new(config.store.clone(), config.metrics));
        let state = AppState::new(crate::state::Shared {
            store: config.store,
            verifier: config.verifier,
            clock,
            settings: Arc::new(config.api),
            throttle: Arc::new(Throttle::new(config.throttle)),
            identity: Arc::new(config.identity),
            device_codes: Arc::default(),
            faults: Arc::new(config.faults),
            journal: Arc::new(Journal::new(config.journal_size)),
            onboarding: Arc::default(),
            auto_auditing: Arc::default(),
            migrations: Arc::default(),
            pending_actions: Arc::default(),
            metrics,
            fleet: Arc::new(FleetSettings {
                policy: std::sync::RwLock::new(config.policy),
                base_release: config.base_release,
                check_in_interval_secs: config.check_in_interval_secs,
                manual_clock: config.manual_clock.clone(),
            }),
        });
        crate::sweeper::reload_releases(&state).await;
        let mut tasks = Vec::new();
        if let Some(every) = config.key_reload {
            tasks.push(crate::signing::spawn_reload(state.clone(), every));
        }
        // With a manual clock time only moves on request, and each move sweeps at once.
        if let (None, Some(every)) = (&config.manual_clock, config.sweep_interval) {
            tasks.push(crate::sweeper::spawn_sweeper(state.clone(), every));
        }
        Self { state, tasks }
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves Picket's routes on `listener` until `shutdown` resolves.
    pub fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
        crate::http::serve(listener, self.state.clone(), shutdown)
    }

    /// Serves `/metrics` alone on `listener` (`--metrics-listen`).
    pub fn serve_metrics(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
        crate::http::serve_metrics(listener, self.state.clone(), shutdown)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
