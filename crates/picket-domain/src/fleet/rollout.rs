//! The rollout of classic releases (spec §4.7): whether a sensor that checks in should install
//! the latest release now. Pure, in two steps so a store counts the sensors updating in a
//! domain (and serialises that count, on PostgreSQL) only when the answer depends on it:
//! [`offer`] from the sensor, its report, the catalogue and the time; then [`admit`] from
//! that count.

use super::agent::{AgentCommand, UpdateReport};
use super::releases::{compare_versions, delayed_ring_wait, ReleaseCatalogue};
use crate::entities::Sensor;
use crate::time::Timestamp;

/// The release this sensor should install if its domain has room: classic sensors only; not
/// while updating; not again after the same release failed; the delayed ring 72 h after
/// publication.
pub fn offer<'a>(
    sensor: &Sensor,
    update: &UpdateReport,
    releases: &'a ReleaseCatalogue,
    now: Timestamp,
) -> Option<&'a str> {
    let latest = releases.latest()?;
    let newer = compare_versions(latest, &sensor.version).is_gt();
    let failed_same = matches!(update, UpdateReport::Failed { target } if compare_versions(target, latest).is_eq());
    if sensor.major_version() >= 3
        || !newer
        || failed_same
        || matches!(update, UpdateReport::InProgress { .. })
    {
        return None;
    }
    if sensor.settings.is_delayed_deployment_enabled {
        let due = releases
            .published_at(latest)
            .is_none_or(|t| now >= t + delayed_ring_wait());
        if !due {
            return None;
        }
    }
    Some(latest)
}

/// The command for an [`offer`]ed release: at most `per_domain` sensors of one domain update
/// at once, counting those `updating_in_domain` now.
pub fn admit(offered: &str, updating_in_domain: i64, per_domain: u32) -> AgentCommand {
    if updating_in_domain >= i64::from(per_domain) {
        return AgentCommand::None;
    }
    AgentCommand::Update {
        version: offered.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::SensorSettings;
    use crate::enums::{DeploymentStatus, SensorHealthStatus, SensorType, ServiceStatus};
    use crate::ids::SensorId;
    use crate::time::parse_timestamp;
    use chrono::Duration;

    fn at(hours: i64) -> Timestamp {
        parse_timestamp("2026-05-01T12:00:00Z").expect("time") + Duration::hours(hours)
    }

    fn sensor(version: &str, delayed: bool) -> Sensor {
        Sensor {
            id: SensorId::new("s1"),
            created_date_time: at(-100),
            deployment_status: DeploymentStatus::UpToDate,
            display_name: "dc1".into(),
            domain_name: "contoso.com".into(),
            health_status: SensorHealthStatus::Healthy,
            open_health_issues_count: 0,
            sensor_type: SensorType::DomainControllerIntegrated,
            service_status: ServiceStatus::Running,
            settings: SensorSettings {
                is_delayed_deployment_enabled: delayed,
                ..SensorSettings::default()
            },
            version: version.into(),
        }
    }

    #[test]
    fn offers_the_latest_release_to_classic_sensors_behind_it() {
        let releases = ReleaseCatalogue::with_dates(vec![
            ("2.250.0.0".into(), at(-200)),
            ("2.251.0.0".into(), at(0)),
        ]);
        let idle = UpdateReport::Idle;
        let failed = |t: &str| UpdateReport::Failed { target: t.into() };
        let running = UpdateReport::InProgress {
            target: "2.251.0.0".into(),
        };
        let cases: Vec<(&str, Sensor, UpdateReport, i64, Option<&str>)> = vec![
            (
                "behind",
                sensor("2.250.0.0", false),
                idle.clone(),
                0,
                Some("2.251.0.0"),
            ),
            ("current", sensor("2.251.0.0", false), idle.clone(), 0, None),
            ("ahead", sensor("2.260.0.0", false), idle.clone(), 0, None),
            ("unified", sensor("3.1.0.0", false), idle.clone(), 0, None),
            ("updating", sensor("2.250.0.0", false), running, 0, None),
            (
                "the same release failed",
                sensor("2.250.0.0", false),
                failed("2.251.0.0"),
                0,
                None,
            ),
            (
                "an older release failed",
                sensor("2.249.0.0", false),
                failed("2.250.0.0"),
                0,
                Some("2.251.0.0"),
            ),
            (
                "delayed ring, 71 h",
                sensor("2.250.0.0", true),
                idle.clone(),
                71,
                None,
            ),
            (
                "delayed ring, 72 h",
                sensor("2.250.0.0", true),
                idle.clone(),
                72,
                Some("2.251.0.0"),
            ),
        ];
        for (name, s, update, hours, expected) in cases {
            assert_eq!(offer(&s, &update, &releases, at(hours)), expected, "{name}");
        }
        assert_eq!(
            offer(
                &sensor("2.1.0.0", false),
                &idle,
                &ReleaseCatalogue::default(),
                at(0)
            ),
            None,
            "no catalogue"
        );
        // A release without a publication time is due for the delayed ring at once.
        let unpublished = ReleaseCatalogue::new(vec!["2.251.0.0".into()]);
        assert_eq!(
            offer(&sensor("2.250.0.0", true), &idle, &unpublished, at(0)),
            Some("2.251.0.0")
        );
    }

    #[test]
    fn admits_a_bounded_number_per_domain() {
        let update = AgentCommand::Update {
            version: "2.251.0.0".into(),
        };
        let cases = [
            (0, 1, update.clone()),
            (1, 1, AgentCommand::None),
            (2, 3, update),
            (5, 3, AgentCommand::None),
        ];
        for (updating, per_domain, expected) in cases {
            assert_eq!(
                admit("2.251.0.0", updating, per_domain),
                expected,
                "{updating} of {per_domain}"
            );
        }
    }
}
