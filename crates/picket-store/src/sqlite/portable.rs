//! [`PortableStore`] for SQLite: reads in one read transaction of a read-only connection (a
//! WAL snapshot: writers carry on, the rows are as of one instant), replaces through the group
//! commit writer (one transaction: readers see all of the old rows or all of the new).

use super::{via, SqliteStore};
use crate::portable::*;
use crate::StoreError;
use deadpool_sqlite::rusqlite::types::{ToSqlOutput, ValueRef};
use deadpool_sqlite::rusqlite::{self, params_from_iter, Connection, ToSql};

impl ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Cell::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Cell::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn cell(v: ValueRef<'_>) -> Result<Cell, StoreError> {
    Ok(match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Real(r) => Cell::Text(r.to_string()),
        ValueRef::Blob(_) => {
            return Err(StoreError::Internal(
                "a binary value: no Picket table holds one".into(),
            ))
        }
    })
}

/// The first `width` values of a row.
fn cells(row: &rusqlite::Row<'_>, width: usize) -> Result<Vec<Cell>, StoreError> {
    (0..width).map(|i| cell(row.get_ref(i)?)).collect()
}

fn columns(c: &Connection, table: &str) -> Result<Vec<String>, StoreError> {
    let mut names: Vec<String> = c
        .prepare_cached("SELECT name FROM pragma_table_info(?1)")?
        .query_map([table], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if names.is_empty() {
        return Err(StoreError::Internal(format!("no table '{table}'")));
    }
    names.sort();
    Ok(names)
}

fn export(c: &Connection, scope: &Scope, tables: &[&str]) -> Result<Vec<Table>, StoreError> {
    let mut out = Vec::with_capacity(tables.len());
    for &name in tables {
        let columns = columns(c, name)?;
        let mut stmt = c.prepare(&select_sql(name, &columns, scope))?;
        let tenant = scope.tenant().map(|t| t.to_string());
        let mut rows = stmt.query(params_from_iter(tenant.iter()))?;
        let mut table = Table {
            name: name.to_string(),
            columns: columns.clone(),
            rows: Vec::new(),
        };
        while let Some(row) = rows.next()? {
            table.rows.push(cells(row, columns.len())?);
        }
        out.push(table.sorted());
    }
    Ok(out)
}

fn replace(
    tx: &rusqlite::Transaction<'_>,
    scope: &Scope,
    tables: &[&str],
    rows: &[Table],
) -> Result<u64, StoreError> {
    let tenant = scope.tenant().map(|t| t.to_string());
    for name in tables.iter().rev() {
        tx.execute(&delete_sql(name, scope), params_from_iter(tenant.iter()))?;
    }
    let mut inserted = 0u64;
    for table in rows {
        for chunk in table.rows.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(&table.name, &table.columns, chunk.len());
            inserted += tx.execute(&sql, params_from_iter(chunk.iter().flatten()))? as u64;
        }
    }
    Ok(inserted)
}

crate::tables::portable::impl_portable_store!(SqliteStore, via);

async fn export_tables(
    store: &SqliteStore,
    scope: &Scope,
    tables: &[&'static str],
) -> Result<Vec<Table>, StoreError> {
    store
        .read(|c| {
            // A read transaction: every table from the same WAL snapshot.
            c.execute_batch("BEGIN")?;
            let result = export(c, scope, tables);
            c.execute_batch("COMMIT")?;
            result
        })
        .await
}

async fn replace_tables(
    store: &SqliteStore,
    scope: &Scope,
    tables: &[&'static str],
    rows: Vec<Table>,
) -> Result<u64, StoreError> {
    check_import(scope, tables, &rows)?;
    let (scope, tables) = (scope.clone(), tables.to_vec());
    let inserted = store
        .write(move |tx| replace(tx, &scope, &tables, &rows))
        .await?;
    store.heartbeats.forget_all();
    store.sweep_plan.evaluate_all();
    Ok(inserted)
}

async fn count_rows(
    store: &SqliteStore,
    tables: &[&'static str],
) -> Result<Vec<(String, u64)>, StoreError> {
    store
        .read(|c| {
            tables
                .iter()
                .map(|t| {
                    let n: i64 =
                        c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))?;
                    Ok((t.to_string(), u64::try_from(n).unwrap_or(0)))
                })
                .collect()
        })
        .await
}

async fn read_rows(
    store: &SqliteStore,
    sql: &'static str,
    params: Vec<Cell>,
) -> Result<Vec<Vec<Cell>>, StoreError> {
    store
        .read(|c| {
            let mut stmt = c.prepare_cached(sql)?;
            let width = stmt.column_count();
            let mut rows = stmt.query(params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(cells(row, width)?);
            }
            Ok(out)
        })
        .await
}

async fn write_sensor_statements(
    store: &SqliteStore,
    tenant: &picket_domain::TenantId,
    _sensor: &picket_domain::SensorId,
    statements: Vec<(&'static str, Vec<Cell>)>,
) -> Result<Vec<u64>, StoreError> {
    write_statements(store, tenant, statements).await
}

async fn write_statements(
    store: &SqliteStore,
    _tenant: &picket_domain::TenantId,
    statements: Vec<(&'static str, Vec<Cell>)>,
) -> Result<Vec<u64>, StoreError> {
    // One writer: the group commit already runs the tenant's writes one at a time, and each
    // call is a savepoint of its own (all or none).
    store
        .write(move |tx| {
            statements
                .iter()
                .map(|(sql, params)| {
                    Ok(tx
                        .prepare_cached(sql)?
                        .execute(params_from_iter(params.iter()))? as u64)
                })
                .collect()
        })
        .await
}
