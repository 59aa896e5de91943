//! [`IdentityStore`] for SQLite: reads on the read pool, changes in write transactions.

use super::{identity as rows, SqliteStore};
use crate::identity::{AuditQuery, IdentityStore, NewAuditEntry};
use crate::StoreError;
use async_trait::async_trait;
use picket_domain::identity::*;
use picket_domain::time::Timestamp;
use picket_domain::TenantId;

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn create_tenant(
        &self,
        id: &TenantId,
        display_name: &str,
    ) -> Result<TenantInfo, StoreError> {
        let (id, name) = (id.clone(), display_name.to_string());
        self.write(move |tx| rows::create_tenant(tx, &id, &name))
            .await
    }
    async fn list_tenants(&self) -> Result<Vec<TenantInfo>, StoreError> {
        self.read(rows::list_tenants).await
    }
    async fn find_tenant(&self, id: &TenantId) -> Result<Option<TenantInfo>, StoreError> {
        let id = id.clone();
        self.read(move |c| rows::find_tenant(c, &id)).await
    }

    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        let app = app.clone();
        self.write(move |tx| rows::create_app(tx, &app)).await
    }
    async fn list_apps(&self, tenant: &TenantId) -> Result<Vec<App>, StoreError> {
        let tenant = tenant.clone();
        self.read(move |c| rows::list_apps(c, &tenant)).await
    }
    async fn find_app(
        &self,
        tenant: &TenantId,
        client_id: &str,
    ) -> Result<Option<App>, StoreError> {
        let (tenant, id) = (tenant.clone(), client_id.to_string());
        self.read(move |c| rows::find_app(c, &tenant, &id)).await
    }
    async fn set_app_permissions(
        &self,
        tenant: &TenantId,
        client_id: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError> {
        let (tenant, id, perms) = (tenant.clone(), client_id.to_string(), permissions.to_vec());
        self.write(move |tx| rows::set_app_permissions(tx, &tenant, &id, &perms))
            .await
    }
    async fn add_app_secret(
        &self,
        tenant: &TenantId,
        client_id: &str,
        secret: &AppSecret,
    ) -> Result<bool, StoreError> {
        let (tenant, id, secret) = (tenant.clone(), client_id.to_string(), secret.clone());
        self.write(move |tx| rows::add_app_secret(tx, &tenant, &id, &secret))
            .await
    }
    async fn add_app_certificate(
        &self,
        tenant: &TenantId,
        client_id: &str,
        certificate: &AppCertificate,
    ) -> Result<bool, StoreError> {
        let (tenant, id, cert) = (tenant.clone(), client_id.to_string(), certificate.clone());
        self.write(move |tx| rows::add_app_certificate(tx, &tenant, &id, &cert))
            .await
    }
    async fn remove_app_credential(
        &self,
        tenant: &TenantId,
        client_id: &str,
        key_id: &str,
    ) -> Result<bool, StoreError> {
        let (tenant, id, key) = (tenant.clone(), client_id.to_string(), key_id.to_string());
        self.write(move |tx| rows::remove_app_credential(tx, &tenant, &id, &key))
            .await
    }
    async fn delete_app(&self, tenant: &TenantId, client_id: &str) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.clone(), client_id.to_string());
        self.write(move |tx| rows::delete_app(tx, &tenant, &id))
            .await
    }

    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |tx| rows::create_user(tx, &user)).await
    }
    async fn list_users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
        let tenant = tenant.clone();
        self.read(move |c| rows::list_users(c, &tenant)).await
    }
    async fn find_user(&self, tenant: &TenantId, key: &str) -> Result<Option<User>, StoreError> {
        let (tenant, key) = (tenant.clone(), key.to_string());
        self.read(move |c| rows::find_user(c, &tenant, &key)).await
    }
    async fn set_user_roles(
        &self,
        tenant: &TenantId,
        object_id: &str,
        roles: &[String],
    ) -> Result<bool, StoreError> {
        let (tenant, id, roles) = (tenant.clone(), object_id.to_string(), roles.to_vec());
        self.write(move |tx| rows::set_user_roles(tx, &tenant, &id, &roles))
            .await
    }
    async fn delete_user(&self, tenant: &TenantId, object_id: &str) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.clone(), object_id.to_string());
        self.write(move |tx| rows::delete_user(tx, &tenant, &id))
            .await
    }

    async fn save_trusted_issuer(&self, issuer: &TrustedIssuer) -> Result<(), StoreError> {
        let issuer = issuer.clone();
        self.write(move |tx| rows::save_trusted_issuer(tx, &issuer))
            .await
    }
    async fn list_trusted_issuers(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<TrustedIssuer>, StoreError> {
        let tenant = tenant.cloned();
        self.read(move |c| rows::list_trusted_issuers(c, tenant.as_ref()))
            .await
    }
    async fn remove_trusted_issuer(
        &self,
        tenant: &TenantId,
        issuer: &str,
    ) -> Result<bool, StoreError> {
        let (tenant, issuer) = (tenant.clone(), issuer.to_string());
        self.write(move |tx| rows::remove_trusted_issuer(tx, &tenant, &issuer))
            .await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.read(rows::signing_keys).await
    }
    async fn ensure_signing_key(
        &self,
        key: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let key = key.clone();
        self.write(move |tx| rows::ensure_signing_key(tx, &key))
            .await
    }
    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        now: Timestamp,
        remove_after: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(move |tx| rows::rotate_signing_key(tx, &key, now, remove_after))
            .await
    }
    async fn remove_signing_key(&self, kid: &str) -> Result<bool, StoreError> {
        let kid = kid.to_string();
        self.write(move |tx| rows::remove_signing_key(tx, &kid))
            .await
    }

    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        let entry = entry.clone();
        self.write(move |tx| rows::record_audit(tx, &entry)).await
    }
    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |c| rows::audit_entries(c, &tenant, &query))
            .await
    }
}
