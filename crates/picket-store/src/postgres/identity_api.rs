//! [`IdentityStore`] for PostgreSQL: reads in read-only transactions, changes in write
//! transactions locking their tenant (signing keys: the installation).

use super::{identity as rows, PostgresStore, Scope};
use crate::identity::{AuditQuery, IdentityStore, NewAuditEntry};
use crate::StoreError;
use async_trait::async_trait;
use picket_domain::identity::*;
use picket_domain::time::Timestamp;
use picket_domain::TenantId;

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn create_tenant(
        &self,
        id: &TenantId,
        display_name: &str,
    ) -> Result<TenantInfo, StoreError> {
        self.write(Scope::Tenant(id), (id, display_name), |tx, (id, name)| {
            Box::pin(rows::create_tenant(tx, id, name))
        })
        .await
    }
    async fn list_tenants(&self) -> Result<Vec<TenantInfo>, StoreError> {
        self.read((), |tx, ()| Box::pin(rows::list_tenants(tx)))
            .await
    }
    async fn find_tenant(&self, id: &TenantId) -> Result<Option<TenantInfo>, StoreError> {
        self.read(id, |tx, id| Box::pin(rows::find_tenant(tx, id)))
            .await
    }

    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        self.write(Scope::Tenant(&app.tenant), app, |tx, app| {
            Box::pin(rows::create_app(tx, app))
        })
        .await
    }
    async fn list_apps(&self, tenant: &TenantId) -> Result<Vec<App>, StoreError> {
        self.read(tenant, |tx, t| Box::pin(rows::list_apps(tx, t)))
            .await
    }
    async fn find_app(
        &self,
        tenant: &TenantId,
        client_id: &str,
    ) -> Result<Option<App>, StoreError> {
        self.read((tenant, client_id), |tx, (t, id)| {
            Box::pin(rows::find_app(tx, t, id))
        })
        .await
    }
    async fn set_app_permissions(
        &self,
        tenant: &TenantId,
        client_id: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError> {
        self.write(
            Scope::Tenant(tenant),
            (tenant, client_id, permissions),
            |tx, (t, id, p)| Box::pin(rows::set_app_permissions(tx, t, id, p)),
        )
        .await
    }
    async fn add_app_secret(
        &self,
        tenant: &TenantId,
        client_id: &str,
        secret: &AppSecret,
    ) -> Result<bool, StoreError> {
        self.write(
            Scope::Tenant(tenant),
            (tenant, client_id, secret),
            |tx, (t, id, s)| Box::pin(rows::add_app_secret(tx, t, id, s)),
        )
        .await
    }
    async fn add_app_certificate(
        &self,
        tenant: &TenantId,
        client_id: &str,
        certificate: &AppCertificate,
    ) -> Result<bool, StoreError> {
        self.write(
            Scope::Tenant(tenant),
            (tenant, client_id, certificate),
            |tx, (t, id, c)| Box::pin(rows::add_app_certificate(tx, t, id, c)),
        )
        .await
    }
    async fn remove_app_credential(
        &self,
        tenant: &TenantId,
        client_id: &str,
        key_id: &str,
    ) -> Result<bool, StoreError> {
        self.write(
            Scope::Tenant(tenant),
            (tenant, client_id, key_id),
            |tx, (t, id, k)| Box::pin(rows::remove_app_credential(tx, t, id, k)),
        )
        .await
    }
    async fn delete_app(&self, tenant: &TenantId, client_id: &str) -> Result<bool, StoreError> {
        self.write(Scope::Tenant(tenant), (tenant, client_id), |tx, (t, id)| {
            Box::pin(rows::delete_app(tx, t, id))
        })
        .await
    }

    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        self.write(Scope::Tenant(&user.tenant), user, |tx, u| {
            Box::pin(rows::create_user(tx, u))
        })
        .await
    }
    async fn list_users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
        self.read(tenant, |tx, t| Box::pin(rows::list_users(tx, t)))
            .await
    }
    async fn find_user(&self, tenant: &TenantId, key: &str) -> Result<Option<User>, StoreError> {
        self.read((tenant, key), |tx, (t, k)| {
            Box::pin(rows::find_user(tx, t, k))
        })
        .await
    }
    async fn set_user_roles(
        &self,
        tenant: &TenantId,
        object_id: &str,
        roles: &[String],
    ) -> Result<bool, StoreError> {
        self.write(
            Scope::Tenant(tenant),
            (tenant, object_id, roles),
            |tx, (t, id, r)| Box::pin(rows::set_user_roles(tx, t, id, r)),
        )
        .await
    }
    async fn delete_user(&self, tenant: &TenantId, object_id: &str) -> Result<bool, StoreError> {
        self.write(Scope::Tenant(tenant), (tenant, object_id), |tx, (t, id)| {
            Box::pin(rows::delete_user(tx, t, id))
        })
        .await
    }

    async fn save_trusted_issuer(&self, issuer: &TrustedIssuer) -> Result<(), StoreError> {
        self.write(Scope::Tenant(&issuer.tenant), issuer, |tx, i| {
            Box::pin(rows::save_trusted_issuer(tx, i))
        })
        .await
    }
    async fn list_trusted_issuers(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<TrustedIssuer>, StoreError> {
        self.read(tenant, |tx, t| Box::pin(rows::list_trusted_issuers(tx, *t)))
            .await
    }
    async fn remove_trusted_issuer(
        &self,
        tenant: &TenantId,
        issuer: &str,
    ) -> Result<bool, StoreError> {
        self.write(Scope::Tenant(tenant), (tenant, issuer), |tx, (t, i)| {
            Box::pin(rows::remove_trusted_issuer(tx, t, i))
        })
        .await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.read((), |tx, ()| Box::pin(rows::signing_keys(tx)))
            .await
    }
    async fn ensure_signing_key(
        &self,
        key: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.write(Scope::Installation, key, |tx, k| {
            Box::pin(rows::ensure_signing_key(tx, k))
        })
        .await
    }
    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        now: Timestamp,
        remove_after: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(Scope::Installation, key, |tx, k| {
            Box::pin(rows::rotate_signing_key(tx, k, now, remove_after))
        })
        .await
    }
    async fn remove_signing_key(&self, kid: &str) -> Result<bool, StoreError> {
        self.write(Scope::Installation, kid, |tx, k| {
            Box::pin(rows::remove_signing_key(tx, k))
        })
        .await
    }

    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        self.write(Scope::Tenant(&entry.tenant), entry, |tx, e| {
            Box::pin(rows::record_audit(tx, e))
        })
        .await
    }
    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read((tenant, query), |tx, (t, q)| {
            Box::pin(rows::audit_entries(tx, t, q))
        })
        .await
    }
}
