//! Group commit for every write. SQLite has one writer, and with `synchronous=FULL` each commit
//! syncs the WAL, the slowest step of a write by far. Writes that arrive while one batch commits
//! wait for the next, which runs them all in one transaction (up to [`MAX_BATCH`]), each in a
//! savepoint of its own: a write that fails rolls back alone, the others commit. Each caller is
//! answered only after the commit, so an acknowledged write is durable, and one sync serves the
//! whole batch. Writes run in arrival order, one after another, exactly as they would under
//! the write lock one transaction each.

use crate::StoreError;
use deadpool_sqlite::rusqlite::{self, Connection};
use deadpool_sqlite::Pool;
use tokio::sync::{mpsc, oneshot};

pub const MAX_BATCH: usize = 256;

/// What a write hands back to the batch: how to answer its caller once the commit is known.
type Deliver = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;
/// A write: runs in the batch's transaction (inside its savepoint), returns its delivery.
type Job = Box<dyn FnOnce(&rusqlite::Transaction<'_>) -> Deliver + Send>;

pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the batch writer on the current tokio runtime.
    pub fn spawn(pool: Pool, path: &std::path::Path) -> Self {
        let (queue, mut rx) = mpsc::channel::<Job>(MAX_BATCH * 16);
        let wal_frames = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
        spawn_checkpointer(path.to_path_buf(), queue.downgrade(), wal_frames.clone());
        tokio::spawn(async move {
            // One connection for every batch, so its page cache holds the fleet's hot pages
            // (a pooled connection each time would split them over the whole pool).
            let mut writer: Option<deadpool_sqlite::Object> = None;
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let truncate =
                    wal_frames.load(std::sync::atomic::Ordering::Relaxed) > WAL_RESET_FRAMES;
                if truncate {
                    wal_frames.store(0, std::sync::atomic::Ordering::Relaxed);
                }
                run_batch(&pool, &mut writer, jobs, truncate).await;
            }
        });
        Self { queue }
    }

    /// Runs `f` in the next batch's transaction; answers after that transaction commits. `f`'s
    /// changes are kept only when it returns `Ok` (and the batch commits).
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |tx| {
            let result = in_savepoint(tx, f);
            Box::new(move |committed: Result<(), &StoreError>| {
                let answer = match (committed, result) {
                    (_, Err(e)) => Err(e),
                    (Err(e), Ok(_)) => Err(same_kind(e)),
                    (Ok(()), Ok(value)) => Ok(value),
                };
                let _ = reply.send(answer);
            })
        });
        let stopped = || StoreError::Unavailable("the database writer stopped".into());
        self.queue.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Runs one write inside a savepoint, rolling back to it when the write fails.
fn in_savepoint<T>(
    tx: &rusqlite::Transaction<'_>,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    tx.execute_batch("SAVEPOINT write")?;
    match f(tx) {
        Ok(value) => {
            tx.execute_batch("RELEASE write")?;
            Ok(value)
        }
        Err(e) => {
            if let Err(undo) = tx.execute_batch("ROLLBACK TO write; RELEASE write") {
                // The batch cannot tell what this write left behind: fail it whole.
                return Err(StoreError::Internal(format!(
                    "{e}; rolling it back failed: {undo}"
                )));
            }
            Err(e)
        }
    }
}

/// One batch-wide failure, given to each of its writes.
fn same_kind(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Internal(other.to_string()),
    }
}

/// A WAL longer than this (~64 MB of 4 KiB pages) is truncated at the next checkpoint.
const WAL_RESET_FRAMES: i64 = 16_384;

