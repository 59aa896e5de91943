//! [`Store`] for PostgreSQL: each call picks a read or a write transaction (locking the
//! tenant) and delegates to the module that owns the rows.

use super::{PostgresStore, Scope};
use crate::sql::postgres::Pg;
use crate::sql::{Arg, Db, Engine};
use crate::tables::{candidates, health_issues, seed, sensors, tenants};
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
            Box::pin(async move { sensors::list(&Pg(tx), t, q, page).await })
        })
        .await
    }
    async fn count_sensors(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError> {
        self.read_one((tenant, query), |tx, (t, q)| {
            Box::pin(async move { sensors::count(&Pg(tx), t, q).await })
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
            |tx, (t, id, p)| {
                Box::pin(async move { sensors::save_settings(&Pg(tx), t, id, p).await })
            },
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
            Box::pin(async move { sensors::delete(&Pg(tx), t, id, now).await })
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
            Box::pin(async move { health_issues::list(&Pg(tx), t, s, q, page).await })
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
            Box::pin(async move { health_issues::count(&Pg(tx), t, s, q).await })
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
            Box::pin(async move { health_issues::find(&Pg(tx), t, s, id.as_str()).await })
        })
        .await
    }
    async fn health_issues_of_sensors(
        &self,
        tenant: &TenantId,
        sensors: &[SensorId],
    ) -> Result<Vec<(SensorId, HealthIssue)>, StoreError> {
        self.read((tenant, sensors), |tx, (t, s)| {
            Box::pin(async move { health_issues::of_sensors(&Pg(tx), t, s).await })
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
            Box::pin(async move { health_issues::save_status(&Pg(tx), t, id, status, now).await })
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
            Box::pin(async move { candidates::list(&Pg(tx), t, q, page).await })
        })
        .await
    }
    async fn count_candidates(
        &self,
        tenant: &TenantId,
        query: &ValidatedQuery,
    ) -> Result<u64, StoreError> {
        self.read_one((tenant, query), |tx, (t, q)| {
            Box::pin(async move { candidates::count(&Pg(tx), t, q).await })
        })
        .await
    }
    async fn find_candidate(
        &self,
        tenant: &TenantId,
        id: &CandidateId,
    ) -> Result<Option<SensorCandidate>, StoreError> {
        self.read_one((tenant, id), |tx, (t, id)| {
            Box::pin(async move { candidates::find(&Pg(tx), t, id.as_str()).await })
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
            |tx, (t, ids, v)| {
                Box::pin(async move { candidates::activate(&Pg(tx), t, ids, v, now).await })
            },
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
                let waiting = candidates::all_ids(&Pg(tx), t).await?;
                candidates::activate(&Pg(tx), t, &waiting, v, now).await
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
            Box::pin(async move {
                let summary = seed::seed(&Pg(tx), t, f).await?;
                // Fresh statistics after a bulk load: without them the planner guesses, and a
                // filtered list may scan the whole tenant instead of using its index.
                tx.batch_execute(
                    "ANALYZE sensors, health_issues, health_issue_sensors, sensor_candidates",
                )
                .await?;
                Ok(summary)
            })
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
            Box::pin(async move {
                let (sql, params) = {
                    let listing = sensors::listing(t, q);
                    if count {
                        listing.count_sql(Engine::Postgres)?
                    } else {
                        listing.page_sql(Engine::Postgres, page)?
                    }
                };
                let args: Vec<Arg<'_>> = params.iter().map(Arg::from).collect();
                let lines = Pg(tx)
                    .query_dynamic(&format!("EXPLAIN {sql}"), &args, |r| r.get::<String>(0))
                    .await?;
                Ok(lines.join("\n"))
            })
        })
        .await
    }
}
