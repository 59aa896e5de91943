//! [`FleetStore`] for PostgreSQL: every agent call is one write transaction, so a check-in, the
//! statuses it changes and the issues it raises or closes commit together or not at all.
//! Enrolments hold their tenant's lock; check-ins hold only their sensor's (beside the other
//! check-ins of the tenant), and most of them are heartbeats answered from a read.

use super::{fleet, heartbeat, PostgresStore, Scope};
use crate::fleet::*;
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
                Box::pin(fleet::enroll(tx, t, key, req, hash, now, policy))
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
                Box::pin(fleet::report_candidate(
                    tx, t, key, computer, sense, hash, unified, now,
                ))
            },
        )
        .await
    }

    async fn publish_release(&self, version: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.write(Scope::Installation, version, |tx, v| {
            Box::pin(fleet::publish_release(tx, v, now))
        })
        .await
    }

    async fn releases(&self) -> Result<Vec<(String, Timestamp)>, StoreError> {
        self.read((), |tx, ()| Box::pin(fleet::releases(tx))).await
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
        if self.heartbeats.recently_evaluated(tenant, sensor, now) {
            let quiet = heartbeat::quiet_answer(
                &self.quiet_reads,
                tenant,
                sensor,
                credential_hash,
                report,
                policy,
            )
            .await?;
            if let Some(answer) = quiet {
                self.heartbeats.seen(tenant, sensor, now);
                return Ok(Ok(answer));
            }
        }
        let outcome = self
            .write(
                Scope::Sensor(tenant, sensor),
                (tenant, sensor, credential_hash, report, policy),
                |tx, (t, s, hash, report, policy)| {
                    Box::pin(fleet::check_in(tx, t, s, hash, report, now, policy))
                },
            )
            .await;
        if let Ok(Ok(_)) = &outcome {
            self.heartbeats.evaluated(tenant, sensor, now);
        }
        outcome
    }

    async fn sweep(
        &self,
        now: Timestamp,
        policy: &FleetPolicy,
    ) -> Result<SweepSummary, StoreError> {
        // This replica's heard-from times first, so silence is judged on the truth.
        self.write_heartbeats().await?;
        let agents = if self.sweep_plan.full_sweep_due(now, &policy.releases) {
            self.read((), |tx, ()| Box::pin(fleet::all_agents(tx)))
                .await?
        } else {
            // As on SQLite: check-ins evaluate their own sensors; time changes the silent ones.
            let since = policy.thresholds.silent_since(now);
            self.read(since, |tx, since| {
                Box::pin(fleet::silent_agents(tx, *since))
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
                                fleet::evaluate(tx, tenant, sensor, now, policy, &mut s).await?;
                            }
                            Ok(s)
                        })
                    },
                )
                .await?;
            total.sensors += part.sensors;
            total.status_changes += part.status_changes;
            total.issues_raised += part.issues_raised;
            total.issues_reopened += part.issues_reopened;
            total.issues_closed += part.issues_closed;
        }
        // Then each tenant's global issues, from the sensor issues just brought up to date.
        let tenants = self
            .read((), |tx, ()| Box::pin(fleet::fleet_tenants(tx)))
            .await?;
        for tenant in &tenants {
            let part = self
                .write(Scope::Tenant(tenant), tenant, |tx, t| {
                    Box::pin(async move {
                        let mut s = SweepSummary::default();
                        fleet::aggregate_globals(tx, t, now, &mut s).await?;
                        Ok(s)
                    })
                })
                .await?;
            total.issues_raised += part.issues_raised;
            total.issues_reopened += part.issues_reopened;
            total.issues_closed += part.issues_closed;
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
            Box::pin(fleet::claim_job(tx, SWEEP_JOB, holder, *gap))
        })
        .await
    }
}
