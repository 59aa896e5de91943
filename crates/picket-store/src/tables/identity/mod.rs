//! The identity rows behind [`crate::IdentityStore`]: apps with their credentials, users,
//! trusted issuers, the installation's signing keys and the audit log (tenants' names are in
//! `tables::tenants`). The trait's implementation is written here too, once, as the list of
//! which shared function each method runs, in a read or in a write; each engine instantiates it
//! with its own way of running them ([`impl_identity_store!`]).

pub mod apps;
pub mod audit;
pub mod signing_keys;
pub mod trusted_issuers;
pub mod users;

use crate::sql::RowRef;
use crate::StoreError;

/// A list of names stored as JSON text (permissions, roles, audiences). One that does not
/// parse reads as empty: it grants nothing.
fn get_names(row: &dyn RowRef, idx: usize) -> Result<Vec<String>, StoreError> {
    let text: String = row.get(idx)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// `impl_identity_store!(Store, via)`: implements [`crate::IdentityStore`] for an engine's
/// store, every method running one shared function through the engine's `via!` macro (see
/// [`crate::tables::delegate!`]). A write names what it changes, for PostgreSQL's lock: its
/// tenant's rows, or the installation's (signing keys).
macro_rules! impl_identity_store {
    ($store:ty, $via:ident) => {
        const _: () = {
            use picket_domain::identity::{
                App, AppCertificate, AppSecret, AuditEntry, SigningKeyRecord, TenantInfo,
                TrustedIssuer, User,
            };
            use picket_domain::{time::Timestamp, TenantId};
            use $crate::identity::{AuditQuery, IdentityStore, NewAuditEntry};
            use $crate::tables::identity::{apps, audit, signing_keys, trusted_issuers, users};
            use $crate::tables::tenants;

            $crate::tables::delegate! { $via; impl IdentityStore for $store {
                fn create_tenant(&self, id: &TenantId, display_name: &str) -> TenantInfo
                    = write[Tenant(id)] tenants::create;
                fn list_tenants(&self) -> Vec<TenantInfo> = read tenants::list;
                fn find_tenant(&self, id: &TenantId) -> Option<TenantInfo> = read tenants::find;

                fn create_app(&self, app: &App) -> () = write[Tenant(&app.tenant)] apps::create;
                fn list_apps(&self, tenant: &TenantId) -> Vec<App> = read apps::list;
                fn find_app(&self, tenant: &TenantId, client_id: &str) -> Option<App>
                    = read apps::find;
                fn set_app_permissions(
                    &self, tenant: &TenantId, client_id: &str, permissions: &[String]
                ) -> bool = write[Tenant(tenant)] apps::set_permissions;
                fn add_app_secret(
                    &self, tenant: &TenantId, client_id: &str, secret: &AppSecret
                ) -> bool = write[Tenant(tenant)] apps::add_secret;
                fn add_app_certificate(
                    &self, tenant: &TenantId, client_id: &str, certificate: &AppCertificate
                ) -> bool = write[Tenant(tenant)] apps::add_certificate;
                fn remove_app_credential(
                    &self, tenant: &TenantId, client_id: &str, key_id: &str
                ) -> bool = write[Tenant(tenant)] apps::remove_credential;
                fn delete_app(&self, tenant: &TenantId, client_id: &str) -> bool
                    = write[Tenant(tenant)] apps::delete;

                fn create_user(&self, user: &User) -> ()
                    = write[Tenant(&user.tenant)] users::create;
                fn list_users(&self, tenant: &TenantId) -> Vec<User> = read users::list;
                fn find_user(&self, tenant: &TenantId, key: &str) -> Option<User>
                    = read users::find;
                fn set_user_roles(
                    &self, tenant: &TenantId, object_id: &str, roles: &[String]
                ) -> bool = write[Tenant(tenant)] users::set_roles;
                fn delete_user(&self, tenant: &TenantId, object_id: &str) -> bool
                    = write[Tenant(tenant)] users::delete;

                fn save_trusted_issuer(&self, issuer: &TrustedIssuer) -> ()
                    = write[Tenant(&issuer.tenant)] trusted_issuers::save;
                fn list_trusted_issuers(&self, tenant: Option<&TenantId>) -> Vec<TrustedIssuer>
                    = read trusted_issuers::list;
                fn remove_trusted_issuer(&self, tenant: &TenantId, issuer: &str) -> bool
                    = write[Tenant(tenant)] trusted_issuers::remove;

                fn signing_keys(&self) -> Vec<SigningKeyRecord> = read signing_keys::list;
                fn ensure_signing_key(&self, key: &SigningKeyRecord) -> Vec<SigningKeyRecord>
                    = write[Installation] signing_keys::ensure;
                fn rotate_signing_key(
                    &self, key: &SigningKeyRecord, now: Timestamp, remove_after: Timestamp
                ) -> () = write[Installation] signing_keys::rotate;
                fn remove_signing_key(&self, kid: &str) -> bool
                    = write[Installation] signing_keys::remove;

                fn record_audit(&self, entry: &NewAuditEntry) -> ()
                    = write[Tenant(&entry.tenant)] audit::record;
                fn audit_entries(&self, tenant: &TenantId, query: &AuditQuery) -> Vec<AuditEntry>
                    = read audit::entries;
            }}
        };
    };
}
pub(crate) use impl_identity_store;
