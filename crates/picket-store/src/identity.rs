//! The identity half of the store contract: tenants, app registrations, users, trusted
//! issuers, signing keys and the audit log.

use crate::StoreError;
use async_trait::async_trait;
use picket_domain::identity::*;
use picket_domain::time::Timestamp;
use picket_domain::TenantId;

/// An audit entry before the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub time: Timestamp,
    pub tenant: TenantId,
    pub actor: String,
    pub operation: String,
    pub target: String,
    pub result: String,
    pub request_id: String,
    pub detail: Option<String>,
}

/// Which audit entries to read: oldest first, or newest first for a log view paging back
/// with `before_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub since: Option<Timestamp>,
    /// Entries strictly before this time.
    pub until: Option<Timestamp>,
    pub operation: Option<String>,
    /// Exactly this actor (`user:…`, `app:…`, `agent:…`).
    pub actor: Option<String>,
    /// Entries strictly before this sequence number.
    pub before_seq: Option<i64>,
    pub newest_first: bool,
    pub limit: u32,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            since: None,
            until: None,
            operation: None,
            actor: None,
            before_seq: None,
            newest_first: false,
            limit: 100,
        }
    }
}

#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Creates a tenant; [`StoreError::Conflict`] when it exists with a different name already
    /// registered (an existing tenant without a name takes the new one).
    async fn create_tenant(
        &self,
        id: &TenantId,
        display_name: &str,
    ) -> Result<TenantInfo, StoreError>;
    async fn list_tenants(&self) -> Result<Vec<TenantInfo>, StoreError>;
    async fn find_tenant(&self, id: &TenantId) -> Result<Option<TenantInfo>, StoreError>;

    /// Registers an app with its first credentials; the tenant must exist.
    async fn create_app(&self, app: &App) -> Result<(), StoreError>;
    async fn list_apps(&self, tenant: &TenantId) -> Result<Vec<App>, StoreError>;
    async fn find_app(&self, tenant: &TenantId, client_id: &str)
        -> Result<Option<App>, StoreError>;
    /// Replaces the granted permissions; false when the app is unknown.
    async fn set_app_permissions(
        &self,
        tenant: &TenantId,
        client_id: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError>;
    async fn add_app_secret(
        &self,
        tenant: &TenantId,
        client_id: &str,
        secret: &AppSecret,
    ) -> Result<bool, StoreError>;
    async fn add_app_certificate(
        &self,
        tenant: &TenantId,
        client_id: &str,
        certificate: &AppCertificate,
    ) -> Result<bool, StoreError>;
    /// Removes a secret or certificate by key id; false when neither matched.
    async fn remove_app_credential(
        &self,
        tenant: &TenantId,
        client_id: &str,
        key_id: &str,
    ) -> Result<bool, StoreError>;
    async fn delete_app(&self, tenant: &TenantId, client_id: &str) -> Result<bool, StoreError>;

    /// Creates a user; [`StoreError::Conflict`] when the principal name is taken.
    async fn create_user(&self, user: &User) -> Result<(), StoreError>;
    async fn list_users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError>;
    /// By object id or user principal name (case-insensitive).
    async fn find_user(&self, tenant: &TenantId, key: &str) -> Result<Option<User>, StoreError>;
    async fn set_user_roles(
        &self,
        tenant: &TenantId,
        object_id: &str,
        roles: &[String],
    ) -> Result<bool, StoreError>;
    async fn delete_user(&self, tenant: &TenantId, object_id: &str) -> Result<bool, StoreError>;

    /// Adds or replaces (same tenant and issuer) a trusted issuer.
    async fn save_trusted_issuer(&self, issuer: &TrustedIssuer) -> Result<(), StoreError>;
    /// One tenant's, or every tenant's for the verifier's table.
    async fn list_trusted_issuers(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<TrustedIssuer>, StoreError>;
    async fn remove_trusted_issuer(
        &self,
        tenant: &TenantId,
        issuer: &str,
    ) -> Result<bool, StoreError>;

    /// Every signing key, newest first.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// Stores `key` as the signing key when no unretired key exists; returns the keys after.
    async fn ensure_signing_key(
        &self,
        key: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// Retires every unretired key at `now` (kept until `remove_after`) and makes `key` current.
    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        now: Timestamp,
        remove_after: Timestamp,
    ) -> Result<(), StoreError>;
    /// Withdraws a key at once: tokens it signed stop working. Refuses the only signing key.
    async fn remove_signing_key(&self, kid: &str) -> Result<bool, StoreError>;

    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError>;
    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}
