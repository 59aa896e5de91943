//! Temporary: the PostgreSQL calls of `tables::health_issues` for the modules not yet moved
//! (fleet).

use super::Tx;
use crate::sql::postgres::Pg;
use crate::tables::health_issues as shared;
use crate::{IssueScope, StoreError};
use picket_domain::time::Timestamp;
use picket_domain::*;

pub async fn find(
    tx: &Tx<'_>,
    tenant: &TenantId,
    scope: &IssueScope,
    id: &str,
) -> Result<Option<HealthIssue>, StoreError> {
    shared::find(&Pg(tx), tenant, scope, id).await
}

pub async fn insert(tx: &Tx<'_>, tenant: &TenantId, h: &HealthIssue) -> Result<(), StoreError> {
    shared::insert(&Pg(tx), tenant, h).await
}

pub async fn link(
    tx: &Tx<'_>,
    tenant: &TenantId,
    fqdn: &str,
    issue: &str,
) -> Result<(), StoreError> {
    shared::link(&Pg(tx), tenant, fqdn, issue).await
}

pub async fn save_status(
    tx: &Tx<'_>,
    tenant: &TenantId,
    id: &HealthIssueId,
    status: HealthIssueStatus,
    now: Timestamp,
) -> Result<Option<HealthIssue>, StoreError> {
    shared::save_status(&Pg(tx), tenant, id, status, now).await
}
