//! Identity rows: tenants' names, apps with secrets and certificates, users, trusted issuers,
//! signing keys and the audit log.

use crate::identity::{AuditQuery, NewAuditEntry};
use crate::StoreError;
use deadpool_sqlite::rusqlite::{
    self, params, types::Type, Connection, OptionalExtension, Row, Transaction,
};
use picket_domain::identity::*;
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::TenantId;

fn bad_text(what: &str, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, Type::Text, format!("bad {what} '{text}'").into())
}

fn ts(text: String) -> rusqlite::Result<Timestamp> {
    parse_timestamp(&text).ok_or_else(|| bad_text("timestamp", &text))
}

fn opt_ts(text: Option<String>) -> rusqlite::Result<Option<Timestamp>> {
    text.map(ts).transpose()
}

fn list(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn json(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn tenant_id(text: String) -> rusqlite::Result<TenantId> {
    TenantId::parse(&text).ok_or_else(|| bad_text("tenant id", &text))
}

// ---- tenants ----

fn tenant_row(r: &Row<'_>) -> rusqlite::Result<TenantInfo> {
    Ok(TenantInfo {
        id: tenant_id(r.get(0)?)?,
        display_name: r.get(1)?,
        created_at: ts(r.get(2)?)?,
    })
}

pub fn create_tenant(
    tx: &Transaction<'_>,
    id: &TenantId,
    display_name: &str,
) -> Result<TenantInfo, StoreError> {
    crate::sql::sqlite::run(crate::tables::tenants::ensure(
        &crate::sql::sqlite::Lite(tx),
        id,
    ))?;
    let current: String = tx
        .prepare_cached("SELECT display_name FROM tenants WHERE tenant_id = ?1")?
        .query_row(params![id.as_str()], |r| r.get(0))?;
    if !current.is_empty() && current != display_name && !display_name.is_empty() {
        return Err(StoreError::Conflict(format!(
            "tenant {id} exists already, named '{current}'"
        )));
    }
    if current.is_empty() {
        tx.prepare_cached("UPDATE tenants SET display_name = ?2 WHERE tenant_id = ?1")?
            .execute(params![id.as_str(), display_name])?;
    }
    find_tenant(tx, id)?.ok_or_else(|| StoreError::Internal("tenant row vanished".into()))
}

pub fn list_tenants(c: &Connection) -> Result<Vec<TenantInfo>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT tenant_id, display_name, created_at FROM tenants ORDER BY created_at, tenant_id",
    )?;
    let rows = stmt.query_map([], tenant_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn find_tenant(c: &Connection, id: &TenantId) -> Result<Option<TenantInfo>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT tenant_id, display_name, created_at FROM tenants WHERE tenant_id = ?1",
    )?
    .query_row(params![id.as_str()], tenant_row)
    .optional()?)
}

// ---- apps ----

fn secret_row(r: &Row<'_>) -> rusqlite::Result<AppSecret> {
    Ok(AppSecret {
        key_id: r.get(0)?,
        hint: r.get(1)?,
        salt: r.get(2)?,
        hash: r.get(3)?,
        created_at: ts(r.get(4)?)?,
        expires_at: ts(r.get(5)?)?,
    })
}

fn certificate_row(r: &Row<'_>) -> rusqlite::Result<AppCertificate> {
    Ok(AppCertificate {
        key_id: r.get(0)?,
        thumbprint: r.get(1)?,
        thumbprint_sha256: r.get(2)?,
        certificate_pem: r.get(3)?,
        not_after: ts(r.get(4)?)?,
        created_at: ts(r.get(5)?)?,
    })
}

fn load_app(
    c: &Connection,
    tenant: &TenantId,
    client_id: String,
    display_name: String,
    permissions: String,
    created_at: String,
) -> Result<App, StoreError> {
    let secrets = c
        .prepare_cached(
            "SELECT key_id, hint, salt, hash, created_at, expires_at FROM app_secrets \
             WHERE tenant_id = ?1 AND client_id = ?2 ORDER BY created_at, key_id",
        )?
        .query_map(params![tenant.as_str(), client_id], secret_row)?
        .collect::<Result<_, _>>()?;
    let certificates = c
        .prepare_cached(
            "SELECT key_id, thumbprint, thumbprint_sha256, certificate_pem, not_after, created_at \
             FROM app_certificates WHERE tenant_id = ?1 AND client_id = ?2 ORDER BY created_at, key_id",
        )?
        .query_map(params![tenant.as_str(), client_id], certificate_row)?
        .collect::<Result<_, _>>()?;
    Ok(App {
        tenant: tenant.clone(),
        client_id,
        display_name,
        permissions: list(permissions),
        created_at: ts(created_at)?,
        secrets,
        certificates,
    })
}

