//! The one way collections are read, as in SQLite: tenant scope, an optional extra scope, the
//! validated `$filter`, an order that ends in `id` (stable pages), and LIMIT/OFFSET, with one
//! row more than the page to tell whether another page exists.

use super::Param;
use crate::odata_sql::{filter_sql_for, order_sql_for, Column, Dialect, SqlValue};
use crate::{Page, PageRequest, StoreError};
use deadpool_postgres::GenericClient;
use picket_odata::ValidatedQuery;
use tokio_postgres::Row;

pub struct Listing<'a> {
    pub table: &'static str,
    pub select: &'static str,
    pub columns: &'static [Column],
    pub default_order: &'static str,
    pub tenant: &'a str,
    /// Extra scope as SQL text of our own, its placeholders numbered from `$2` (the tenant is
    /// `$1`), with its bound values.
    pub scope: Option<(&'static str, Vec<SqlValue>)>,
    pub query: &'a ValidatedQuery,
}

impl Listing<'_> {
    fn where_clause(&self) -> Result<(String, Vec<SqlValue>), StoreError> {
        let mut sql = String::from("tenant_id = $1");
        let mut params = vec![SqlValue::Text(self.tenant.to_string())];
        if let Some((scope, values)) = &self.scope {
            sql.push_str(" AND ");
            sql.push_str(scope);
            params.extend(values.iter().cloned());
        }
        if let Some(filter) = &self.query.filter {
            let f = filter_sql_for(
                filter,
                self.columns,
                Dialect::Postgres {
                    first_param: params.len(),
                },
            )
            .map_err(|e| StoreError::Internal(e.to_string()))?;
            sql.push_str(" AND ");
            sql.push_str(&f.sql);
            params.extend(f.params);
        }
        Ok((sql, params))
    }

    /// The page's statement and its values (one row more than the page).
    fn page_sql(&self, page: PageRequest) -> Result<(String, Vec<SqlValue>), StoreError> {
        let (where_sql, mut params) = self.where_clause()?;
        let order = order_sql_for(
            &self.query.orderby,
            self.columns,
            self.default_order,
            Dialect::Postgres { first_param: 0 },
        )
        .map_err(|e| StoreError::Internal(e.to_string()))?;
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT ${} OFFSET ${}",
            self.select,
            self.table,
            where_sql,
            order,
            params.len() + 1,
            params.len() + 2
        );
        params.push(SqlValue::Int(i64::from(page.size) + 1));
        params.push(SqlValue::Int(i64::try_from(page.skip).unwrap_or(i64::MAX)));
        Ok((sql, params))
    }

    fn count_sql(&self) -> Result<(String, Vec<SqlValue>), StoreError> {
        let (where_sql, params) = self.where_clause()?;
        Ok((
            format!("SELECT COUNT(*) FROM {} WHERE {}", self.table, where_sql),
            params,
        ))
    }

    pub async fn page<T, C: GenericClient>(
        &self,
        tx: &C,
        page: PageRequest,
        map: fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let (sql, params) = self.page_sql(page)?;
        let refs: Vec<Param<'_>> = params.iter().map(|p| p as Param<'_>).collect();
        // Filters vary per request: prepared unnamed, not kept in the statement cache.
        let rows = tx.query(sql.as_str(), &refs).await?;
        let mut items = rows.iter().map(map).collect::<Result<Vec<_>, _>>()?;
        let has_more = items.len() > page.size as usize;
        items.truncate(page.size as usize);
        Ok(Page {
            items,
            has_more,
            next: None,
        })
    }

    /// The plan PostgreSQL makes for the page (`count`: for the count), as EXPLAIN prints it:
    /// tests check that filters use their indexes.
    pub async fn explain<C: GenericClient>(
        &self,
        tx: &C,
        page: PageRequest,
        count: bool,
    ) -> Result<String, StoreError> {
        let (sql, params) = if count {
            self.count_sql()?
        } else {
            self.page_sql(page)?
        };
        let refs: Vec<Param<'_>> = params.iter().map(|p| p as Param<'_>).collect();
        let rows = tx.query(format!("EXPLAIN {sql}").as_str(), &refs).await?;
        let lines: Result<Vec<String>, _> =
            rows.iter().map(|r| r.try_get::<_, String>(0)).collect();
        Ok(lines?.join("\n"))
    }

    pub async fn count<C: GenericClient>(&self, tx: &C) -> Result<u64, StoreError> {
        let (sql, params) = self.count_sql()?;
        let refs: Vec<Param<'_>> = params.iter().map(|p| p as Param<'_>).collect();
        let n: i64 = tx.query_one(sql.as_str(), &refs).await?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
