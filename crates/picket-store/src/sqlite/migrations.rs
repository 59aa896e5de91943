//! Schema migrations, embedded in the binary and applied in order at open. Each is recorded
//! in `schema_migrations`, so a restart applies only what is new.

use crate::StoreError;
use deadpool_sqlite::rusqlite::{params, Transaction};

/// (number, name, SQL), in order: listed by `build.rs` from `migrations/sqlite` and
/// `migrations/both` (so adding a migration is adding its file).
pub const MIGRATIONS: &[(i64, &str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/migrations_sqlite.rs"));

pub(super) fn apply(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )?;
    let current: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")?
        .query_row([], |r| r.get(0))?;
    if let Some((latest, _, _)) = MIGRATIONS.last() {
        if current > *latest {
            return Err(StoreError::Internal(format!(
                "database schema version {current} is newer than this build knows ({latest}); upgrade picket"
            )));
        }
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > current) {
        tracing::info!(version, name, "applying migration");
        tx.execute_batch(sql)?;
        tx.prepare_cached(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            version,
            name,
            picket_domain::time::format_timestamp(&chrono::Utc::now())
        ])?;
    }
    Ok(())
}
