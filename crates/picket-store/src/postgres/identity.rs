//! Identity rows: tenants' names, apps with secrets and certificates, users, trusted issuers,
//! signing keys and the audit log.

use super::{execute, query, query_one, query_opt, Tx};
use crate::identity::{AuditQuery, NewAuditEntry};
use crate::StoreError;
use picket_domain::identity::*;
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::TenantId;
use tokio_postgres::Row;

fn bad_text(what: &str, text: &str) -> StoreError {
    StoreError::Internal(format!("bad {what} '{text}'"))
}

fn ts(text: String) -> Result<Timestamp, StoreError> {
    parse_timestamp(&text).ok_or_else(|| bad_text("timestamp", &text))
}

fn opt_ts(text: Option<String>) -> Result<Option<Timestamp>, StoreError> {
    text.map(ts).transpose()
}

fn list(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn json(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn tenant_id(text: String) -> Result<TenantId, StoreError> {
    TenantId::parse(&text).ok_or_else(|| bad_text("tenant id", &text))
}

fn all<T>(rows: Vec<Row>, map: fn(&Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(map).collect()
}

// ---- tenants ----

fn tenant_row(r: &Row) -> Result<TenantInfo, StoreError> {
    Ok(TenantInfo {
        id: tenant_id(r.try_get(0)?)?,
        display_name: r.try_get(1)?,
        created_at: ts(r.try_get(2)?)?,
    })
}

pub async fn create_tenant(
    tx: &Tx<'_>,
    id: &TenantId,
    display_name: &str,
) -> Result<TenantInfo, StoreError> {
    crate::tables::tenants::ensure(&crate::sql::postgres::Pg(tx), id).await?;
    let current: String = query_one(
        tx,
        "SELECT display_name FROM tenants WHERE tenant_id = $1",
        &[&id.as_str()],
    )
    .await?
    .try_get(0)?;
    if !current.is_empty() && current != display_name && !display_name.is_empty() {
        return Err(StoreError::Conflict(format!(
            "tenant {id} exists already, named '{current}'"
        )));
    }
    if current.is_empty() {
        execute(
            tx,
            "UPDATE tenants SET display_name = $2 WHERE tenant_id = $1",
            &[&id.as_str(), &display_name],
        )
        .await?;
    }
    find_tenant(tx, id)
        .await?
        .ok_or_else(|| StoreError::Internal("tenant row vanished".into()))
}

pub async fn list_tenants(tx: &Tx<'_>) -> Result<Vec<TenantInfo>, StoreError> {
    all(
        query(
            tx,
            "SELECT tenant_id, display_name, created_at FROM tenants ORDER BY created_at, tenant_id",
            &[],
        )
        .await?,
        tenant_row,
    )
}

pub async fn find_tenant(tx: &Tx<'_>, id: &TenantId) -> Result<Option<TenantInfo>, StoreError> {
    query_opt(
        tx,
        "SELECT tenant_id, display_name, created_at FROM tenants WHERE tenant_id = $1",
        &[&id.as_str()],
    )
    .await?
    .map(|r| tenant_row(&r))
    .transpose()
}

// ---- apps ----

fn secret_row(r: &Row) -> Result<AppSecret, StoreError> {
    Ok(AppSecret {
        key_id: r.try_get(0)?,
        hint: r.try_get(1)?,
        salt: r.try_get(2)?,
        hash: r.try_get(3)?,
        created_at: ts(r.try_get(4)?)?,
        expires_at: ts(r.try_get(5)?)?,
    })
}

fn certificate_row(r: &Row) -> Result<AppCertificate, StoreError> {
    Ok(AppCertificate {
        key_id: r.try_get(0)?,
        thumbprint: r.try_get(1)?,
        thumbprint_sha256: r.try_get(2)?,
        certificate_pem: r.try_get(3)?,
        not_after: ts(r.try_get(4)?)?,
        created_at: ts(r.try_get(5)?)?,
    })
}

async fn load_app(tx: &Tx<'_>, tenant: &TenantId, r: &Row) -> Result<App, StoreError> {
    let client_id: String = r.try_get(0)?;
    let secrets = all(
        query(
            tx,
            "SELECT key_id, hint, salt, hash, created_at, expires_at FROM app_secrets \
             WHERE tenant_id = $1 AND client_id = $2 ORDER BY created_at, key_id",
            &[&tenant.as_str(), &client_id],
        )
        .await?,
        secret_row,
    )?;
    let certificates = all(
        query(
            tx,
            "SELECT key_id, thumbprint, thumbprint_sha256, certificate_pem, not_after, created_at \
             FROM app_certificates WHERE tenant_id = $1 AND client_id = $2 ORDER BY created_at, key_id",
            &[&tenant.as_str(), &client_id],
        )
        .await?,
        certificate_row,
    )?;
    Ok(App {
        tenant: tenant.clone(),
        client_id,
        display_name: r.try_get(1)?,
        permissions: list(r.try_get(2)?),
        created_at: ts(r.try_get(3)?)?,
        secrets,
        certificates,
    })
}

pub async fn create_app(tx: &Tx<'_>, app: &App) -> Result<(), StoreError> {
    if find_tenant(tx, &app.tenant).await?.is_none() {
        return Err(StoreError::Conflict(format!(
            "tenant {} does not exist; create it with 'picket tenants create'",
            app.tenant
        )));
    }
    let inserted = execute(
        tx,
        "INSERT INTO apps (tenant_id, client_id, display_name, permissions, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
        &[
            &app.tenant.as_str(),
            &app.client_id,
            &app.display_name,
            &json(&app.permissions),
            &format_timestamp(&app.created_at),
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
        insert_secret(tx, &app.tenant, &app.client_id, secret).await?;
    }
    for certificate in &app.certificates {
        insert_certificate(tx, &app.tenant, &app.client_id, certificate).await?;
    }
    Ok(())
}

pub async fn list_apps(tx: &Tx<'_>, tenant: &TenantId) -> Result<Vec<App>, StoreError> {
    let rows = query(
        tx,
        "SELECT client_id, display_name, permissions, created_at FROM apps WHERE tenant_id = $1 \
         ORDER BY created_at, client_id",
        &[&tenant.as_str()],
    )
    .await?;
    let mut apps = Vec::with_capacity(rows.len());
    for r in &rows {
        apps.push(load_app(tx, tenant, r).await?);
    }
    Ok(apps)
}

pub async fn find_app(
    tx: &Tx<'_>,
    tenant: &TenantId,
    client_id: &str,
) -> Result<Option<App>, StoreError> {
    let row = query_opt(
        tx,
        "SELECT client_id, display_name, permissions, created_at FROM apps \
         WHERE tenant_id = $1 AND client_id = $2",
        &[&tenant.as_str(), &client_id],
    )
    .await?;
    match row {
        Some(r) => Ok(Some(load_app(tx, tenant, &r).await?)),
        None => Ok(None),
    }
}

pub async fn set_app_permissions(
    tx: &Tx<'_>,
    tenant: &TenantId,
    client_id: &str,
    permissions: &[String],
) -> Result<bool, StoreError> {
    Ok(execute(
        tx,
        "UPDATE apps SET permissions = $3 WHERE tenant_id = $1 AND client_id = $2",
        &[&tenant.as_str(), &client_id, &json(permissions)],
    )
    .await?
        == 1)
}

async fn app_exists(tx: &Tx<'_>, tenant: &TenantId, client_id: &str) -> Result<bool, StoreError> {
    Ok(query_one(
        tx,
        "SELECT EXISTS (SELECT 1 FROM apps WHERE tenant_id = $1 AND client_id = $2)",
        &[&tenant.as_str(), &client_id],
    )
    .await?
    .try_get(0)?)
}

async fn insert_secret(
    tx: &Tx<'_>,
    tenant: &TenantId,
    client_id: &str,
    s: &AppSecret,
) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO app_secrets (tenant_id, client_id, key_id, hint, salt, hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &tenant.as_str(),
            &client_id,
            &s.key_id,
            &s.hint,
            &s.salt,
            &s.hash,
            &format_timestamp(&s.created_at),
            &format_timestamp(&s.expires_at),
        ],
    )
    .await?;
    Ok(())
}

async fn insert_certificate(
    tx: &Tx<'_>,
    tenant: &TenantId,
    client_id: &str,
    cert: &AppCertificate,
) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO app_certificates (tenant_id, client_id, key_id, thumbprint, thumbprint_sha256, \
         certificate_pem, not_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &tenant.as_str(),
            &client_id,
            &cert.key_id,
            &cert.thumbprint,
            &cert.thumbprint_sha256,
            &cert.certificate_pem,
            &format_timestamp(&cert.not_after),
            &format_timestamp(&cert.created_at),
        ],
    )
    .await?;
    Ok(())
}

