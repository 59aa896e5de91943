//! The PostgreSQL engine, for several replicas sharing one database: a connection pool,
//! migrations applied at open, reads in read-only transactions and writes in transactions that
//! first take an advisory lock on their tenant (or on the installation), so the writes of one
//! tenant run one at a time across every replica, as SQLite's IMMEDIATE transactions do in one
//! process. Serialization failures and deadlocks are retried a bounded number of times.

mod batched;
mod copy;
mod migrations;
mod portable;
mod tls;

use crate::odata_sql::SqlValue;
use crate::{Catalogue, StoreError};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use picket_domain::{Sensor, SensorId, TenantId};
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::Row;

pub use copy::{sqlite_to_postgres, CopiedTable};
pub use migrations::MIGRATIONS;

/// Runs a shared `tables` function for [`crate::tables::delegate!`]: a read in a read-only
/// transaction (`read_one`, a read of one statement: on a connection outside any transaction), a write in a transaction that first locks `Scope::$lock`; the arguments are
/// lent from the call's own ([`crate::tables::Lend`]).
macro_rules! via {
    ($store:expr, read, $f:path, $($arg:ident),*) => {
        $store
            .read(($($arg,)*), |tx, ($($arg,)*)| {
                Box::pin(async move {
                    $f(&$crate::sql::postgres::Pg(tx) $(, $crate::tables::Lend::lend($arg))*).await
                })
            })
            .await
    };
    ($store:expr, read_one, $f:path, $($arg:ident),*) => {
        $store
            .read_one(($($arg,)*), |c, ($($arg,)*)| {
                Box::pin(async move {
                    $f(&$crate::sql::postgres::Pg(c) $(, $crate::tables::Lend::lend($arg))*).await
                })
            })
            .await
    };
    ($store:expr, write[$($lock:tt)*], $f:path, $($arg:ident),*) => {
        $store
            .write($crate::postgres::Scope::$($lock)*, ($($arg,)*), |tx, ($($arg,)*)| {
                Box::pin(async move {
                    $f(&$crate::sql::postgres::Pg(tx) $(, $crate::tables::Lend::lend($arg))*).await
                })
            })
            .await
    };
}
pub(super) use via;

crate::tables::identity::impl_identity_store!(PostgresStore, via);
crate::impl_store!(PostgresStore, via);
crate::fleet::impl_fleet_store!(
    PostgresStore,
    via,
    quiet reads [engine] quiet_read,
    sweep lists [read]
);

/// A transaction: every store function that writes, or reads more than once, runs in one.
pub(super) type Tx<'t> = deadpool_postgres::Transaction<'t>;
/// A pooled connection outside any transaction, for reads of one statement.
pub(super) type Client = deadpool_postgres::Client;
/// A bound parameter.
pub(super) type Param<'a> = &'a (dyn ToSql + Sync);
pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How often a transaction that lost a serialization conflict or a deadlock is tried in all.
const MAX_ATTEMPTS: u32 = 5;

/// Marks the errors worth retrying (SQLSTATE 40001, 40P01).
const RETRYABLE: &str = "transaction conflict, retry";

/// Where and how to connect. `Debug` leaves out the URL, which may hold a password.
#[derive(Clone)]
pub struct PostgresConfig {
    /// `postgres://user@host:port/database` (libpq URL or key=value form); `sslmode` and
    /// `sslrootcert` mean what they mean to libpq (see `tls`).
    pub url: String,
    pub pool_size: usize,
    /// Statements running longer are cancelled (the call fails as unavailable).
    pub statement_timeout: Duration,
    /// Work in this schema (created when missing) instead of the user's search path; tests
    /// give each case a schema of its own.
    pub schema: Option<String>,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("database", &self.describe())
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("schema", &self.schema)
            .finish()
    }
}

impl PostgresConfig {
    /// The database, host and port, without user or password: for messages and logs.
    pub fn describe(&self) -> String {
        let Some(pg) = tls::split_url(&self.url)
            .ok()
            .and_then(|(url, _)| tokio_postgres::Config::from_str(&url).ok())
        else {
            return "PostgreSQL database (invalid URL)".into();
        };
        let host = match pg.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = pg.get_ports().first().copied().unwrap_or(5432);
        format!(
            "PostgreSQL database '{}' on {host}:{port}",
            pg.get_dbname().unwrap_or("")
        )
    }

    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 16,
            statement_timeout: Duration::from_secs(5),
            schema: None,
        }
    }
}

