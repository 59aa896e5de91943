//! Which sensors a sweep evaluates. A sensor that checks in is evaluated by its own check-in,
//! so between check-ins only time can change its statuses, and time changes nothing before the
//! shortest silence threshold. A sweep therefore looks only at the silent sensors, except when
//! something that concerns every sensor changed (the release catalogue: `outdated`) or when
//! the last full sweep is [`full_sweep_every`] old (a safety net, in the store's clock time).
//! Each engine (and each replica) keeps its own plan; a replica's first sweep is a full one.

use picket_domain::fleet::releases::ReleaseCatalogue;
use picket_domain::time::Timestamp;
use std::sync::Mutex;

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
}
