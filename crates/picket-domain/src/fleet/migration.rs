//! What the 2026 metadata adds to sensors and candidates, derived from what the fleet stores
//! (spec §7.1): a sensor's `migrationState` (beta), a candidate's `domainName` and
//! `sensorTypes`. Pure decisions, so both engines and every version answer alike.

use crate::enums::{DeviceType, MigrationState, SensorType};

/// The unified sensor a migrated classic sensor becomes.
pub const UNIFIED_SENSOR_VERSION: &str = "3.1.25311.1";

/// Whether `migrate` takes a sensor in this state: ready ones, and failed ones again.
pub fn can_migrate(state: MigrationState) -> bool {
    matches!(
        state,
        MigrationState::ReadyForMigration | MigrationState::MigrationFailed
    )
}

/// What a migrating sensor's check-in says of its move: a unified version reported means done,
/// a reported failure means failed, anything else still migrating.
pub fn after_check_in(reported_version: &str, reported_failure: bool) -> MigrationState {
    if reported_version.split('.').next() == Some("3") {
        MigrationState::UpToDate
    } else if reported_failure {
        MigrationState::MigrationFailed
    } else {
        MigrationState::Migrating
    }
}

/// A unified (3.x) sensor is `upToDate`; a classic domain-controller sensor can move to the
/// unified one (`readyForMigration`); the other classic roles (AD FS, AD CS, Entra Connect,
/// standalone) have no unified sensor to move to yet (`notReadyForMigration`).
pub fn migration_state(version: &str, sensor_type: SensorType) -> MigrationState {
    if version.split('.').next() == Some("3") {
        MigrationState::UpToDate
    } else if sensor_type == SensorType::DomainControllerIntegrated {
        MigrationState::ReadyForMigration
    } else {
        MigrationState::NotReadyForMigration
    }
}

/// The candidate's AD domain: its DNS name after the first label (empty for a bare name).
pub fn candidate_domain(computer_dns_name: &str) -> &str {
    computer_dns_name
        .split_once('.')
        .map(|(_, domain)| domain)
        .unwrap_or("")
}

/// The sensor roles a candidate can take. Candidates are machines onboarded to Defender for
/// Endpoint that run a directory role; a name naming AD FS, AD CS or Entra Connect says which,
/// every other candidate is a domain controller.
pub fn candidate_sensor_types(computer_dns_name: &str) -> Vec<DeviceType> {
    let host = computer_dns_name
        .split('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.contains("adfs") {
        vec![DeviceType::Adfs]
    } else if host.contains("adcs") || host.contains("-ca") {
        vec![DeviceType::Adcs]
    } else if host.contains("aadc") || host.contains("entra") || host.contains("connect") {
        vec![DeviceType::EntraConnect]
    } else {
        vec![DeviceType::DomainController]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_states() {
        use MigrationState::*;
        use SensorType::*;
        let cases = [
            ("3.1.25311.1", DomainControllerIntegrated, UpToDate),
            ("3.0.0.1", AdfsIntegrated, UpToDate),
            (
                "2.239.18124.58593",
                DomainControllerIntegrated,
                ReadyForMigration,
            ),
            (
                "2.239.18124.58593",
                DomainControllerStandalone,
                NotReadyForMigration,
            ),
            ("2.239.18124.58593", AdcsIntegrated, NotReadyForMigration),
            (
                "2.239.18124.58593",
                AdConnectIntegrated,
                NotReadyForMigration,
            ),
            ("30.1", DomainControllerIntegrated, ReadyForMigration),
        ];
        for (version, ty, want) in cases {
            assert_eq!(migration_state(version, ty), want, "{version} {ty}");
        }
    }

    #[test]
    fn moves() {
        use MigrationState::*;
        assert!(can_migrate(ReadyForMigration) && can_migrate(MigrationFailed));
        assert!(
            !can_migrate(Migrating) && !can_migrate(UpToDate) && !can_migrate(NotReadyForMigration)
        );
        assert_eq!(after_check_in("3.1.25311.1", false), UpToDate);
        assert_eq!(
            after_check_in("3.1.25311.1", true),
            UpToDate,
            "the version is the fact"
        );
        assert_eq!(after_check_in("2.239.1.1", true), MigrationFailed);
        assert_eq!(after_check_in("2.239.1.1", false), Migrating);
    }

    #[test]
    fn candidate_domains_and_roles() {
        assert_eq!(candidate_domain("dc9.contoso.com"), "contoso.com");
        assert_eq!(candidate_domain("DC9"), "");
        assert_eq!(
            candidate_sensor_types("dc9.contoso.com"),
            [DeviceType::DomainController]
        );
        assert_eq!(
            candidate_sensor_types("ADFS01.contoso.com"),
            [DeviceType::Adfs]
        );
        assert_eq!(
            candidate_sensor_types("contoso-ca.contoso.com"),
            [DeviceType::Adcs]
        );
        assert_eq!(
            candidate_sensor_types("aadc1.contoso.com"),
            [DeviceType::EntraConnect]
        );
    }
}