pub async fn add_app_secret(
    tx: &Tx<'_>,
    tenant: &TenantId,
    client_id: &str,
    secret: &AppSecret,
) -> Result<bool, StoreError> {
    if !app_exists(tx, tenant, client_id).await? {
        return Ok(false);
    }
    insert_secret(tx, tenant, client_id, secret).await?;
    Ok(true)
}

pub async fn add_app_certificate(
    tx: &Tx<'_>,
    tenant: &TenantId,
    client_id: &str,
    cert: &AppCertificate,
) -> Result<bool, StoreError> {
    if !app_exists(tx, tenant, client_id).await? {
        return Ok(false);
    }
    insert_certificate(tx, tenant, client_id, cert).await?;
    Ok(true)
}

pub async fn remove_app_credential(
    tx: &Tx<'_>,
    tenant: &TenantId,
    client_id: &str,
    key_id: &str,
) -> Result<bool, StoreError> {
    let a = execute(
        tx,
        "DELETE FROM app_secrets WHERE tenant_id = $1 AND client_id = $2 AND key_id = $3",
        &[&tenant.as_str(), &client_id, &key_id],
    )
    .await?;
    let b = execute(
        tx,
        "DELETE FROM app_certificates WHERE tenant_id = $1 AND client_id = $2 AND key_id = $3",
        &[&tenant.as_str(), &client_id, &key_id],
    )
    .await?;
    Ok(a + b > 0)
}

