//! The network adapters each sensor reports (spec §7.1), written once over both engines: one
//! JSON document per sensor, through the shared statements.

use crate::portable::{Cell, PortableStore};
use crate::StoreError;
use picket_domain::{SensorId, TenantId};
use serde::{Deserialize, Serialize};

mod sql {
    pub const FIND: &str =
        "SELECT body FROM network_adapters WHERE tenant_id = ? AND sensor_id = ?";
    pub const PUT: &str =
        "INSERT INTO network_adapters (tenant_id, sensor_id, body) VALUES (?, ?, ?) \
         ON CONFLICT (tenant_id, sensor_id) DO UPDATE SET body = excluded.body";
}

/// `microsoft.graph.security.networkAdapter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAdapter {
    pub id: String,
    pub name: String,
    pub is_enabled: bool,
}

/// The sensor's adapters, as last reported (none before its first report).
pub async fn of_sensor<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    sensor: &str,
) -> Result<Vec<NetworkAdapter>, StoreError> {
    let found = store
        .read_texts(
            sql::FIND,
            vec![Cell::Text(tenant.to_string()), Cell::Text(sensor.into())],
        )
        .await?;
    match found.first() {
        Some(body) => serde_json::from_str(body)
            .map_err(|e| StoreError::Internal(format!("stored network adapters: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// What a sensor reports on a check-in: its adapters replaced, under its own lock.
pub async fn report<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    sensor: &SensorId,
    adapters: &[NetworkAdapter],
) -> Result<(), StoreError> {
    let statement = put_statement(tenant, sensor.as_str(), adapters)?;
    store
        .write_sensor_statements(tenant, sensor, vec![statement])
        .await?;
    Ok(())
}

fn put_statement(
    tenant: &TenantId,
    sensor: &str,
    adapters: &[NetworkAdapter],
) -> Result<(&'static str, Vec<Cell>), StoreError> {
    let body = serde_json::to_string(adapters).map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok((
        sql::PUT,
        vec![
            Cell::Text(tenant.to_string()),
            Cell::Text(sensor.into()),
            Cell::Text(body),
        ],
    ))
}

/// Replaces the adapters of each sensor given, all or none.
pub async fn put<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    sensors: &[(String, Vec<NetworkAdapter>)],
) -> Result<(), StoreError> {
    let statements = sensors
        .iter()
        .map(|(sensor, adapters)| put_statement(tenant, sensor, adapters))
        .collect::<Result<Vec<_>, StoreError>>()?;
    store.write_statements(tenant, statements).await?;
    Ok(())
}
