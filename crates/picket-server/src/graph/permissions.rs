//! Whether a caller may run a Graph operation: the permissions of its token (roles of an app,
//! scopes of a user) and, for a signed-in user, the directory roles (spec §3.2, §7.5). Graph's
//! dispatch decides with it, and so does the console when it asks which controls to draw.

use crate::error::ApiError;
use crate::graph::routes::Operation;
use picket_auth::Caller;

/// 403 names the permissions the operation needs (spec §3.2), and for a signed-in user
/// without a suitable directory role, the roles that would allow it.
pub fn authorize(caller: &Caller, op: &Operation) -> Result<(), ApiError> {
    for any_of in op.required() {
        if !caller.has_any(any_of) {
            return Err(missing_permission(caller, any_of));
        }
    }
    let access = op.access();
    if !caller.role_allows(access) {
        let roles: Vec<&str> = picket_auth::roles::roles_allowing(access)
            .into_iter()
            .map(|r| r.display_name())
            .collect();
        return Err(ApiError::MissingPermission(format!(
            "Missing role: the signed-in user needs one of the directory roles '{}' to {}",
            roles.join(", "),
            access.describe()
        )));
    }
    Ok(())
}

pub fn missing_permission(caller: &Caller, any_of: &[picket_auth::Permission]) -> ApiError {
    let names: Vec<&str> = any_of.iter().map(|p| p.name()).collect();
    let kind = if caller.is_delegated() {
        "scope"
    } else {
        "role"
    };
    ApiError::MissingPermission(format!(
        "Missing {kind} permissions on the request. API requires one of '{}'",
        names.join(", ")
    ))
}
