//! Temporary: the SQLite calls of `tables::health_issues` for the modules not yet moved (fleet).

use crate::sql::sqlite::{run, Lite};
use crate::tables::health_issues as shared;
use crate::{IssueScope, StoreError};
use deadpool_sqlite::rusqlite::{Connection, Transaction};
use picket_domain::time::Timestamp;
use picket_domain::*;

pub fn find(
    conn: &Connection,
    tenant: &TenantId,
    scope: &IssueScope,
    id: &str,
) -> Result<Option<HealthIssue>, StoreError> {
    run(shared::find(&Lite(conn), tenant, scope, id))
}

pub fn insert(tx: &Transaction<'_>, tenant: &TenantId, h: &HealthIssue) -> Result<(), StoreError> {
    run(shared::insert(&Lite(tx), tenant, h))
}

pub fn save_status(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    id: &HealthIssueId,
    status: HealthIssueStatus,
    now: Timestamp,
) -> Result<Option<HealthIssue>, StoreError> {
    run(shared::save_status(&Lite(tx), tenant, id, status, now))
}
