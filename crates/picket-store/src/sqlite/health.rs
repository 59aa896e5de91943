//! Temporary: the SQLite call of `tables::health` for the modules not yet moved (fleet).

use crate::sql::sqlite::{run, Lite};
use crate::StoreError;
use deadpool_sqlite::rusqlite::Transaction;
use picket_domain::TenantId;

pub fn refresh_health(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    fqdns: Option<&[String]>,
) -> Result<(), StoreError> {
    run(crate::tables::health::refresh_health(
        &Lite(tx),
        tenant,
        fqdns,
    ))
}
