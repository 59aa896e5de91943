//! [`FleetStore`] for SQLite: every agent call is one write transaction, so a check-in, the
//! statuses it changes and the issues it raises or closes commit together or not at all.

use super::{fleet, SqliteStore};
use crate::fleet::*;
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
        self.write(move |tx| fleet::enroll(tx, &tenant, &key, &request, &hash, now, &policy))
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
            fleet::report_candidate(tx, &tenant, &key, &computer, &sense, &hash, &unified, now)
        })
        .await
    }

    async fn publish_release(&self, version: &str, now: Timestamp) -> Result<bool, StoreError> {
        let version = version.to_string();
        self.write(move |tx| fleet::publish_release(tx, &version, now))
            .await
    }

    async fn releases(&self) -> Result<Vec<(String, Timestamp)>, StoreError> {
        self.read(fleet::releases).await
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
        if self.heartbeats.recently_evaluated(tenant, sensor, now) {
            let (t, s, h, r, p) = owned();
            let quiet = self
                .read(move |c| super::heartbeat::quiet_answer(c, &t, &s, &h, &r, &p))
                .await?;
            if let Some(answer) = quiet {
                self.heartbeats.seen(tenant, sensor, now);
                return Ok(Ok(answer));
            }
        }
        let (t, s, h, r, p) = owned();
        let outcome = self
            .write(move |tx| super::fleet::check_in(tx, &t, &s, &h, &r, now, &p))
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
        // Heard-from times first, so silence is judged on the truth.
        super::write_heartbeats(&self.pool, &self.heartbeats).await?;
        let full = self.sweep_plan.full_sweep_due(now, &policy.releases);
        let agents = if full {
            self.write(fleet::all_agents).await?
        } else {
            // Sensors that check in are evaluated by their own check-ins; what time alone can
            // change is the status of the silent ones.
            let silent_since = policy.thresholds.silent_since(now);
            self.write(move |tx| fleet::silent_agents(tx, silent_since))
                .await?
        };
        let mut total = SweepSummary::default();
        for chunk in agents.chunks(SWEEP_BATCH) {
            let (chunk, policy) = (chunk.to_vec(), policy.clone());
            let part = self
                .write(move |tx| {
                    let mut s = SweepSummary::default();
                    for (tenant, sensor) in &chunk {
                        fleet::evaluate(tx, tenant, sensor, now, &policy, &mut s)?;
                    }
                    Ok(s)
                })
                .await?;
            total.sensors += part.sensors;
            total.status_changes += part.status_changes;
            total.issues_raised += part.issues_raised;
            total.issues_reopened += part.issues_reopened;
            total.issues_closed += part.issues_closed;
        }
        // Then each tenant's global issues, from the sensor issues just brought up to date.
        let tenants = self.write(fleet::fleet_tenants).await?;
        for tenant in tenants {
            let part = self
                .write(move |tx| {
                    let mut s = SweepSummary::default();
                    fleet::aggregate_globals(tx, &tenant, now, &mut s)?;
                    Ok(s)
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
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let holder = holder.to_string();
        self.write(move |tx| fleet::claim_job(tx, SWEEP_JOB, &holder, now_ms, gap))
            .await
    }
}
