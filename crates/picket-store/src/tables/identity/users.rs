//! Users with their directory roles. A principal name compares without case: SQLite's column
//! is `COLLATE NOCASE`, PostgreSQL's is indexed on `lower(user_principal_name)`.

use super::get_names;
use crate::sql::{Db, RowRef};
use crate::tables::rows::{get_ts, json_list, ts};
use crate::tables::tenants;
use crate::{args, sql, sql_per_dialect, StoreError};
use picket_domain::identity::*;
use picket_domain::TenantId;

const USER_SELECT: &str =
    "SELECT tenant_id, object_id, user_principal_name, display_name, roles, created_at FROM users";

fn user_from_row(row: &dyn RowRef) -> Result<User, StoreError> {
    Ok(User {
        tenant: tenants::get_id(row, 0)?,
        object_id: row.get(1)?,
        user_principal_name: row.get(2)?,
        display_name: row.get(3)?,
        roles: get_names(row, 4)?,
        created_at: get_ts(row, 5)?,
    })
}

/// Creates a user; the tenant must exist and the principal name be free.
pub async fn create(db: &impl Db, user: &User) -> Result<(), StoreError> {
    if tenants::find(db, &user.tenant).await?.is_none() {
        return Err(StoreError::Conflict(format!(
            "tenant {} does not exist; create it with 'picket tenants create'",
            user.tenant
        )));
    }
    if find(db, &user.tenant, &user.user_principal_name)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(format!(
            "a user named {} exists already",
            user.user_principal_name
        )));
    }
    db.execute(
        sql!(
            "INSERT INTO users (tenant_id, object_id, user_principal_name, display_name, roles, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        ),
        args![
            user.tenant.as_str(),
            &user.object_id,
            &user.user_principal_name,
            &user.display_name,
            &json_list(&user.roles),
            &ts(&user.created_at)
        ],
    )
    .await?;
    Ok(())
}

pub async fn list(db: &impl Db, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
    db.query(
        sql_per_dialect!(
            postgres: format!("{USER_SELECT} WHERE tenant_id = $1 ORDER BY lower(user_principal_name)"),
            sqlite: format!("{USER_SELECT} WHERE tenant_id = $1 ORDER BY user_principal_name"),
        ),
        args![tenant.as_str()],
        user_from_row,
    )
    .await
}

/// By object id or principal name (without case).
pub async fn find(db: &impl Db, tenant: &TenantId, key: &str) -> Result<Option<User>, StoreError> {
    db.query_opt(
        sql_per_dialect!(
            postgres: format!(
                "{USER_SELECT} WHERE tenant_id = $1 \
                 AND (object_id = $2 OR lower(user_principal_name) = lower($2))"
            ),
            sqlite: format!(
                "{USER_SELECT} WHERE tenant_id = $1 AND (object_id = $2 OR user_principal_name = $2)"
            ),
        ),
        args![tenant.as_str(), key],
        user_from_row,
    )
    .await
}

/// Replaces the user's roles; false when the user is unknown.
pub async fn set_roles(
    db: &impl Db,
    tenant: &TenantId,
    object_id: &str,
    roles: &[String],
) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            sql!("UPDATE users SET roles = $3 WHERE tenant_id = $1 AND object_id = $2"),
            args![tenant.as_str(), object_id, &json_list(roles)],
        )
        .await?
        == 1)
}

pub async fn delete(db: &impl Db, tenant: &TenantId, object_id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            sql!("DELETE FROM users WHERE tenant_id = $1 AND object_id = $2"),
            args![tenant.as_str(), object_id],
        )
        .await?
        == 1)
}
