//! Key lookups batched: lookups that arrive together are answered by one statement (one round
//! trip, one plan, one snapshot), so a busy replica spends one query on many `GET`s by id or
//! heartbeats instead of one each. A lookup waits only for the read already under way, never for
//! a timer, and a lookup made after a write was acknowledged goes into a later statement, so it
//! sees that write.

use crate::StoreError;
use deadpool_postgres::Pool;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use tokio::sync::{mpsc, oneshot};

/// How many lookups one statement answers at most.
const KEYS_PER_READ: usize = 256;

type Reply<V> = oneshot::Sender<Result<Option<V>, StoreError>>;

pub struct Batched<K, V> {
    queue: mpsc::UnboundedSender<(K, Reply<V>)>,
}

impl<K, V> Batched<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// Starts the reader: `fetch` reads the rows of many keys at once (absent keys simply
    /// missing from its map). It stops when the store (every sender) is dropped.
    pub fn spawn<F, Fut>(pool: Pool, fetch: F) -> Self
    where
        F: Fn(Pool, Vec<K>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<K, V>, StoreError>> + Send,
    {
        let (queue, mut incoming) = mpsc::unbounded_channel::<(K, Reply<V>)>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(KEYS_PER_READ);
            while incoming.recv_many(&mut batch, KEYS_PER_READ).await > 0 {
                let lookups = std::mem::take(&mut batch);
                let mut keys: Vec<K> = lookups.iter().map(|(k, _)| k.clone()).collect();
                keys.dedup();
                match fetch(pool.clone(), keys).await {
                    Ok(found) => {
                        for (key, reply) in lookups {
                            let _ = reply.send(Ok(found.get(&key).cloned()));
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        for (_, reply) in lookups {
                            let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    pub async fn get(&self, key: K) -> Result<Option<V>, StoreError> {
        let stopped = || StoreError::Unavailable("the batched reader has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.queue.send((key, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}
