//! The store's statements and row mappings, written once over both engines (see `crate::sql`).
//! Each module holds one group of tables; an engine's folder keeps only how it runs them
//! (pools, transactions, locks, batching) and calls these through its [`crate::sql::Db`]
//! adapter.

pub mod candidates;
pub mod fleet;
pub mod health;
pub mod health_issues;
pub mod heartbeat;
pub mod identity;
pub mod listing;
pub mod portable;
pub mod rows;
pub mod seed;
pub mod sensors;
pub mod tenants;

/// Implements a store trait whose every method runs one shared function, for one engine:
///
/// ```ignore
/// delegate! { via; impl IdentityStore for SqliteStore {
///     fn find_user(&self, tenant: &TenantId, key: &str) -> Option<User> = read users::find;
///     fn delete_user(&self, tenant: &TenantId, id: &str) -> bool
///         = write[Tenant(tenant)] users::delete;
///     fn activate(&self, tenant: &TenantId, ids: &[CandidateId], now: Timestamp) -> Activation
///         = write[Tenant(tenant)] candidates::activate(tenant, ids, version, now)
///         where version = unified_version;
///     fn export_tables(&self, scope: &Scope, tables: &[&'static str]) -> Vec<Table>
///         = engine export_tables;
///     sync fn pool_status(&self) -> PoolStatus = pool_status;
/// }}
/// ```
///
/// A `read`, `read_one` or `write` method becomes `via!(self, read, f, args…)`,
/// `via!(self, read_one, f, args…)` or `via!(self, write[lock], f, args…)`, `via` being the
/// engine's macro that runs `f(db, args…)` in a read (`read_one`: a read of one statement,
/// which PostgreSQL runs outside a transaction) or in a write (each argument lent through
/// [`Lend`]) and answers `Result<T, StoreError>`. `lock` says what the write changes, as a
/// variant (or constructor) of PostgreSQL's `postgres::Scope`; SQLite's single writer needs none
/// and ignores it. The arguments are the method's own, in order, unless the line lists them
/// (`f(a, b, …)`), and may add values the store keeps: `where name = m` binds `self.m()`.
/// An `engine` method is the engine's own: `f(self, args…)`, a function of the module that
/// uses this; so is a `sync` method, `f(self)`, which is not async and does not fail. The
/// trait, the types and the functions named must be in scope there.
macro_rules! delegate {
    ($via:ident; impl $trait:ident for $store:ty {
        $(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty
            = $kind:ident $([$($lock:tt)*])? $($f:ident)::+ $(($($call:ident),*))?
            $(where $bind:ident = $by:ident)?;)*
        $(sync fn $sync_name:ident(&self) -> $sync_ret:ty = $sync_f:path;)*
    }) => {
        #[async_trait::async_trait]
        impl $trait for $store {
            $(async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, $crate::StoreError> {
                $(let $bind = self.$by();)?
                $crate::tables::delegate!(
                    @call $via, self, [$kind $([$($lock)*])?], $($f)::+, [$($arg),*]
                    $([$($call),*])?
                )
            })*
            $(fn $sync_name(&self) -> $sync_ret {
                $sync_f(self)
            })*
        }
    };
    (@call $via:ident, $store:expr, [engine], $f:path, [$($arg:ident),*]) => {
        $f($store $(, $arg)*).await
    };
    (@call $via:ident, $store:expr, [engine], $f:path, [$($arg:ident),*] [$($call:ident),*]) => {
        $f($store $(, $call)*).await
    };
    (@call $via:ident, $store:expr, [$($kind:tt)*], $f:path, [$($arg:ident),*]) => {
        $via!($store, $($kind)*, $f, $($arg),*)
    };
    (@call $via:ident, $store:expr, [$($kind:tt)*], $f:path, [$($arg:ident),*] [$($call:ident),*]) => {
        $via!($store, $($kind)*, $f, $($call),*)
    };
}
pub(crate) use delegate;

/// How an engine hands a method's argument, kept where its `via!` keeps it, to the shared
/// function: a reference or other `Copy` value as itself, an owned value by reference
/// (`String` as `&str`, `Vec<T>` as `&[T]`).
pub(crate) trait Lend<'a, T> {
    fn lend(&'a self) -> T;
}

impl<T: Copy> Lend<'_, T> for T {
    fn lend(&self) -> T {
        *self
    }
}

impl<'a, T> Lend<'a, &'a T> for T {
    fn lend(&'a self) -> &'a T {
        self
    }
}

impl<'a> Lend<'a, &'a str> for String {
    fn lend(&'a self) -> &'a str {
        self
    }
}

impl<'a, T> Lend<'a, &'a [T]> for Vec<T> {
    fn lend(&'a self) -> &'a [T] {
        self
    }
}

/// An id, to the statements that take its text.
macro_rules! lend_id_as_str {
    ($($id:ty),*) => {
        $(impl<'b> Lend<'_, &'b str> for &'b $id {
            fn lend(&self) -> &'b str {
                self.as_str()
            }
        })*
    };
}
lend_id_as_str!(
    picket_domain::SensorId,
    picket_domain::CandidateId,
    picket_domain::HealthIssueId
);
