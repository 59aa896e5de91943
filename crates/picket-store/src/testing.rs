//! A fresh store for a test (feature `test-support`): a temporary SQLite file, or, when
//! `PICKET_TEST_DATABASE_URL` names a PostgreSQL database, a schema of its own there
//! (`t_<random>`, dropped when the test ends). The store and server suites open their stores
//! here, so the same cases run on either engine.

use crate::{Catalogue, PostgresConfig, PostgresStore, SqliteStore, Store, StoreError};
use rand::Rng;
use std::sync::{Arc, Once};

/// The variable naming the PostgreSQL database tests run on.
pub const DATABASE_URL_VAR: &str = "PICKET_TEST_DATABASE_URL";

/// The PostgreSQL URL tests use, if any (an empty value counts as unset).
pub fn postgres_url() -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Says once per test process that the PostgreSQL runs were skipped, and why.
pub fn note_postgres_skipped() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Written to stderr itself rather than through `eprintln!`, which the test harness
        // captures and shows only for failing tests.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: {DATABASE_URL_VAR} is not set, so these tests ran on SQLite only and the \
             PostgreSQL runs were skipped; set it (e.g. postgres://root@127.0.0.1:5432/test) \
             to run them on PostgreSQL"
        );
    });
}

enum Place {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

/// Where a test's data lives; dropping it removes the data.
pub struct TestDatabase {
    place: Place,
}

impl TestDatabase {
    /// A new, empty place on the engine the environment selects.
    pub fn new() -> Result<Self, StoreError> {
        let place = match postgres_url() {
            Some(url) => Place::Postgres {
                url,
                schema: format!("t_{:016x}", rand::thread_rng().gen::<u64>()),
            },
            // SQLite is the default engine: nothing skipped here. Tests that need PostgreSQL
            // end in `_on_postgres`, and the test command leaves them out without it.
            None => {
                Place::Sqlite(tempfile::tempdir().map_err(|e| StoreError::Internal(e.to_string()))?)
            }
        };
        Ok(Self { place })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn engine(&self) -> &'static str {
        match self.place {
            Place::Sqlite(_) => "sqlite",
            Place::Postgres { .. } => "postgres",
        }
    }

    /// The PostgreSQL connection settings of this place (`None` on SQLite).
    pub fn postgres_config(&self) -> Option<PostgresConfig> {
        match &self.place {
            Place::Sqlite(_) => None,
            Place::Postgres { url, schema } => Some(PostgresConfig {
                schema: Some(schema.clone()),
                pool_size: 8,
                ..PostgresConfig::new(url.clone())
            }),
        }
    }

    /// Opens a store on this place; opening again sees the same data (a restart).
    pub async fn open(&self, catalogue: Catalogue) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match &self.place {
            Place::Sqlite(dir) => {
                Arc::new(SqliteStore::open(&dir.path().join("picket.db"), catalogue).await?)
            }
            Place::Postgres { .. } => {
                let config = self.postgres_config().ok_or_else(|| {
                    StoreError::Internal("no PostgreSQL settings for this test database".into())
                })?;
                Arc::new(PostgresStore::open(&config, catalogue).await?)
            }
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Place::Postgres { url, schema } = &self.place else {
            return;
        };
        let (url, schema) = (url.clone(), schema.clone());
        // Drop runs inside the test's runtime, which cannot block on a future: a thread of its
        // own connects and drops the schema. Failing to clean up never fails the test.
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok((client, connection)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                else {
                    return;
                };
                tokio::spawn(connection);
                // Never wait long: a connection of the test's own (stopped) runtime might
                // still hold a lock, and then the schema is left for `DROP SCHEMA` by hand.
                let _ = client
                    .batch_execute(&format!(
                        "SET lock_timeout = '2s'; DROP SCHEMA IF EXISTS {schema} CASCADE"
                    ))
                    .await;
            });
        });
        let _ = cleanup.join();
    }
}
