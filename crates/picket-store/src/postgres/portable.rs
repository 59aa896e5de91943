//! [`PortableStore`] for PostgreSQL: reads in one REPEATABLE READ read-only transaction (one
//! snapshot for every table while writers carry on), replaces in one write transaction holding
//! the locks of every tenant it touches (readers see all of the old rows or all of the new).

use super::{execute, query, via, Param, PostgresStore, Scope as Lock, Tx};
use crate::portable::*;
use crate::StoreError;
use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type};

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Text(s) => match *ty {
                // A value SQLite kept as text in a column PostgreSQL types as a number.
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                Type::INT4 => s.parse::<i32>()?.to_sql(ty, out),
                _ => s.as_str().to_sql(ty, out),
            },
            Cell::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().as_str().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn cell(row: &tokio_postgres::Row, i: usize) -> Result<Cell, StoreError> {
    let ty = row.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(Cell::Null, Cell::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map_or(Cell::Null, |v| Cell::Int(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map_or(Cell::Null, |v| Cell::Int(v.into())),
        _ => row
            .try_get::<_, Option<String>>(i)?
            .map_or(Cell::Null, Cell::Text),
    })
}

async fn columns(tx: &Tx<'_>, table: &str) -> Result<Vec<String>, StoreError> {
    let rows = query(
        tx,
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
        &[&table],
    )
    .await?;
    let mut names = rows
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() {
        return Err(StoreError::Internal(format!("no table '{table}'")));
    }
    names.sort();
    Ok(names)
}

async fn export(tx: &Tx<'_>, scope: &Scope, tables: &[&str]) -> Result<Vec<Table>, StoreError> {
    let tenant = scope.tenant().map(|t| t.to_string());
    let params: Vec<Param<'_>> = tenant.iter().map(|t| t as Param<'_>).collect();
    let mut out = Vec::with_capacity(tables.len());
    for &name in tables {
        let columns = columns(tx, name).await?;
        let sql = numbered(&select_sql(name, &columns, scope));
        let rows = tx.query(sql.as_str(), &params).await?;
        let mut table = Table {
            name: name.to_string(),
            columns,
            rows: Vec::with_capacity(rows.len()),
        };
        for row in &rows {
            let values = (0..table.columns.len())
                .map(|i| cell(row, i))
                .collect::<Result<Vec<_>, _>>()?;
            table.rows.push(values);
        }
        out.push(table.sorted());
    }
    Ok(out)
}

async fn replace(
    tx: &Tx<'_>,
    scope: &Scope,
    tables: &[&str],
    rows: &[Table],
) -> Result<u64, StoreError> {
    // Restores load many rows at once; the session's statement timeout is for requests.
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    let tenant = scope.tenant().map(|t| t.to_string());
    let params: Vec<Param<'_>> = tenant.iter().map(|t| t as Param<'_>).collect();
    for name in tables.iter().rev() {
        tx.execute(numbered(&delete_sql(name, scope)).as_str(), &params)
            .await?;
    }
    let mut inserted = 0u64;
    for table in rows {
        for chunk in table.rows.chunks(ROWS_PER_INSERT) {
            let sql = numbered(&insert_sql(&table.name, &table.columns, chunk.len()));
            let values: Vec<Param<'_>> = chunk.iter().flatten().map(|c| c as Param<'_>).collect();
            inserted += tx.execute(sql.as_str(), &values).await?;
        }
    }
    // Fresh statistics: a restore can change a table's size by orders of magnitude.
    for name in tables {
        tx.batch_execute(&format!("ANALYZE {name}")).await?;
    }
    Ok(inserted)
}

