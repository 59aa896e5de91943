//! Directory roles of delegated callers and what each lets a signed-in user do.
//!
//! A delegated call needs both the permission scope (the app was consented to act) and a
//! directory role that allows the kind of operation (the user may act), as Defender for
//! Identity's RBAC requires. The rule is one table, [`role_allows`]:
//!
//! | Role                    | read | manage health issues | manage sensors & activation | deployment access key |
//! |-------------------------|------|----------------------|-----------------------------|-----------------------|
//! | Global Administrator    | yes  | yes                  | yes                         | yes                   |
//! | Security Administrator  | yes  | yes                  | yes                         | yes                   |
//! | Security Operator       | yes  | yes                  | no                          | no                    |
//! | Security Reader         | yes  | no                   | no                          | no                    |
//! | Global Reader           | yes  | no                   | no                          | no                    |
//!
//! Application callers have no roles of their own: their granted permissions decide.

use crate::Permission;

/// Entra built-in roles, by their role template ids (the `wids` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryRole {
    GlobalAdministrator,
    SecurityAdministrator,
    SecurityOperator,
    SecurityReader,
    GlobalReader,
}

impl DirectoryRole {
    pub const ALL: [DirectoryRole; 5] = [
        DirectoryRole::GlobalAdministrator,
        DirectoryRole::SecurityAdministrator,
        DirectoryRole::SecurityOperator,
        DirectoryRole::SecurityReader,
        DirectoryRole::GlobalReader,
    ];

    pub fn template_id(self) -> &'static str {
        match self {
            DirectoryRole::GlobalAdministrator => "62e90394-69f5-4237-9190-012177145e10",
            DirectoryRole::SecurityAdministrator => "194ae4cb-b126-40b2-bd5b-6091b380977d",
            DirectoryRole::SecurityOperator => "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
            DirectoryRole::SecurityReader => "5d6b6bb7-de71-4623-b4af-96380a352509",
            DirectoryRole::GlobalReader => "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            DirectoryRole::GlobalAdministrator => "Global Administrator",
            DirectoryRole::SecurityAdministrator => "Security Administrator",
            DirectoryRole::SecurityOperator => "Security Operator",
            DirectoryRole::SecurityReader => "Security Reader",
            DirectoryRole::GlobalReader => "Global Reader",
        }
    }

    pub fn from_template_id(id: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.template_id().eq_ignore_ascii_case(id))
    }

    /// Accepts the display name (any case, spaces optional) or the template id.
    pub fn parse(text: &str) -> Option<Self> {
        let squash = |s: &str| s.replace([' ', '-', '_'], "").to_ascii_lowercase();
        Self::from_template_id(text).or_else(|| {
            Self::ALL
                .into_iter()
                .find(|r| squash(r.display_name()) == squash(text))
        })
    }
}

/// The kinds of operation the role table distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    ManageHealth,
    ManageSensors,
    /// Reading or regenerating the deployment access key: a secret.
    AccessKey,
    /// Moving classic sensors to the unified sensor (spec §7.2).
    Migrate,
    /// Turning automatic auditing configuration on or off (spec §7.3).
    ConfigureAuditing,
    /// Response actions on identity accounts (spec §7.4): break-glass.
    AccountActions,
}

impl Access {
    pub fn describe(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::ManageHealth => "manage health issues",
            Access::ManageSensors => "manage sensors",
            Access::AccessKey => "use the deployment access key",
            Access::Migrate => "migrate sensors",
            Access::ConfigureAuditing => "configure auditing",
            Access::AccountActions => "take actions on identity accounts",
        }
    }
}

pub fn role_allows(role: DirectoryRole, access: Access) -> bool {
    use DirectoryRole::*;
    match access {
        Access::Read => true,
        Access::ManageHealth => matches!(
            role,
            GlobalAdministrator | SecurityAdministrator | SecurityOperator
        ),
        Access::ManageSensors
        | Access::AccessKey
        | Access::Migrate
        | Access::ConfigureAuditing
        | Access::AccountActions => matches!(role, GlobalAdministrator | SecurityAdministrator),
    }
}

/// What holding a delegated permission lets a user do, in the table's terms: a read
/// permission reads, a write permission does what its operations need.
pub fn permission_access(permission: Permission) -> Access {
    match permission {
        Permission::SensorsReadWrite => Access::ManageSensors,
        Permission::HealthReadWrite => Access::ManageHealth,
        Permission::MigrationReadWrite => Access::Migrate,
        Permission::AutoConfigReadWrite => Access::ConfigureAuditing,
        Permission::ActionsReadWrite => Access::AccountActions,
        Permission::SensorsRead
        | Permission::HealthRead
        | Permission::MigrationRead
        | Permission::AutoConfigRead
        | Permission::AccountRead
        | Permission::OrganizationRead
        | Permission::DomainRead
        | Permission::DirectoryRead => Access::Read,
    }
}

/// Whether any of a user's roles allows what `permission` is for (a sign-in gives a user's
/// token only the permissions its roles can use).
pub fn roles_allow_permission(roles: &[DirectoryRole], permission: Permission) -> bool {
    let access = permission_access(permission);
    roles.iter().any(|r| role_allows(*r, access))
}

/// The roles that would allow `access`, for the 403 message.
pub fn roles_allowing(access: Access) -> Vec<DirectoryRole> {
    DirectoryRole::ALL
        .into_iter()
        .filter(|r| role_allows(*r, access))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_may_hold_only_read_permissions() {
        use DirectoryRole::*;
        for p in Permission::ALL {
            let write = p.name().contains("ReadWrite");
            assert_eq!(
                roles_allow_permission(&[SecurityReader], p),
                !write,
                "{p:?}"
            );
            assert!(roles_allow_permission(
                &[GlobalReader, SecurityAdministrator],
                p
            ));
            assert!(!roles_allow_permission(&[], p));
        }
        assert!(roles_allow_permission(
            &[SecurityOperator],
            Permission::HealthReadWrite
        ));
        assert!(!roles_allow_permission(
            &[SecurityOperator],
            Permission::SensorsReadWrite
        ));
    }

    #[test]
    fn table() {
        use Access::*;
        use DirectoryRole::*;
        let expect = [
            (
                GlobalAdministrator,
                [true, true, true, true, true, true, true],
            ),
            (
                SecurityAdministrator,
                [true, true, true, true, true, true, true],
            ),
            (
                SecurityOperator,
                [true, true, false, false, false, false, false],
            ),
            (
                SecurityReader,
                [true, false, false, false, false, false, false],
            ),
            (
                GlobalReader,
                [true, false, false, false, false, false, false],
            ),
        ];
        let columns = [
            Read,
            ManageHealth,
            ManageSensors,
            AccessKey,
            Migrate,
            ConfigureAuditing,
            AccountActions,
        ];
        for (role, row) in expect {
            for (access, allowed) in columns.into_iter().zip(row) {
                assert_eq!(role_allows(role, access), allowed, "{role:?} {access:?}");
            }
        }
    }

    #[test]
    fn parses_names_and_ids() {
        assert_eq!(
            DirectoryRole::parse("security administrator"),
            Some(DirectoryRole::SecurityAdministrator)
        );
        assert_eq!(
            DirectoryRole::parse("SecurityReader"),
            Some(DirectoryRole::SecurityReader)
        );
        assert_eq!(
            DirectoryRole::parse("5F2222B1-57C3-48BA-8AD5-D4759F1FDE6F"),
            Some(DirectoryRole::SecurityOperator)
        );
        assert_eq!(DirectoryRole::parse("Helpdesk Administrator"), None);
    }
}
