//! What every request shares: the store, the token verifier, the clock and the settings.
//! Nothing global, so two apps with different settings run side by side in one process.

use crate::throttle::Throttle;
use picket_auth::TokenVerifier;
use picket_domain::time::Clock;
use picket_domain::DeploymentPackage;
use picket_store::Store;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Page size when the client sends no `$top` (spec §3.6).
    pub default_page_size: u32,
    /// Base URL for nextLinks and contexts when Picket runs behind a proxy; otherwise the
    /// request's own scheme and host are used.
    pub public_url: Option<String>,
    /// What `getDeploymentPackageUri` answers; an empty `download_url` means the package this
    /// server builds and serves itself (`package.rs`).
    pub package: DeploymentPackage,
    /// The sensor agent put in that package (`picket-agent` beside `picket` by default).
    pub agent_binary: Option<std::path::PathBuf>,
}

/// Unix seconds of the wall clock. Tokens are issued and checked in real time, even when the
/// fleet runs on a manual clock (`--clock manual`), so tools' tokens never "expire" because a
/// test moved simulated time forward.
pub fn wall_clock_secs() -> u64 {
    chrono::Utc::now().timestamp().max(0) as u64
}

/// The token service's settings.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Lifetime of access tokens from the token endpoint (Entra's default is 60–90 min).
    pub token_lifetime_secs: u64,
    /// How long a rotated-out signing key stays published and accepted.
    pub key_retirement_secs: u64,
    /// How long a web console session lasts after its sign-in (`picket_session` cookie).
    pub console_session_secs: u64,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            token_lifetime_secs: 3600,
            // Token lifetime plus the verifier's clock-skew leeway, so no token outlives its key.
            key_retirement_secs: 3600 + 300,
            console_session_secs: 8 * 3600,
        }
    }
}

/// The living fleet's settings.
#[derive(Debug)]
pub struct FleetSettings {
    /// Replaced when the release catalogue changes (see `agent_api::reload_releases`).
    pub policy: std::sync::RwLock<picket_store::FleetPolicy>,
    /// The release configured at start (`--package-version`), always part of the catalogue.
    pub base_release: Option<String>,
    /// What sensors are told: check in this often.
    pub check_in_interval_secs: u64,
    /// Set with `--clock manual`: the clock the admin endpoint moves.
    pub manual_clock: Option<Arc<picket_domain::time::ManualClock>>,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            policy: std::sync::RwLock::new(picket_store::FleetPolicy::default()),
            base_release: None,
            check_in_interval_secs: 60,
            manual_clock: None,
        }
    }
}

impl FleetSettings {
    pub fn policy(&self) -> picket_store::FleetPolicy {
        self.policy
            .read()
            .map(|p| p.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }
}

/// What every handler shares, behind one `Arc`: a request clones the state a few times on its
/// way through the router, and one reference count is cheaper to move between the two worker
/// threads' caches than one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub verifier: Arc<TokenVerifier>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<ApiSettings>,
    pub throttle: Arc<Throttle>,
    pub identity: Arc<IdentitySettings>,
    pub fleet: Arc<FleetSettings>,
    /// Device sign-ins waiting for approval (see `device_code`).
    pub device_codes: Arc<crate::device_code::DeviceCodes>,
    /// Fault rules for tests of the callers' error handling (see `faults`).
    pub faults: Arc<crate::faults::Faults>,
    /// The recent Graph requests of each tenant (see `journal`).
    pub journal: Arc<crate::journal::Journal>,
    /// Which tenants have Defender for Identity (see `onboarding`).
    pub onboarding: Arc<crate::onboarding::Onboarding>,
    /// Automatic auditing configuration per tenant, as check-ins read it.
    pub auto_auditing: Arc<crate::onboarding::AutoAuditing>,
    /// Which tenants have sensor migrations (see `onboarding`).
    pub migrations: Arc<crate::onboarding::Migrations>,
    /// Which tenants have account actions waiting for a sensor (see `onboarding`).
    pub pending_actions: Arc<crate::onboarding::PendingActions>,
    /// What `/metrics` shows: this app's own registry (see `metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
}
