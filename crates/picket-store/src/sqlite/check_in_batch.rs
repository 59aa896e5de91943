//! Group commit for check-ins. SQLite has one writer; a transaction per check-in spends most
//! of its time on the transaction itself. Check-ins that arrive while one batch commits wait
//! for the next, which runs them all in one transaction (up to [`MAX_BATCH`]). Each caller is
//! answered only after the commit, so an acknowledged check-in is durable. If any check-in of
//! a batch fails, the batch is rolled back and each is retried in its own transaction, so one
//! bad row never costs the others.

use super::fleet;
use crate::fleet::{AgentRefusal, CheckInAnswer, CheckInReport, FleetPolicy};
use crate::StoreError;
use deadpool_sqlite::rusqlite::{self, Connection};
use deadpool_sqlite::Pool;
use picket_domain::time::Timestamp;
use picket_domain::{SensorId, TenantId};
use tokio::sync::{mpsc, oneshot};

pub const MAX_BATCH: usize = 256;

type Outcome = Result<Result<CheckInAnswer, AgentRefusal>, StoreError>;

/// One check-in to record.
pub struct Request {
    pub tenant: TenantId,
    pub sensor: SensorId,
    pub credential_hash: String,
    pub report: CheckInReport,
    pub now: Timestamp,
    pub policy: FleetPolicy,
}

struct Job {
    request: Request,
    reply: oneshot::Sender<Outcome>,
}

pub struct CheckInBatcher {
    queue: mpsc::Sender<Job>,
}

impl CheckInBatcher {
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

    pub async fn check_in(&self, request: Request) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { request, reply })
            .await
            .map_err(|_| StoreError::Unavailable("the check-in writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the check-in writer stopped".into()))?
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

fn one(c: &Connection, j: &Request) -> Outcome {
    let tx = rusqlite::Transaction::new_unchecked(c, rusqlite::TransactionBehavior::Immediate)?;
    let out = fleet::check_in(
        &tx,
        &j.tenant,
        &j.sensor,
        &j.credential_hash,
        &j.report,
        j.now,
        &j.policy,
    )?;
    tx.commit()?;
    Ok(out)
}

/// Page cache of the check-in writer: enough for 100,000 sensors' rows and indexes.
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
            Err(e) => {
                for j in jobs {
                    let _ = j.reply.send(Err(StoreError::Unavailable(e.to_string())));
                }
                return;
            }
        }
    }
    let Some(conn) = writer.as_ref() else {
        return;
    };
    let result = conn
        .interact(move |c| {
            let together = (|| -> Result<Vec<Outcome>, StoreError> {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let mut outs = Vec::with_capacity(jobs.len());
                for j in jobs.iter().map(|j| &j.request) {
                    outs.push(Ok(fleet::check_in(
                        &tx,
                        &j.tenant,
                        &j.sensor,
                        &j.credential_hash,
                        &j.report,
                        j.now,
                        &j.policy,
                    )?));
                }
                tx.commit()?;
                Ok(outs)
            })();
            let outs = match together {
                Ok(outs) => outs,
                // Rolled back (the transaction dropped): each on its own.
                Err(_) => jobs.iter().map(|j| one(c, &j.request)).collect(),
            };
            (jobs, outs)
        })
        .await;
    match result {
        Ok((jobs, outs)) => {
            for (j, out) in jobs.into_iter().zip(outs) {
                let _ = j.reply.send(out);
            }
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
            tracing::error!(error = %e, "check-in batch writer failed");
            *writer = None;
        }
    }
}
