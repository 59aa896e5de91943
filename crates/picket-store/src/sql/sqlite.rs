//! [`Db`] over a rusqlite connection or transaction. rusqlite's calls finish before they
//! return, so each method's future is ready at once, and [`run`] drives a shared function to
//! its end in one poll on the calling thread (the writer's, or a reader's).

use super::{Arg, Cell, Db, Engine, RowRef, Stmt};
use crate::StoreError;
use deadpool_sqlite::rusqlite::types::{ToSqlOutput, Value, ValueRef};
use deadpool_sqlite::rusqlite::{self, Connection, ToSql};
use std::future::{ready, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// A SQLite connection (or a transaction, through `Deref`) seen as a [`Db`].
#[derive(Clone, Copy)]
pub struct Lite<'c>(pub &'c Connection);

/// Runs shared store code over SQLite to its end. Nothing in it waits on anything but a
/// [`Lite`] call, each of which is ready at once, so one poll finishes it; a step that would
/// suspend is a programming error, reported as a store failure rather than a hang.
pub fn run<T>(work: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(work).poll(&mut cx) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Internal(
            "a SQLite store step suspended; shared store code must not await anything else".into(),
        )),
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Null => ValueRef::Null,
            Arg::Int(i) => ValueRef::Integer(i),
            Arg::Text(s) => ValueRef::Text(s.as_bytes()),
            Arg::TextList(items) => {
                let json = serde_json::to_string(items)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
                return Ok(ToSqlOutput::Owned(Value::Text(json)));
            }
        }))
    }
}

impl RowRef for rusqlite::Row<'_> {
    fn cell(&self, idx: usize) -> Result<Cell<'_>, StoreError> {
        Ok(match self.get_ref(idx)? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Text(t) => {
                Cell::Text(std::str::from_utf8(t).map_err(|_| {
                    StoreError::Internal(format!("stored value {idx} is not UTF-8"))
                })?)
            }
            ValueRef::Real(_) | ValueRef::Blob(_) => {
                return Err(StoreError::Internal(format!(
                    "stored value {idx} is neither text nor an integer"
                )))
            }
        })
    }

    fn width(&self) -> usize {
        self.as_ref().column_count()
    }
}

impl Lite<'_> {
    fn all<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        map: impl FnMut(&dyn RowRef) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.all_text(stmt.text(Engine::Sqlite), args, map)
    }

    fn all_text<T>(
        &self,
        text: &str,
        args: &[Arg<'_>],
        mut map: impl FnMut(&dyn RowRef) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut prepared = self.0.prepare_cached(text)?;
        let mut rows = prepared.query(rusqlite::params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(map(row)?);
        }
        Ok(out)
    }

    fn first<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        map: impl FnOnce(&dyn RowRef) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut prepared = self.0.prepare_cached(stmt.text(Engine::Sqlite))?;
        let mut rows = prepared.query(rusqlite::params_from_iter(args.iter()))?;
        rows.next()?.map(|row| map(row)).transpose()
    }
}

impl Db for Lite<'_> {
    const ENGINE: Engine = Engine::Sqlite;

    fn execute(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
    ) -> impl Future<Output = Result<u64, StoreError>> {
        ready(
            self.0
                .prepare_cached(stmt.text(Engine::Sqlite))
                .and_then(|mut s| s.execute(rusqlite::params_from_iter(args.iter())))
                .map(|n| n as u64)
                .map_err(StoreError::from),
        )
    }

    fn query<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        map: impl FnMut(&dyn RowRef) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>> {
        ready(self.all(stmt, args, map))
    }

    fn query_dynamic<T>(
        &self,
        text: &str,
        args: &[Arg<'_>],
        map: impl FnMut(&dyn RowRef) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>> {
        ready(self.all_text(&super::sqlite_placeholders(text), args, map))
    }

    fn query_opt<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        map: impl FnOnce(&dyn RowRef) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<Option<T>, StoreError>> {
        ready(self.first(stmt, args, map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{args, sql};

    #[test]
    fn shared_code_runs_to_its_end_in_one_poll() {
        let conn = Connection::open_in_memory().expect("memory database");
        let db = Lite(&conn);
        let got = run(async {
            db.execute(sql!("CREATE TABLE t (a TEXT, b INTEGER)"), &[])
                .await?;
            db.execute(sql!("INSERT INTO t VALUES ($1, $2)"), args!["x", 7_i64])
                .await?;
            db.execute(
                sql!("INSERT INTO t VALUES ($2, $1)"),
                args![None::<i64>, "y"],
            )
            .await?;
            db.query(sql!("SELECT a, b FROM t ORDER BY a"), &[], |r| {
                Ok((r.get::<String>(0)?, r.get::<Option<i64>>(1)?))
            })
            .await
        })
        .expect("runs");
        assert_eq!(got, vec![("x".into(), Some(7)), ("y".into(), None)]);
    }

    #[test]
    fn a_step_that_suspends_is_an_error_not_a_hang() {
        let result: Result<(), StoreError> = run(async {
            std::future::pending::<()>().await;
            Ok(())
        });
        assert!(matches!(result, Err(StoreError::Internal(_))));
    }

    #[test]
    fn a_cell_of_the_wrong_kind_names_its_column() {
        let conn = Connection::open_in_memory().expect("memory database");
        let err = run(Lite(&conn).value::<i64>(sql!("SELECT 'text'"), &[])).expect_err("text");
        assert!(err.to_string().contains("stored value 0"), "{err}");
    }
}
