//! The installation's token-signing keys: one current (not retired), and retired ones kept
//! until `remove_after` so tokens they signed still verify.

use crate::sql::{Db, RowRef};
use crate::tables::rows::{get_opt_ts, get_ts, ts};
use crate::{args, sql, StoreError};
use picket_domain::identity::*;
use picket_domain::time::Timestamp;

fn key_from_row(row: &dyn RowRef) -> Result<SigningKeyRecord, StoreError> {
    Ok(SigningKeyRecord {
        kid: row.get(0)?,
        private_pem: row.get(1)?,
        created_at: get_ts(row, 2)?,
        retired_at: get_opt_ts(row, 3)?,
        remove_after: get_opt_ts(row, 4)?,
    })
}

/// Every key, newest first.
pub async fn list(db: &impl Db) -> Result<Vec<SigningKeyRecord>, StoreError> {
    db.query(
        sql!(
            "SELECT kid, private_pem, created_at, retired_at, remove_after FROM signing_keys \
             ORDER BY created_at DESC, kid"
        ),
        &[],
        key_from_row,
    )
    .await
}

async fn insert(db: &impl Db, key: &SigningKeyRecord) -> Result<(), StoreError> {
    db.execute(
        sql!(
            "INSERT INTO signing_keys (kid, private_pem, created_at, retired_at, remove_after) \
             VALUES ($1, $2, $3, NULL, NULL)"
        ),
        args![&key.kid, &key.private_pem, &ts(&key.created_at)],
    )
    .await?;
    Ok(())
}

/// Stores `key` as the current key when there is none; answers every key after.
pub async fn ensure(
    db: &impl Db,
    key: &SigningKeyRecord,
) -> Result<Vec<SigningKeyRecord>, StoreError> {
    let current = db
        .value::<bool>(
            sql!("SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)"),
            &[],
        )
        .await?
        .unwrap_or(false);
    if !current {
        insert(db, key).await?;
    }
    list(db).await
}

/// Retires the current key at `now` (kept until `remove_after`) and makes `key` current.
pub async fn rotate(
    db: &impl Db,
    key: &SigningKeyRecord,
    now: Timestamp,
    remove_after: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        sql!("UPDATE signing_keys SET retired_at = $1, remove_after = $2 WHERE retired_at IS NULL"),
        args![&ts(&now), &ts(&remove_after)],
    )
    .await?;
    insert(db, key).await
}

/// Withdraws a retired key at once; refuses the current one.
pub async fn remove(db: &impl Db, kid: &str) -> Result<bool, StoreError> {
    let current = db
        .value::<bool>(
            sql!("SELECT retired_at IS NULL FROM signing_keys WHERE kid = $1"),
            args![kid],
        )
        .await?;
    match current {
        None => Ok(false),
        Some(true) => Err(StoreError::Conflict(format!(
            "key {kid} is the current signing key; rotate first, then remove it"
        ))),
        Some(false) => {
            db.execute(sql!("DELETE FROM signing_keys WHERE kid = $1"), args![kid])
                .await?;
            Ok(true)
        }
    }
}
