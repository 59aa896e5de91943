//! The statements both engines run, written once. Shared store code is an `async fn` generic
//! over [`Db`]: it binds [`Arg`]s, reads cells through [`RowRef`] and names statements as
//! [`Stmt`]s in PostgreSQL's `$n` form. Each engine adapts its driver to [`Db`]:
//!
//! - PostgreSQL (`postgres.rs`): a pooled client or transaction; statements are prepared once
//!   per connection.
//! - SQLite (`sqlite.rs`): a rusqlite connection, whose calls finish before they return, so a
//!   shared function runs to completion in one poll on the writer's or reader's own thread
//!   ([`sqlite::run`]). The placeholders are rewritten to `?n` once per statement.
//!
//! Where the dialects differ in a statement's text, [`Stmt::per_dialect`] holds both forms side
//! by side; everything an engine does that the other does not (pools, group commit, advisory
//! locks, retries, batched reads) stays in that engine's folder.

pub mod postgres;
pub mod sqlite;

use crate::StoreError;
use std::future::Future;
use std::sync::OnceLock;

/// Which SQL an engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A statement: its text made once per process (it may be built from the shared select lists),
/// kept in both placeholder forms.
pub struct Stmt {
    postgres: fn() -> String,
    sqlite: Option<fn() -> String>,
    forms: OnceLock<[String; 2]>,
}

impl Stmt {
    /// One text for both engines, with `$1`, `$2`… placeholders.
    pub const fn new(text: fn() -> String) -> Self {
        Self {
            postgres: text,
            sqlite: None,
            forms: OnceLock::new(),
        }
    }

    /// A statement whose text differs between the engines (both with `$n` placeholders).
    pub const fn per_dialect(postgres: fn() -> String, sqlite: fn() -> String) -> Self {
        Self {
            postgres,
            sqlite: Some(sqlite),
            forms: OnceLock::new(),
        }
    }

    /// A statement whose text is known only at run time, made once by its owner and kept for
    /// the life of the process (one per combination of columns, say).
    pub fn made(text: String) -> Self {
        let lite = sqlite_placeholders(&text);
        let forms = OnceLock::new();
        let _ = forms.set([text, lite]);
        Self {
            postgres: String::new,
            sqlite: None,
            forms,
        }
    }

    /// The text for `engine`.
    pub fn text(&self, engine: Engine) -> &str {
        let [pg, lite] = self.forms.get_or_init(|| {
            let pg = (self.postgres)();
            let lite = sqlite_placeholders(&self.sqlite.map_or_else(|| pg.clone(), |f| f()));
            [pg, lite]
        });
        match engine {
            Engine::Postgres => pg,
            Engine::Sqlite => lite,
        }
    }
}

/// A statement of fixed text, made once: `sql!("SELECT … WHERE id = $1")`, or with format
/// arguments of constants, `sql!("SELECT {} FROM sensors", SENSOR_SELECT)`.
#[macro_export]
macro_rules! sql {
    ($($text:tt)+) => {{
        static STMT: $crate::sql::Stmt = $crate::sql::Stmt::new(|| format!($($text)+));
        &STMT
    }};
}

/// A statement whose text differs between the engines: `sql_per_dialect!(postgres: "…", sqlite: "…")`.
#[macro_export]
macro_rules! sql_per_dialect {
    (postgres: $pg:expr, sqlite: $lite:expr $(,)?) => {{
        static STMT: $crate::sql::Stmt =
            $crate::sql::Stmt::per_dialect(|| String::from($pg), || String::from($lite));
        &STMT
    }};
}

/// `$12` → `?12`. Only our own statements pass through here, and none holds a `$` in a literal.
pub(crate) fn sqlite_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A bound value. Both schemas hold text and 64-bit integers only (booleans as 0/1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    /// A list of texts, for one placeholder that stands for a set: PostgreSQL binds a `text[]`
    /// (`= ANY($2::text[])`), SQLite a JSON array (`IN (SELECT value FROM json_each($2))`).
    TextList(&'a [&'a str]),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a [&'a str]> for Arg<'a> {
    fn from(v: &'a [&'a str]) -> Self {
        Arg::TextList(v)
    }
}
impl<'a> From<&'a Vec<&'a str>> for Arg<'a> {
    fn from(v: &'a Vec<&'a str>) -> Self {
        Arg::TextList(v)
    }
}
impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<i32> for Arg<'_> {
    fn from(v: i32) -> Self {
        Arg::Int(v.into())
    }
}
impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(v.into())
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Int(v.into())
    }
}
impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}
impl<'a> From<&'a crate::odata_sql::SqlValue> for Arg<'a> {
    fn from(v: &'a crate::odata_sql::SqlValue) -> Self {
        match v {
            crate::odata_sql::SqlValue::Null => Arg::Null,
            crate::odata_sql::SqlValue::Int(i) => Arg::Int(*i),
            crate::odata_sql::SqlValue::Text(s) => Arg::Text(s),
        }
    }
}