pub fn create_app(tx: &Transaction<'_>, app: &App) -> Result<(), StoreError> {
    if find_tenant(tx, &app.tenant)?.is_none() {
        return Err(StoreError::Conflict(format!(
            "tenant {} does not exist; create it with 'picket tenants create'",
            app.tenant
        )));
    }
    let inserted = tx.prepare_cached("INSERT INTO apps (tenant_id, client_id, display_name, permissions, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT DO NOTHING")?.execute(params![
            app.tenant.as_str(),
            app.client_id,
            app.display_name,
            json(&app.permissions),
            format_timestamp(&app.created_at)
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "an app with client id {} exists already",
            app.client_id
        )));
    }
    for secret in &app.secrets {
        insert_secret(tx, &app.tenant, &app.client_id, secret)?;
    }
    for certificate in &app.certificates {
        insert_certificate(tx, &app.tenant, &app.client_id, certificate)?;
    }
    Ok(())
}

pub fn list_apps(c: &Connection, tenant: &TenantId) -> Result<Vec<App>, StoreError> {
    let rows: Vec<(String, String, String, String)> = c
        .prepare_cached(
            "SELECT client_id, display_name, permissions, created_at FROM apps WHERE tenant_id = ?1 \
             ORDER BY created_at, client_id",
        )?
        .query_map(params![tenant.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, name, perms, created)| load_app(c, tenant, id, name, perms, created))
        .collect()
}

pub fn find_app(
    c: &Connection,
    tenant: &TenantId,
    client_id: &str,
) -> Result<Option<App>, StoreError> {
    let row: Option<(String, String, String, String)> = c
        .prepare_cached(
            "SELECT client_id, display_name, permissions, created_at FROM apps \
             WHERE tenant_id = ?1 AND client_id = ?2",
        )?
        .query_row(params![tenant.as_str(), client_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(id, name, perms, created)| load_app(c, tenant, id, name, perms, created))
        .transpose()
}

pub fn set_app_permissions(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    client_id: &str,
    permissions: &[String],
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("UPDATE apps SET permissions = ?3 WHERE tenant_id = ?1 AND client_id = ?2")?
        .execute(params![tenant.as_str(), client_id, json(permissions)])?
        == 1)
}

fn app_exists(c: &Connection, tenant: &TenantId, client_id: &str) -> Result<bool, StoreError> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM apps WHERE tenant_id = ?1 AND client_id = ?2)",
    )?
    .query_row(params![tenant.as_str(), client_id], |r| r.get(0))?)
}

fn insert_secret(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    client_id: &str,
    s: &AppSecret,
) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO app_secrets (tenant_id, client_id, key_id, hint, salt, hash, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(params![
            tenant.as_str(),
            client_id,
            s.key_id,
            s.hint,
            s.salt,
            s.hash,
            format_timestamp(&s.created_at),
            format_timestamp(&s.expires_at)
        ],
    )?;
    Ok(())
}

fn insert_certificate(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    client_id: &str,
    cert: &AppCertificate,
) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO app_certificates (tenant_id, client_id, key_id, thumbprint, thumbprint_sha256, \
         certificate_pem, not_after, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(params![
            tenant.as_str(),
            client_id,
            cert.key_id,
            cert.thumbprint,
            cert.thumbprint_sha256,
            cert.certificate_pem,
            format_timestamp(&cert.not_after),
            format_timestamp(&cert.created_at)
        ],
    )?;
    Ok(())
}

pub fn add_app_secret(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    client_id: &str,
    secret: &AppSecret,
) -> Result<bool, StoreError> {
    if !app_exists(tx, tenant, client_id)? {
        return Ok(false);
    }
    insert_secret(tx, tenant, client_id, secret)?;
    Ok(true)
}

pub fn add_app_certificate(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    client_id: &str,
    cert: &AppCertificate,
) -> Result<bool, StoreError> {
    if !app_exists(tx, tenant, client_id)? {
        return Ok(false);
    }
    insert_certificate(tx, tenant, client_id, cert)?;
    Ok(true)
}

pub fn remove_app_credential(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    client_id: &str,
    key_id: &str,
) -> Result<bool, StoreError> {
    let a = tx
        .prepare_cached(
            "DELETE FROM app_secrets WHERE tenant_id = ?1 AND client_id = ?2 AND key_id = ?3",
        )?
        .execute(params![tenant.as_str(), client_id, key_id])?;
    let b = tx
        .prepare_cached(
            "DELETE FROM app_certificates WHERE tenant_id = ?1 AND client_id = ?2 AND key_id = ?3",
        )?
        .execute(params![tenant.as_str(), client_id, key_id])?;
    Ok(a + b > 0)
}

