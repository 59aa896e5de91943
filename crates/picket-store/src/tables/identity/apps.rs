//! App registrations with their client secrets (salted hashes only) and certificates.

use super::get_names;
use crate::sql::{Db, RowRef};
use crate::tables::rows::{get_ts, json_list, ts};
use crate::tables::tenants;
use crate::{args, sql, StoreError};
use picket_domain::identity::*;
use picket_domain::TenantId;

fn secret_from_row(row: &dyn RowRef) -> Result<AppSecret, StoreError> {
    Ok(AppSecret {
        key_id: row.get(0)?,
        hint: row.get(1)?,
        salt: row.get(2)?,
        hash: row.get(3)?,
        created_at: get_ts(row, 4)?,
        expires_at: get_ts(row, 5)?,
    })
}

fn certificate_from_row(row: &dyn RowRef) -> Result<AppCertificate, StoreError> {
    Ok(AppCertificate {
        key_id: row.get(0)?,
        thumbprint: row.get(1)?,
        thumbprint_sha256: row.get(2)?,
        certificate_pem: row.get(3)?,
        not_after: get_ts(row, 4)?,
        created_at: get_ts(row, 5)?,
    })
}

const APP_SELECT: &str = "SELECT client_id, display_name, permissions, created_at FROM apps";

/// An app's own row, before its credentials are read.
fn app_from_row(tenant: &TenantId, row: &dyn RowRef) -> Result<App, StoreError> {
    Ok(App {
        tenant: tenant.clone(),
        client_id: row.get(0)?,
        display_name: row.get(1)?,
        permissions: get_names(row, 2)?,
        created_at: get_ts(row, 3)?,
        secrets: Vec::new(),
        certificates: Vec::new(),
    })
}

/// Reads the app's secrets and certificates into it.
async fn with_credentials(db: &impl Db, mut app: App) -> Result<App, StoreError> {
    app.secrets = db
        .query(
            sql!(
                "SELECT key_id, hint, salt, hash, created_at, expires_at FROM app_secrets \
                 WHERE tenant_id = $1 AND client_id = $2 ORDER BY created_at, key_id"
            ),
            args![app.tenant.as_str(), &app.client_id],
            secret_from_row,
        )
        .await?;
    app.certificates = db
        .query(
            sql!(
                "SELECT key_id, thumbprint, thumbprint_sha256, certificate_pem, not_after, created_at \
                 FROM app_certificates WHERE tenant_id = $1 AND client_id = $2 ORDER BY created_at, key_id"
            ),
            args![app.tenant.as_str(), &app.client_id],
            certificate_from_row,
        )
        .await?;
    Ok(app)
}

/// Registers an app with its first credentials; the tenant must exist and the client id be new.
pub async fn create(db: &impl Db, app: &App) -> Result<(), StoreError> {
    if tenants::find(db, &app.tenant).await?.is_none() {
        return Err(StoreError::Conflict(format!(
            "tenant {} does not exist; create it with 'picket tenants create'",
            app.tenant
        )));
    }
    let inserted = db
        .execute(
            sql!(
                "INSERT INTO apps (tenant_id, client_id, display_name, permissions, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
            ),
            args![
                app.tenant.as_str(),
                &app.client_id,
                &app.display_name,
                &json_list(&app.permissions),
                &ts(&app.created_at)
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "an app with client id {} exists already",
            app.client_id
        )));
    }
    for secret in &app.secrets {
        insert_secret(db, &app.tenant, &app.client_id, secret).await?;
    }
    for certificate in &app.certificates {
        insert_certificate(db, &app.tenant, &app.client_id, certificate).await?;
    }
    Ok(())
}

pub async fn list(db: &impl Db, tenant: &TenantId) -> Result<Vec<App>, StoreError> {
    let rows = db
        .query(
            sql!("{APP_SELECT} WHERE tenant_id = $1 ORDER BY created_at, client_id"),
            args![tenant.as_str()],
            |row| app_from_row(tenant, row),
        )
        .await?;
    let mut apps = Vec::with_capacity(rows.len());
    for app in rows {
        apps.push(with_credentials(db, app).await?);
    }
    Ok(apps)
}