/// `args![a, b, c]`: a slice of [`Arg`]s from anything that converts into one.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$($crate::sql::Arg::from($a)),*] };
}

/// One stored cell, borrowed from its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'r> {
    Null,
    Int(i64),
    Text(&'r str),
}

/// A result row of either driver, read by position.
pub trait RowRef {
    fn cell(&self, idx: usize) -> Result<Cell<'_>, StoreError>;
    /// The column count.
    fn width(&self) -> usize;
}

impl dyn RowRef + '_ {
    /// The cell at `idx` as `T`; a cell of another kind is a store failure naming the column.
    pub fn get<T: FromCell>(&self, idx: usize) -> Result<T, StoreError> {
        T::from_cell(self.cell(idx)?).ok_or_else(|| {
            StoreError::Internal(format!(
                "stored value {idx} is not a valid {}",
                std::any::type_name::<T>()
            ))
        })
    }
}

/// What a cell can be read as.
pub trait FromCell: Sized {
    fn from_cell(cell: Cell<'_>) -> Option<Self>;
}

impl FromCell for String {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        match cell {
            Cell::Text(s) => Some(s.to_string()),
            _ => None,
        }
    }
}
impl FromCell for i64 {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        match cell {
            Cell::Int(i) => Some(i),
            _ => None,
        }
    }
}
impl FromCell for i32 {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        i64::from_cell(cell).and_then(|i| i32::try_from(i).ok())
    }
}
impl FromCell for u64 {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        i64::from_cell(cell).and_then(|i| u64::try_from(i).ok())
    }
}
impl FromCell for bool {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        i64::from_cell(cell).map(|i| i != 0)
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: Cell<'_>) -> Option<Self> {
        match cell {
            Cell::Null => Some(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// A connection or transaction of either engine. Every method runs one statement.
/// Its futures are `Send` when the engine's are (PostgreSQL's are; SQLite's never leave their
/// thread): the bound is left to the concrete type rather than stated here.
pub trait Db {
    const ENGINE: Engine;

    fn execute(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
    ) -> impl Future<Output = Result<u64, StoreError>>;

    /// Every row, each mapped by `map`.
    fn query<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        map: impl FnMut(&dyn RowRef) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>>;

    /// Every row of a statement made for this one call (a listing's filter), written with `$n`
    /// placeholders; PostgreSQL prepares it unnamed rather than keeping it in the statement
    /// cache, SQLite keeps it in its bounded cache.
    fn query_dynamic<T>(
        &self,
        text: &str,
        args: &[Arg<'_>],
        map: impl FnMut(&dyn RowRef) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>>;

    /// The first row, if any, mapped by `map`.
    fn query_opt<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        map: impl FnOnce(&dyn RowRef) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<Option<T>, StoreError>>;

    /// Exactly one row (an aggregate, a row just inserted), mapped by `map`.
    fn query_one<T>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
        map: impl FnOnce(&dyn RowRef) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<T, StoreError>> {
        async move {
            self.query_opt(stmt, args, map)
                .await?
                .ok_or_else(|| StoreError::Internal("a statement returned no row".into()))
        }
    }

    /// The first column of the first row, if any.
    fn value<T: FromCell>(
        &self,
        stmt: &Stmt,
        args: &[Arg<'_>],
    ) -> impl Future<Output = Result<Option<T>, StoreError>> {
        self.query_opt(stmt, args, |r| r.get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_sqlite_numbered_parameters() {
        assert_eq!(
            sqlite_placeholders("SELECT $1, $12 FROM t WHERE a = $2 AND b <> '$'"),
            "SELECT ?1, ?12 FROM t WHERE a = ?2 AND b <> '$'"
        );
    }

    #[test]
    fn a_statement_keeps_one_text_per_engine() {
        let shared = sql!("SELECT id FROM sensors WHERE tenant_id = $1");
        assert_eq!(
            shared.text(Engine::Postgres),
            "SELECT id FROM sensors WHERE tenant_id = $1"
        );
        assert_eq!(
            shared.text(Engine::Sqlite),
            "SELECT id FROM sensors WHERE tenant_id = ?1"
        );
        let split =
            sql_per_dialect!(postgres: "lower(a) = lower($1)", sqlite: "a = $1 COLLATE NOCASE");
        assert_eq!(split.text(Engine::Postgres), "lower(a) = lower($1)");
        assert_eq!(split.text(Engine::Sqlite), "a = ?1 COLLATE NOCASE");
    }

    #[test]
    fn cells_convert_to_what_the_mapping_asks_for() {
        assert_eq!(String::from_cell(Cell::Text("x")), Some("x".into()));
        assert_eq!(Option::<String>::from_cell(Cell::Null), Some(None));
        assert_eq!(bool::from_cell(Cell::Int(1)), Some(true));
        assert_eq!(i32::from_cell(Cell::Int(i64::MAX)), None);
        assert_eq!(String::from_cell(Cell::Int(3)), None);
    }
}
