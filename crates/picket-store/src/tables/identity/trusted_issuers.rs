//! Token issuers a tenant trusts (their keys fetched from `jwks_uri`), by issuer.

use super::get_names;
use crate::sql::{Db, RowRef};
use crate::tables::rows::{get_ts, json_list, ts};
use crate::tables::tenants;
use crate::{args, sql, StoreError};
use picket_domain::identity::*;
use picket_domain::TenantId;

const ISSUER_SELECT: &str =
    "SELECT tenant_id, issuer, jwks_uri, audiences, created_at FROM trusted_issuers";

fn issuer_from_row(row: &dyn RowRef) -> Result<TrustedIssuer, StoreError> {
    Ok(TrustedIssuer {
        tenant: tenants::get_id(row, 0)?,
        issuer: row.get(1)?,
        jwks_uri: row.get(2)?,
        audiences: get_names(row, 3)?,
        created_at: get_ts(row, 4)?,
    })
}

/// Adds or replaces (same tenant and issuer) a trusted issuer.
pub async fn save(db: &impl Db, issuer: &TrustedIssuer) -> Result<(), StoreError> {
    tenants::ensure(db, &issuer.tenant).await?;
    db.execute(
        sql!(
            "INSERT INTO trusted_issuers (tenant_id, issuer, jwks_uri, audiences, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, issuer) \
             DO UPDATE SET jwks_uri = excluded.jwks_uri, audiences = excluded.audiences"
        ),
        args![
            issuer.tenant.as_str(),
            &issuer.issuer,
            &issuer.jwks_uri,
            &json_list(&issuer.audiences),
            &ts(&issuer.created_at)
        ],
    )
    .await?;
    Ok(())
}

/// One tenant's, or every tenant's (the operator's view, and the verifier's table at start).
pub async fn list(
    db: &impl Db,
    tenant: Option<&TenantId>,
) -> Result<Vec<TrustedIssuer>, StoreError> {
    match tenant {
        Some(t) => {
            db.query(
                sql!("{ISSUER_SELECT} WHERE tenant_id = $1 ORDER BY issuer"),
                args![t.as_str()],
                issuer_from_row,
            )
            .await
        }
        None => {
            db.query(
                sql!("{ISSUER_SELECT} ORDER BY tenant_id, issuer"),
                &[],
                issuer_from_row,
            )
            .await
        }
    }
}

pub async fn remove(db: &impl Db, tenant: &TenantId, issuer: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            sql!("DELETE FROM trusted_issuers WHERE tenant_id = $1 AND issuer = $2"),
            args![tenant.as_str(), issuer],
        )
        .await?
        == 1)
}
