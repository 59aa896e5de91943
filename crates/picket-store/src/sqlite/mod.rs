//! The embedded SQLite engine: a small connection pool over one WAL database, migrations
//! applied at open, and each store call run on a pooled connection off the async threads.

mod group_commit;
mod migrations;
mod portable;

use crate::{Catalogue, StoreError};
use deadpool_sqlite::rusqlite::{self, Connection};
use deadpool_sqlite::{Config, Hook, HookError, Pool, PoolConfig, Runtime};
use picket_domain::time::Timestamp;
use picket_domain::{Sensor, SensorId, TenantId};
use std::path::Path;

pub use migrations::MIGRATIONS;

/// Runs a shared `tables` function for [`crate::tables::delegate!`]: a read (of one statement
/// or more, alike here) inline on a read connection, a write in the writer's next group commit,
/// its arguments carried to the writer's thread as owned copies ([`Carry`]).
macro_rules! via {
    ($store:expr, read_one, $($rest:tt)*) => {
        $crate::sqlite::via!($store, read, $($rest)*)
    };
    ($store:expr, read, $f:path, $($arg:ident),*) => {
        $store
            .read(|c| {
                $crate::sql::sqlite::run($f(
                    &$crate::sql::sqlite::Lite(c)
                    $(, $crate::tables::Lend::lend(&$arg))*
                ))
            })
            .await
    };
    ($store:expr, write[$($lock:tt)*], $f:path, $($arg:ident),*) => {{
        $(let $arg = $crate::sqlite::Carry::carry($arg);)*
        $store
            .write(move |tx| {
                $crate::sql::sqlite::run($f(
                    &$crate::sql::sqlite::Lite(tx)
                    $(, $crate::tables::Lend::lend(&$arg))*
                ))
            })
            .await
    }};
}
pub(super) use via;

crate::tables::identity::impl_identity_store!(SqliteStore, via);
crate::impl_store!(SqliteStore, via);
crate::fleet::impl_fleet_store!(
    SqliteStore,
    via,
    quiet reads [read] crate::tables::heartbeat::quiet_read,
    sweep lists [write[Installation]]
);

/// An argument of a write, carried to the writer's thread as an owned copy (a `&str` as a
/// `String`), there lent back to the shared function ([`crate::tables::Lend`]).
pub(crate) trait Carry {
    type Owned: Send + 'static;
    fn carry(self) -> Self::Owned;
}

impl<T: Clone + Send + 'static> Carry for &T {
    type Owned = T;
    fn carry(self) -> T {
        self.clone()
    }
}

impl Carry for &str {
    type Owned = String;
    fn carry(self) -> String {
        self.to_string()
    }
}

impl<T: Clone + Send + 'static> Carry for &[T] {
    type Owned = Vec<T>;
    fn carry(self) -> Vec<T> {
        self.to_vec()
    }
}

/// Values the method owns already, moved as they are.
macro_rules! carried_as_they_are {
    ($($t:ty),*) => {
        $(impl Carry for $t {
            type Owned = $t;
            fn carry(self) -> $t {
                self
            }
        })*
    };
}
carried_as_they_are!(
    String,
    Timestamp,
    crate::PageRequest,
    picket_domain::HealthIssueStatus,
    picket_domain::ActivationMode,
    std::time::Duration
);

pub struct SqliteStore {
    /// Writers: IMMEDIATE transactions that may wait on the write lock, so they run on
    /// blocking threads.
    pool: Pool,
    readers: ReadPool,
    catalogue: Catalogue,
    /// Every write, group-committed (see `group_commit`).
    writer: group_commit::GroupCommit,
    /// Whether the next sweep looks at every sensor or only the silent ones.
    sweep_plan: crate::sweep_plan::SweepPlan,
    /// Check-ins that only say "still here" (see `heartbeat`).
    heartbeats: std::sync::Arc<crate::heartbeats::Heartbeats>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path, catalogue: Catalogue) -> Result<Self, StoreError> {
        let mut config = Config::new(path);
        config.pool = Some(PoolConfig::new(8));
        let pool = config
            .builder(Runtime::Tokio1)
            .map_err(|e| StoreError::Internal(e.to_string()))?
            .post_create(Hook::sync_fn(|conn, _| {
                let guard = conn
                    .lock()
                    .map_err(|_| HookError::message("connection lock poisoned"))?;
                configure(&guard).map_err(HookError::Backend)
            }))
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let store = Self {
            writer: group_commit::GroupCommit::spawn(pool.clone(), path),
            pool,
            readers: ReadPool::new(path),
            catalogue,
            sweep_plan: crate::sweep_plan::SweepPlan::default(),
            heartbeats: std::sync::Arc::default(),
        };
        let pool = store.pool.clone();
        crate::heartbeats::spawn_writer(
            std::sync::Arc::downgrade(&store.heartbeats),
            move |heartbeats| {
                let pool = pool.clone();
                async move { write_heartbeats(&pool, &heartbeats).await }
            },
        );
        store.write(migrations::apply).await?;
        Ok(store)
    }

    /// Runs a read inline on a pooled connection. Reads are short CPU work on a WAL snapshot and
    /// never wait for the writer, so handing them to a blocking thread would cost more (two
    /// thread switches per request) than it saves; `f` may borrow the caller's arguments.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
        T: Send,
    {
        let conn = self.readers.checkout()?;
        let result = f(&conn);
        self.readers.give_back(conn);
        result
    }

    /// Runs `f` in the writer's next group commit (an IMMEDIATE transaction, so the write lock is
    /// taken up front), in a savepoint of its own: kept only when it returns `Ok`, answered once
    /// the batch is on disk.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.writer.write(f).await
    }

    fn unified_version(&self) -> &str {
        &self.catalogue.unified_sensor_version
    }
}