/// How often the WAL is checkpointed into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Copies the WAL back into the database file every [`CHECKPOINT_EVERY`] on a connection of its
/// own, so that commits (check-ins above all) never pay for a checkpoint. PASSIVE never waits
/// for readers or the writer. A plain thread, not a pooled connection on the runtime: it ends
/// with the store (when the batcher's queue is gone) and never holds up a runtime's shutdown.
fn spawn_checkpointer(
    path: std::path::PathBuf,
    alive: mpsc::WeakSender<Job>,
    wal_frames: std::sync::Arc<std::sync::atomic::AtomicI64>,
) {
    let spawned = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let conn = match Connection::open(&path) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "no WAL checkpointer: cannot open the database");
                    return;
                }
            };
            let _ = conn.pragma_update(None, "busy_timeout", 1000);
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                if alive.upgrade().is_none() {
                    return;
                }
                // (busy, frames in the WAL, frames copied back). Readers that never pause keep
                // the WAL from starting over; its length tells the batch writer when to
                // truncate it (`run_batch`), which only the writer can do without starving.
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
                    Ok(frames) => wal_frames.store(frames, std::sync::atomic::Ordering::Relaxed),
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no WAL checkpointer thread");
    }
}

/// Page cache of the writer: enough for 100,000 sensors' rows and indexes.
const WRITER_CACHE_KIB: i64 = 32 * 1024;

async fn writer_connection(pool: &Pool) -> Result<deadpool_sqlite::Object, StoreError> {
    let conn = pool
        .get()
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.interact(|c| c.pragma_update(None, "cache_size", -WRITER_CACHE_KIB))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
    Ok(conn)
}

async fn run_batch(
    pool: &Pool,
    writer: &mut Option<deadpool_sqlite::Object>,
    jobs: Vec<Job>,
    truncate_wal: bool,
) {
    if writer.is_none() {
        match writer_connection(pool).await {
            Ok(c) => *writer = Some(c),
            // The jobs are dropped unrun: their callers hear that the writer stopped.
            Err(e) => {
                tracing::error!(error = %e, "no database writer connection");
                return;
            }
        }
    }
    let Some(conn) = writer.as_ref() else {
        return;
    };
    let result = conn
        .interact(move |c: &mut Connection| {
            let mut deliveries = Vec::with_capacity(jobs.len());
            let committed = (|| -> Result<(), StoreError> {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                for job in jobs {
                    deliveries.push(job(&tx));
                }
                tx.commit()?;
                Ok(())
            })();
            for deliver in deliveries {
                deliver(committed.as_ref().map(|_| ()));
            }
        })
        .await;
    match result {
        Ok(()) => {
            if truncate_wal {
                // Once the batch is answered, on the connection that writes: waits for readers
                // of older snapshots (a few ms), copies the WAL back and truncates it.
                let done = conn
                    .interact(|c| {
                        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                            r.get::<_, i64>(0)
                        })
                    })
                    .await;
                if let Ok(Err(e)) = done {
                    tracing::warn!(error = %e, "WAL truncation failed");
                }
            }
        }
        Err(e) => {
            // The connection's thread died with the replies: take a fresh connection next time.
            tracing::error!(error = %e, "batch writer failed");
            *writer = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deadpool_sqlite::{Config, Runtime};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_failing_write_rolls_back_alone_and_the_batch_commits_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("g.db");
        let pool = Config::new(&path)
            .create_pool(Runtime::Tokio1)
            .expect("pool");
        let writer = Arc::new(GroupCommit::spawn(pool.clone(), &path));
        writer
            .write(|tx| Ok(tx.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY)")?))
            .await
            .expect("create");
        // Concurrent writes land in shared batches; every fourth writes, then fails.
        let tasks: Vec<_> = (0..64i64)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .write(move |tx| {
                            tx.execute("INSERT INTO t (x) VALUES (?1)", [i])?;
                            if i % 4 == 0 {
                                return Err(StoreError::Conflict(format!("refused {i}")));
                            }
                            Ok(i)
                        })
                        .await
                })
            })
            .collect();
        let mut refused = 0;
        for (i, task) in tasks.into_iter().enumerate() {
            match task.await.expect("task") {
                Ok(v) => assert_eq!(v, i as i64),
                Err(StoreError::Conflict(m)) => {
                    assert_eq!(m, format!("refused {i}"));
                    refused += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(refused, 16);
        let kept: Vec<i64> = writer
            .write(|tx| {
                let mut stmt = tx.prepare("SELECT x FROM t ORDER BY x")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<Vec<i64>, _>>()?)
            })
            .await
            .expect("read");
        let expected: Vec<i64> = (0..64).filter(|i| i % 4 != 0).collect();
        assert_eq!(kept, expected);
    }
}