pub struct PostgresStore {
    pool: Pool,
    catalogue: Catalogue,
    /// Prefix of advisory-lock keys: stores in different schemas of one database do not
    /// wait for each other.
    lock_namespace: String,
    /// Whether the next sweep looks at every sensor or only the silent ones.
    sweep_plan: crate::sweep_plan::SweepPlan,
    /// This replica's check-ins that only said "still here" (see `crate::heartbeats`).
    heartbeats: std::sync::Arc<crate::heartbeats::Heartbeats>,
    /// Their reads, batched.
    quiet_reads: batched::QuietReads,
    /// Sensors by id, batched.
    sensor_reads: batched::SensorReads,
}

/// What a write transaction locks before it runs.
pub(super) enum Scope<'a> {
    /// One tenant's rows (every tenant-scoped write but check-ins and enrolments).
    Tenant(&'a TenantId),
    /// One sensor's rows: a check-in. It shares its tenant's lock with the other check-ins
    /// (so check-ins of different sensors run side by side) and excludes every [`Scope::Tenant`]
    /// writer, then locks the sensor alone.
    Sensor(&'a TenantId, &'a picket_domain::SensorId),
    /// An enrolment: shares its tenant's lock as a check-in does and locks the computer's
    /// name, so enrolments of different computers run side by side and two of one computer
    /// one after the other. A re-install also locks the sensor it finds (`tables::fleet::
    /// enroll`, through the namespace this scope leaves in `picket.lock_namespace`), so it
    /// never runs beside that sensor's check-ins.
    Enrolment(&'a TenantId, &'a crate::fleet::EnrollRequest),
    /// Several tenants' rows, locked in one order so two sweeps never deadlock.
    Tenants(Vec<String>),
    /// Installation-wide rows (signing keys, releases).
    Installation,
}

impl Scope<'_> {
    /// A snapshot's scope (`crate::portable::Scope::key`): its tenant's rows, or for `*` the
    /// installation's.
    fn snapshot(scope: &str) -> Scope<'static> {
        match TenantId::parse(scope) {
            Some(_) => Scope::Tenants(vec![scope.to_string()]),
            None => Scope::Installation,
        }
    }
}

fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl PostgresStore {
    /// Connects, creates the schema if one is named, and brings it up to date.
    pub async fn open(config: &PostgresConfig, catalogue: Catalogue) -> Result<Self, StoreError> {
        Ok(Self::open_with(config, catalogue, true).await?.0)
    }

    /// Connects and refuses a schema that is behind this build (`StoreError::SchemaBehind`).
    pub async fn open_current(
        config: &PostgresConfig,
        catalogue: Catalogue,
    ) -> Result<Self, StoreError> {
        Ok(Self::open_with(config, catalogue, false).await?.0)
    }

    /// `picket migrate`: applies what is missing; returns the store and how many it applied.
    pub async fn migrate(
        config: &PostgresConfig,
        catalogue: Catalogue,
    ) -> Result<(Self, usize), StoreError> {
        Self::open_with(config, catalogue, true).await
    }

    async fn open_with(
        config: &PostgresConfig,
        catalogue: Catalogue,
        apply_missing: bool,
    ) -> Result<(Self, usize), StoreError> {
        let (url, tls_settings) = tls::split_url(&config.url)?;
        let mut pg = tokio_postgres::Config::from_str(&url)
            .map_err(|e| StoreError::Internal(format!("invalid PostgreSQL URL: {e}")))?;
        let mut options = pg.get_options().unwrap_or_default().to_string();
        // Notices ("already exists, skipping") are not worth a log line each.
        options.push_str(&format!(
            // synchronous_commit on whatever the server's default: a write answered 2xx is on
            // stable storage (only the heard-from flush turns it off, per transaction).
            " -c statement_timeout={} -c client_min_messages=warning -c synchronous_commit=on",
            config.statement_timeout.as_millis().max(1),
        ));
        if let Some(schema) = &config.schema {
            if !valid_schema(schema) {
                return Err(StoreError::Internal(format!(
                    "invalid schema name '{schema}': use lower-case letters, digits and _"
                )));
            }
            options.push_str(&format!(" -c search_path={schema}"));
        }
        pg.options(options.trim());
        if pg.get_application_name().is_none() {
            pg.application_name("picket");
        }
        let manager = Manager::from_config(
            pg,
            tls::connector(&tls_settings)?,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let quiet_reads = batched::quiet_reads(pool.clone());
        let sensor_reads = batched::sensor_reads(pool.clone());
        let store = Self {
            pool,
            catalogue,
            lock_namespace: config.schema.clone().unwrap_or_default(),
            sweep_plan: crate::sweep_plan::SweepPlan::default(),
            heartbeats: std::sync::Arc::default(),
            quiet_reads,
            sensor_reads,
        };
        let applied = {
            let mut client = store.client().await?;
            if let Some(schema) = &config.schema {
                // Checked by `valid_schema`: an identifier of our own shape, never quoted text.
                client
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .await
                    .or_else(|e| {
                        // Two stores opening the same new schema at once: one wins the race.
                        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    })?;
            }
            let tx = client.transaction().await?;
            let applied = migrations::apply(&tx, &store.lock_namespace, apply_missing).await?;
            tx.commit().await?;
            applied
        };
        let pool = store.pool.clone();
        crate::heartbeats::spawn_writer(
            std::sync::Arc::downgrade(&store.heartbeats),
            move |heartbeats| {
                let pool = pool.clone();
                async move { write_heartbeats(&pool, &heartbeats).await }
            },
        );
        Ok((store, applied))
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(with_causes(&e)))
    }

    /// Runs `f` in a read-only transaction.
    async fn read<A, T, F>(&self, args: A, f: F) -> Result<T, StoreError>
    where
        A: Sync,
        F: for<'c> Fn(&'c Tx<'_>, &'c A) -> BoxFuture<'c, Result<T, StoreError>>,
    {
        let mut client = self.client().await?;
        // REPEATABLE READ: one snapshot for every statement (an app and its secrets agree);
        // read-only transactions never fail to serialize.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let result = f(&tx, &args).await;
        finish(tx, result).await
    }

    /// Runs `f`, a read of one statement, on a connection outside any transaction: one
    /// statement sees one snapshot by itself, and BEGIN and COMMIT would be two more round
    /// trips, as many as the read itself.
    async fn read_one<A, T, F>(&self, args: A, f: F) -> Result<T, StoreError>
    where
        A: Sync,
        F: for<'c> Fn(&'c Client, &'c A) -> BoxFuture<'c, Result<T, StoreError>>,
    {
        let client = self.client().await?;
        f(&client, &args).await
    }

    /// Runs `f` in a transaction that first locks `scope`, committing only when it returns
    /// `Ok`; a serialization failure or deadlock runs it again, at most [`MAX_ATTEMPTS`] times.
    /// Dropping the call midway drops the transaction, which rolls it back.
    async fn write<A, T, F>(&self, scope: Scope<'_>, args: A, f: F) -> Result<T, StoreError>
    where
        A: Sync,
        F: for<'c> Fn(&'c Tx<'_>, &'c A) -> BoxFuture<'c, Result<T, StoreError>>,
    {
        let mut attempt = 1;
        loop {
            match self.write_once(&scope, &args, &f).await {
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                    tracing::debug!(attempt, error = %e, "retrying a write transaction");
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn write_once<A, T, F>(&self, scope: &Scope<'_>, args: &A, f: &F) -> Result<T, StoreError>
    where
        A: Sync,
        F: for<'c> Fn(&'c Tx<'_>, &'c A) -> BoxFuture<'c, Result<T, StoreError>>,
    {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let result = match self.lock(&tx, scope).await {
            Ok(()) => f(&tx, args).await,
            Err(e) => Err(e),
        };
        finish(tx, result).await
    }

    /// Takes the scope's advisory locks, and has the transaction plan its statements on every
    /// run (`plan_cache_mode`, set in the same round trip): a generic plan is made once per
    /// connection from the statistics of that moment, and a write made when a table was empty
    /// (a new install, a fleet enrolling) keeps a plan that scans a whole tenant once it holds
    /// thousands of rows. Reads keep generic plans: their statements are key lookups, or
    /// listings that are planned each time anyway.
    async fn lock(&self, tx: &Tx<'_>, scope: &Scope<'_>) -> Result<(), StoreError> {
        const CUSTOM_PLANS: &str = "set_config('plan_cache_mode', 'force_custom_plan', true)";
        let ns = self.lock_namespace.as_str();
        let (sql, keys): (String, Vec<String>) = match scope {
            Scope::Sensor(t, sensor) => (
                format!(
                    "SELECT {CUSTOM_PLANS}, pg_advisory_xact_lock_shared(hashtextextended($1, 0)), \
                     pg_advisory_xact_lock(hashtextextended($2, 0))"
                ),
                vec![
                    format!("{ns}:tenant:{t}"),
                    // Also spelt in SQL by `tables::fleet::enroll`, for a re-install.
                    format!("{ns}:sensor:{t}:{sensor}"),
                ],
            ),
            Scope::Enrolment(t, request) => (
                format!(
                    "SELECT {CUSTOM_PLANS}, set_config('picket.lock_namespace', $3, true), \
                     pg_advisory_xact_lock_shared(hashtextextended($1, 0)), \
                     pg_advisory_xact_lock(hashtextextended($2, 0))"
                ),
                vec![
                    format!("{ns}:tenant:{t}"),
                    format!(
                        "{ns}:computer:{t}:{}",
                        request.computer_dns_name.to_lowercase()
                    ),
                    ns.to_string(),
                ],
            ),
            Scope::Tenant(t) => (
                format!("SELECT {CUSTOM_PLANS}, pg_advisory_xact_lock(hashtextextended($1, 0))"),
                vec![format!("{ns}:tenant:{t}")],
            ),
            Scope::Tenants(tenants) => {
                // Taken in sorted order (unnest keeps the array's order), so two multi-tenant
                // writers never wait on each other in a cycle.
                let mut keys: Vec<String> =
                    tenants.iter().map(|t| format!("{ns}:tenant:{t}")).collect();
                keys.sort();
                keys.dedup();
                execute(
                    tx,
                    &format!(
                        "SELECT {CUSTOM_PLANS}, (SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) \
                         FROM unnest($1::text[]) AS u(k))"
                    ),
                    &[&keys],
                )
                .await?;
                return Ok(());
            }
            Scope::Installation => (
                format!("SELECT {CUSTOM_PLANS}, pg_advisory_xact_lock(hashtextextended($1, 0))"),
                vec![format!("{ns}:installation")],
            ),
        };
        let params: Vec<Param<'_>> = keys.iter().map(|k| k as Param<'_>).collect();
        execute(tx, &sql, &params).await?;
        Ok(())
    }

    fn unified_version(&self) -> &str {
        &self.catalogue.unified_sensor_version
    }
}

// The engine's own steps of `Store` and `FleetStore` (the rest is `crate::impl_store!` and
// `crate::fleet::impl_fleet_store!`).

/// Sensors by id are read in batches (`batched::sensor_reads`).
async fn find_sensor(
    store: &PostgresStore,
    tenant: &TenantId,
    id: &SensorId,
) -> Result<Option<Sensor>, StoreError> {
    store.sensor_reads.get(tenant, id).await
}

/// Heartbeats' reads, batched (`batched::quiet_reads`).
async fn quiet_read(
    store: &PostgresStore,
    tenant: &TenantId,
    sensor: &SensorId,
) -> Result<Option<(crate::heartbeats::StoredAgent, Sensor)>, StoreError> {
    store.quiet_reads.get(tenant, sensor).await
}

fn pool_status(store: &PostgresStore) -> crate::probe::PoolStatus {
    let s = store.pool.status();
    crate::probe::PoolStatus::from_deadpool("postgres", s.max_size, s.size, s.available, s.waiting)
}

/// Writes what this replica's heartbeats heard, in one transaction that does not wait for
/// its commit to reach disk (a crash may lose one flush, which the heartbeats accept);
/// on failure the times wait for the next flush.
async fn write_heartbeats(
    pool: &Pool,
    heartbeats: &crate::heartbeats::Heartbeats,
) -> Result<(), StoreError> {
    let mut items = heartbeats.take_pending();
    if items.is_empty() {
        return Ok(());
    }
    let written = async {
        let mut client = pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(with_causes(&e)))?;
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .await?;
        let result =
            crate::tables::heartbeat::write_seen(&crate::sql::postgres::Pg(&tx), &mut items).await;
        finish(tx, result).await
    }
    .await;
    if written.is_err() {
        heartbeats.restore(items);
    }
    written.map(|_| ())
}

