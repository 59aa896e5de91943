//! Temporary: the PostgreSQL call of `tables::health` for the modules not yet moved (fleet).

use super::Tx;
use crate::sql::postgres::Pg;
use crate::StoreError;
use picket_domain::TenantId;

pub async fn refresh_health(
    tx: &Tx<'_>,
    tenant: &TenantId,
    fqdns: Option<&[String]>,
) -> Result<(), StoreError> {
    crate::tables::health::refresh_health(&Pg(tx), tenant, fqdns).await
}
