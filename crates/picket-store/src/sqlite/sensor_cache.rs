//! Sensors read by id, answered from memory while nothing has committed since they were read.
//!
//! Whether anything has committed is asked of SQLite itself, not of Picket's own write paths:
//! each read connection reads `PRAGMA data_version` before it answers, which changes when any
//! other connection — this process's writer, its heard-from flush, another process such as
//! `picket seed` on the same file — has committed since that connection last looked. The first
//! connection to see a change moves the cache's epoch, and only entries read in the current
//! epoch are answered. So a write is visible to the very next read, whoever wrote it.
//!
//! Why it holds: an entry is stored with the epoch read *before* its row was read. A commit
//! after that row was read is seen by the next check of every connection (its previous check
//! came before the commit, or it is new), and the first such check moves the epoch past the
//! entry's before any read that follows it looks the entry up.

use picket_domain::Sensor;
use std::sync::atomic::{AtomicU64, Ordering};

/// Sensors kept. About 0.5 KB each: 200,000 hold a large tenant's working set in ~100 MB.
const CAPACITY: usize = 200_000;

pub(super) struct SensorCache {
    epoch: AtomicU64,
    entries: quick_cache::sync::Cache<String, (u64, Sensor)>,
}

impl Default for SensorCache {
    fn default() -> Self {
        Self {
            epoch: AtomicU64::new(0),
            entries: quick_cache::sync::Cache::new(CAPACITY),
        }
    }
}

/// What a read connection last saw of `PRAGMA data_version` (`None`: never looked).
#[derive(Default)]
pub(super) struct Seen(Option<i64>);

impl SensorCache {
    /// Records what a connection sees now; answers the epoch its reads belong to.
    pub(super) fn observe(&self, seen: &mut Seen, data_version: i64) -> u64 {
        if seen.0 != Some(data_version) {
            seen.0 = Some(data_version);
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
        self.epoch.load(Ordering::SeqCst)
    }

    pub(super) fn get(&self, tenant: &str, id: &str, epoch: u64) -> Option<Sensor> {
        match self.entries.get(&key(tenant, id)) {
            Some((at, sensor)) if at == epoch => Some(sensor),
            _ => None,
        }
    }

    pub(super) fn put(&self, tenant: &str, id: &str, epoch: u64, sensor: &Sensor) {
        self.entries
            .insert(key(tenant, id), (epoch, sensor.clone()));
    }
}

fn key(tenant: &str, id: &str) -> String {
    let mut k = String::with_capacity(tenant.len() + id.len() + 1);
    k.push_str(tenant);
    k.push('/');
    k.push_str(id);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sensor(name: &str) -> Sensor {
        Sensor {
            display_name: name.into(),
            ..crate::heartbeats::tests::sensor(picket_domain::DeploymentStatus::UpToDate, "2.1")
        }
    }

    #[test]
    fn an_entry_is_answered_only_in_the_epoch_it_was_read_in() {
        let cache = SensorCache::default();
        let (mut a, mut b) = (Seen::default(), Seen::default());
        let e1 = cache.observe(&mut a, 7);
        assert_eq!(
            cache.observe(&mut b, 3),
            e1 + 1,
            "a new connection moves the epoch"
        );
        let e = cache.observe(&mut a, 7);
        cache.put("t", "s1", e, &sensor("DC1"));
        assert_eq!(
            cache.get("t", "s1", e).map(|s| s.display_name),
            Some("DC1".into())
        );
        assert_eq!(cache.get("t", "s2", e), None, "another sensor");
        assert_eq!(cache.get("u", "s1", e), None, "another tenant");
        assert_eq!(cache.observe(&mut b, 3), e, "nothing committed: same epoch");
        let after = cache.observe(&mut b, 4);
        assert!(after > e, "a commit seen by any connection moves the epoch");
        assert_eq!(cache.get("t", "s1", after), None, "read before the commit");
        assert_eq!(
            cache.observe(&mut a, 8),
            after + 1,
            "seen again by the other: moved again"
        );
    }
}