/// An error and what caused it ("error performing TLS handshake: invalid peer certificate:
/// UnknownIssuer"): the driver's own message leaves the cause out.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// Commits on `Ok`; rolls back on `Err` before the connection goes back to the pool (dropping
/// a transaction also rolls it back, but only once the connection task next runs).
async fn finish<T>(tx: Tx<'_>, result: Result<T, StoreError>) -> Result<T, StoreError> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

fn is_retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Unavailable(m) if m.starts_with(RETRYABLE))
}

/// Runs a statement of our own (prepared once per connection).
pub(super) async fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> Result<u64, StoreError> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, params).await?)
}

pub(super) async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Vec<Row>, StoreError> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query(&stmt, params).await?)
}

pub(super) async fn query_one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Row, StoreError> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query_one(&stmt, params).await?)
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.code() {
            Some(code)
                if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                StoreError::Unavailable(format!("{RETRYABLE}: {e}"))
            }
            // A statement timeout, or the server shutting down.
            Some(code)
                if *code == SqlState::QUERY_CANCELED
                    || *code == SqlState::ADMIN_SHUTDOWN
                    || *code == SqlState::CANNOT_CONNECT_NOW
                    || *code == SqlState::TOO_MANY_CONNECTIONS =>
            {
                StoreError::Unavailable(e.to_string())
            }
            // The server's message and SQLSTATE say what failed (`db error` alone does not);
            // its DETAIL, which may quote a row's values, stays out of logs.
            Some(code) => StoreError::Internal(match e.as_db_error() {
                Some(db) => format!("{e}: {} (SQLSTATE {})", db.message(), code.code()),
                None => e.to_string(),
            }),
            // No SQLSTATE: the connection failed or closed.
            None => StoreError::Unavailable(with_causes(&e)),
        }
    }
}

