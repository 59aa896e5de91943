//! Graph enums with their exact wire spellings (spec §0: SDKs match members case-sensitively,
//! so we emit canonical camelCase and parse input case-insensitively).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Declares an enum whose wire names are listed beside each variant. `unknownFutureValue` is a
/// member for filters and parsing (spec §5 D11) but rules refuse it as input.
macro_rules! graph_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every wire member, in documented order.
            pub const MEMBERS: &'static [&'static str] = &[$($wire),+];
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Case-insensitive, as Graph accepts enum input (spec §5 D9).
            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "'{text}' is not a valid {}; expected one of: {}",
                        stringify!($name),
                        Self::MEMBERS.join(", ")
                    ))
                })
            }
        }
    };
}

graph_enum!(DeploymentStatus {
    UpToDate = "upToDate",
    Outdated = "outdated",
    Updating = "updating",
    UpdateFailed = "updateFailed",
    NotConfigured = "notConfigured",
    Unreachable = "unreachable",
    Disconnected = "disconnected",
    StartFailure = "startFailure",
    Syncing = "syncing",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(SensorHealthStatus {
    Healthy = "healthy",
    NotHealthyLow = "notHealthyLow",
    NotHealthyMedium = "notHealthyMedium",
    NotHealthyHigh = "notHealthyHigh",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(SensorType {
    AdConnectIntegrated = "adConnectIntegrated",
    AdcsIntegrated = "adcsIntegrated",
    AdfsIntegrated = "adfsIntegrated",
    DomainControllerIntegrated = "domainControllerIntegrated",
    DomainControllerStandalone = "domainControllerStandalone",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(
    /// beta only (spec §5 D7).
    ServiceStatus {
        Stopped = "stopped",
        Starting = "starting",
        Running = "running",
        Disabled = "disabled",
        Onboarding = "onboarding",
        Unknown = "unknown",
        UnknownFutureValue = "unknownFutureValue",
    }
);

graph_enum!(HealthIssueSeverity {
    Low = "low",
    Medium = "medium",
    High = "high",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(HealthIssueStatus {
    Open = "open",
    Closed = "closed",
    Suppressed = "suppressed",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(HealthIssueType {
    Sensor = "sensor",
    Global = "global",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(ActivationMode {
    Manual = "manual",
    Automated = "automated",
    UnknownFutureValue = "unknownFutureValue",
});

impl SensorHealthStatus {
    /// Health of a sensor from the highest severity among its open issues (spec §4.2).
    pub fn from_highest(severity: Option<HealthIssueSeverity>) -> Self {
        match severity {
            None => Self::Healthy,
            Some(HealthIssueSeverity::Low) => Self::NotHealthyLow,
            Some(HealthIssueSeverity::Medium) => Self::NotHealthyMedium,
            Some(HealthIssueSeverity::High | HealthIssueSeverity::UnknownFutureValue) => {
                Self::NotHealthyHigh
            }
        }
    }
}

impl HealthIssueSeverity {
    pub fn rank(self) -> u8 {
        match self {
            Self::Low => 1,
            Self::Medium => 2,
            Self::High | Self::UnknownFutureValue => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_emits_camel_case() {
        assert_eq!(
            HealthIssueType::parse("Global"),
            Some(HealthIssueType::Global)
        );
        assert_eq!(
            DeploymentStatus::parse("UPTODATE").map(DeploymentStatus::as_str),
            Some("upToDate")
        );
        assert_eq!(SensorType::parse("dc"), None);
        assert_eq!(
            SensorHealthStatus::from_highest(Some(HealthIssueSeverity::Medium)),
            SensorHealthStatus::NotHealthyMedium
        );
        assert_eq!(
            SensorHealthStatus::from_highest(None),
            SensorHealthStatus::Healthy
        );
    }
}

graph_enum!(
    /// Where a sensor stands in the move from the classic (2.x) to the unified (3.x) sensor
    /// (beta, spec §7.1).
    MigrationState {
        ReadyForMigration = "readyForMigration",
        NotReadyForMigration = "notReadyForMigration",
        UpToDate = "upToDate",
        MigrationFailed = "migrationFailed",
        Migrating = "migrating",
        UnknownFutureValue = "unknownFutureValue",
    }
);

graph_enum!(
    /// A sensor role a candidate machine can take (beta `sensorTypes`, spec §7.1).
    DeviceType {
        DomainController = "domainController",
        Adfs = "adfs",
        Adcs = "adcs",
        EntraConnect = "entraConnect",
        UnknownFutureValue = "unknownFutureValue",
    }
);

graph_enum!(
    /// Where an identity account lives (spec §7.4).
    IdentityProvider {
        EntraId = "entraID",
        ActiveDirectory = "activeDirectory",
        Okta = "okta",
        UnknownFutureValue = "unknownFutureValue",
    }
);

graph_enum!(
    /// A response action on an identity account (spec §7.4).
    AccountAction {
        Disable = "disable",
        Enable = "enable",
        ForcePasswordReset = "forcePasswordReset",
        RevokeAllSessions = "revokeAllSessions",
        RequireUserToSignInAgain = "requireUserToSignInAgain",
        MarkUserAsCompromised = "markUserAsCompromised",
        UnknownFutureValue = "unknownFutureValue",
    }
);
