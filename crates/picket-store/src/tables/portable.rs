//! The statements of the portable layer (`crate::portable`) that are the same on both engines:
//! stored snapshots and the schema version. Reading and replacing whole tables stays with each
//! engine (its snapshot of the database, its transaction, PostgreSQL's text-to-number binding).

use crate::portable::SnapshotInfo;
use crate::sql::{Db, RowRef};
use crate::{args, sql, StoreError};

/// The latest migration applied.
pub async fn schema_version(db: &impl Db) -> Result<i64, StoreError> {
    Ok(db
        .value::<i64>(
            sql!("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"),
            &[],
        )
        .await?
        .unwrap_or(0))
}

/// Stores (or replaces) a snapshot.
pub async fn put_snapshot(db: &impl Db, info: &SnapshotInfo, body: &str) -> Result<(), StoreError> {
    db.execute(
        sql!(
            "INSERT INTO snapshots (scope, name, created_at, rows, body) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (scope, name) DO UPDATE SET \
             created_at = excluded.created_at, rows = excluded.rows, body = excluded.body"
        ),
        args![
            &info.scope,
            &info.name,
            &info.created_date_time,
            i64::try_from(info.rows).unwrap_or(i64::MAX),
            body
        ],
    )
    .await?;
    Ok(())
}

pub async fn snapshot_body(
    db: &impl Db,
    scope: &str,
    name: &str,
) -> Result<Option<String>, StoreError> {
    db.value::<String>(
        sql!("SELECT body FROM snapshots WHERE scope = $1 AND name = $2"),
        args![scope, name],
    )
    .await
}

fn info_from_row(row: &dyn RowRef) -> Result<SnapshotInfo, StoreError> {
    Ok(SnapshotInfo {
        scope: row.get(0)?,
        name: row.get(1)?,
        created_date_time: row.get(2)?,
        rows: u64::try_from(row.get::<i64>(3)?).unwrap_or(0),
    })
}

/// A scope's snapshots, or every scope's, by name.
pub async fn list_snapshots(
    db: &impl Db,
    scope: Option<&str>,
) -> Result<Vec<SnapshotInfo>, StoreError> {
    match scope {
        Some(scope) => {
            db.query(
                sql!(
                    "SELECT scope, name, created_at, rows FROM snapshots WHERE scope = $1 \
                     ORDER BY name"
                ),
                args![scope],
                info_from_row,
            )
            .await
        }
        None => {
            db.query(
                sql!("SELECT scope, name, created_at, rows FROM snapshots ORDER BY scope, name"),
                &[],
                info_from_row,
            )
            .await
        }
    }
}

/// False when there was no such snapshot.
pub async fn delete_snapshot(db: &impl Db, scope: &str, name: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            sql!("DELETE FROM snapshots WHERE scope = $1 AND name = $2"),
            args![scope, name],
        )
        .await?
        > 0)
}

/// `impl_portable_store!(Store, via)`: implements [`crate::PortableStore`] for an engine's store
/// (see [`crate::tables::delegate!`]). Reading and replacing whole tables, and the statements
/// written in the portable form, are the engine's own functions of the same names, in the module
/// that uses this.
macro_rules! impl_portable_store {
    ($store:ty, $via:ident) => {
        const _: () = {
            use picket_domain::{SensorId, TenantId};
            use $crate::portable::{Cell, PortableStore, Scope, SnapshotInfo, Table};
            use $crate::tables::portable;

            $crate::tables::delegate! { $via; impl PortableStore for $store {
                fn export_tables(&self, scope: &Scope, tables: &[&'static str]) -> Vec<Table>
                    = engine export_tables;
                fn replace_tables(&self, scope: &Scope, tables: &[&'static str], rows: Vec<Table>)
                    -> u64 = engine replace_tables;
                fn count_rows(&self, tables: &[&'static str]) -> Vec<(String, u64)>
                    = engine count_rows;
                fn schema_version(&self) -> i64 = read portable::schema_version;

                fn put_snapshot(&self, info: &SnapshotInfo, body: String) -> ()
                    = write[snapshot(&info.scope)] portable::put_snapshot;
                fn snapshot_body(&self, scope: &str, name: &str) -> Option<String>
                    = read portable::snapshot_body;
                fn list_snapshots(&self, scope: Option<&str>) -> Vec<SnapshotInfo>
                    = read portable::list_snapshots;
                fn delete_snapshot(&self, scope: &str, name: &str) -> bool
                    = write[snapshot(scope)] portable::delete_snapshot;

                fn read_rows(&self, sql: &'static str, params: Vec<Cell>) -> Vec<Vec<Cell>>
                    = engine read_rows;
                fn write_statements(
                    &self, tenant: &TenantId, statements: Vec<(&'static str, Vec<Cell>)>
                ) -> Vec<u64> = engine write_statements;
                fn write_sensor_statements(
                    &self, tenant: &TenantId, sensor: &SensorId,
                    statements: Vec<(&'static str, Vec<Cell>)>
                ) -> Vec<u64> = engine write_sensor_statements;
            }}
        };
    };
}
pub(crate) use impl_portable_store;
