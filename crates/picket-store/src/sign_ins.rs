//! Console sign-in secrets, written once over both engines (shared statements run by
//! [`PortableStore::read_rows`] and [`PortableStore::write_statements`]): one-time sign-in
//! tickets (`picket console-link`), console sessions (the `picket_session` cookie) and OAuth
//! authorization codes. Each row is keyed by the SHA-256 of its secret; the secret itself is
//! handed out once and never stored. A ticket or code is used once: [`redeem`] is one UPDATE
//! that only an unused, unrevoked, unexpired row matches, so of two redemptions (even on two
//! replicas) exactly one changes the row.

use crate::portable::{hex, Cell, PortableStore};
use crate::StoreError;
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::TenantId;
use rand::RngCore;
use sha2::{Digest, Sha256};

mod sql {
    pub const FIND: &str = "SELECT kind, user_id, created_at, expires_at, used_at, \
         revoked_at, client_id, redirect_uri, code_challenge, scopes FROM sign_ins \
         WHERE tenant_id = ? AND digest = ? AND kind = ?";
    pub const INSERT: &str = "INSERT INTO sign_ins (tenant_id, digest, kind, user_id, \
         created_at, expires_at, client_id, redirect_uri, code_challenge, scopes) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    /// Rows that expired long enough ago that no one will ask why they were refused.
    pub const PRUNE: &str = "DELETE FROM sign_ins WHERE tenant_id = ? AND expires_at < ?";
    pub const REDEEM: &str = "UPDATE sign_ins SET used_at = ? WHERE tenant_id = ? \
         AND digest = ? AND kind = ? AND used_at IS NULL AND revoked_at IS NULL \
         AND expires_at > ?";
    pub const REVOKE: &str = "UPDATE sign_ins SET revoked_at = ? WHERE tenant_id = ? \
         AND digest = ? AND kind = ? AND revoked_at IS NULL";
}

/// How long a refused row is kept after it expires (so a late attempt is told "expired").
const KEPT_AFTER_EXPIRY_SECS: i64 = 3600;

/// What a secret stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A one-time sign-in link's ticket.
    Ticket,
    /// A signed-in console session.
    Session,
    /// An OAuth authorization code.
    Code,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ticket => "ticket",
            Kind::Session => "session",
            Kind::Code => "code",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Kind::Ticket, Kind::Session, Kind::Code]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// What an authorization code was issued for (RFC 6749 §4.1, RFC 7636).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBinding {
    pub client_id: String,
    pub redirect_uri: String,
    /// The S256 PKCE challenge.
    pub code_challenge: String,
    /// Graph permissions the token will carry.
    pub scopes: Vec<String>,
}

/// A stored ticket, session or code (its secret is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub kind: Kind,
    /// The user's object id.
    pub user_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Set for codes.
    pub code: Option<CodeBinding>,
}

/// Why a secret was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such secret (of this kind, in this tenant).
    Unknown,
    Used,
    Expired,
    Revoked,
}

impl SignIn {
    /// Whether the row may be used at `now`.
    pub fn check(&self, now: Timestamp) -> Result<(), Refusal> {
        if self.revoked_at.is_some() {
            Err(Refusal::Revoked)
        } else if self.used_at.is_some() {
            Err(Refusal::Used)
        } else if self.expires_at <= now {
            Err(Refusal::Expired)
        } else {
            Ok(())
        }
    }
}

/// A new random secret: 256 bits, URL-safe base64 (43 characters). Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn generate() -> Self {
        use base64::Engine;
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The key a secret is stored under: SHA-256, in hex.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn time(t: Timestamp) -> Cell {
    Cell::Text(format_timestamp(&t))
}

