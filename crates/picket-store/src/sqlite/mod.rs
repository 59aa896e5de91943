//! The embedded SQLite engine: a small connection pool over one WAL database, migrations
//! applied at open, and each store call run on a pooled connection off the async threads.

mod api;
mod candidates;
mod health;
mod health_issues;
mod listing;
mod migrations;
mod rows;
mod seed;
mod sensors;
mod tenants;

use crate::{Catalogue, StoreError};
use deadpool_sqlite::rusqlite::{self, Connection};
use deadpool_sqlite::{Config, Hook, HookError, Pool, PoolConfig, Runtime};
use std::path::Path;

pub use migrations::MIGRATIONS;

pub struct SqliteStore {
    pool: Pool,
    catalogue: Catalogue,
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
                let guard = conn.lock().map_err(|_| HookError::message("connection lock poisoned"))?;
                configure(&guard).map_err(HookError::Backend)
            }))
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let store = Self { pool, catalogue };
        store.write(migrations::apply).await?;
        Ok(store)
    }

    /// Runs a read on a pooled connection.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let conn = self.pool.get().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.interact(move |c| f(c))
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    /// Runs `f` in an IMMEDIATE transaction (the write lock is taken up front, so two writers
    /// never deadlock upgrading from a read), committing only when it returns `Ok`.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let conn = self.pool.get().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.interact(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // WAL lets readers run beside the writer; NORMAL sync is durable across process crashes
    // (a power cut may lose the last transactions, never corrupt the file).
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}