pub fn delete_app(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    client_id: &str,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("DELETE FROM apps WHERE tenant_id = ?1 AND client_id = ?2")?
        .execute(params![tenant.as_str(), client_id])?
        == 1)
}

// ---- users ----

const USER_SELECT: &str =
    "SELECT tenant_id, object_id, user_principal_name, display_name, roles, created_at FROM users";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        tenant: tenant_id(r.get(0)?)?,
        object_id: r.get(1)?,
        user_principal_name: r.get(2)?,
        display_name: r.get(3)?,
        roles: list(r.get(4)?),
        created_at: ts(r.get(5)?)?,
    })
}

pub fn create_user(tx: &Transaction<'_>, user: &User) -> Result<(), StoreError> {
    if find_tenant(tx, &user.tenant)?.is_none() {
        return Err(StoreError::Conflict(format!(
            "tenant {} does not exist; create it with 'picket tenants create'",
            user.tenant
        )));
    }
    if find_user(tx, &user.tenant, &user.user_principal_name)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a user named {} exists already",
            user.user_principal_name
        )));
    }
    tx.prepare_cached("INSERT INTO users (tenant_id, object_id, user_principal_name, display_name, roles, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![
            user.tenant.as_str(),
            user.object_id,
            user.user_principal_name,
            user.display_name,
            json(&user.roles),
            format_timestamp(&user.created_at)
        ],
    )?;
    Ok(())
}

pub fn list_users(c: &Connection, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "{USER_SELECT} WHERE tenant_id = ?1 ORDER BY user_principal_name"
    ))?;
    let rows = stmt.query_map(params![tenant.as_str()], user_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn find_user(c: &Connection, tenant: &TenantId, key: &str) -> Result<Option<User>, StoreError> {
    Ok(c.prepare_cached(&format!(
        "{USER_SELECT} WHERE tenant_id = ?1 AND (object_id = ?2 OR user_principal_name = ?2)"
    ))?
    .query_row(params![tenant.as_str(), key], user_row)
    .optional()?)
}

pub fn set_user_roles(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    object_id: &str,
    roles: &[String],
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("UPDATE users SET roles = ?3 WHERE tenant_id = ?1 AND object_id = ?2")?
        .execute(params![tenant.as_str(), object_id, json(roles)])?
        == 1)
}

pub fn delete_user(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    object_id: &str,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("DELETE FROM users WHERE tenant_id = ?1 AND object_id = ?2")?
        .execute(params![tenant.as_str(), object_id])?
        == 1)
}

// ---- trusted issuers ----

fn issuer_row(r: &Row<'_>) -> rusqlite::Result<TrustedIssuer> {
    Ok(TrustedIssuer {
        tenant: tenant_id(r.get(0)?)?,
        issuer: r.get(1)?,
        jwks_uri: r.get(2)?,
        audiences: list(r.get(3)?),
        created_at: ts(r.get(4)?)?,
    })
}

pub fn save_trusted_issuer(tx: &Transaction<'_>, issuer: &TrustedIssuer) -> Result<(), StoreError> {
    crate::sql::sqlite::run(crate::tables::tenants::ensure(
        &crate::sql::sqlite::Lite(tx),
        &issuer.tenant,
    ))?;
    tx.prepare_cached("INSERT INTO trusted_issuers (tenant_id, issuer, jwks_uri, audiences, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (tenant_id, issuer) DO UPDATE SET jwks_uri = excluded.jwks_uri, audiences = excluded.audiences")?.execute(params![
            issuer.tenant.as_str(),
            issuer.issuer,
            issuer.jwks_uri,
            json(&issuer.audiences),
            format_timestamp(&issuer.created_at)
        ],
    )?;
    Ok(())
}

pub fn list_trusted_issuers(
    c: &Connection,
    tenant: Option<&TenantId>,
) -> Result<Vec<TrustedIssuer>, StoreError> {
    let sql = "SELECT tenant_id, issuer, jwks_uri, audiences, created_at FROM trusted_issuers";
    let rows = match tenant {
        Some(t) => c
            .prepare_cached(&format!("{sql} WHERE tenant_id = ?1 ORDER BY issuer"))?
            .query_map(params![t.as_str()], issuer_row)?
            .collect::<Result<_, _>>()?,
        // Operator view (the verifier's table at start): every tenant's.
        None => c
            .prepare_cached(&format!("{sql} ORDER BY tenant_id, issuer"))?
            .query_map([], issuer_row)?
            .collect::<Result<_, _>>()?,
    };
    Ok(rows)
}

pub fn remove_trusted_issuer(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    issuer: &str,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("DELETE FROM trusted_issuers WHERE tenant_id = ?1 AND issuer = ?2")?
        .execute(params![tenant.as_str(), issuer])?
        == 1)
}

// ---- signing keys ----

