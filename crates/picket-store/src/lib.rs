//! Picket's storage. Handlers talk to the [`Store`] trait in domain terms; engines (SQLite
//! embedded, PostgreSQL for replicas) turn validated OData queries into parameterised SQL. Only this crate knows SQL.

pub mod backup;
mod columns;
pub mod console_clients;
mod error;
mod fixture;
pub mod fleet;
pub mod fleet_summary;
pub mod heartbeats;
pub mod identity;
pub mod identity_accounts;
pub mod network_adapters;
pub mod odata_sql;
pub mod portable;
pub mod postgres;
pub mod probe;
pub mod sensor_migrations;
/// The build script's spelling of shared migrations, tested with the crate.
#[cfg(test)]
#[path = "../build/shared_sql.rs"]
mod shared_sql;
pub mod sign_ins;
pub mod snapshots;
pub mod sql;
pub mod sqlite;
mod sweep_plan;
mod tables;
pub mod tenant_settings;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::StoreError;
pub use fixture::{seed_all, Fixture, SeedSummary};
pub use fleet::{FleetPolicy, FleetStore};
pub use identity::{AuditQuery, IdentityStore, NewAuditEntry};
pub use portable::PortableStore;
pub use postgres::{PostgresConfig, PostgresStore};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use picket_domain::rules::SettingsPatch;
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;

/// One page of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// True when rows remain after this page.
    pub has_more: bool,
    /// Where the next page starts (the sort key of this page's last row), for listings that
    /// page by key; `None` on the last page and for collections paged by position.
    pub next: Option<picket_odata::SkipToken>,
}

/// Where a page starts and how long it is; the server derives it from `$top`/`$skip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub skip: u64,
    pub size: u32,
}

/// Which health issues a listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueScope {
    Tenant,
    /// Issues that name this sensor (spec §2.15).
    Sensor(SensorId),
}

/// What `activate` did (spec §2.9).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Activation {
    pub activated: Vec<SensorId>,
    /// Ids that were already sensors: activation is idempotent.
    pub already_active: Vec<SensorId>,
}

/// Settings that shape what the store creates.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Version given to a sensor made by activating a candidate.
    pub unified_sensor_version: String,
}

