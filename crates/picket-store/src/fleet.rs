//! The fleet half of the store contract: sensors enrolling and checking in, and the sweep that
//! keeps every sensor's statuses and Picket-raised health issues true as time passes.

use crate::StoreError;
use async_trait::async_trait;
pub use picket_domain::fleet::{AgentCommand, HostIssue, UpdateReport};
use picket_domain::fleet::{ReleaseCatalogue, Thresholds};
use picket_domain::time::Timestamp;
use picket_domain::*;

/// What the store needs to evaluate sensors: the release catalogue, the thresholds, and how
/// many sensors of one domain may update at once.
#[derive(Debug, Clone)]
pub struct FleetPolicy {
    pub releases: ReleaseCatalogue,
    pub thresholds: Thresholds,
    pub rollout_per_domain: u32,
}

impl Default for FleetPolicy {
    fn default() -> Self {
        Self {
            releases: ReleaseCatalogue::default(),
            thresholds: Thresholds::default(),
            // One at a time per domain, as Defender for Identity's updater does (spec §4.7).
            rollout_per_domain: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollRequest {
    /// Fully qualified name of the sensor's computer, e.g. `dc1.contoso.com`.
    pub computer_dns_name: String,
    pub sensor_type: SensorType,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    pub sensor: Sensor,
    /// True when the computer was enrolled before (a re-install): same sensor, new credential.
    pub reinstalled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInReport {
    pub service_status: ServiceStatus,
    pub version: String,
    pub applied_settings_version: u64,
    pub update: UpdateReport,
    pub host_issues: Vec<HostIssue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInAnswer {
    /// The sensor as the Graph API now shows it (absent when deleted).
    pub sensor: Option<Sensor>,
    pub desired_settings_version: u64,
    pub command: AgentCommand,
    /// Answered from a read (`heartbeats.rs`): nothing was evaluated or written but the
    /// heard-from time. Operators' dashboards count the two kinds apart.
    pub heartbeat: bool,
}

/// Why an agent call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentRefusal {
    /// Wrong or regenerated deployment access key.
    BadAccessKey,
    /// Unknown sensor or wrong credential.
    BadCredential,
}

/// What a machine onboarded to endpoint protection learns when it reports as a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateOutcome {
    /// Listed in `sensorCandidates`, waiting for activation (manual mode).
    Waiting { candidate: CandidateId },
    /// Activated: now a unified sensor. `credential_issued` is true the first time only; the
    /// machine checks in as a sensor with the credential from that answer.
    Activated {
        sensor: SensorId,
        credential_issued: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepSummary {
    pub sensors: u64,
    pub status_changes: u64,
    pub issues_raised: u64,
    pub issues_reopened: u64,
    pub issues_closed: u64,
}

impl SweepSummary {
    /// Counts a part of the sweep (one batch of sensors, one tenant's global issues) in.
    pub(crate) fn add(&mut self, part: SweepSummary) {
        self.sensors += part.sensors;
        self.status_changes += part.status_changes;
        self.issues_raised += part.issues_raised;
        self.issues_reopened += part.issues_reopened;
        self.issues_closed += part.issues_closed;
    }
}

#[async_trait]
pub trait FleetStore: Send + Sync {
    /// Enrolls a classic sensor with the tenant's deployment access key, storing the hash of
    /// the credential the server made for it.
    async fn enroll(
        &self,
        tenant: &TenantId,
        access_key: &str,
        request: &EnrollRequest,
        credential_hash: &str,
        now: Timestamp,
        policy: &FleetPolicy,
    ) -> Result<Result<Enrolled, AgentRefusal>, StoreError>;

    /// A machine reports itself as a sensor candidate (with the tenant's access key). In
    /// automated mode it is activated on arrival; once activated, the first report after
    /// activation stores `credential_hash` as the new sensor's credential.
    async fn report_candidate(
        &self,
        tenant: &TenantId,
        access_key: &str,
        computer_dns_name: &str,
        sense_client_version: &str,
        credential_hash: &str,
        now: Timestamp,
    ) -> Result<Result<CandidateOutcome, AgentRefusal>, StoreError>;

    /// Adds a classic release to the catalogue; false when it was published before.
    async fn publish_release(&self, version: &str, now: Timestamp) -> Result<bool, StoreError>;
    /// Every published release with its publication time, oldest first.
    async fn releases(&self) -> Result<Vec<(String, Timestamp)>, StoreError>;

    /// Records a check-in and re-evaluates the sensor at once.
    async fn check_in(
        &self,
        tenant: &TenantId,
        sensor: &SensorId,
        credential_hash: &str,
        report: &CheckInReport,
        now: Timestamp,
        policy: &FleetPolicy,
    ) -> Result<Result<CheckInAnswer, AgentRefusal>, StoreError>;

    /// Re-evaluates every enrolled sensor of every tenant at `now` (operator-level background
    /// work): statuses that changed because time passed, issues to raise, reopen or close.
    async fn sweep(&self, now: Timestamp, policy: &FleetPolicy)
        -> Result<SweepSummary, StoreError>;

    /// Claims the next round of the periodic sweep for `holder`: true when no process on this
    /// database (no replica, on PostgreSQL) started a round less than [`claim_gap`]`(every)`
    /// ago, by the database's clock. Replicas sweeping on a timer thus take turns, each round
    /// run once; when the one that claimed a round dies, the next claim after `every` goes to
    /// whichever replica is up.
    async fn claim_sweep(
        &self,
        holder: &str,
        every: std::time::Duration,
    ) -> Result<bool, StoreError>;
}

/// `impl_fleet_store!(Store, via, sweep lists in kind)`: implements [`FleetStore`] (and the
/// steps of its sweep, `sweep_plan::Sweeper`) for an engine's store, each method a shared
/// function of `tables::fleet` run through the engine's `via!` macro (see `tables::delegate!`).
/// Enrolments and candidates lock their tenant; a check-in locks its sensor (beside the other
/// check-ins of its tenant), unless it is a heartbeat answered from `quiet reads` (see
/// `crate::heartbeats`: SQLite reads them by key, PostgreSQL in batches); the sweep is written
/// once (`sweep_plan::sweep`), its slices locking their sensors' tenants, and it reads its
/// lists of sensors and tenants as `sweep lists` says (SQLite: in the writer, after the writes
/// queued before it). The store keeps `pool`, `heartbeats` and `sweep_plan`, and its module a
/// `write_heartbeats(pool, heartbeats)`.
macro_rules! impl_fleet_store {
    (
        $store:ty, $via:ident, quiet reads [$($quiet:tt)*] $quiet_f:path,
        sweep lists [$($lists:tt)*]
    ) => {
        const _: () = {
            use picket_domain::time::Timestamp;
            use picket_domain::{SensorId, TenantId};
            use std::time::Duration;
            use $crate::fleet::*;
            use $crate::sweep_plan::{self, SweepPlan, Sweeper};
            use $crate::tables::fleet;

            $crate::tables::delegate! { $via; impl FleetStore for $store {
                fn enroll(
                    &self, tenant: &TenantId, access_key: &str, request: &EnrollRequest,
                    credential_hash: &str, now: Timestamp, policy: &FleetPolicy
                ) -> Result<Enrolled, AgentRefusal> = write[Enrolment(tenant, request)] fleet::enroll;
                fn report_candidate(
                    &self, tenant: &TenantId, access_key: &str, computer_dns_name: &str,
                    sense_client_version: &str, credential_hash: &str, now: Timestamp
                ) -> Result<CandidateOutcome, AgentRefusal> = write[Tenant(tenant)]
                    fleet::report_candidate(
                        tenant, access_key, computer_dns_name, sense_client_version,
                        credential_hash, unified, now
                    )
                    where unified = unified_version;
                fn publish_release(&self, version: &str, now: Timestamp) -> bool
                    = write[Installation] fleet::publish_release;
                fn releases(&self) -> Vec<(String, Timestamp)> = read fleet::releases;
                fn check_in(
                    &self, tenant: &TenantId, sensor: &SensorId, credential_hash: &str,
                    report: &CheckInReport, now: Timestamp, policy: &FleetPolicy
                ) -> Result<CheckInAnswer, AgentRefusal> = engine check_in;
                fn sweep(&self, now: Timestamp, policy: &FleetPolicy) -> SweepSummary
                    = engine sweep_plan::sweep;
                fn claim_sweep(&self, holder: &str, every: Duration) -> bool
                    = write[Installation] fleet::claim_sweep;
            }}

            $crate::tables::delegate! { $via; impl Sweeper for $store {
                fn flush_heartbeats(&self) -> () = engine flush_heartbeats;
                fn all_agents(&self) -> Vec<(TenantId, SensorId)>
                    = $($lists)* fleet::all_agents;
                fn silent_agents(&self, since: Timestamp) -> Vec<(TenantId, SensorId)>
                    = $($lists)* fleet::silent_agents;
                fn evaluate_slice(
                    &self, agents: &[(TenantId, SensorId)], now: Timestamp,
                    policy: &FleetPolicy, budget: Duration
                ) -> (usize, SweepSummary)
                    = write[Tenants(sweep_plan::tenant_keys(agents))] fleet::evaluate_slice;
                fn fleet_tenants(&self) -> Vec<TenantId> = $($lists)* fleet::fleet_tenants;
                fn aggregate_globals(&self, tenant: &TenantId, now: Timestamp) -> SweepSummary
                    = write[Tenant(tenant)] fleet::aggregate_tenant;
                sync fn sweep_plan(&self) -> &SweepPlan = sweep_plan_of;
            }}

            async fn check_in(
                store: &$store,
                tenant: &TenantId,
                sensor: &SensorId,
                credential_hash: &str,
                report: &CheckInReport,
                now: Timestamp,
                policy: &FleetPolicy,
            ) -> Result<Result<CheckInAnswer, AgentRefusal>, $crate::StoreError> {
                let quiet = || async {
                    let found = $crate::tables::delegate!(
                        @call $via, store, [$($quiet)*], $quiet_f, [tenant, sensor]
                    )?;
                    Ok(found.and_then(|(agent, stored)| {
                        $crate::heartbeats::quiet_answer(
                            &agent, stored, credential_hash, report, policy,
                        )
                    }))
                };
                let full = || async {
                    $via!(
                        store, write[Sensor(tenant, sensor)], fleet::check_in,
                        tenant, sensor, credential_hash, report, now, policy
                    )
                };
                store.heartbeats.check_in(tenant, sensor, now, quiet, full).await
            }

            async fn flush_heartbeats(store: &$store) -> Result<(), $crate::StoreError> {
                write_heartbeats(&store.pool, &store.heartbeats).await
            }

            fn sweep_plan_of(store: &$store) -> &SweepPlan {
                &store.sweep_plan
            }
        };
    };
}
pub(crate) use impl_fleet_store;

/// The job name under which sweep rounds are claimed.
pub(crate) const SWEEP_JOB: &str = "fleet-sweep";

/// How long after a round started the next may be claimed: a little less than the timer's
/// period, so a replica's own next tick, a few milliseconds early, still gets its turn.
pub fn claim_gap(every: std::time::Duration) -> std::time::Duration {
    every.mul_f64(0.8)
}

/// [`claim_gap`] in milliseconds, as the engines compare it.
pub(crate) fn claim_gap_ms(every: std::time::Duration) -> i64 {
    i64::try_from(claim_gap(every).as_millis()).unwrap_or(i64::MAX)
}

/// Compares secrets (credential hashes, access keys) without stopping at the first difference.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// How both engines store an agent's reported host issues (compared as text by heartbeats).
pub(crate) fn host_issues_json(issues: &[HostIssue]) -> String {
    let items: Vec<serde_json::Value> = issues
        .iter()
        .map(|i| {
            serde_json::json!({"issueTypeId": i.issue_type_id, "displayName": i.display_name, "severity": i.severity.as_str()})
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}