// The engine's own steps of `Store` and `FleetStore` (the rest is `crate::impl_store!` and
// `crate::fleet::impl_fleet_store!`).

async fn find_sensor(
    store: &SqliteStore,
    tenant: &TenantId,
    id: &SensorId,
) -> Result<Option<Sensor>, StoreError> {
    via!(store, read, crate::tables::sensors::find, tenant, id)
}

fn pool_status(store: &SqliteStore) -> crate::probe::PoolStatus {
    let s = store.pool.status();
    crate::probe::PoolStatus::from_deadpool("sqlite", s.max_size, s.size, s.available, s.waiting)
}

/// Writes what the heartbeats heard, in one transaction (nothing when nothing is pending); on
/// failure they wait for the next flush.
async fn write_heartbeats(
    pool: &Pool,
    heartbeats: &crate::heartbeats::Heartbeats,
) -> Result<(), StoreError> {
    let items = heartbeats.take_pending();
    if items.is_empty() {
        return Ok(());
    }
    let conn = match pool.get().await {
        Ok(conn) => conn,
        Err(e) => {
            heartbeats.restore(items);
            return Err(StoreError::Unavailable(e.to_string()));
        }
    };
    let written = conn
        .interact(move |c| {
            let mut items = items;
            let relaxed = c.pragma_update(None, "synchronous", "NORMAL");
            let result = relaxed
                .and_then(|()| {
                    c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                })
                .map_err(StoreError::from)
                .and_then(|tx| {
                    crate::sql::sqlite::run(crate::tables::heartbeat::write_seen(
                        &crate::sql::sqlite::Lite(&tx),
                        &mut items,
                    ))?;
                    tx.commit()?;
                    Ok(())
                });
            // Back to FULL before the connection serves any acknowledged write.
            let restored = c
                .pragma_update(None, "synchronous", "FULL")
                .map_err(StoreError::from);
            result.and(restored).map_err(|e| (e, items))
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    written.map_err(|(e, items)| {
        heartbeats.restore(items);
        e
    })
}

/// Read-only connections, checked out and returned without leaving the calling thread.
struct ReadPool {
    path: std::path::PathBuf,
    idle: std::sync::Mutex<Vec<Connection>>,
}

/// How much of the database file each reader maps. Mapped pages are the kernel's page cache,
/// shared and reclaimable, but RSS counts them once per connection that maps them: 32 MiB
/// holds the hot part of 100,000 sensors (indexes, recent rows) and keeps two or three readers
/// well inside a 300 MB budget; the rest is read with pread() through a small page cache.
const MMAP_BYTES: i64 = 32 << 20;

/// Idle read connections kept; more may be open briefly under load.
const MAX_IDLE_READERS: usize = 16;

impl ReadPool {
    fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn checkout(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        // Memory-mapped reads: page lookups become loads instead of a pread() syscall each, and
        // the mapping is shared by every connection instead of one page cache per connection.
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // WAL lets readers run beside the writer. FULL syncs the WAL at every commit, so a write
    // answered 2xx survives a power cut too, not only a process crash; group commit keeps
    // check-ins at one sync per batch. Only the heard-from flush relaxes it
    // (`write_heartbeats`): a lost heartbeat time is re-heard within a minute.
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Every statement of the write paths stays prepared: parsing SQL was a quarter of the
    // writer's time on check-ins.
    conn.set_prepared_statement_cache_capacity(256);
    // A writer's own page cache (8 MiB instead of 2): with 100,000 sensors the default turned
    // most check-ins into pread() calls.
    conn.pragma_update(None, "cache_size", -8_192)?;
    // Checkpoints run in the background (`group_commit::spawn_checkpointer`), off the commit
    // path; this is only the safety net should the WAL ever grow past ~400 MB.
    conn.pragma_update(None, "wal_autocheckpoint", 100_000)?;
    Ok(())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}