pub async fn delete_app(
    tx: &Tx<'_>,
    tenant: &TenantId,
    client_id: &str,
) -> Result<bool, StoreError> {
    Ok(execute(
        tx,
        "DELETE FROM apps WHERE tenant_id = $1 AND client_id = $2",
        &[&tenant.as_str(), &client_id],
    )
    .await?
        == 1)
}

// ---- users ----

const USER_SELECT: &str =
    "SELECT tenant_id, object_id, user_principal_name, display_name, roles, created_at FROM users";

fn user_row(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        tenant: tenant_id(r.try_get(0)?)?,
        object_id: r.try_get(1)?,
        user_principal_name: r.try_get(2)?,
        display_name: r.try_get(3)?,
        roles: list(r.try_get(4)?),
        created_at: ts(r.try_get(5)?)?,
    })
}

pub async fn create_user(tx: &Tx<'_>, user: &User) -> Result<(), StoreError> {
    if find_tenant(tx, &user.tenant).await?.is_none() {
        return Err(StoreError::Conflict(format!(
            "tenant {} does not exist; create it with 'picket tenants create'",
            user.tenant
        )));
    }
    if find_user(tx, &user.tenant, &user.user_principal_name)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(format!(
            "a user named {} exists already",
            user.user_principal_name
        )));
    }
    execute(
        tx,
        "INSERT INTO users (tenant_id, object_id, user_principal_name, display_name, roles, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &user.tenant.as_str(),
            &user.object_id,
            &user.user_principal_name,
            &user.display_name,
            &json(&user.roles),
            &format_timestamp(&user.created_at),
        ],
    )
    .await?;
    Ok(())
}

pub async fn list_users(tx: &Tx<'_>, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
    let sql = format!("{USER_SELECT} WHERE tenant_id = $1 ORDER BY lower(user_principal_name)");
    all(query(tx, &sql, &[&tenant.as_str()]).await?, user_row)
}

pub async fn find_user(
    tx: &Tx<'_>,
    tenant: &TenantId,
    key: &str,
) -> Result<Option<User>, StoreError> {
    // The principal name compares without case, as SQLite's NOCASE column does.
    let sql = format!(
        "{USER_SELECT} WHERE tenant_id = $1 AND (object_id = $2 OR lower(user_principal_name) = lower($2))"
    );
    query_opt(tx, &sql, &[&tenant.as_str(), &key])
        .await?
        .map(|r| user_row(&r))
        .transpose()
}

