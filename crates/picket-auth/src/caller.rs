//! The verified identity behind a request.

use crate::permission::{Permission, PermissionSet};
use crate::roles::{role_allows, Access, DirectoryRole};
use picket_domain::TenantId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Application permissions (`roles` claim); the app's client id.
    App { app_id: String },
    /// Delegated permissions (`scp` claim); the signed-in user's object id.
    User { object_id: String, app_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: TenantId,
    pub principal: Principal,
    pub permissions: PermissionSet,
    /// Directory roles of a signed-in user (`wids`); empty for applications.
    pub roles: Vec<DirectoryRole>,
}

impl Caller {
    /// True when the caller holds at least one of `any_of`.
    pub fn has_any(&self, any_of: &[Permission]) -> bool {
        self.permissions.contains_any(any_of)
    }

    /// Whether a signed-in user's roles allow `access`; applications always pass this check
    /// (their permissions alone decide).
    pub fn role_allows(&self, access: Access) -> bool {
        !self.is_delegated() || self.roles.iter().any(|r| role_allows(*r, access))
    }

    /// The client (application) id the token was issued to.
    pub fn app_id(&self) -> &str {
        match &self.principal {
            Principal::App { app_id } | Principal::User { app_id, .. } => app_id,
        }
    }

    /// `app:{client id}` or `user:{object id}`, for the audit log.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::App { app_id } => format!("app:{app_id}"),
            Principal::User { object_id, .. } => format!("user:{object_id}"),
        }
    }

    pub fn is_delegated(&self) -> bool {
        matches!(self.principal, Principal::User { .. })
    }
}
