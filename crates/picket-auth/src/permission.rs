//! The Graph permissions that guard the sensor API (spec §2.0), by their claim names.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    SensorsRead,
    SensorsReadWrite,
    HealthRead,
    HealthReadWrite,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::SensorsRead,
        Permission::SensorsReadWrite,
        Permission::HealthRead,
        Permission::HealthReadWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Permission::SensorsRead => "SecurityIdentitiesSensors.Read.All",
            Permission::SensorsReadWrite => "SecurityIdentitiesSensors.ReadWrite.All",
            Permission::HealthRead => "SecurityIdentitiesHealth.Read.All",
            Permission::HealthReadWrite => "SecurityIdentitiesHealth.ReadWrite.All",
        }
    }

    /// Claim values are matched exactly, as Entra issues them.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A small set of permissions (four members, so a bitmask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PermissionSet(u8);

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
