//! `picket migrate-data`: copies a whole SQLite installation (every tenant, the identity data,
//! the fleet's internal tables, signing keys and releases) into a PostgreSQL database. Both
//! schemas are brought to the same version first; the two engines share one logical schema, so
//! the copy goes table by table, column by column, from one SQLite read snapshot into one
//! PostgreSQL transaction, and then checks every table's row count.

use super::PostgresStore;
use crate::odata_sql::SqlValue;
use crate::{Catalogue, PostgresConfig, SqliteStore, StoreError};
use deadpool_sqlite::rusqlite::{types::ValueRef, Connection, OpenFlags};
use std::path::Path;
use tokio_postgres::types::ToSql;

/// Rows sent to PostgreSQL per INSERT statement.
const ROWS_PER_INSERT: usize = 200;

/// One table copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    pub table: String,
    /// Rows in the SQLite source.
    pub source_rows: u64,
    /// Rows in the PostgreSQL target afterwards.
    pub target_rows: u64,
}

fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Copies `sqlite` into `target`. A target that already holds rows is refused unless
/// `into_non_empty` (then rows whose key exists there are kept as they are).
pub async fn sqlite_to_postgres(
    sqlite: &Path,
    target: &PostgresConfig,
    catalogue: Catalogue,
    into_non_empty: bool,
) -> Result<Vec<CopiedTable>, StoreError> {
    // Both at the latest schema version: the same tables and columns on each side.
    drop(SqliteStore::open(sqlite, catalogue.clone()).await?);
    let (store, _) = PostgresStore::migrate(target, catalogue).await?;
    let source = Connection::open_with_flags(sqlite, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // One snapshot of the source for the whole copy, even if a server is writing to it.
    source.execute_batch("BEGIN")?;
    let tables = source_tables(&source)?;

    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    if !into_non_empty {
        for (table, _) in &tables {
            let row = tx
                .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), &[])
                .await?;
            if row.try_get::<_, bool>(0)? {
                return Err(StoreError::Conflict(format!(
                    "the target database is not empty (table '{table}' has rows); copy into it anyway with --into-non-empty"
                )));
            }
        }
    }
    let mut report = Vec::with_capacity(tables.len());
    for (table, columns) in &tables {
        let source_rows = copy_table(&source, &tx, table, columns).await?;
        report.push(CopiedTable {
            table: table.clone(),
            source_rows,
            target_rows: 0,
        });
    }
    for entry in &mut report {
        let row = tx
            .query_one(&format!("SELECT COUNT(*) FROM {}", entry.table), &[])
            .await?;
        entry.target_rows = u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0);
        let complete = if into_non_empty {
            entry.target_rows >= entry.source_rows
        } else {
            entry.target_rows == entry.source_rows
        };
        if !complete {
            return Err(StoreError::Internal(format!(
                "table '{}': {} rows in SQLite but {} in PostgreSQL; nothing was committed",
                entry.table, entry.source_rows, entry.target_rows
            )));
        }
    }
    tx.commit().await?;
    source.execute_batch("COMMIT")?;
    // Fresh statistics for the planner at once, rather than whenever autovacuum gets to it.
    for entry in &report {
        client
            .batch_execute(&format!("ANALYZE {}", entry.table))
            .await?;
    }
    Ok(report)
}

/// The data tables of the source in creation order (parents before children), with columns.
fn source_tables(c: &Connection) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    let names: Vec<String> = c
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name != 'schema_migrations' ORDER BY rowid",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if !valid_identifier(&name) {
            return Err(StoreError::Internal(format!(
                "unexpected table name '{name}' in the source"
            )));
        }
        let columns: Vec<String> = c
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{name}') ORDER BY cid"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if let Some(bad) = columns.iter().find(|c| !valid_identifier(c)) {
            return Err(StoreError::Internal(format!(
                "unexpected column name '{bad}' in table '{name}'"
            )));
        }
        out.push((name, columns));
    }
    Ok(out)
}

fn value(v: ValueRef<'_>) -> Result<SqlValue, StoreError> {
    Ok(match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Int(i),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Real(r) => SqlValue::Text(r.to_string()),
        ValueRef::Blob(_) => {
            return Err(StoreError::Internal(
                "a binary value in the source: no Picket table holds one".into(),
            ))
        }
    })
}

async fn copy_table(
    source: &Connection,
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    columns: &[String],
) -> Result<u64, StoreError> {
    let list = columns.join(", ");
    let mut stmt = source.prepare(&format!("SELECT {list} FROM {table}"))?;
    let mut rows = stmt.query([])?;
    let mut batch: Vec<SqlValue> = Vec::with_capacity(ROWS_PER_INSERT * columns.len());
    let mut copied = 0u64;
    while let Some(row) = rows.next()? {
        for i in 0..columns.len() {
            batch.push(value(row.get_ref(i)?)?);
        }
        copied += 1;
        if batch.len() >= ROWS_PER_INSERT * columns.len() {
            insert(tx, table, &list, columns.len(), &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        insert(tx, table, &list, columns.len(), &batch).await?;
    }
    Ok(copied)
}

async fn insert(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    list: &str,
    width: usize,
    values: &[SqlValue],
) -> Result<(), StoreError> {
    let rows = values.len() / width.max(1);
    let placeholders: Vec<String> = (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({list}) VALUES {} ON CONFLICT DO NOTHING",
        placeholders.join(", ")
    );
    let params: Vec<&(dyn ToSql + Sync)> =
        values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
    tx.execute(sql.as_str(), &params).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_identifiers_reach_the_sql() {
        for ok in ["sensors", "sensor_agents", "t_2"] {
            assert!(valid_identifier(ok), "{ok}");
        }
        for bad in ["", "Sensors", "a;drop", "x y", "\"q\""] {
            assert!(!valid_identifier(bad), "{bad}");
        }
    }
}
