//! The Graph permissions that guard the sensor API (spec §2.0), by their claim names.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    SensorsRead,
    SensorsReadWrite,
    HealthRead,
    HealthReadWrite,
    // The identityContainer's 2026 additions (spec §7).
    MigrationRead,
    MigrationReadWrite,
    AutoConfigRead,
    AutoConfigReadWrite,
    AccountRead,
    ActionsReadWrite,
    // The directory reads tools make before they reach the sensors (organization, domains).
    OrganizationRead,
    DomainRead,
    DirectoryRead,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::SensorsRead,
        Permission::SensorsReadWrite,
        Permission::HealthRead,
        Permission::HealthReadWrite,
        Permission::MigrationRead,
        Permission::MigrationReadWrite,
        Permission::AutoConfigRead,
        Permission::AutoConfigReadWrite,
        Permission::AccountRead,
        Permission::ActionsReadWrite,
        Permission::OrganizationRead,
        Permission::DomainRead,
        Permission::DirectoryRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Permission::SensorsRead => "SecurityIdentitiesSensors.Read.All",
            Permission::SensorsReadWrite => "SecurityIdentitiesSensors.ReadWrite.All",
            Permission::HealthRead => "SecurityIdentitiesHealth.Read.All",
            Permission::HealthReadWrite => "SecurityIdentitiesHealth.ReadWrite.All",
            Permission::MigrationRead => "SecurityIdentitiesMigration.Read.All",
            Permission::MigrationReadWrite => "SecurityIdentitiesMigration.ReadWrite.All",
            Permission::AutoConfigRead => "SecurityIdentitiesAutoConfig.Read.All",
            Permission::AutoConfigReadWrite => "SecurityIdentitiesAutoConfig.ReadWrite.All",
            Permission::AccountRead => "SecurityIdentitiesAccount.Read.All",
            Permission::ActionsReadWrite => "SecurityIdentitiesActions.ReadWrite.All",
            Permission::OrganizationRead => "Organization.Read.All",
            Permission::DomainRead => "Domain.Read.All",
            Permission::DirectoryRead => "Directory.Read.All",
        }
    }

    /// Claim values are matched exactly, as Entra issues them.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A small set of permissions (thirteen members, so a bitmask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PermissionSet(u16);

impl PermissionSet {
    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }
    pub fn contains_any(self, ps: &[Permission]) -> bool {
        ps.iter().any(|p| self.contains(*p))
    }
}
