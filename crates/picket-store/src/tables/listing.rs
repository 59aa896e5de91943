//! The one way collections are read, on both engines: tenant scope, an optional extra scope,
//! the validated `$filter`, an order that ends in `id` (stable pages), and LIMIT/OFFSET, with
//! one row more than the page to tell whether another page exists.

use crate::odata_sql::{dialect_of, filter_sql_numbered, order_sql_for, Column, SqlValue};
use crate::sql::{Arg, Db, Engine, RowRef};
use crate::{Page, PageRequest, StoreError};
use picket_odata::ValidatedQuery;

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
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            sql.push_str(" AND ");
            sql.push_str(&f.sql);
            params.extend(f.params);
        }
        Ok((sql, params))
    }

    /// The page's statement and its values (one row more than the page).
    pub fn page_sql(
        &self,
        engine: Engine,
        page: PageRequest,
    ) -> Result<(String, Vec<SqlValue>), StoreError> {
        let (where_sql, mut params) = self.where_clause(engine)?;
        let order = order_sql_for(
            &self.query.orderby,
            self.columns,
            self.default_order,
            dialect_of(engine),
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
        let mut items = db.query_dynamic(&sql, &args, map).await?;
        let has_more = items.len() > page.size as usize;
        items.truncate(page.size as usize);
        Ok(Page { items, has_more })
    }

    pub async fn count<D: Db>(&self, db: &D) -> Result<u64, StoreError> {
        let (sql, params) = self.count_sql(D::ENGINE)?;
        let args: Vec<Arg<'_>> = params.iter().map(Arg::from).collect();
        let n = db.query_dynamic(&sql, &args, |r| r.get::<i64>(0)).await?;
        Ok(n.first().map_or(0, |n| u64::try_from(*n).unwrap_or(0)))
    }
}
