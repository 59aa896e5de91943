//! Which sensors a sweep evaluates. A sensor that checks in is evaluated by its own check-in,
//! so between check-ins only time can change its statuses, and time changes nothing before the
//! shortest silence threshold. A sweep therefore looks only at the silent sensors, except when
//! something that concerns every sensor changed (the release catalogue: `outdated`) or when
//! the last full sweep is [`full_sweep_every`] old (a safety net, in the store's clock time).
//! Each engine (and each replica) keeps its own plan; a replica's first sweep is a full one.

use crate::fleet::{FleetPolicy, SweepSummary};
use crate::StoreError;
use async_trait::async_trait;
use picket_domain::fleet::releases::ReleaseCatalogue;
use picket_domain::time::Timestamp;
use picket_domain::{SensorId, TenantId};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

/// How long one sweep transaction evaluates sensors before it commits and lets the writes
/// waiting behind it (Graph writes, check-ins) run: with the commit, a sweep holds the writer
/// or a tenant's lock for a few tens of milliseconds at a time, at any fleet size.
pub(crate) const SWEEP_SLICE: Duration = Duration::from_millis(20);

/// The most sensors one sweep transaction looks at (and on PostgreSQL, locks the tenants of).
pub(crate) const SWEEP_BATCH: usize = 500;

/// The longest time between two sweeps over every sensor.
pub fn full_sweep_every() -> chrono::Duration {
    chrono::Duration::minutes(10)
}

#[derive(Default)]
pub struct SweepPlan {
    last_full: Mutex<Option<(Timestamp, ReleaseCatalogue)>>,
}

impl SweepPlan {
    /// Makes the next sweep a full one (the rows were replaced wholesale).
    pub fn evaluate_all(&self) {
        if let Ok(mut last) = self.last_full.lock() {
            *last = None;
        }
    }

    /// True when this sweep must evaluate every sensor; it then counts as the last full one.
    pub fn full_sweep_due(&self, now: Timestamp, releases: &ReleaseCatalogue) -> bool {
        let Ok(mut last) = self.last_full.lock() else {
            return true;
        };
        let due = match &*last {
            None => true,
            Some((at, seen)) => seen != releases || now - *at >= full_sweep_every() || now < *at,
        };
        if due {
            *last = Some((now, releases.clone()));
        }
        due
    }
}

/// What a sweep needs of an engine: each step in a transaction of the engine's kind (see
/// `fleet::impl_fleet_store!`).
#[async_trait]
pub(crate) trait Sweeper: Send + Sync {
    /// Writes the heard-from times the heartbeats hold.
    async fn flush_heartbeats(&self) -> Result<(), StoreError>;
    async fn all_agents(&self) -> Result<Vec<(TenantId, SensorId)>, StoreError>;
    async fn silent_agents(
        &self,
        since: Timestamp,
    ) -> Result<Vec<(TenantId, SensorId)>, StoreError>;
    /// One write transaction: `crate::tables::fleet::evaluate_slice`.
    async fn evaluate_slice(
        &self,
        agents: &[(TenantId, SensorId)],
        now: Timestamp,
        policy: &FleetPolicy,
        budget: Duration,
    ) -> Result<(usize, SweepSummary), StoreError>;
    async fn fleet_tenants(&self) -> Result<Vec<TenantId>, StoreError>;
    async fn aggregate_globals(
        &self,
        tenant: &TenantId,
        now: Timestamp,
    ) -> Result<SweepSummary, StoreError>;
    fn sweep_plan(&self) -> &SweepPlan;
}

/// [`crate::FleetStore::sweep`]: the heard-from times first, so silence is judged on the
/// truth; then the sensors the plan names, in transactions of [`SWEEP_SLICE`] each; then each
/// tenant's global issues, from the sensor issues just brought up to date.
pub(crate) async fn sweep<S: Sweeper + ?Sized>(
    store: &S,
    now: Timestamp,
    policy: &FleetPolicy,
) -> Result<SweepSummary, StoreError> {
    store.flush_heartbeats().await?;
    let agents = if store.sweep_plan().full_sweep_due(now, &policy.releases) {
        store.all_agents().await?
    } else {
        // Sensors that check in are evaluated by their own check-ins; what time alone can
        // change is the status of the silent ones.
        store
            .silent_agents(policy.thresholds.silent_since(now))
            .await?
    };
    let (mut total, _) = in_slices(&agents, |rest| {
        store.evaluate_slice(rest, now, policy, SWEEP_SLICE)
    })
    .await?;
    for tenant in &store.fleet_tenants().await? {
        total.add(store.aggregate_globals(tenant, now).await?);
    }
    Ok(total)
}

