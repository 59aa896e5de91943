//! The fleet gauges: sensors by tenant and health status, and by tenant and deployment status.
//!
//! They come from a census of the store (two grouped index scans, `picket_store::probe`),
//! taken at most [`MAX_AGE`] before a scrape: a scrape that finds it older serves it anyway and
//! has a new one taken in the background, so no scrape waits for the store but the very first.
//! At 100,000 sensors a census is tens of milliseconds; the scrape stays at its encoding.
//!
//! Cardinality is bounded: the `tenant_labels` tenants with the most sensors get a label of
//! their own, every other tenant is summed under `tenant="other"`.

use super::KindLabel;
use picket_store::probe::{FleetCensus, StatusCount};
use picket_store::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How old a census may be when a scrape shows it.
const MAX_AGE: Duration = Duration::from_secs(10);

/// How long a census may take before it is given up (a store that does not answer).
const CENSUS_TIMEOUT: Duration = Duration::from_secs(5);

/// The label of the tenants summed together.
pub const OTHER_TENANTS: &str = "other";

/// `(tenant label, status, sensors)`, sorted.
type Rows = Vec<(String, String, u64)>;

#[derive(Debug, Default)]
struct Gauges {
    by_health: Rows,
    by_deployment: Rows,
}

#[derive(Debug)]
struct Taken {
    at: Instant,
    gauges: Arc<Gauges>,
}

pub(super) struct FleetGauges {
    store: Arc<dyn Store>,
    tenant_labels: usize,
    store_errors: Family<KindLabel, Counter>,
    latest: Mutex<Option<Taken>>,
    refreshing: AtomicBool,
}

impl std::fmt::Debug for FleetGauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetGauges")
            .field("tenant_labels", &self.tenant_labels)
            .finish_non_exhaustive()
    }
}

impl FleetGauges {
    pub(super) fn new(
        store: Arc<dyn Store>,
        tenant_labels: usize,
        store_errors: Family<KindLabel, Counter>,
    ) -> Self {
        Self {
            store,
            tenant_labels,
            store_errors,
            latest: Mutex::new(None),
            refreshing: AtomicBool::new(false),
        }
    }

    fn age(&self) -> Option<Duration> {
        let latest = self.latest.lock().ok()?;
        latest.as_ref().map(|t| t.at.elapsed())
    }

    fn gauges(&self) -> Option<Arc<Gauges>> {
        let latest = self.latest.lock().ok()?;
        latest.as_ref().map(|t| t.gauges.clone())
    }

    pub(super) async fn refresh_if_stale(self: &Arc<Self>) {
        match self.age() {
            Some(age) if age < MAX_AGE => {}
            Some(_) => {
                // One census at a time; scrapes meanwhile show the previous one.
                if !self.refreshing.swap(true, Ordering::AcqRel) {
                    let me = self.clone();
                    tokio::spawn(async move {
                        me.refresh().await;
                        me.refreshing.store(false, Ordering::Release);
                    });
                }
            }
            // Nothing to show yet: the first scrape waits for the first census.
            None => self.refresh().await,
        }
    }

    async fn refresh(&self) {
        let census = tokio::time::timeout(
            CENSUS_TIMEOUT,
            picket_store::probe::fleet_census(self.store.as_ref()),
        )
        .await;
        let census = match census {
            Ok(Ok(census)) => census,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot take the fleet census for /metrics");
                let kind = super::failure_kind(&e).unwrap_or("internal");
                self.store_errors.get_or_create(&KindLabel { kind }).inc();
                return;
            }
            Err(_) => {
                tracing::warn!("the fleet census for /metrics timed out");
                self.store_errors
                    .get_or_create(&KindLabel {
                        kind: "unavailable",
                    })
                    .inc();
                return;
            }
        };
        let gauges = Arc::new(capped(&census, self.tenant_labels));
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some(Taken {
                at: Instant::now(),
                gauges,
            });
        }
    }
}

/// The census with only the `cap` largest tenants (most sensors, then id) named.
fn capped(census: &FleetCensus, cap: usize) -> Gauges {
    let mut totals: HashMap<&str, u64> = HashMap::new();
    for row in &census.by_health {
        *totals.entry(row.tenant.as_str()).or_default() += row.sensors;
    }
    let mut ranked: Vec<(&str, u64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let named: HashSet<&str> = ranked.iter().take(cap).map(|(t, _)| *t).collect();
    let fold = |rows: &[StatusCount]| -> Rows {
        let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
        for row in rows {
            let tenant = if named.contains(row.tenant.as_str()) {
                row.tenant.clone()
            } else {
                OTHER_TENANTS.to_string()
            };
            *sums.entry((tenant, row.status.clone())).or_default() += row.sensors;
        }
        sums.into_iter().map(|((t, s), n)| (t, s, n)).collect()
    };
    Gauges {
        by_health: fold(&census.by_health),
        by_deployment: fold(&census.by_deployment),
    }
}

fn encode_rows(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    status_label: &'static str,
    rows: &Rows,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (tenant, status, sensors) in rows {
        let labels = [("tenant", tenant.as_str()), (status_label, status.as_str())];
        let value = i64::try_from(*sensors).unwrap_or(i64::MAX);
        ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for FleetGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(gauges) = self.gauges() else {
            return Ok(());
        };
        encode_rows(
            &mut encoder,
            "sensors_by_health",
            "Sensors by tenant and healthStatus (the largest tenants named, the rest 'other')",
            "health_status",
            &gauges.by_health,
        )?;
        encode_rows(
            &mut encoder,
            "sensors_by_deployment",
            "Sensors by tenant and deploymentStatus (the largest tenants named, the rest 'other')",
            "deployment_status",
            &gauges.by_deployment,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tenant: &str, status: &str, sensors: u64) -> StatusCount {
        StatusCount {
            tenant: tenant.into(),
            status: status.into(),
            sensors,
        }
    }

    #[test]
    fn only_the_largest_tenants_are_named() {
        let census = FleetCensus {
            by_health: vec![
                row("a", "healthy", 1),
                row("b", "healthy", 5),
                row("c", "healthy", 2),
                row("c", "notHealthyHigh", 1),
            ],
            by_deployment: vec![row("a", "upToDate", 1), row("b", "upToDate", 5)],
        };
        let g = capped(&census, 1);
        assert_eq!(
            g.by_health,
            vec![
                ("b".into(), "healthy".into(), 5),
                ("other".into(), "healthy".into(), 3),
                ("other".into(), "notHealthyHigh".into(), 1),
            ]
        );
        assert_eq!(
            g.by_deployment,
            vec![
                ("b".into(), "upToDate".into(), 5),
                ("other".into(), "upToDate".into(), 1),
            ]
        );
        assert!(capped(&census, 0)
            .by_health
            .iter()
            .all(|(t, _, _)| t == "other"));
    }
}
