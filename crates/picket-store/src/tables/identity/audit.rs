//! The audit log: entries numbered per tenant, read oldest first or newest first.

use crate::identity::{AuditQuery, NewAuditEntry};
use crate::sql::{Db, RowRef};
use crate::tables::rows::{get_ts, ts};
use crate::tables::tenants;
use crate::{args, sql, sql_per_dialect, StoreError};
use picket_domain::identity::AuditEntry;
use picket_domain::TenantId;

/// Numbers the entry inside the write transaction, which holds the tenant's writes back (the
/// SQLite writer, the tenant's lock on PostgreSQL), so sequence order is commit order.
pub async fn record(db: &impl Db, e: &NewAuditEntry) -> Result<(), StoreError> {
    db.execute(
        sql!(
            "INSERT INTO audit_log (tenant_id, seq, time, actor, operation, target, result, request_id, detail) \
             VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log WHERE tenant_id = $1), $2, $3, $4, $5, $6, $7, $8)"
        ),
        args![
            e.tenant.as_str(),
            &ts(&e.time),
            &e.actor,
            &e.operation,
            &e.target,
            &e.result,
            &e.request_id,
            e.detail.as_deref()
        ],
    )
    .await?;
    Ok(())
}

/// The read of [`entries`], with the optional filters' placeholders typed as PostgreSQL wants
/// them (`$3::text IS NULL`: it cannot infer a type from `IS NULL` alone).
fn entries_sql(text: &str, bigint: &str, order: &str) -> String {
    format!(
        "SELECT seq, time, tenant_id, actor, operation, target, result, request_id, detail FROM audit_log \
         WHERE tenant_id = $1 AND time >= $2 AND ($3{text} IS NULL OR operation = $3) AND ($5{text} IS NULL OR actor = $5) \
         AND ($6{text} IS NULL OR time < $6) AND ($7{bigint} IS NULL OR seq < $7) ORDER BY seq{order} LIMIT $4"
    )
}

fn entry_from_row(row: &dyn RowRef) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.get(0)?,
        time: get_ts(row, 1)?,
        tenant: tenants::get_id(row, 2)?,
        actor: row.get(3)?,
        operation: row.get(4)?,
        target: row.get(5)?,
        result: row.get(6)?,
        request_id: row.get(7)?,
        detail: row.get(8)?,
    })
}

pub async fn entries(
    db: &impl Db,
    tenant: &TenantId,
    q: &AuditQuery,
) -> Result<Vec<AuditEntry>, StoreError> {
    let stmt = if q.newest_first {
        sql_per_dialect!(
            postgres: entries_sql("::text", "::bigint", " DESC"),
            sqlite: entries_sql("", "", " DESC"),
        )
    } else {
        sql_per_dialect!(
            postgres: entries_sql("::text", "::bigint", ""),
            sqlite: entries_sql("", "", ""),
        )
    };
    let since = q.since.as_ref().map(ts).unwrap_or_default();
    let until = q.until.as_ref().map(ts);
    db.query(
        stmt,
        args![
            tenant.as_str(),
            &since,
            q.operation.as_deref(),
            q.limit,
            q.actor.as_deref(),
            until.as_ref(),
            q.before_seq
        ],
        entry_from_row,
    )
    .await
}
