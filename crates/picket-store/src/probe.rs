//! What operators ask of the store itself rather than of its data: whether it answers
//! (`/readyz`), how busy its connection pool is, and how many sensors each tenant has in each
//! status (`/metrics`). Written once over both engines, as shared statements run by
//! [`PortableStore::read_texts`].

use crate::portable::PortableStore;
use crate::StoreError;

/// The statements, the same on both engines. Each census row is one text column (`tenant
/// status count`) because shared reads answer their first column as text; tenant ids are GUIDs
/// and statuses single words, so a space separates them unambiguously.
mod sql {
    pub const PING: &str = "SELECT CAST('ok' AS TEXT)";
    // Each grouping walks an index that leads with (tenant_id, status), so neither reads the
    // sensor rows themselves (SQLite: a covering index scan).
    pub const BY_HEALTH: &str =
        "SELECT tenant_id || ' ' || health_status || ' ' || CAST(count(*) AS TEXT) \
         FROM sensors GROUP BY tenant_id, health_status";
    pub const BY_DEPLOYMENT: &str =
        "SELECT tenant_id || ' ' || deployment_status || ' ' || CAST(count(*) AS TEXT) \
         FROM sensors GROUP BY tenant_id, deployment_status";
}

/// The cheapest round trip that proves the database answers a query.
pub async fn ping<S: PortableStore + ?Sized>(store: &S) -> Result<(), StoreError> {
    store.read_texts(sql::PING, Vec::new()).await.map(drop)
}

/// How many connections an engine's pool holds and lends (deadpool's view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// `"sqlite"` or `"postgres"`.
    pub engine: &'static str,
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections lent to a caller right now.
    pub in_use: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

impl PoolStatus {
    /// From the fields of deadpool's `Status` (each engine's deadpool crate has its own type).
    pub(crate) fn from_deadpool(
        engine: &'static str,
        max_size: usize,
        size: usize,
        available: usize,
        waiting: usize,
    ) -> Self {
        Self {
            engine,
            max_size,
            size,
            in_use: size.saturating_sub(available),
            waiting,
        }
    }
}

/// One tenant's sensors in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    pub tenant: String,
    pub status: String,
    pub sensors: u64,
}

/// Every tenant's sensors by health status and by deployment status: an installation-wide
/// read for operators' dashboards, never on a request path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FleetCensus {
    pub by_health: Vec<StatusCount>,
    pub by_deployment: Vec<StatusCount>,
}

pub async fn fleet_census<S: PortableStore + ?Sized>(store: &S) -> Result<FleetCensus, StoreError> {
    let by_health = store.read_texts(sql::BY_HEALTH, Vec::new()).await?;
    let by_deployment = store.read_texts(sql::BY_DEPLOYMENT, Vec::new()).await?;
    Ok(FleetCensus {
        by_health: parse_rows(&by_health)?,
        by_deployment: parse_rows(&by_deployment)?,
    })
}

fn parse_rows(rows: &[String]) -> Result<Vec<StatusCount>, StoreError> {
    rows.iter().map(|row| parse_row(row)).collect()
}

fn parse_row(row: &str) -> Result<StatusCount, StoreError> {
    let bad = || StoreError::Internal(format!("unexpected census row '{row}'"));
    let mut parts = row.split(' ');
    let (Some(tenant), Some(status), Some(count), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    Ok(StatusCount {
        tenant: tenant.to_string(),
        status: status.to_string(),
        sensors: count.parse().map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn census_rows_parse_and_odd_ones_are_refused() {
        let row = parse_row("6babcaad-604b-40ac-a9d7-9fd97c0b779f healthy 12").expect("row");
        assert_eq!(row.tenant, "6babcaad-604b-40ac-a9d7-9fd97c0b779f");
        assert_eq!(row.status, "healthy");
        assert_eq!(row.sensors, 12);
        assert!(parse_row("t healthy").is_err());
        assert!(parse_row("t healthy twelve").is_err());
        assert!(parse_row("t healthy 1 2").is_err());
    }
}
