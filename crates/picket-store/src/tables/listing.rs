//! The one way collections are read, on both engines: tenant scope, an optional extra scope,
//! the validated `$filter`, an order that ends in `id` (stable pages), and a page of rows after
//! the `$skiptoken`'s key (keyset: a deep page costs what the first does), or at `$skip`. One
//! row more than the page is fetched to tell whether another page exists, and each row carries
//! its sort key so the last one becomes the next page's token.

use crate::odata_sql::{
    dialect_of, filter_sql_numbered, keyset_sql, order_clause, order_terms, Column, OrderTerm,
    SqlValue,
};
use crate::sql::{Arg, Cell, Db, Engine, RowRef};
use crate::{Page, PageRequest, StoreError};
use picket_odata::{KeyValue, SkipToken, ValidatedQuery};

pub struct Listing<'a> {
    pub table: &'static str,
    pub select: &'static str,
    pub columns: &'static [Column],
    /// The order without `$orderby`, as SQL terms of NOT NULL columns ending in `id`.
    pub default_order: &'static str,
    pub tenant: &'a str,
    /// Extra scope as SQL text of our own, its placeholders numbered from `$2` (the tenant is
    /// `$1`), with its bound values.
    pub scope: Option<(&'static str, Vec<SqlValue>)>,
    pub query: &'a ValidatedQuery,
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn key_value(v: &KeyValue) -> SqlValue {
    match v {
        KeyValue::Null => SqlValue::Null,
        KeyValue::Int(i) => SqlValue::Int(*i),
        KeyValue::Text(s) => SqlValue::Text(s.clone()),
    }
}

/// The sort key at the end of `row` (the last `n` cells).
fn key_of(row: &dyn RowRef, n: usize) -> Result<Vec<KeyValue>, StoreError> {
    let width = row.width();
    (width.saturating_sub(n)..width)
        .map(|i| {
            Ok(match row.cell(i)? {
                Cell::Null => KeyValue::Null,
                Cell::Int(v) => KeyValue::Int(v),
                Cell::Text(s) => KeyValue::Text(s.to_string()),
            })
        })
        .collect()
}

impl Listing<'_> {
    fn where_clause(&self, engine: Engine) -> Result<(String, Vec<SqlValue>), StoreError> {
        let mut sql = String::from("tenant_id = $1");
        let mut params = vec![SqlValue::Text(self.tenant.to_string())];
        if let Some((scope, values)) = &self.scope {
            sql.push_str(" AND ");
            sql.push_str(scope);
            params.extend(values.iter().cloned());
        }
        if let Some(filter) = &self.query.filter {
            let f = filter_sql_numbered(filter, self.columns, engine, params.len())
                .map_err(internal)?;
            sql.push_str(" AND ");
            sql.push_str(&f.sql);
            params.extend(f.params);
        }
        Ok((sql, params))
    }

    fn terms(&self, engine: Engine) -> Result<Vec<OrderTerm>, StoreError> {
        order_terms(
            &self.query.orderby,
            self.columns,
            self.default_order,
            dialect_of(engine),
        )
        .map_err(internal)
    }

    /// The page's statement and its values (one row more than the page), each row followed by
    /// its sort key.
    pub fn page_sql(
        &self,
        engine: Engine,
        page: PageRequest,
    ) -> Result<(String, Vec<SqlValue>), StoreError> {
        let (mut where_sql, mut params) = self.where_clause(engine)?;
        let terms = self.terms(engine)?;
        if let Some(token) = &self.query.skiptoken {
            if token.after.len() != terms.len() {
                return Err(StoreError::Invalid(
                    "Invalid value for query option '$skiptoken': it was not issued for this query; \
                     follow @odata.nextLink as returned"
                        .into(),
                ));
            }
            let key: Vec<SqlValue> = token.after.iter().map(key_value).collect();
            let after = keyset_sql(&terms, &key, params.len());
            where_sql.push_str(" AND ");
            where_sql.push_str(&after.sql);
            params.extend(after.params);
        }
        let key_columns: Vec<&str> = terms.iter().map(|t| t.expr.as_str()).collect();
        let sql = format!(
            "SELECT {}, {} FROM {} WHERE {} ORDER BY {} LIMIT ${} OFFSET ${}",
            self.select,
            key_columns.join(", "),
            self.table,
            where_sql,
            order_clause(&terms, dialect_of(engine)),
            params.len() + 1,
            params.len() + 2
        );
        params.push(SqlValue::Int(i64::from(page.size) + 1));
        params.push(SqlValue::Int(i64::try_from(page.skip).unwrap_or(i64::MAX)));
        Ok((sql, params))
    }

    pub fn count_sql(&self, engine: Engine) -> Result<(String, Vec<SqlValue>), StoreError> {
        let (where_sql, params) = self.where_clause(engine)?;
        Ok((
            format!("SELECT COUNT(*) FROM {} WHERE {}", self.table, where_sql),
            params,
        ))
    }

    pub async fn page<T, D: Db>(
        &self,
        db: &D,
        page: PageRequest,
        map: fn(&dyn RowRef) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let (sql, params) = self.page_sql(D::ENGINE, page)?;
        let args: Vec<Arg<'_>> = params.iter().map(Arg::from).collect();
        let size = page.size as usize;
        let key_len = self.terms(D::ENGINE)?.len();
        let mut seen = 0usize;
        let mut last_key = None;
        let mut items = db
            .query_dynamic(&sql, &args, |row| {
                seen += 1;
                if seen == size {
                    last_key = Some(key_of(row, key_len)?);
                }
                map(row)
            })
            .await?;
        let has_more = items.len() > size;
        items.truncate(size);
        let next = has_more
            .then_some(last_key)
            .flatten()
            .map(|after| SkipToken { after });
        Ok(Page {
            items,
            has_more,
            next,
        })
    }

    /// How the engine plans the page (or the count), one line per plan node as its EXPLAIN
    /// prints it: the tests check that a filter reads its index, not the tenant's rows.
    pub async fn explain<D: Db>(
        &self,
        db: &D,
        page: PageRequest,
        count: bool,
    ) -> Result<String, StoreError> {
        let (sql, params) = if count {
            self.count_sql(D::ENGINE)?
        } else {
            self.page_sql(D::ENGINE, page)?
        };
        let args: Vec<Arg<'_>> = params.iter().map(Arg::from).collect();
        // PostgreSQL prints one text column; SQLite's plan rows are (id, parent, -, detail).
        let (explain, column) = match D::ENGINE {
            Engine::Postgres => ("EXPLAIN", 0),
            Engine::Sqlite => ("EXPLAIN QUERY PLAN", 3),
        };
        let lines = db
            .query_dynamic(&format!("{explain} {sql}"), &args, |r| {
                r.get::<String>(column)
            })
            .await?;
        Ok(lines.join("\n"))
    }

    pub async fn count<D: Db>(&self, db: &D) -> Result<u64, StoreError> {
        let (sql, params) = self.count_sql(D::ENGINE)?;
        let args: Vec<Arg<'_>> = params.iter().map(Arg::from).collect();
        let n = db.query_dynamic(&sql, &args, |r| r.get::<i64>(0)).await?;
        Ok(n.first().map_or(0, |n| u64::try_from(*n).unwrap_or(0)))
    }
}
