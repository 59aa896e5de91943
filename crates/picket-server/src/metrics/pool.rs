//! The store's connection pool, read at scrape time (deadpool's counters: no I/O).

use picket_store::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::sync::Arc;

pub(super) struct PoolGauges {
    store: Arc<dyn Store>,
}

impl PoolGauges {
    pub(super) fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

impl std::fmt::Debug for PoolGauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolGauges").finish_non_exhaustive()
    }
}

fn gauge(value: usize) -> ConstGauge {
    ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX))
}

impl Collector for PoolGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = self.store.pool_status();
        let engine = [("engine", status.engine)];
        let mut connections = encoder.encode_descriptor(
            "db_pool_connections",
            "Connections the store's pool holds, by state (in_use, idle); on SQLite the writers' pool",
            None,
            MetricType::Gauge,
        )?;
        let idle = status.size.saturating_sub(status.in_use);
        for (state, n) in [("in_use", status.in_use), ("idle", idle)] {
            let labels = [("engine", status.engine), ("state", state)];
            gauge(n).encode(connections.encode_family(&labels)?)?;
        }
        let mut max = encoder.encode_descriptor(
            "db_pool_max_connections",
            "The most connections the store's pool opens",
            None,
            MetricType::Gauge,
        )?;
        gauge(status.max_size).encode(max.encode_family(&engine)?)?;
        let mut waiting = encoder.encode_descriptor(
            "db_pool_waiting",
            "Callers waiting for a connection from the store's pool",
            None,
            MetricType::Gauge,
        )?;
        gauge(status.waiting).encode(waiting.encode_family(&engine)?)
    }
}
