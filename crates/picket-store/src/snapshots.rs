//! Named snapshots for fast resets (`picket snapshot save|restore`, `/admin/v1/snapshots`):
//! the rows of one tenant, or of every tenant and the release catalogue, kept in the store
//! itself (so every replica sees them). Restoring replaces the scope's rows in one transaction.
//! Signing keys are never part of a snapshot: a reset must not invalidate the tokens of the
//! test suite that asked for it.

use crate::portable::{self, PortableStore, Purpose, Scope, SnapshotInfo, Table};
use crate::StoreError;
use picket_domain::time::{format_timestamp, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest snapshot name.
pub const MAX_NAME_LEN: usize = 64;

/// Snapshot names: 1–64 of `A-Z a-z 0-9 . _ -`, not starting with a dot (they appear in URLs
/// and file-like listings).
pub fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "'{}' is not a snapshot name: use 1 to {MAX_NAME_LEN} letters, digits, '.', '_' or '-', not starting with '.'",
            name.chars().take(80).collect::<String>()
        )))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    schema_version: i64,
    tables: Vec<Table>,
}

/// Saves the rows of `scope` as `name`, replacing a snapshot of that name.
pub async fn save<S: PortableStore + ?Sized>(
    store: &S,
    scope: &Scope,
    name: &str,
    now: Timestamp,
) -> Result<SnapshotInfo, StoreError> {
    check_name(name)?;
    let tables = store
        .export_tables(scope, &portable::tables(scope, Purpose::Snapshot))
        .await?;
    let body = Body {
        schema_version: store.schema_version().await?,
        tables,
    };
    let info = SnapshotInfo {
        scope: scope.key(),
        name: name.to_string(),
        created_date_time: format_timestamp(&now),
        rows: body.tables.iter().map(|t| t.rows.len() as u64).sum(),
    };
    let text = serde_json::to_string(&body).map_err(|e| StoreError::Internal(e.to_string()))?;
    store.put_snapshot(&info, text).await?;
    Ok(info)
}

/// What a restore replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    pub name: String,
    pub rows: u64,
    pub tables: usize,
}

/// Replaces the rows of `scope` with the snapshot `name`; `None` when there is none.
pub async fn restore<S: PortableStore + ?Sized>(
    store: &S,
    scope: &Scope,
    name: &str,
) -> Result<Option<Restored>, StoreError> {
    check_name(name)?;
    let Some(text) = store.snapshot_body(&scope.key(), name).await? else {
        return Ok(None);
    };
    let body: Body = serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("snapshot '{name}' is unreadable: {e}")))?;
    let current = store.schema_version().await?;
    if body.schema_version != current {
        return Err(StoreError::Invalid(format!(
            "snapshot '{name}' was taken at schema version {}, and this store is at {current}; take it again",
            body.schema_version
        )));
    }
    let tables = body.tables.len();
    let rows = store
        .replace_tables(
            scope,
            &portable::tables(scope, Purpose::Snapshot),
            body.tables,
        )
        .await?;
    Ok(Some(Restored {
        name: name.to_string(),
        rows,
        tables,
    }))
}

/// The snapshots of a scope, by name.
pub async fn list<S: PortableStore + ?Sized>(
    store: &S,
    scope: &Scope,
) -> Result<Vec<SnapshotInfo>, StoreError> {
    store.list_snapshots(Some(&scope.key())).await
}

/// Deletes a snapshot; false when there was none.
pub async fn delete<S: PortableStore + ?Sized>(
    store: &S,
    scope: &Scope,
    name: &str,
) -> Result<bool, StoreError> {
    check_name(name)?;
    store.delete_snapshot(&scope.key(), name).await
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names_are_short_and_plain() {
        for ok in ["clean", "before-test_1", "v1.2", "A"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        let long = "x".repeat(65);
        for bad in [
            "",
            ".hidden",
            "a/b",
            "a b",
            "ü",
            "..",
            long.as_str(),
            "a;drop",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