/// Runs `slice` over what remains of `agents` (at most [`SWEEP_BATCH`] at a time) until every
/// one is evaluated, each once; `slice` answers how many it evaluated. Answers the sum and how
/// many slices (transactions) it took.
pub(crate) async fn in_slices<'a, T, F, Fut>(
    agents: &'a [T],
    mut slice: F,
) -> Result<(SweepSummary, usize), StoreError>
where
    F: FnMut(&'a [T]) -> Fut,
    Fut: Future<Output = Result<(usize, SweepSummary), StoreError>>,
{
    let mut total = SweepSummary::default();
    let mut slices = 0;
    let mut rest = agents;
    while !rest.is_empty() {
        let batch = &rest[..rest.len().min(SWEEP_BATCH)];
        let (done, part) = slice(batch).await?;
        total.add(part);
        slices += 1;
        rest = &rest[done.clamp(1, batch.len())..];
    }
    Ok((total, slices))
}

/// The tenants of a slice's sensors, which PostgreSQL locks for it.
pub(crate) fn tenant_keys(agents: &[(TenantId, SensorId)]) -> Vec<String> {
    let mut tenants: Vec<String> = agents.iter().map(|(t, _)| t.to_string()).collect();
    tenants.dedup();
    tenants
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_domain::time::parse_timestamp;

    fn at(minutes: i64) -> Timestamp {
        parse_timestamp("2026-05-01T12:00:00Z").expect("time") + chrono::Duration::minutes(minutes)
    }

    #[test]
    fn full_sweeps_come_first_on_catalogue_changes_and_every_ten_minutes() {
        let plan = SweepPlan::default();
        let none = ReleaseCatalogue::default();
        let one = ReleaseCatalogue::new(vec!["2.240.0.1".into()]);
        let cases = [
            (0, &none, true, "the first sweep"),
            (1, &none, false, "nothing changed"),
            (2, &one, true, "a release was published"),
            (3, &one, false, "the same catalogue"),
            (11, &one, false, "nine minutes after the last full one"),
            (12, &one, true, "ten minutes after the last full one"),
            (5, &one, true, "the clock went back"),
        ];
        for (minute, releases, full, why) in cases {
            assert_eq!(plan.full_sweep_due(at(minute), releases), full, "{why}");
        }
    }

    /// Evaluation slow next to the slice: 40 sensors of 3 ms each take several transactions
    /// of about [`SWEEP_SLICE`] each, and every sensor is evaluated once.
    #[tokio::test]
    async fn slow_sweeps_commit_every_slice_and_evaluate_each_sensor_once() {
        let agents: Vec<usize> = (0..40).collect();
        let evaluated = std::cell::RefCell::new(Vec::new());
        let (summary, slices) = in_slices(&agents, |rest| {
            let evaluated = &evaluated;
            async move {
                let started = std::time::Instant::now();
                let mut part = SweepSummary::default();
                let mut done = 0;
                for agent in rest {
                    tokio::time::sleep(Duration::from_millis(3)).await;
                    evaluated.borrow_mut().push(*agent);
                    part.sensors += 1;
                    done += 1;
                    if started.elapsed() >= SWEEP_SLICE {
                        break;
                    }
                }
                Ok((done, part))
            }
        })
        .await
        .expect("sweep");
        assert!(slices >= 3, "{slices} transactions");
        assert_eq!(summary.sensors, 40);
        assert_eq!(evaluated.into_inner(), agents, "each sensor once, in order");
    }

    /// The same through the store: with evaluation slower than the slice (a zero budget), each
    /// transaction evaluates one sensor, and the sweep still evaluates each enrolled one once.
    #[tokio::test]
    async fn store_sweep_slices_evaluate_every_sensor_once() {
        use crate::fleet::{EnrollRequest, FleetStore};
        use crate::{Catalogue, SqliteStore, Store};
        use picket_domain::SensorType;

        let dir = tempfile::tempdir().expect("dir");
        let catalogue = Catalogue {
            unified_sensor_version: "3.1.0.0".into(),
        };
        let store = SqliteStore::open(&dir.path().join("picket.db"), catalogue)
            .await
            .expect("open");
        let tenant = TenantId::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779f").expect("tenant id");
        let key = store.deployment_access_key(&tenant).await.expect("key");
        let (now, policy) = (at(0), FleetPolicy::default());
        for i in 0..30 {
            let request = EnrollRequest {
                computer_dns_name: format!("dc{i}.contoso.com"),
                sensor_type: SensorType::DomainControllerIntegrated,
                version: "2.239.1.1".into(),
            };
            store
                .enroll(&tenant, key.expose(), &request, "hash", now, &policy)
                .await
                .expect("store")
                .expect("enrolled");
        }
        let agents = store.all_agents().await.expect("agents");
        assert_eq!(agents.len(), 30);
        let (summary, slices) = in_slices(&agents, |rest| {
            store.evaluate_slice(rest, now, &policy, Duration::ZERO)
        })
        .await
        .expect("slices");
        assert_eq!((summary.sensors, slices), (30, 30));
        let summary = store.sweep(at(1), &policy).await.expect("sweep");
        assert_eq!(summary.sensors, 30);
    }
}