pub async fn set_user_roles(
    tx: &Tx<'_>,
    tenant: &TenantId,
    object_id: &str,
    roles: &[String],
) -> Result<bool, StoreError> {
    Ok(execute(
        tx,
        "UPDATE users SET roles = $3 WHERE tenant_id = $1 AND object_id = $2",
        &[&tenant.as_str(), &object_id, &json(roles)],
    )
    .await?
        == 1)
}

pub async fn delete_user(
    tx: &Tx<'_>,
    tenant: &TenantId,
    object_id: &str,
) -> Result<bool, StoreError> {
    Ok(execute(
        tx,
        "DELETE FROM users WHERE tenant_id = $1 AND object_id = $2",
        &[&tenant.as_str(), &object_id],
    )
    .await?
        == 1)
}

// ---- trusted issuers ----

fn issuer_row(r: &Row) -> Result<TrustedIssuer, StoreError> {
    Ok(TrustedIssuer {
        tenant: tenant_id(r.try_get(0)?)?,
        issuer: r.try_get(1)?,
        jwks_uri: r.try_get(2)?,
        audiences: list(r.try_get(3)?),
        created_at: ts(r.try_get(4)?)?,
    })
}

pub async fn save_trusted_issuer(tx: &Tx<'_>, issuer: &TrustedIssuer) -> Result<(), StoreError> {
    crate::tables::tenants::ensure(&crate::sql::postgres::Pg(tx), &issuer.tenant).await?;
    execute(
        tx,
        "INSERT INTO trusted_issuers (tenant_id, issuer, jwks_uri, audiences, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, issuer) DO UPDATE SET jwks_uri = excluded.jwks_uri, audiences = excluded.audiences",
        &[
            &issuer.tenant.as_str(),
            &issuer.issuer,
            &issuer.jwks_uri,
            &json(&issuer.audiences),
            &format_timestamp(&issuer.created_at),
        ],
    )
    .await?;
    Ok(())
}

pub async fn list_trusted_issuers(
    tx: &Tx<'_>,
    tenant: Option<&TenantId>,
) -> Result<Vec<TrustedIssuer>, StoreError> {
    let sql = "SELECT tenant_id, issuer, jwks_uri, audiences, created_at FROM trusted_issuers";
    let rows = match tenant {
        Some(t) => {
            query(
                tx,
                &format!("{sql} WHERE tenant_id = $1 ORDER BY issuer"),
                &[&t.as_str()],
            )
            .await?
        }
        // Operator view (the verifier's table at start): every tenant's.
        None => query(tx, &format!("{sql} ORDER BY tenant_id, issuer"), &[]).await?,
    };
    all(rows, issuer_row)
}

pub async fn remove_trusted_issuer(
    tx: &Tx<'_>,
    tenant: &TenantId,
    issuer: &str,
) -> Result<bool, StoreError> {
    Ok(execute(
        tx,
        "DELETE FROM trusted_issuers WHERE tenant_id = $1 AND issuer = $2",
        &[&tenant.as_str(), &issuer],
    )
    .await?
        == 1)
}

// ---- signing keys ----

fn key_row(r: &Row) -> Result<SigningKeyRecord, StoreError> {
    Ok(SigningKeyRecord {
        kid: r.try_get(0)?,
        private_pem: r.try_get(1)?,
        created_at: ts(r.try_get(2)?)?,
        retired_at: opt_ts(r.try_get(3)?)?,
        remove_after: opt_ts(r.try_get(4)?)?,
    })
}

pub async fn signing_keys(tx: &Tx<'_>) -> Result<Vec<SigningKeyRecord>, StoreError> {
    all(
        query(
            tx,
            "SELECT kid, private_pem, created_at, retired_at, remove_after FROM signing_keys \
             ORDER BY created_at DESC, kid",
            &[],
        )
        .await?,
        key_row,
    )
}

async fn insert_key(tx: &Tx<'_>, key: &SigningKeyRecord) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO signing_keys (kid, private_pem, created_at, retired_at, remove_after) VALUES ($1, $2, $3, NULL, NULL)",
        &[&key.kid, &key.private_pem, &format_timestamp(&key.created_at)],
    )
    .await?;
    Ok(())
}

