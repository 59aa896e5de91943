//! Schema migrations for PostgreSQL: the same numbers and names as the SQLite tree, embedded
//! and applied in order at open under an advisory lock (replicas starting together apply each
//! once), each recorded in `schema_migrations`.

use super::{execute, query_one, Tx};
use crate::StoreError;

/// (number, name, SQL), in order: listed by `build.rs` from `migrations/postgres` and
/// `migrations/both` (so adding a migration is adding its file).
pub const MIGRATIONS: &[(i64, &str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/migrations_postgres.rs"));

/// Brings the schema up to date (`apply_missing`), or only checks that it is (`serve` does not
/// migrate a shared database by itself: `picket migrate` does). Returns how many it applied.
pub(super) async fn apply(
    tx: &Tx<'_>,
    namespace: &str,
    apply_missing: bool,
) -> Result<usize, StoreError> {
    // A migration may rewrite a large table: the per-statement limit does not apply here.
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    let key = format!("{namespace}:migrations");
    execute(
        tx,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&key],
    )
    .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .await?;
    let current: i64 = query_one(
        tx,
        "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations",
        &[],
    )
    .await?
    .try_get(0)?;
    if let Some((latest, _, _)) = MIGRATIONS.last() {
        if current > *latest {
            return Err(StoreError::Internal(format!(
                "database schema version {current} is newer than this build knows ({latest}); upgrade picket"
            )));
        }
    }
    let missing: Vec<_> = MIGRATIONS.iter().filter(|(v, _, _)| *v > current).collect();
    if !apply_missing && !missing.is_empty() {
        let latest = MIGRATIONS.last().map_or(0, |m| m.0);
        return Err(StoreError::SchemaBehind(format!(
            "the PostgreSQL schema is at version {current} and this picket needs {latest}: run 'picket migrate --database URL' first"
        )));
    }
    let applied = missing.len();
    for (version, name, sql) in missing {
        tracing::info!(version, name, "applying migration");
        tx.batch_execute(sql).await?;
        let applied_at = picket_domain::time::format_timestamp(&chrono::Utc::now());
        execute(
            tx,
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[version, name, &applied_at],
        )
        .await?;
    }
    Ok(applied)
}
