//! Lookups of sensors' rows by key, batched: lookups that arrive together are answered by one
//! statement (one round trip, one plan, one snapshot), so a busy replica spends one query on many
//! `GET`s by id or heartbeats instead of one each. A lookup waits only for the read already under
//! way, never for a timer, and a lookup made after a write was acknowledged goes into a later
//! statement, so it sees that write.

use super::{query, with_causes};
use crate::heartbeats::StoredAgent;
use crate::tables::heartbeat::{agent_from_row, AGENT_SELECT};
use crate::tables::sensors::{sensor_from_row, SENSOR_COLUMNS, SENSOR_SELECT};
use crate::StoreError;
use deadpool_postgres::Pool;
use picket_domain::{Sensor, SensorId, TenantId};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Row;

/// How many lookups one statement answers at most.
const KEYS_PER_READ: usize = 256;

pub type Key = (TenantId, SensorId);
type Reply<V> = oneshot::Sender<Result<Option<V>, StoreError>>;

/// Reads one row's key and value.
pub type MapRow<V> = fn(&Row) -> Result<(Key, V), StoreError>;

pub struct Batched<V> {
    queue: mpsc::UnboundedSender<(Key, Reply<V>)>,
}

impl<V: Clone + Send + 'static> Batched<V> {
    /// Starts the reader. `sql` takes the keys as `$1` (tenants) and `$2` (sensor ids), two text
    /// arrays of one length (`unnest($1::text[], $2::text[])`); keys without a row are absent.
    /// The reader stops when the store (every sender) is dropped.
    pub fn spawn(pool: Pool, sql: String, map: MapRow<V>) -> Self {
        let (queue, mut incoming) = mpsc::unbounded_channel::<(Key, Reply<V>)>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(KEYS_PER_READ);
            while incoming.recv_many(&mut batch, KEYS_PER_READ).await > 0 {
                let lookups = std::mem::take(&mut batch);
                match read(&pool, &sql, map, &lookups).await {
                    Ok(found) => {
                        for (key, reply) in lookups {
                            let _ = reply.send(Ok(found.get(&key).cloned()));
                        }
                    }
                    Err(e) => {
                        for (_, reply) in lookups {
                            let _ = reply.send(Err(copy_error(&e)));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    pub async fn get(&self, tenant: &TenantId, sensor: &SensorId) -> Result<Option<V>, StoreError> {
        let stopped = || StoreError::Unavailable("the batched reader has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(((tenant.clone(), sensor.clone()), reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn read<V>(
    pool: &Pool,
    sql: &str,
    map: MapRow<V>,
    lookups: &[(Key, Reply<V>)],
) -> Result<HashMap<Key, V>, StoreError> {
    let tenants: Vec<&str> = lookups.iter().map(|((t, _), _)| t.as_str()).collect();
    let sensors: Vec<&str> = lookups.iter().map(|((_, s), _)| s.as_str()).collect();
    let client = pool
        .get()
        .await
        .map_err(|e| StoreError::Unavailable(with_causes(&e)))?;
    query(&client, sql, &[&tenants, &sensors])
        .await?
        .iter()
        .map(map)
        .collect()
}

/// The same failure for every lookup of the batch: unavailable stays 503, the rest 500.
fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Internal(other.to_string()),
    }
}

/// The tenant a row names, as the key's tenant.
pub fn tenant_of(row: &Row, column: &str) -> Result<TenantId, StoreError> {
    let text: String = row.try_get(column)?;
    TenantId::parse(&text)
        .ok_or_else(|| StoreError::Internal(format!("stored tenant id '{text}' is not a GUID")))
}

/// `GET …/sensors/{id}` lookups, batched.
pub type SensorReads = Batched<Sensor>;

pub fn sensor_reads(pool: Pool) -> SensorReads {
    // The tenant last, after the select list `sensor_from_row` reads by position.
    let sql = format!(
        "SELECT {SENSOR_SELECT}, tenant_id FROM sensors \
         WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
    );
    Batched::spawn(pool, sql, |row| {
        let sensor = sensor_from_row(row)?;
        Ok(((tenant_of(row, "tenant_id")?, sensor.id.clone()), sensor))
    })
}

/// Heartbeat lookups (see `crate::heartbeats`), batched: the agents and their sensors by key.
pub type QuietReads = Batched<(StoredAgent, Sensor)>;

pub fn quiet_reads(pool: Pool) -> QuietReads {
    // The sensor's select list first, where `sensor_from_row` reads it by position; the
    // agent's tenant after it, then the agent's columns where `agent_from_row` reads them.
    let sql = format!(
        "SELECT {SENSOR_SELECT}, a.* FROM sensors JOIN \
         (SELECT tenant_id AS a_tenant, sensor_id AS a_sensor, {AGENT_SELECT} FROM sensor_agents \
          WHERE (tenant_id, sensor_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))) AS a \
         ON sensors.tenant_id = a.a_tenant AND sensors.id = a.a_sensor"
    );
    Batched::spawn(pool, sql, |row| {
        let sensor = sensor_from_row(row)?;
        // After the sensor's columns: `a_tenant`, `a_sensor`, then the agent's.
        let agent = agent_from_row(row, SENSOR_COLUMNS.len() + 2)?;
        Ok((
            (tenant_of(row, "a_tenant")?, sensor.id.clone()),
            (agent, sensor),
        ))
    })
}