pub async fn ensure_signing_key(
    tx: &Tx<'_>,
    key: &SigningKeyRecord,
) -> Result<Vec<SigningKeyRecord>, StoreError> {
    let current: bool = query_one(
        tx,
        "SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)",
        &[],
    )
    .await?
    .try_get(0)?;
    if !current {
        insert_key(tx, key).await?;
    }
    signing_keys(tx).await
}

pub async fn rotate_signing_key(
    tx: &Tx<'_>,
    key: &SigningKeyRecord,
    now: Timestamp,
    remove_after: Timestamp,
) -> Result<(), StoreError> {
    execute(
        tx,
        "UPDATE signing_keys SET retired_at = $1, remove_after = $2 WHERE retired_at IS NULL",
        &[&format_timestamp(&now), &format_timestamp(&remove_after)],
    )
    .await?;
    insert_key(tx, key).await
}

pub async fn remove_signing_key(tx: &Tx<'_>, kid: &str) -> Result<bool, StoreError> {
    let current: Option<bool> = query_opt(
        tx,
        "SELECT retired_at IS NULL FROM signing_keys WHERE kid = $1",
        &[&kid],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?;
    match current {
        None => Ok(false),
        Some(true) => Err(StoreError::Conflict(format!(
            "key {kid} is the current signing key; rotate first, then remove it"
        ))),
        Some(false) => {
            execute(tx, "DELETE FROM signing_keys WHERE kid = $1", &[&kid]).await?;
            Ok(true)
        }
    }
}

// ---- audit ----

pub async fn record_audit(tx: &Tx<'_>, e: &NewAuditEntry) -> Result<(), StoreError> {
    // Numbered per tenant inside the write transaction, which holds the tenant's lock, so
    // sequence order is commit order.
    execute(
        tx,
        "INSERT INTO audit_log (tenant_id, seq, time, actor, operation, target, result, request_id, detail) \
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log WHERE tenant_id = $1), $2, $3, $4, $5, $6, $7, $8)",
        &[
            &e.tenant.as_str(),
            &format_timestamp(&e.time),
            &e.actor,
            &e.operation,
            &e.target,
            &e.result,
            &e.request_id,
            &e.detail,
        ],
    )
    .await?;
    Ok(())
}

pub async fn audit_entries(
    tx: &Tx<'_>,
    tenant: &TenantId,
    q: &AuditQuery,
) -> Result<Vec<AuditEntry>, StoreError> {
    let since = q.since.as_ref().map(format_timestamp).unwrap_or_default();
    let until = q.until.as_ref().map(format_timestamp);
    let rows = query(
        tx,
        if q.newest_first {
            "SELECT seq, time, tenant_id, actor, operation, target, result, request_id, detail FROM audit_log \
             WHERE tenant_id = $1 AND time >= $2 AND ($3::text IS NULL OR operation = $3) AND ($5::text IS NULL OR actor = $5) \
             AND ($6::text IS NULL OR time < $6) AND ($7::bigint IS NULL OR seq < $7) ORDER BY seq DESC LIMIT $4"
        } else {
            "SELECT seq, time, tenant_id, actor, operation, target, result, request_id, detail FROM audit_log \
             WHERE tenant_id = $1 AND time >= $2 AND ($3::text IS NULL OR operation = $3) AND ($5::text IS NULL OR actor = $5) \
             AND ($6::text IS NULL OR time < $6) AND ($7::bigint IS NULL OR seq < $7) ORDER BY seq LIMIT $4"
        },
        &[&tenant.as_str(), &since, &q.operation, &i64::from(q.limit), &q.actor, &until, &q.before_seq],
    )
    .await?;
    all(rows, |r| {
        Ok(AuditEntry {
            seq: r.try_get(0)?,
            time: ts(r.try_get(1)?)?,
            tenant: tenant_id(r.try_get(2)?)?,
            actor: r.try_get(3)?,
            operation: r.try_get(4)?,
            target: r.try_get(5)?,
            result: r.try_get(6)?,
            request_id: r.try_get(7)?,
            detail: r.try_get(8)?,
        })
    })
}
