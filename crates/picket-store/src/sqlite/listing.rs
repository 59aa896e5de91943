//! The one way collections are read: tenant scope, an optional extra scope, the validated
//! `$filter`, an order that ends in `id` (stable pages), and LIMIT/OFFSET. One row more than
//! the page is fetched to tell whether another page exists.

use super::rows::to_sql;
use crate::odata_sql::{filter_sql, order_sql, Column};
use crate::{Page, PageRequest, StoreError};
use deadpool_sqlite::rusqlite::{self, params_from_iter, types::Value, Connection, Row};
use picket_odata::ValidatedQuery;

pub struct Listing<'a> {
    pub table: &'static str,
    pub select: &'static str,
    pub columns: &'static [Column],
    pub default_order: &'static str,
    pub tenant: &'a str,
    /// Extra scope as SQL text of our own with its bound values (e.g. a sensor's issues).
    pub scope: Option<(&'static str, Vec<Value>)>,
    pub query: &'a ValidatedQuery,
}

impl Listing<'_> {
    fn where_clause(&self) -> Result<(String, Vec<Value>), StoreError> {
        let mut sql = String::from("tenant_id = ?");
        let mut params = vec![Value::Text(self.tenant.to_string())];
        if let Some((scope, values)) = &self.scope {
            sql.push_str(" AND ");
            sql.push_str(scope);
            params.extend(values.iter().cloned());
        }
        if let Some(filter) = &self.query.filter {
            let f = filter_sql(filter, self.columns)
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            sql.push_str(" AND ");
            sql.push_str(&f.sql);
            params.extend(f.params.iter().map(to_sql));
        }
        Ok((sql, params))
    }

    pub fn page<T>(
        &self,
        conn: &Connection,
        page: PageRequest,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Page<T>, StoreError> {
        let (where_sql, mut params) = self.where_clause()?;
        let order = order_sql(&self.query.orderby, self.columns, self.default_order)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT ? OFFSET ?",
            self.select, self.table, where_sql, order
        );
        params.push(Value::Integer(i64::from(page.size) + 1));
        params.push(Value::Integer(i64::try_from(page.skip).unwrap_or(i64::MAX)));
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut items = stmt
            .query_map(params_from_iter(params), map)?
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = items.len() > page.size as usize;
        items.truncate(page.size as usize);
        Ok(Page {
            items,
            has_more,
            next: None,
        })
    }

    pub fn count(&self, conn: &Connection) -> Result<u64, StoreError> {
        let (where_sql, params) = self.where_clause()?;
        let sql = format!("SELECT COUNT(*) FROM {} WHERE {}", self.table, where_sql);
        let n: i64 = conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(params), |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
