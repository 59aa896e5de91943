//! [`Store`] for SQLite: each call picks a read or a write transaction and delegates to the
//! module that owns the rows.

use super::SqliteStore;
use crate::sql::sqlite::{run, Lite};
use crate::tables::{candidates, health_issues, seed, sensors, tenants};
use crate::*;
use async_trait::async_trait;
use picket_domain::rules::SettingsPatch;
use picket_domain::time::Timestamp;
use picket_odata::ValidatedQuery;

#[async_trait]
impl Store for SqliteStore {
    async fn list_sensors(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<Sensor>, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |c| run(sensors::list(&Lite(c), &tenant, &query, page)))
            .await
    }
    async fn count_sensors(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |c| run(sensors::count(&Lite(c), &tenant, &query)))
            .await
    }
    async fn find_sensor(
        &self,
        tenant: &TenantId,
        id: &SensorId,
    ) -> Result<Option<Sensor>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.read(move |c| run(sensors::find(&Lite(c), &tenant, id.as_str())))
            .await
    }
    async fn save_sensor_settings(
        &self,
        tenant: &TenantId,
        id: &SensorId,
        patch: &SettingsPatch,
    ) -> Result<Option<Sensor>, StoreError> {
        let (tenant, id, patch) = (tenant.clone(), id.clone(), patch.clone());
        self.write(move |tx| run(sensors::save_settings(&Lite(tx), &tenant, &id, &patch)))
            .await
    }
    async fn delete_sensor(
        &self,
        tenant: &TenantId,
        id: &SensorId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.write(move |tx| run(sensors::delete(&Lite(tx), &tenant, &id, now)))
            .await
    }

    async fn list_health_issues(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<HealthIssue>, StoreError> {
        let (tenant, scope, query) = (tenant.clone(), scope.clone(), query.clone());
        self.read(move |c| run(health_issues::list(&Lite(c), &tenant, &scope, &query, page)))
            .await
    }
    async fn count_health_issues(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError> {
        let (tenant, scope, query) = (tenant.clone(), scope.clone(), query.clone());
        self.read(move |c| run(health_issues::count(&Lite(c), &tenant, &scope, &query)))
            .await
    }
    async fn find_health_issue(
        &self,
        tenant: &TenantId,
        scope: &IssueScope,
        id: &HealthIssueId,
    ) -> Result<Option<HealthIssue>, StoreError> {
        let (tenant, scope, id) = (tenant.clone(), scope.clone(), id.clone());
        self.read(move |c| run(health_issues::find(&Lite(c), &tenant, &scope, id.as_str())))
            .await
    }
    async fn health_issues_of_sensors(
        &self,
        tenant: &TenantId,
        sensors: &[SensorId],
    ) -> Result<Vec<(SensorId, HealthIssue)>, StoreError> {
        let (tenant, sensors) = (tenant.clone(), sensors.to_vec());
        self.read(move |c| run(health_issues::of_sensors(&Lite(c), &tenant, &sensors)))
            .await
    }
    async fn save_health_issue_status(
        &self,
        tenant: &TenantId,
        id: &HealthIssueId,
        status: HealthIssueStatus,
        now: Timestamp,
    ) -> Result<Option<HealthIssue>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.write(move |tx| {
            run(health_issues::save_status(
                &Lite(tx),
                &tenant,
                &id,
                status,
                now,
            ))
        })
        .await
    }

    async fn list_candidates(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
        page: PageRequest,
    ) -> Result<Page<SensorCandidate>, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |c| run(candidates::list(&Lite(c), &tenant, &query, page)))
            .await
    }
    async fn count_candidates(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |c| run(candidates::count(&Lite(c), &tenant, &query)))
            .await
    }
    async fn find_candidate(
        &self,
        tenant: &TenantId,
        id: &CandidateId,
    ) -> Result<Option<SensorCandidate>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.read(move |c| run(candidates::find(&Lite(c), &tenant, id.as_str())))
            .await
    }
    async fn activate_candidates(
        &self,
        tenant: &TenantId,
        ids: &[CandidateId],
        now: Timestamp,
    ) -> Result<Activation, StoreError> {
        let (tenant, ids) = (tenant.clone(), ids.to_vec());
        let version = self.catalogue().unified_sensor_version.clone();
        self.write(move |tx| {
            run(candidates::activate(
                &Lite(tx),
                &tenant,
                &ids,
                &version,
                now,
            ))
        })
        .await
    }

    async fn activation_mode(&self, tenant: &TenantId) -> Result<ActivationMode, StoreError> {
        let tenant = tenant.clone();
        self.read(move |c| run(tenants::activation_mode(&Lite(c), &tenant)))
            .await
    }
    async fn save_activation_mode(
        &self,
        tenant: &TenantId,
        mode: ActivationMode,
        now: Timestamp,
    ) -> Result<Activation, StoreError> {
        let tenant = tenant.clone();
        let version = self.catalogue().unified_sensor_version.clone();
        self.write(move |tx| {
            run(tenants::save_activation_mode(&Lite(tx), &tenant, mode))?;
            if mode != ActivationMode::Automated {
                return Ok(Activation::default());
            }
            let waiting = run(candidates::all_ids(&Lite(tx), &tenant))?;
            run(candidates::activate(
                &Lite(tx),
                &tenant,
                &waiting,
                &version,
                now,
            ))
        })
        .await
    }

    async fn deployment_access_key(
        &self,
        tenant: &TenantId,
    ) -> Result<DeploymentAccessKey, StoreError> {
        let tenant = tenant.clone();
        self.write(move |tx| run(tenants::access_key(&Lite(tx), &tenant)))
            .await
    }
    async fn regenerate_deployment_access_key(
        &self,
        tenant: &TenantId,
    ) -> Result<DeploymentAccessKey, StoreError> {
        let tenant = tenant.clone();
        self.write(move |tx| run(tenants::regenerate_access_key(&Lite(tx), &tenant)))
            .await
    }

    async fn seed(&self, tenant: &TenantId, fixture: &Fixture) -> Result<SeedSummary, StoreError> {
        let (tenant, fixture) = (tenant.clone(), fixture.clone());
        self.write(move |tx| run(seed::seed(&Lite(tx), &tenant, &fixture)))
            .await
    }
    async fn tenant_has_data(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let tenant = tenant.clone();
        self.read(move |c| run(tenants::has_data(&Lite(c), &tenant)))
            .await
    }

    fn pool_status(&self) -> crate::probe::PoolStatus {
        let s = self.pool.status();
        crate::probe::PoolStatus::from_deadpool(
            "sqlite",
            s.max_size,
            s.size,
            s.available,
            s.waiting,
        )
    }
}
