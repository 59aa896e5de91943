//! Sensor migrations (beta `sensorMigration`, spec §7.2), written once over both engines:
//! one document per sensor asked to migrate, read and written through the shared statements.

use crate::portable::{Cell, PortableStore};
use crate::StoreError;
use picket_domain::{MigrationState, TenantId};
use serde::{Deserialize, Serialize};

mod sql {
    pub const LIST: &str =
        "SELECT body FROM sensor_migrations WHERE tenant_id = ? ORDER BY sensor_id";
    pub const FIND: &str =
        "SELECT body FROM sensor_migrations WHERE tenant_id = ? AND sensor_id = ?";
    pub const PUT: &str = "INSERT INTO sensor_migrations (tenant_id, sensor_id, state, body) \
         VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, sensor_id) DO UPDATE SET \
         state = excluded.state, body = excluded.body";
}

/// One sensor's move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationRecord {
    pub sensor_id: String,
    pub state: MigrationState,
    pub requested_date_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_date_time: Option<String>,
    /// The classic version it moved from.
    pub from_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn parse(text: &str) -> Result<MigrationRecord, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Internal(format!("a stored migration: {e}")))
}

pub async fn list<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<Vec<MigrationRecord>, StoreError> {
    store
        .read_texts(sql::LIST, vec![Cell::Text(tenant.to_string())])
        .await?
        .iter()
        .map(|b| parse(b))
        .collect()
}

pub async fn find<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    sensor: &str,
) -> Result<Option<MigrationRecord>, StoreError> {
    let found = store
        .read_texts(
            sql::FIND,
            vec![Cell::Text(tenant.to_string()), Cell::Text(sensor.into())],
        )
        .await?;
    found.first().map(|b| parse(b)).transpose()
}

/// Stores records (replacing each sensor's), all or none.
pub async fn put_all<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    records: &[MigrationRecord],
) -> Result<(), StoreError> {
    let statements = records
        .iter()
        .map(|r| {
            let body = serde_json::to_string(r).map_err(|e| StoreError::Internal(e.to_string()))?;
            Ok((
                sql::PUT,
                vec![
                    Cell::Text(tenant.to_string()),
                    Cell::Text(r.sensor_id.clone()),
                    Cell::Text(r.state.as_str().into()),
                    Cell::Text(body),
                ],
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    store.write_statements(tenant, statements).await?;
    Ok(())
}
