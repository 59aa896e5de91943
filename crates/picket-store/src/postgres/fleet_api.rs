//! [`FleetStore`] for PostgreSQL: every agent call is one write transaction, so a check-in, the
//! statuses it changes and the issues it raises or closes commit together or not at all.
//! Enrolments hold their tenant's lock; check-ins hold only their sensor's (beside the other
//! check-ins of the tenant), and most of them are heartbeats answered from a batched read.

use super::{PostgresStore, Scope};
use crate::fleet::*;
use crate::heartbeats;
use crate::sql::postgres::Pg;
use crate::tables::fleet;
use crate::StoreError;
use async_trait::async_trait;
use picket_domain::time::Timestamp;
use picket_domain::{SensorId, TenantId};

/// Sensors evaluated per write transaction during a sweep, so Graph writes interleave.
const SWEEP_BATCH: usize = 500;

#[async_trait]
impl FleetStore for PostgresStore {
    async fn enroll(
        &self,
        tenant: &TenantId,
        access_key: &str,
        request: &EnrollRequest,
        credential_hash: &str,
        now: Timestamp,
        policy: &FleetPolicy,
    ) -> Result<Result<Enrolled, AgentRefusal>, StoreError> {
        self.write(
            Scope::Tenant(tenant),
            (tenant, access_key, request, credential_hash, policy),
            |tx, (t, key, req, hash, policy)| {
                Box::pin(
                    async move { fleet::enroll(&Pg(tx), t, key, req, hash, now, policy).await },
                )
            },
        )
        .await
    }

    async fn report_candidate(
        &self,
        tenant: &TenantId,
        access_key: &str,
        computer_dns_name: &str,
        sense_client_version: &str,
        credential_hash: &str,
        now: Timestamp,
    ) -> Result<Result<CandidateOutcome, AgentRefusal>, StoreError> {
        let unified = self.catalogue().unified_sensor_version.as_str();
        self.write(
            Scope::Tenant(tenant),
            (
                tenant,
                access_key,
                computer_dns_name,
                sense_client_version,
                credential_hash,
                unified,
            ),
            |tx, (t, key, computer, sense, hash, unified)| {
                Box::pin(async move {
                    fleet::report_candidate(&Pg(tx), t, key, computer, sense, hash, unified, now)
                        .await
                })
            },
        )
        .await
    }

    async fn publish_release(&self, version: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.write(Scope::Installation, version, |tx, v| {
            Box::pin(async move { fleet::publish_release(&Pg(tx), v, now).await })
        })
        .await
    }

    async fn releases(&self) -> Result<Vec<(String, Timestamp)>, StoreError> {
        self.read((), |tx, ()| {
            Box::pin(async move { fleet::releases(&Pg(tx)).await })
        })
        .await
    }

    async fn check_in(
        &self,
        tenant: &TenantId,
        sensor: &SensorId,
        credential_hash: &str,
        report: &CheckInReport,
        now: Timestamp,
        policy: &FleetPolicy,
    ) -> Result<Result<CheckInAnswer, AgentRefusal>, StoreError> {
        let quiet = || async {
            let found = self.quiet_reads.get(tenant, sensor).await?;
            Ok(found.and_then(|(agent, stored)| {
                heartbeats::quiet_answer(&agent, stored, credential_hash, report, policy)
            }))
        };
        let full = || {
            self.write(
                Scope::Sensor(tenant, sensor),
                (tenant, sensor, credential_hash, report, policy),
                |tx, (t, s, hash, report, policy)| {
                    Box::pin(async move {
                        fleet::check_in(&Pg(tx), t, s, hash, report, now, policy).await
                    })
                },
            )
        };
        self.heartbeats
            .check_in(tenant, sensor, now, quiet, full)
            .await
    }

    async fn sweep(
        &self,
        now: Timestamp,
        policy: &FleetPolicy,
    ) -> Result<SweepSummary, StoreError> {
        // This replica's heard-from times first, so silence is judged on the truth.
        self.write_heartbeats().await?;
        let agents = if self.sweep_plan.full_sweep_due(now, &policy.releases) {
            self.read((), |tx, ()| {
                Box::pin(async move { fleet::all_agents(&Pg(tx)).await })
            })
            .await?
        } else {
            // As on SQLite: check-ins evaluate their own sensors; time changes the silent ones.
            let since = policy.thresholds.silent_since(now);
            self.read(since, |tx, since| {
                Box::pin(async move { fleet::silent_agents(&Pg(tx), *since).await })
            })
            .await?
        };
        let mut total = SweepSummary::default();
        for chunk in agents.chunks(SWEEP_BATCH) {
            let mut tenants: Vec<String> = chunk.iter().map(|(t, _)| t.to_string()).collect();
            tenants.dedup();
            let part = self
                .write(
                    Scope::Tenants(tenants),
                    (chunk, policy),
                    |tx, (chunk, policy)| {
                        Box::pin(async move {
                            let mut s = SweepSummary::default();
                            for (tenant, sensor) in chunk.iter() {
                                fleet::evaluate(&Pg(tx), tenant, sensor, now, policy, &mut s)
                                    .await?;
                            }
                            Ok(s)
                        })
                    },
                )
                .await?;
            total.add(part);
        }
        // Then each tenant's global issues, from the sensor issues just brought up to date.
        let tenants = self
            .read((), |tx, ()| {
                Box::pin(async move { fleet::fleet_tenants(&Pg(tx)).await })
            })
            .await?;
        for tenant in &tenants {
            let part = self
                .write(Scope::Tenant(tenant), tenant, |tx, t| {
                    Box::pin(async move {
                        let mut s = SweepSummary::default();
                        fleet::aggregate_globals(&Pg(tx), t, now, &mut s).await?;
                        Ok(s)
                    })
                })
                .await?;
            total.add(part);
        }
        Ok(total)
    }

    async fn claim_sweep(
        &self,
        holder: &str,
        every: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let gap = claim_gap_ms(every);
        self.write(Scope::Installation, (holder, gap), |tx, (holder, gap)| {
            Box::pin(async move { fleet::claim_job(&Pg(tx), SWEEP_JOB, holder, *gap).await })
        })
        .await
    }
}
