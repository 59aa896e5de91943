//! [`FleetStore`] for SQLite: every agent call is one write transaction, so a check-in, the
//! statuses it changes and the issues it raises or closes commit together or not at all.

use super::SqliteStore;
use crate::fleet::*;
use crate::sql::sqlite::{run, Lite};
use crate::tables::{fleet, heartbeat};
use crate::StoreError;
use async_trait::async_trait;
use picket_domain::time::Timestamp;
use picket_domain::{SensorId, TenantId};

/// Sensors evaluated per write transaction during a sweep, so Graph writes interleave.
const SWEEP_BATCH: usize = 500;

#[async_trait]
impl FleetStore for SqliteStore {
    async fn enroll(
        &self,
        tenant: &TenantId,
        access_key: &str,
        request: &EnrollRequest,
        credential_hash: &str,
        now: Timestamp,
        policy: &FleetPolicy,
    ) -> Result<Result<Enrolled, AgentRefusal>, StoreError> {
        let (tenant, key, request, hash, policy) = (
            tenant.clone(),
            access_key.to_string(),
            request.clone(),
            credential_hash.to_string(),
            policy.clone(),
        );
        self.write(move |tx| {
            run(fleet::enroll(
                &Lite(tx),
                &tenant,
                &key,
                &request,
                &hash,
                now,
                &policy,
            ))
        })
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
        let (tenant, key, computer, sense, hash) = (
            tenant.clone(),
            access_key.to_string(),
            computer_dns_name.to_string(),
            sense_client_version.to_string(),
            credential_hash.to_string(),
        );
        let unified = self.catalogue().unified_sensor_version.clone();
        self.write(move |tx| {
            run(fleet::report_candidate(
                &Lite(tx),
                &tenant,
                &key,
                &computer,
                &sense,
                &hash,
                &unified,
                now,
            ))
        })
        .await
    }

    async fn publish_release(&self, version: &str, now: Timestamp) -> Result<bool, StoreError> {
        let version = version.to_string();
        self.write(move |tx| run(fleet::publish_release(&Lite(tx), &version, now)))
            .await
    }

    async fn releases(&self) -> Result<Vec<(String, Timestamp)>, StoreError> {
        self.read(|c| run(fleet::releases(&Lite(c)))).await
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
        // Owned copies for the closures that run on other threads.
        let owned = || {
            (
                tenant.clone(),
                sensor.clone(),
                credential_hash.to_string(),
                report.clone(),
                policy.clone(),
            )
        };
        let quiet = || {
            let (t, s, h, r, p) = owned();
            self.read(move |c| run(heartbeat::quiet_answer(&Lite(c), &t, &s, &h, &r, &p)))
        };
        let full = || {
            let (t, s, h, r, p) = owned();
            self.write(move |tx| run(fleet::check_in(&Lite(tx), &t, &s, &h, &r, now, &p)))
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
        // Heard-from times first, so silence is judged on the truth.
        super::write_heartbeats(&self.pool, &self.heartbeats).await?;
        let agents = if self.sweep_plan.full_sweep_due(now, &policy.releases) {
            self.write(|tx| run(fleet::all_agents(&Lite(tx)))).await?
        } else {
            // Sensors that check in are evaluated by their own check-ins; what time alone can
            // change is the status of the silent ones.
            let silent_since = policy.thresholds.silent_since(now);
            self.write(move |tx| run(fleet::silent_agents(&Lite(tx), silent_since)))
                .await?
        };
        let mut total = SweepSummary::default();
        for chunk in agents.chunks(SWEEP_BATCH) {
            let (chunk, policy) = (chunk.to_vec(), policy.clone());
            let part = self
                .write(move |tx| {
                    let mut s = SweepSummary::default();
                    for (tenant, sensor) in &chunk {
                        run(fleet::evaluate(
                            &Lite(tx),
                            tenant,
                            sensor,
                            now,
                            &policy,
                            &mut s,
                        ))?;
                    }
                    Ok(s)
                })
                .await?;
            total.add(part);
        }
        // Then each tenant's global issues, from the sensor issues just brought up to date.
        let tenants = self
            .write(|tx| run(fleet::fleet_tenants(&Lite(tx))))
            .await?;
        for tenant in tenants {
            let part = self
                .write(move |tx| {
                    let mut s = SweepSummary::default();
                    run(fleet::aggregate_globals(&Lite(tx), &tenant, now, &mut s))?;
                    Ok(s)
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
        let holder = holder.to_string();
        self.write(move |tx| run(fleet::claim_job(&Lite(tx), SWEEP_JOB, &holder, gap)))
            .await
    }
}
