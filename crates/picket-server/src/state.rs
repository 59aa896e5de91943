//! What every request shares: the store, the token verifier, the clock and the settings.
//! Nothing global, so two apps with different settings run side by side in one process.

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
    /// What `getDeploymentPackageUri` answers.
    pub package: DeploymentPackage,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub verifier: Arc<TokenVerifier>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<ApiSettings>,
}