#[async_trait]
/// The whole store contract: the Graph resources below, and identity (see [`IdentityStore`]).
pub trait Store: IdentityStore + FleetStore + PortableStore + Send + Sync {
    async fn list_sensors(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<Sensor>, StoreError>;
    async fn count_sensors(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError>;
    /// How the engine plans the sensor list (or its count) for `query`, one line per plan node
    /// as its EXPLAIN prints it: the tests check that each filter reads its index.
    async fn explain_sensor_listing(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
        page: PageRequest,
        count: bool,
    ) -> Result<String, StoreError>;
    async fn find_sensor(
        &self,
        tenant: &TenantId,
        id: &SensorId,
    ) -> Result<Option<Sensor>, StoreError>;
    /// Applies a settings patch under the domain rules, atomically; `None` when the sensor is unknown.
    async fn save_sensor_settings(
        &self,
        tenant: &TenantId,
        id: &SensorId,
        patch: &SettingsPatch,
    ) -> Result<Option<Sensor>, StoreError>;
    /// Deletes a sensor and closes its open sensor-type issues; false when unknown.
    async fn delete_sensor(
        &self,
        tenant: &TenantId,
        id: &SensorId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    async fn list_health_issues(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<HealthIssue>, StoreError>;
    async fn count_health_issues(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError>;
    async fn find_health_issue(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        id: &HealthIssueId,
    ) -> Result<Option<HealthIssue>, StoreError>;
    /// The issues naming each of these sensors, newest first, for `$expand=healthIssues`: one
    /// query for a whole page rather than one per sensor.
    async fn health_issues_of_sensors(
        &self,
        tenant: &TenantId,
        sensors: &[SensorId],
    ) -> Result<Vec<(SensorId, HealthIssue)>, StoreError>;
    /// Sets an issue's status (and its sensors' health); `None` when unknown.
    async fn save_health_issue_status(
        &self,
        tenant: &TenantId,
        id: &HealthIssueId,
        status: HealthIssueStatus,
        now: Timestamp,
    ) -> Result<Option<HealthIssue>, StoreError>;

    async fn list_candidates(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<SensorCandidate>, StoreError>;
    async fn count_candidates(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError>;
    async fn find_candidate(
        &self,
        tenant: &TenantId,
        id: &CandidateId,
    ) -> Result<Option<SensorCandidate>, StoreError>;
    /// Validates every id first (unknown ids: [`StoreError::UnknownCandidates`], nothing changes),
    /// then turns each candidate into a sensor in one transaction.
    async fn activate_candidates(
        &self,
        tenant: &TenantId,
        ids: &[CandidateId],
        now: Timestamp,
    ) -> Result<Activation, StoreError>;

    async fn activation_mode(&self, tenant: &TenantId) -> Result<ActivationMode, StoreError>;
    /// Switching to `automated` activates every waiting candidate (spec §4.5).
    async fn save_activation_mode(
        &self,
        tenant: &TenantId,
        mode: ActivationMode,
        now: Timestamp,
    ) -> Result<Activation, StoreError>;

    /// The tenant's deployment access key, created on first use.
    async fn deployment_access_key(
        &self,
        tenant: &TenantId,
    ) -> Result<DeploymentAccessKey, StoreError>;
    /// Replaces the key at once (spec §2.6) and returns the new one.
    async fn regenerate_deployment_access_key(
        &self,
        tenant: &TenantId,
    ) -> Result<DeploymentAccessKey, StoreError>;

    /// Loads a fixture into a tenant in one transaction (all or nothing).
    async fn seed(&self, tenant: &TenantId, fixture: &Fixture) -> Result<SeedSummary, StoreError>;
    /// Whether a tenant holds any sensor, candidate or issue.
    async fn tenant_has_data(&self, tenant: &TenantId) -> Result<bool, StoreError>;

    /// The connection pool's state now, for `/metrics` (no I/O: a snapshot of counters).
    fn pool_status(&self) -> probe::PoolStatus;
}

/// `impl_store!(Store, via)`: implements [`Store`] for an engine's store, each method a shared
/// function of `tables` run through the engine's `via!` macro (see `tables::delegate!`). A list,
/// a count or a lookup is one statement (`read_one`); a read of several statements is a
/// `read`, all of them on one snapshot; a write locks its tenant. Looking up one sensor is the
/// engine's own `find_sensor` (PostgreSQL batches them), and so is `pool_status`.
macro_rules! impl_store {
    ($store:ty, $via:ident) => {
        const _: () = {
            use picket_domain::rules::SettingsPatch;
            use picket_domain::time::Timestamp;
            use picket_domain::*;
            use picket_odata::ValidatedQuery;
            use $crate::tables::{candidates, health_issues, seed, sensors, tenants};
            use $crate::*;

            $crate::tables::delegate! { $via; impl Store for $store {
                fn list_sensors(&self, tenant: &TenantId, query: &ValidatedQuery, page: PageRequest)
                    -> Page<Sensor> = read_one sensors::list;
                fn count_sensors(&self, tenant: &TenantId, query: &ValidatedQuery) -> u64
                    = read_one sensors::count;
                fn explain_sensor_listing(
                    &self, tenant: &TenantId, query: &ValidatedQuery, page: PageRequest, count: bool
                ) -> String = read_one sensors::explain_listing;
                fn find_sensor(&self, tenant: &TenantId, id: &SensorId) -> Option<Sensor>
                    = engine find_sensor;
                // A sensor's settings touch its rows alone (`sensors`, `sensor_agents`): written
                // under its own lock, beside the tenant's other PATCHes and check-ins.
                fn save_sensor_settings(
                    &self, tenant: &TenantId, id: &SensorId, patch: &SettingsPatch
                ) -> Option<Sensor> = write[Sensor(tenant, id)] sensors::save_settings;
                fn delete_sensor(&self, tenant: &TenantId, id: &SensorId, now: Timestamp) -> bool
                    = write[Tenant(tenant)] sensors::delete;

                fn list_health_issues(
                    &self, tenant: &TenantId, scope: &IssueScope, query: &ValidatedQuery,
                    page: PageRequest
                ) -> Page<HealthIssue> = read_one health_issues::list;
                fn count_health_issues(
                    &self, tenant: &TenantId, scope: &IssueScope, query: &ValidatedQuery
                ) -> u64 = read_one health_issues::count;
                fn find_health_issue(
                    &self, tenant: &TenantId, scope: &IssueScope, id: &HealthIssueId
                ) -> Option<HealthIssue> = read_one health_issues::find;
                fn health_issues_of_sensors(&self, tenant: &TenantId, sensors: &[SensorId])
                    -> Vec<(SensorId, HealthIssue)> = read health_issues::of_sensors;
                fn save_health_issue_status(
                    &self, tenant: &TenantId, id: &HealthIssueId, status: HealthIssueStatus,
                    now: Timestamp
                ) -> Option<HealthIssue> = write[Tenant(tenant)] health_issues::save_status;

                fn list_candidates(
                    &self, tenant: &TenantId, query: &ValidatedQuery, page: PageRequest
                ) -> Page<SensorCandidate> = read_one candidates::list;
                fn count_candidates(&self, tenant: &TenantId, query: &ValidatedQuery) -> u64
                    = read_one candidates::count;
                fn find_candidate(&self, tenant: &TenantId, id: &CandidateId)
                    -> Option<SensorCandidate> = read_one candidates::find;
                fn activate_candidates(
                    &self, tenant: &TenantId, ids: &[CandidateId], now: Timestamp
                ) -> Activation = write[Tenant(tenant)] candidates::activate(tenant, ids, version, now)
                    where version = unified_version;

                fn activation_mode(&self, tenant: &TenantId) -> ActivationMode
                    = read tenants::activation_mode;
                fn save_activation_mode(
                    &self, tenant: &TenantId, mode: ActivationMode, now: Timestamp
                ) -> Activation = write[Tenant(tenant)]
                    candidates::save_activation_mode(tenant, mode, version, now)
                    where version = unified_version;

                fn deployment_access_key(&self, tenant: &TenantId) -> DeploymentAccessKey
                    = write[Tenant(tenant)] tenants::access_key;
                fn regenerate_deployment_access_key(&self, tenant: &TenantId)
                    -> DeploymentAccessKey = write[Tenant(tenant)] tenants::regenerate_access_key;

                fn seed(&self, tenant: &TenantId, fixture: &Fixture) -> SeedSummary
                    = write[Tenant(tenant)] seed::seed;
                fn tenant_has_data(&self, tenant: &TenantId) -> bool = read tenants::has_data;

                sync fn pool_status(&self) -> probe::PoolStatus = pool_status;
            }}
        };
    };
}
pub(crate) use impl_store;
