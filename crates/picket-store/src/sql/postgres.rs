//! [`Db`] over a PostgreSQL client or transaction: statements prepared once per connection
//! (the pool's statement cache), arguments bound to whatever type the server inferred.

use super::{Arg, Cell, Db, Engine, RowRef, Stmt};
use crate::StoreError;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::{IsNull, ToSql, Type};

/// A pooled client or a transaction seen as a [`Db`].
pub struct Pg<'c, C>(pub &'c C);

impl<C> Clone for Pg<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C> Copy for Pg<'_, C> {}

/// Integers meet whatever integer type the column has; the schema stores text and BIGINT, but a
/// few expressions (`count(*)`, `LIMIT`) are inferred narrower or wider.
impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Text(s) => s.to_sql(ty, out),
            Arg::TextList(items) => items.to_sql(ty, out),
            Arg::Int(i) => match *ty {
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
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

impl RowRef for tokio_postgres::Row {
    fn cell(&self, idx: usize) -> Result<Cell<'_>, StoreError> {
        let column = self
            .columns()
            .get(idx)
            .ok_or_else(|| StoreError::Internal(format!("no column {idx} in the row")))?;
        Ok(match *column.type_() {
            Type::INT8 => self
                .try_get::<_, Option<i64>>(idx)?
                .map_or(Cell::Null, Cell::Int),
            Type::INT4 => self
                .try_get::<_, Option<i32>>(idx)?
                .map_or(Cell::Null, |i| Cell::Int(i.into())),
            Type::INT2 => self
                .try_get::<_, Option<i16>>(idx)?
                .map_or(Cell::Null, |i| Cell::Int(i.into())),
            Type::BOOL => self
                .try_get::<_, Option<bool>>(idx)?
                .map_or(Cell::Null, |b| Cell::Int(b.into())),
            _ => self
                .try_get::<_, Option<&str>>(idx)?
                .map_or(Cell::Null, Cell::Text),
        })
    }

    fn width(&self) -> usize {
        self.len()
    }
}

fn params<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// The type each argument declares when a statement is sent with its values (`query_typed`).
/// A NULL declares none (`unknown`): the server infers it from where it stands, as it does for
/// a prepared statement.
fn typed<'a>(args: &'a [Arg<'a>]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    args.iter()
        .map(|a| {
            let ty = match a {
                Arg::Null => Type::UNKNOWN,
                Arg::Int(_) => Type::INT8,
                Arg::Text(_) => Type::TEXT,
                Arg::TextList(_) => Type::TEXT_ARRAY,
            };
            (a as &(dyn ToSql + Sync), ty)
        })
        .collect()
}

type Rows = Result<Vec<tokio_postgres::Row>, tokio_postgres::Error>;

/// A statement made for one call (a listing's filter), sent with its arguments' types: Parse,
/// Bind and Execute go in one round trip, where preparing it first would take two and a Close.
/// (`deadpool_postgres::GenericClient` does not carry `query_typed`; both of its clients do.)
pub trait OneTrip {
    fn query_typed(
        &self,
        text: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl std::future::Future<Output = Rows> + Send;
}

impl OneTrip for deadpool_postgres::Client {
    fn query_typed(
        &self,
        text: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl std::future::Future<Output = Rows> + Send {
        tokio_postgres::Client::query_typed(self, text, params)
    }
}

impl OneTrip for deadpool_postgres::Transaction<'_> {
    fn query_typed(
        &self,
        text: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl std::future::Future<Output = Rows> + Send {
        tokio_postgres::Transaction::query_typed(self, text, params)
    }
}

impl<C: GenericClient + OneTrip + Sync> Db for Pg<'_, C> {
    const ENGINE: Engine = Engine::Postgres;

    async fn execute(&self, stmt: &Stmt, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let prepared = self.0.prepare_cached(stmt.text(Engine::Postgres)).await?;
        Ok(self.0.execute(&prepared, &params(args)).await?)
    }

    async fn query<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        mut map: impl FnMut(&dyn RowRef) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let prepared = self.0.prepare_cached(stmt.text(Engine::Postgres)).await?;
        let rows = self.0.query(&prepared, &params(args)).await?;
        rows.iter().map(|r| map(r)).collect()
    }

    async fn query_dynamic<T>(
        &self,
        text: &str,
        args: &[Arg<'_>],
        mut map: impl FnMut(&dyn RowRef) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = OneTrip::query_typed(self.0, text, &typed(args)).await?;
        rows.iter().map(|r| map(r)).collect()
    }

    async fn query_opt<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        map: impl FnOnce(&dyn RowRef) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let prepared = self.0.prepare_cached(stmt.text(Engine::Postgres)).await?;
        let row = self.0.query_opt(&prepared, &params(args)).await?;
        row.as_ref().map(|r| map(r)).transpose()
    }
}