/// Every tenant a replacement touches: those stored now and those it brings.
async fn tenants_touched(store: &PostgresStore, rows: &[Table]) -> Result<Vec<String>, StoreError> {
    let mut tenants: Vec<String> = store
        .read((), |tx, ()| {
            Box::pin(async move {
                let rows = query(tx, "SELECT tenant_id FROM tenants", &[]).await?;
                rows.iter()
                    .map(|r| r.try_get::<_, String>(0).map_err(StoreError::from))
                    .collect()
            })
        })
        .await?;
    for table in rows.iter().filter(|t| t.name == "tenants") {
        if let Some(at) = table.columns.iter().position(|c| c == "tenant_id") {
            tenants.extend(table.rows.iter().filter_map(|r| match &r[at] {
                Cell::Text(t) => Some(t.clone()),
                _ => None,
            }));
        }
    }
    Ok(tenants)
}

crate::tables::portable::impl_portable_store!(PostgresStore, via);

async fn export_tables(
    store: &PostgresStore,
    scope: &Scope,
    tables: &[&'static str],
) -> Result<Vec<Table>, StoreError> {
    store
        .read((scope, tables), |tx, (scope, tables)| {
            Box::pin(export(tx, scope, tables))
        })
        .await
}

async fn replace_tables(
    store: &PostgresStore,
    scope: &Scope,
    tables: &[&'static str],
    rows: Vec<Table>,
) -> Result<u64, StoreError> {
    check_import(scope, tables, &rows)?;
    let lock = match scope {
        Scope::Tenant(t) => Lock::Tenant(t),
        Scope::Installation => Lock::Tenants(tenants_touched(store, &rows).await?),
    };
    let inserted = store
        .write(lock, (scope, tables, &rows), |tx, (scope, tables, rows)| {
            Box::pin(replace(tx, scope, tables, rows))
        })
        .await?;
    store.heartbeats.forget_all();
    store.sweep_plan.evaluate_all();
    Ok(inserted)
}

async fn count_rows(
    store: &PostgresStore,
    tables: &[&'static str],
) -> Result<Vec<(String, u64)>, StoreError> {
    store
        .read(tables, |tx, tables| {
            Box::pin(async move {
                let mut out = Vec::with_capacity(tables.len());
                for t in tables.iter() {
                    let row = tx
                        .query_one(&format!("SELECT COUNT(*) FROM {t}"), &[])
                        .await?;
                    out.push((
                        t.to_string(),
                        u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0),
                    ));
                }
                Ok(out)
            })
        })
        .await
}

async fn read_rows(
    store: &PostgresStore,
    sql: &'static str,
    params: Vec<Cell>,
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let sql = numbered(sql);
    store
        .read_one((sql, params), |c, (sql, params)| {
            Box::pin(async move {
                let values: Vec<Param<'_>> = params.iter().map(|p| p as Param<'_>).collect();
                let rows = query(c, sql, &values).await?;
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| cell(r, i)).collect())
                    .collect()
            })
        })
        .await
}

async fn write_statements(
    store: &PostgresStore,
    tenant: &picket_domain::TenantId,
    statements: Vec<(&'static str, Vec<Cell>)>,
) -> Result<Vec<u64>, StoreError> {
    write_under(store, Lock::Tenant(tenant), statements).await
}

async fn write_sensor_statements(
    store: &PostgresStore,
    tenant: &picket_domain::TenantId,
    sensor: &picket_domain::SensorId,
    statements: Vec<(&'static str, Vec<Cell>)>,
) -> Result<Vec<u64>, StoreError> {
    write_under(store, Lock::Sensor(tenant, sensor), statements).await
}

async fn write_under(
    store: &PostgresStore,
    lock: Lock<'_>,
    statements: Vec<(&'static str, Vec<Cell>)>,
) -> Result<Vec<u64>, StoreError> {
    let statements: Vec<(String, Vec<Cell>)> = statements
        .into_iter()
        .map(|(sql, params)| (numbered(sql), params))
        .collect();
    store
        .write(lock, statements, |tx, statements| {
            Box::pin(async move {
                let mut changed = Vec::with_capacity(statements.len());
                for (sql, params) in statements.iter() {
                    let values: Vec<Param<'_>> = params.iter().map(|p| p as Param<'_>).collect();
                    changed.push(execute(tx, sql, &values).await?);
                }
                Ok(changed)
            })
        })
        .await
}