fn key_row(r: &Row<'_>) -> rusqlite::Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: r.get(0)?,
        private_pem: r.get(1)?,
        created_at: ts(r.get(2)?)?,
        retired_at: opt_ts(r.get(3)?)?,
        remove_after: opt_ts(r.get(4)?)?,
    })
}

pub fn signing_keys(c: &Connection) -> Result<Vec<SigningKeyRecord>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT kid, private_pem, created_at, retired_at, remove_after FROM signing_keys \
         ORDER BY created_at DESC, kid",
    )?;
    let rows = stmt.query_map([], key_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn insert_key(tx: &Transaction<'_>, key: &SigningKeyRecord) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO signing_keys (kid, private_pem, created_at, retired_at, remove_after) VALUES (?1, ?2, ?3, NULL, NULL)")?.execute(params![key.kid, key.private_pem, format_timestamp(&key.created_at)],
    )?;
    Ok(())
}

pub fn ensure_signing_key(
    tx: &Transaction<'_>,
    key: &SigningKeyRecord,
) -> Result<Vec<SigningKeyRecord>, StoreError> {
    let current: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)")?
        .query_row([], |r| r.get(0))?;
    if !current {
        insert_key(tx, key)?;
    }
    signing_keys(tx)
}

pub fn rotate_signing_key(
    tx: &Transaction<'_>,
    key: &SigningKeyRecord,
    now: Timestamp,
    remove_after: Timestamp,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE signing_keys SET retired_at = ?1, remove_after = ?2 WHERE retired_at IS NULL",
    )?
    .execute(params![
        format_timestamp(&now),
        format_timestamp(&remove_after)
    ])?;
    insert_key(tx, key)
}

pub fn remove_signing_key(tx: &Transaction<'_>, kid: &str) -> Result<bool, StoreError> {
    let current: Option<i64> = tx
        .prepare_cached("SELECT retired_at IS NULL FROM signing_keys WHERE kid = ?1")?
        .query_row(params![kid], |r| r.get(0))
        .optional()?;
    match current {
        None => Ok(false),
        Some(1) => Err(StoreError::Conflict(format!(
            "key {kid} is the current signing key; rotate first, then remove it"
        ))),
        Some(_) => {
            tx.prepare_cached("DELETE FROM signing_keys WHERE kid = ?1")?
                .execute(params![kid])?;
            Ok(true)
        }
    }
}

// ---- audit ----

pub fn record_audit(tx: &Transaction<'_>, e: &NewAuditEntry) -> Result<(), StoreError> {
    // Numbered per tenant inside the write transaction, so sequence order is commit order.
    tx.prepare_cached(
        "INSERT INTO audit_log (tenant_id, seq, time, actor, operation, target, result, request_id, detail) \
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log WHERE tenant_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.tenant.as_str(),
        format_timestamp(&e.time),
        e.actor,
        e.operation,
        e.target,
        e.result,
        e.request_id,
        e.detail
    ])?;
    Ok(())
}

pub fn audit_entries(
    c: &Connection,
    tenant: &TenantId,
    q: &AuditQuery,
) -> Result<Vec<AuditEntry>, StoreError> {
    let since = q.since.as_ref().map(format_timestamp).unwrap_or_default();
    let until = q.until.as_ref().map(format_timestamp);
    let mut stmt = c.prepare_cached(if q.newest_first {
        "SELECT seq, time, tenant_id, actor, operation, target, result, request_id, detail FROM audit_log \
         WHERE tenant_id = ?1 AND time >= ?2 AND (?3 IS NULL OR operation = ?3) AND (?5 IS NULL OR actor = ?5) \
         AND (?6 IS NULL OR time < ?6) AND (?7 IS NULL OR seq < ?7) ORDER BY seq DESC LIMIT ?4"
    } else {
        "SELECT seq, time, tenant_id, actor, operation, target, result, request_id, detail FROM audit_log \
         WHERE tenant_id = ?1 AND time >= ?2 AND (?3 IS NULL OR operation = ?3) AND (?5 IS NULL OR actor = ?5) \
         AND (?6 IS NULL OR time < ?6) AND (?7 IS NULL OR seq < ?7) ORDER BY seq LIMIT ?4"
    })?;
    let args = params![
        tenant.as_str(),
        since,
        q.operation,
        q.limit,
        q.actor,
        until,
        q.before_seq
    ];
    let rows = stmt.query_map(args, |r| {
        Ok(AuditEntry {
            seq: r.get(0)?,
            time: ts(r.get(1)?)?,
            tenant: tenant_id(r.get(2)?)?,
            actor: r.get(3)?,
            operation: r.get(4)?,
            target: r.get(5)?,
            result: r.get(6)?,
            request_id: r.get(7)?,
            detail: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
