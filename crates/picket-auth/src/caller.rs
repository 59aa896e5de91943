//! The verified identity behind a request.

use crate::permission::{Permission, PermissionSet};
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
}

impl Caller {
    /// True when the caller holds at least one of `any_of`.
    pub fn has_any(&self, any_of: &[Permission]) -> bool {
        self.permissions.contains_any(any_of)
    }

    pub fn is_delegated(&self) -> bool {
        matches!(self.principal, Principal::User { .. })
    }
}
