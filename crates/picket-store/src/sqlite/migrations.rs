//! Schema migrations, embedded in the binary and applied in order at open. Each is recorded
//! in `schema_migrations`, so a restart applies only what is new.

use crate::StoreError;
use deadpool_sqlite::rusqlite::{params, Transaction};

/// (number, name, SQL). The PostgreSQL tree will carry the same numbers and names.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "identity",
        include_str!("../../migrations/sqlite/0002_identity.sql"),
    ),
    (
        3,
        "fleet",
        include_str!("../../migrations/sqlite/0003_fleet.sql"),
    ),
    (
        4,
        "releases",
        include_str!("../../migrations/sqlite/0004_releases.sql"),
    ),
    (
        5,
        "background_runs",
        include_str!("../../migrations/sqlite/0005_background_runs.sql"),
    ),
    (
        6,
        "snapshots",
        include_str!("../../migrations/sqlite/0006_snapshots.sql"),
    ),
    (
        7,
        "tenant_settings",
        include_str!("../../migrations/sqlite/0007_tenant_settings.sql"),
    ),
    (
        8,
        "identity_accounts",
        include_str!("../../migrations/sqlite/0008_identity_accounts.sql"),
    ),
    (
        9,
        "sensor_migrations",
        include_str!("../../migrations/sqlite/0009_sensor_migrations.sql"),
    ),
    (
        10,
        "network_adapters",
        include_str!("../../migrations/sqlite/0010_network_adapters.sql"),
    ),
    (
        11,
        "sign_ins",
        include_str!("../../migrations/sqlite/0011_sign_ins.sql"),
    ),
    (
        12,
        "console_clients",
        include_str!("../../migrations/sqlite/0012_console_clients.sql"),
    ),
    (
        13,
        "agent_issues_by_key",
        include_str!("../../migrations/sqlite/0013_agent_issues_by_key.sql"),
    ),
];

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