/// Stores a new secret of `kind` for the user, valid for `lifetime` from `now`; answers it.
/// Rows of the tenant that expired over an hour ago go in the same transaction.
pub async fn create<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    kind: Kind,
    user_id: &str,
    code: Option<&CodeBinding>,
    lifetime: chrono::Duration,
    now: Timestamp,
) -> Result<Secret, StoreError> {
    let expires_at = now
        .checked_add_signed(lifetime)
        .ok_or_else(|| StoreError::Invalid("a sign-in lifetime out of range".into()))?;
    let secret = Secret::generate();
    let optional = |f: fn(&CodeBinding) -> String| code.map_or(Cell::Null, |c| text(f(c)));
    let scopes = match code {
        Some(c) => text(
            serde_json::to_string(&c.scopes).map_err(|e| StoreError::Internal(e.to_string()))?,
        ),
        None => Cell::Null,
    };
    let insert = vec![
        text(tenant.as_str()),
        text(digest(secret.expose())),
        text(kind.as_str()),
        text(user_id),
        time(now),
        time(expires_at),
        optional(|c| c.client_id.clone()),
        optional(|c| c.redirect_uri.clone()),
        optional(|c| c.code_challenge.clone()),
        scopes,
    ];
    let prune = vec![
        text(tenant.as_str()),
        time(now - chrono::Duration::seconds(KEPT_AFTER_EXPIRY_SECS)),
    ];
    store
        .write_statements(tenant, vec![(sql::PRUNE, prune), (sql::INSERT, insert)])
        .await?;
    Ok(secret)
}

/// The row of a secret, whatever its state.
pub async fn find<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    kind: Kind,
    secret: &str,
) -> Result<Option<SignIn>, StoreError> {
    let params = vec![
        text(tenant.as_str()),
        text(digest(secret)),
        text(kind.as_str()),
    ];
    match store.read_rows(sql::FIND, params).await?.first() {
        Some(row) => parse_row(row).map(Some),
        None => Ok(None),
    }
}

/// Uses a ticket or code once: the row if this call used it, else why it was refused.
pub async fn redeem<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    kind: Kind,
    secret: &str,
    now: Timestamp,
) -> Result<Result<SignIn, Refusal>, StoreError> {
    let params = vec![
        time(now),
        text(tenant.as_str()),
        text(digest(secret)),
        text(kind.as_str()),
        time(now),
    ];
    let changed = store
        .write_statements(tenant, vec![(sql::REDEEM, params)])
        .await?;
    let row = find(store, tenant, kind, secret).await?;
    Ok(match (changed.first().copied().unwrap_or(0), row) {
        (1, Some(row)) => Ok(row),
        (_, Some(row)) => Err(row.check(now).err().unwrap_or(Refusal::Used)),
        (_, None) => Err(Refusal::Unknown),
    })
}

/// The session of a cookie, if it may be used at `now`; else why not.
pub async fn live_session<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    secret: &str,
    now: Timestamp,
) -> Result<Result<SignIn, Refusal>, StoreError> {
    Ok(match find(store, tenant, Kind::Session, secret).await? {
        Some(row) => row.check(now).map(|()| row),
        None => Err(Refusal::Unknown),
    })
}

/// Revokes a secret (a session at sign-out); false when there was nothing to revoke.
pub async fn revoke<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    kind: Kind,
    secret: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let params = vec![
        time(now),
        text(tenant.as_str()),
        text(digest(secret)),
        text(kind.as_str()),
    ];
    let changed = store
        .write_statements(tenant, vec![(sql::REVOKE, params)])
        .await?;
    Ok(changed.first().copied().unwrap_or(0) > 0)
}

fn parse_row(row: &[Cell]) -> Result<SignIn, StoreError> {
    let bad = |what: &str| StoreError::Internal(format!("a stored sign-in: bad {what}"));
    let text_at = |i: usize| match row.get(i) {
        Some(Cell::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let time_at = |i: usize, what: &str| match text_at(i) {
        Some(t) => parse_timestamp(&t).map(Some).ok_or_else(|| bad(what)),
        None => Ok(None),
    };
    let kind = text_at(0)
        .as_deref()
        .and_then(Kind::parse)
        .ok_or_else(|| bad("kind"))?;
    let code = match (text_at(6), text_at(7), text_at(8), text_at(9)) {
        (Some(client_id), Some(redirect_uri), Some(code_challenge), Some(scopes)) => {
            Some(CodeBinding {
                client_id,
                redirect_uri,
                code_challenge,
                scopes: serde_json::from_str(&scopes).map_err(|_| bad("scopes"))?,
            })
        }
        _ => None,
    };
    Ok(SignIn {
        kind,
        user_id: text_at(1).ok_or_else(|| bad("user"))?,
        created_at: time_at(2, "created_at")?.ok_or_else(|| bad("created_at"))?,
        expires_at: time_at(3, "expires_at")?.ok_or_else(|| bad("expires_at"))?,
        used_at: time_at(4, "used_at")?,
        revoked_at: time_at(5, "revoked_at")?,
        code,
    })
}