pub async fn find(
    db: &impl Db,
    tenant: &TenantId,
    client_id: &str,
) -> Result<Option<App>, StoreError> {
    let row = db
        .query_opt(
            sql!("{APP_SELECT} WHERE tenant_id = $1 AND client_id = $2"),
            args![tenant.as_str(), client_id],
            |row| app_from_row(tenant, row),
        )
        .await?;
    match row {
        Some(app) => Ok(Some(with_credentials(db, app).await?)),
        None => Ok(None),
    }
}

/// Replaces the granted permissions; false when the app is unknown.
pub async fn set_permissions(
    db: &impl Db,
    tenant: &TenantId,
    client_id: &str,
    permissions: &[String],
) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            sql!("UPDATE apps SET permissions = $3 WHERE tenant_id = $1 AND client_id = $2"),
            args![tenant.as_str(), client_id, &json_list(permissions)],
        )
        .await?
        == 1)
}

async fn exists(db: &impl Db, tenant: &TenantId, client_id: &str) -> Result<bool, StoreError> {
    Ok(db
        .value::<bool>(
            sql!("SELECT EXISTS (SELECT 1 FROM apps WHERE tenant_id = $1 AND client_id = $2)"),
            args![tenant.as_str(), client_id],
        )
        .await?
        .unwrap_or(false))
}

async fn insert_secret(
    db: &impl Db,
    tenant: &TenantId,
    client_id: &str,
    s: &AppSecret,
) -> Result<u64, StoreError> {
    db.execute(
        sql!(
            "INSERT INTO app_secrets (tenant_id, client_id, key_id, hint, salt, hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        args![
            tenant.as_str(),
            client_id,
            &s.key_id,
            &s.hint,
            &s.salt,
            &s.hash,
            &ts(&s.created_at),
            &ts(&s.expires_at)
        ],
    )
    .await
}

async fn insert_certificate(
    db: &impl Db,
    tenant: &TenantId,
    client_id: &str,
    cert: &AppCertificate,
) -> Result<u64, StoreError> {
    db.execute(
        sql!(
            "INSERT INTO app_certificates (tenant_id, client_id, key_id, thumbprint, thumbprint_sha256, \
             certificate_pem, not_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        args![
            tenant.as_str(),
            client_id,
            &cert.key_id,
            &cert.thumbprint,
            &cert.thumbprint_sha256,
            &cert.certificate_pem,
            &ts(&cert.not_after),
            &ts(&cert.created_at)
        ],
    )
    .await
}

/// Adds a client secret; false when the app is unknown.
pub async fn add_secret(
    db: &impl Db,
    tenant: &TenantId,
    client_id: &str,
    secret: &AppSecret,
) -> Result<bool, StoreError> {
    Ok(exists(db, tenant, client_id).await?
        && insert_secret(db, tenant, client_id, secret).await? == 1)
}

/// Adds a certificate; false when the app is unknown.
pub async fn add_certificate(
    db: &impl Db,
    tenant: &TenantId,
    client_id: &str,
    cert: &AppCertificate,
) -> Result<bool, StoreError> {
    Ok(exists(db, tenant, client_id).await?
        && insert_certificate(db, tenant, client_id, cert).await? == 1)
}

/// Removes a secret or a certificate by key id; false when neither matched.
pub async fn remove_credential(
    db: &impl Db,
    tenant: &TenantId,
    client_id: &str,
    key_id: &str,
) -> Result<bool, StoreError> {
    let secrets = db
        .execute(
            sql!("DELETE FROM app_secrets WHERE tenant_id = $1 AND client_id = $2 AND key_id = $3"),
            args![tenant.as_str(), client_id, key_id],
        )
        .await?;
    let certificates = db
        .execute(
            sql!(
                "DELETE FROM app_certificates WHERE tenant_id = $1 AND client_id = $2 AND key_id = $3"
            ),
            args![tenant.as_str(), client_id, key_id],
        )
        .await?;
    Ok(secrets + certificates > 0)
}

pub async fn delete(db: &impl Db, tenant: &TenantId, client_id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            sql!("DELETE FROM apps WHERE tenant_id = $1 AND client_id = $2"),
            args![tenant.as_str(), client_id],
        )
        .await?
        == 1)
}
