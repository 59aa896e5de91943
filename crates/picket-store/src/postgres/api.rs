//! [`Store`] for PostgreSQL: each call picks a read or a write transaction (locking the
//! tenant) and delegates to the module that owns the rows.

use super::{candidates, health_issues, seed, sensors, PostgresStore, Scope};
use crate::sql::postgres::Pg;
use crate::tables::tenants;
use crate::*;
use async_trait::async_trait;
use picket_domain::rules::SettingsPatch;
use picket_domain::time::Timestamp;
use picket_odata::ValidatedQuery;

#[async_trait]
impl Store for PostgresStore {
    async fn list_sensors(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<Sensor>, StoreError> {
        self.read_one((tenant, query), |tx, (t, q)| {
            Box::pin(sensors::list(tx, t, q, page))
        })
        .await
    }
    async fn count_sensors(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError> {
        self.read_one((tenant, query), |tx, (t, q)| {
            Box::pin(sensors::count(tx, t, q))
        })
        .await
    }
    async fn find_sensor(
        &self,
        tenant: &TenantId,
        id: &SensorId,
    ) -> Result<Option<Sensor>, StoreError> {
        self.sensor_reads.get(tenant, id).await
    }
    async fn save_sensor_settings(
        &self,
        tenant: &TenantId,
        id: &SensorId,
        patch: &SettingsPatch,
    ) -> Result<Option<Sensor>, StoreError> {
        self.write(
            Scope::Tenant(tenant),
            (tenant, id, patch),
            |tx, (t, id, p)| Box::pin(sensors::save_settings(tx, t, id, p)),
        )
        .await
    }
    async fn delete_sensor(
        &self,
        tenant: &TenantId,
        id: &SensorId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(Scope::Tenant(tenant), (tenant, id), |tx, (t, id)| {
            Box::pin(sensors::delete(tx, t, id, now))
        })
        .await
    }

    async fn list_health_issues(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<HealthIssue>, StoreError> {
        self.read_one((tenant, scope, query), |tx, (t, s, q)| {
            Box::pin(health_issues::list(tx, t, s, q, page))
        })
        .await
    }
    async fn count_health_issues(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError> {
        self.read_one((tenant, scope, query), |tx, (t, s, q)| {
            Box::pin(health_issues::count(tx, t, s, q))
        })
        .await
    }
    async fn find_health_issue(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        id: &HealthIssueId,
    ) -> Result<Option<HealthIssue>, StoreError> {
        self.read_one((tenant, scope, id), |tx, (t, s, id)| {
            Box::pin(health_issues::find(tx, t, s, id.as_str()))
        })
        .await
    }
    async fn health_issues_of_sensors(
        &self,
        tenant: &TenantId,
        sensors: &[SensorId],
    ) -> Result<Vec<(SensorId, HealthIssue)>, StoreError> {
        self.read((tenant, sensors), |tx, (t, s)| {
            Box::pin(health_issues::of_sensors(tx, t, s))
        })
        .await
    }
    async fn save_health_issue_status(
        &self,
        tenant: &TenantId,
        id: &HealthIssueId,
        status: HealthIssueStatus,
        now: Timestamp,
    ) -> Result<Option<HealthIssue>, StoreError> {
        self.write(Scope::Tenant(tenant), (tenant, id), |tx, (t, id)| {
            Box::pin(health_issues::save_status(tx, t, id, status, now))
        })
        .await
    }

    async fn list_candidates(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<SensorCandidate>, StoreError> {
        self.read_one((tenant, query), |tx, (t, q)| {
            Box::pin(candidates::list(tx, t, q, page))
        })
        .await
    }
    async fn count_candidates(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError> {
        self.read_one((tenant, query), |tx, (t, q)| {
            Box::pin(candidates::count(tx, t, q))
        })
        .await
    }
    async fn find_candidate(
        &self,
        tenant: &TenantId,
        id: &CandidateId,
    ) -> Result<Option<SensorCandidate>, StoreError> {
        self.read_one((tenant, id), |tx, (t, id)| {
            Box::pin(candidates::find(tx, t, id.as_str()))
        })
        .await
    }
    async fn activate_candidates(
        &self,
        tenant: &TenantId,
        ids: &[CandidateId],
        now: Timestamp,
    ) -> Result<Activation, StoreError> {
        let version = self.catalogue().unified_sensor_version.as_str();
        self.write(
            Scope::Tenant(tenant),
            (tenant, ids, version),
            |tx, (t, ids, v)| Box::pin(candidates::activate(tx, t, ids, v, now)),
        )
        .await
    }

    async fn activation_mode(&self, tenant: &TenantId) -> Result<ActivationMode, StoreError> {
        self.read(tenant, |tx, t| {
            Box::pin(async move { tenants::activation_mode(&Pg(tx), t).await })
        })
        .await
    }
    async fn save_activation_mode(
        &self,
        tenant: &TenantId,
        mode: ActivationMode,
        now: Timestamp,
    ) -> Result<Activation, StoreError> {
        let version = self.catalogue().unified_sensor_version.as_str();
        self.write(Scope::Tenant(tenant), (tenant, version), |tx, (t, v)| {
            Box::pin(async move {
                tenants::save_activation_mode(&Pg(tx), t, mode).await?;
                if mode != ActivationMode::Automated {
                    return Ok(Activation::default());
                }
                let waiting = candidates::all_ids(tx, t).await?;
                candidates::activate(tx, t, &waiting, v, now).await
            })
        })
        .await
    }

    async fn deployment_access_key(
        &self,
        tenant: &TenantId,
    ) -> Result<DeploymentAccessKey, StoreError> {
        self.write(Scope::Tenant(tenant), tenant, |tx, t| {
            Box::pin(async move { tenants::access_key(&Pg(tx), t).await })
        })
        .await
    }
    async fn regenerate_deployment_access_key(
        &self,
        tenant: &TenantId,
    ) -> Result<DeploymentAccessKey, StoreError> {
        self.write(Scope::Tenant(tenant), tenant, |tx, t| {
            Box::pin(async move { tenants::regenerate_access_key(&Pg(tx), t).await })
        })
        .await
    }

    async fn seed(&self, tenant: &TenantId, fixture: &Fixture) -> Result<SeedSummary, StoreError> {
        self.write(Scope::Tenant(tenant), (tenant, fixture), |tx, (t, f)| {
            Box::pin(seed::seed(tx, t, f))
        })
        .await
    }
    async fn tenant_has_data(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        self.read(tenant, |tx, t| {
            Box::pin(async move { tenants::has_data(&Pg(tx), t).await })
        })
        .await
    }

    fn pool_status(&self) -> crate::probe::PoolStatus {
        let s = self.pool.status();
        crate::probe::PoolStatus::from_deadpool(
            "postgres",
            s.max_size,
            s.size,
            s.available,
            s.waiting,
        )
    }
}

impl PostgresStore {
    /// How PostgreSQL plans the sensor list (or count) for `query`, as EXPLAIN prints it: the
    /// tests check that each filter uses its index instead of scanning the tenant.
    pub async fn explain_sensor_listing(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
        page: PageRequest,
        count: bool,
    ) -> Result<String, StoreError> {
        self.read_one((tenant, query), move |tx, (t, q)| {
            Box::pin(sensors::explain(tx, t, q, page, count))
        })
        .await
    }
}