/// OData values bind to whatever type PostgreSQL inferred for their placeholder: the filter
/// was validated against the schema, so a number meets a number column and text a text one.
impl ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Text(s) => s.as_str().to_sql(ty, out),
            SqlValue::Int(i) => match *ty {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const A: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
    const B: &str = "11111111-2222-3333-4444-555555555555";

    /// Locks tenant `first`'s row, waits for the other writer to lock its own, then wants
    /// `second`'s: the two deadlock once, PostgreSQL cancels one, and it runs again.
    async fn cross_lock(
        tx: &Tx<'_>,
        (first, second, barrier, waited, attempts): &(
            &str,
            &str,
            &tokio::sync::Barrier,
            &AtomicBool,
            &AtomicUsize,
        ),
    ) -> Result<(), StoreError> {
        attempts.fetch_add(1, Ordering::SeqCst);
        let lock = "SELECT tenant_id FROM tenants WHERE tenant_id = $1 FOR UPDATE";
        query(tx, lock, &[first]).await?;
        if !waited.swap(true, Ordering::SeqCst) {
            barrier.wait().await;
        }
        query(tx, lock, &[second]).await?;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deadlocked_writers_are_retried() {
        let Some(url) = std::env::var("PICKET_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return; // Needs PostgreSQL; the integration suite says once that it was skipped.
        };
        let schema = format!("t_retry_{:08x}", rand::random::<u32>());
        let config = PostgresConfig {
            schema: Some(schema.clone()),
            ..PostgresConfig::new(url)
        };
        let catalogue = Catalogue {
            unified_sensor_version: "3.1.0.0".into(),
        };
        let store = PostgresStore::open(&config, catalogue).await.expect("open");
        let (a, b) = (
            TenantId::parse(A).expect("guid"),
            TenantId::parse(B).expect("guid"),
        );
        for t in [&a, &b] {
            store
                .write(Scope::Tenant(t), t, |tx, t| {
                    Box::pin(async move {
                        crate::tables::tenants::ensure(&crate::sql::postgres::Pg(tx), t).await
                    })
                })
                .await
                .expect("tenant");
        }
        let barrier = tokio::sync::Barrier::new(2);
        let (waited_a, waited_b) = (AtomicBool::new(false), AtomicBool::new(false));
        let attempts = AtomicUsize::new(0);
        let one = store.write(
            Scope::Tenant(&a),
            (A, B, &barrier, &waited_a, &attempts),
            |tx, args| Box::pin(cross_lock(tx, args)),
        );
        let two = store.write(
            Scope::Tenant(&b),
            (B, A, &barrier, &waited_b, &attempts),
            |tx, args| Box::pin(cross_lock(tx, args)),
        );
        let (one, two) = tokio::join!(one, two);
        let client = store.client().await.expect("client");
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("drop schema");
        one.expect("first writer");
        two.expect("second writer");
        assert_eq!(
            attempts.load(Ordering::SeqCst),
            3,
            "one of the two ran again"
        );
    }
}
