//! The sensor status engine (spec §4.2): from what Picket has observed of a sensor and the
//! current time, its `deploymentStatus` and `serviceStatus`. Pure: the same observation at the
//! same time always gives the same answer, so a status that changes only because time passed
//! is recomputed, never remembered.

use super::releases::ReleaseCatalogue;
use crate::enums::{DeploymentStatus, SensorType, ServiceStatus};
use crate::time::Timestamp;
use chrono::Duration;

/// When silence and missing configuration pulls become statuses and health issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    /// No check-in for this long: the "sensor stopped communicating" issue (default 5 min).
    pub stopped_communicating_after: Duration,
    /// No check-in for this long: `disconnected` (default 10 min).
    pub disconnected_after: Duration,
    /// No configuration pull for longer than this: `startFailure` (default 30 min).
    pub start_failure_after: Duration,
    /// This many newer classic releases make a sensor `outdated` (default 3).
    pub outdated_after_releases: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            stopped_communicating_after: Duration::minutes(5),
            disconnected_after: Duration::minutes(10),
            start_failure_after: Duration::minutes(30),
            outdated_after_releases: 3,
        }
    }
}

impl Thresholds {
    /// Sensors heard from and pulling configuration since this time have had nothing changed
    /// by time alone at `now`: every status and issue that silence brings needs at least the
    /// shortest threshold. A sweep between full ones evaluates only the others.
    pub fn silent_since(&self, now: Timestamp) -> Timestamp {
        now - self
            .stopped_communicating_after
            .min(self.disconnected_after)
            .min(self.start_failure_after)
    }
}

/// The state of a sensor's software update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateState {
    Idle,
    InProgress { target: String, since: Timestamp },
    Failed { target: String, at: Timestamp },
}

/// Everything the engine needs to know about one sensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub sensor_type: SensorType,
    pub version: String,
    /// When the sensor enrolled or was activated; silence is measured from here until the
    /// first check-in.
    pub enrolled_at: Timestamp,
    pub last_seen: Option<Timestamp>,
    pub last_config_pull: Option<Timestamp>,
    /// What the sensor last said of its service; `None` before its first report.
    pub reported_service: Option<ServiceStatus>,
    /// Settings version the sensor should run, and the one it acknowledged.
    pub desired_settings_version: u64,
    pub applied_settings_version: u64,
    pub update: UpdateState,
    /// False once the domain controller object is gone from the directory.
    pub dc_exists: bool,
    /// Domain controllers configured for sensors that need them (AD FS, AD CS, Entra Connect,
    /// standalone).
    pub has_dc_list: bool,
}

impl Observed {
    /// Unified (v3.x) sensors are updated by Windows Update, not by Picket's catalogue.
    pub fn is_unified(&self) -> bool {
        super::releases::major(&self.version) >= 3
    }

    /// Role servers and standalone sensors need a domain-controller list to work.
    pub fn needs_dc_list(&self) -> bool {
        !self.is_unified()
            && matches!(
                self.sensor_type,
                SensorType::AdfsIntegrated
                    | SensorType::AdcsIntegrated
                    | SensorType::AdConnectIntegrated
                    | SensorType::DomainControllerStandalone
            )
    }

    /// Time since the sensor was last heard from (or since it enrolled, if never).
    pub fn silence(&self, now: Timestamp) -> Duration {
        now - self.last_seen.unwrap_or(self.enrolled_at)
    }

    pub fn silent_for(&self, now: Timestamp, limit: Duration) -> bool {
        self.silence(now) >= limit
    }

    /// Longer than the limit without a configuration pull (counted from enrolment until the first).
    pub fn start_failed(&self, now: Timestamp, limit: Duration) -> bool {
        now - self.last_config_pull.unwrap_or(self.enrolled_at) > limit
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derived {
    pub deployment_status: DeploymentStatus,
    pub service_status: ServiceStatus,
}

/// The first rule that matches wins (spec §4.2 order).
pub fn derive(
    o: &Observed,
    releases: &ReleaseCatalogue,
    now: Timestamp,
    t: &Thresholds,
) -> Derived {
    use DeploymentStatus::*;
    let deployment_status = if !o.dc_exists {
        Unreachable
    } else if o.silent_for(now, t.disconnected_after) {
        Disconnected
    } else if o.start_failed(now, t.start_failure_after) {
        StartFailure
    } else if matches!(o.update, UpdateState::InProgress { .. }) {
        Updating
    } else if matches!(o.update, UpdateState::Failed { .. }) {
        UpdateFailed
    } else if o.needs_dc_list() && !o.has_dc_list {
        NotConfigured
    } else if o.applied_settings_version < o.desired_settings_version {
        Syncing
    } else if !o.is_unified()
        && releases.releases_newer_than(&o.version) >= t.outdated_after_releases
    {
        Outdated
    } else {
        UpToDate
    };
    let service_status = match deployment_status {
        Disconnected | Unreachable => ServiceStatus::Unknown,
        // A unified sensor is onboarding from activation until its first report.
        _ => o.reported_service.unwrap_or(if o.is_unified() {
            ServiceStatus::Onboarding
        } else {
            ServiceStatus::Starting
        }),
    };
    Derived {
        deployment_status,
        service_status,
    }
}

/// A sensor at the instant it enrols or is activated: never heard from, its first settings
/// not yet pulled ([`super::agent::FIRST_SETTINGS_VERSION`]), no update, its DC in the
/// directory.
pub fn enrolled(
    sensor_type: SensorType,
    version: &str,
    has_dc_list: bool,
    now: Timestamp,
) -> Observed {
    Observed {
        sensor_type,
        version: version.to_string(),
        enrolled_at: now,
        last_seen: None,
        last_config_pull: None,
        reported_service: None,
        desired_settings_version: super::agent::FIRST_SETTINGS_VERSION,
        applied_settings_version: 0,
        update: UpdateState::Idle,
        dc_exists: true,
        has_dc_list,
    }
}

/// What [`derive`] gives for a sensor the instant it enrols or is activated ([`enrolled`]):
/// `syncing` (its first settings are not yet pulled; `notConfigured` for a role server
/// without its DC list), `starting` (`onboarding` when unified) until its first report.
/// No time has passed, so no threshold is crossed, and `syncing` outranks `outdated`: the
/// clock, the (positive) thresholds and the release catalogue change nothing, which lets a
/// store decide it without them (activation happens outside any check-in or sweep).
pub fn at_enrolment(sensor_type: SensorType, version: &str, has_dc_list: bool) -> Derived {
    let now = Timestamp::default();
    derive(
        &enrolled(sensor_type, version, has_dc_list, now),
        &ReleaseCatalogue::default(),
        now,
        &Thresholds::default(),
    )
}

/// The `deploymentStatus` [`derive`] gives once a sensor's settings changed, from the one it
/// gave before (`before`) and the sensor with its new settings: the rules above
/// `notConfigured` do not look at settings, so their statuses stay; below them the new
/// settings are not yet acknowledged, so `syncing`, unless the sensor now lacks a DC list it
/// needs. (The acknowledged version never exceeds the desired one, so one more desired
/// version is always pending.)
pub fn after_settings_change(
    before: DeploymentStatus,
    sensor_type: SensorType,
    version: &str,
    has_dc_list: bool,
) -> DeploymentStatus {
    use DeploymentStatus::*;
    match before {
        Unreachable | Disconnected | StartFailure | Updating | UpdateFailed => before,
        _ => {
            let o = enrolled(sensor_type, version, has_dc_list, Timestamp::default());
            if o.needs_dc_list() && !o.has_dc_list {
                NotConfigured
            } else {
                Syncing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    fn at(minutes: i64) -> Timestamp {
        parse_timestamp("2026-05-01T12:00:00Z").expect("time") + Duration::minutes(minutes)
    }

    fn healthy() -> Observed {
        Observed {
            sensor_type: SensorType::DomainControllerIntegrated,
            version: "2.250.0.0".into(),
            enrolled_at: at(-60),
            last_seen: Some(at(0)),
            last_config_pull: Some(at(0)),
            reported_service: Some(ServiceStatus::Running),
            desired_settings_version: 2,
            applied_settings_version: 2,
            update: UpdateState::Idle,
            dc_exists: true,
            has_dc_list: false,
        }
    }

    fn catalogue() -> ReleaseCatalogue {
        ReleaseCatalogue::new(
            [
                "2.247.0.0",
                "2.248.0.0",
                "2.249.0.0",
                "2.250.0.0",
                "2.251.0.0",
            ]
            .iter()
            .map(|v| v.to_string())
            .collect(),
        )
    }

    #[test]
    fn every_status_and_its_precedence() {
        use DeploymentStatus::*;
        let t = Thresholds::default();
        type Case = (
            &'static str,
            fn(&mut Observed),
            i64,
            DeploymentStatus,
            ServiceStatus,
        );
        let cases: Vec<Case> = vec![
            ("healthy", |_| {}, 0, UpToDate, ServiceStatus::Running),
            ("4 min silent", |_| {}, 4, UpToDate, ServiceStatus::Running),
            (
                "9m59 silent is still connected",
                |o| o.last_seen = Some(at(0) + Duration::seconds(1)),
                10,
                UpToDate,
                ServiceStatus::Running,
            ),
            (
                "10 min silent",
                |o| o.last_config_pull = Some(at(10)),
                10,
                Disconnected,
                ServiceStatus::Unknown,
            ),
            (
                "never seen, enrolled 11 min ago",
                |o| {
                    o.last_seen = None;
                    o.enrolled_at = at(-11);
                    o.last_config_pull = None;
                },
                0,
                Disconnected,
                ServiceStatus::Unknown,
            ),
            (
                "DC deleted wins over all",
                |o| {
                    o.dc_exists = false;
                    o.last_seen = Some(at(-100));
                },
                0,
                Unreachable,
                ServiceStatus::Unknown,
            ),
            (
                "31 min without config pull",
                |o| o.last_config_pull = Some(at(-31)),
                0,
                StartFailure,
                ServiceStatus::Running,
            ),
            (
                "30 min exactly is not yet a failure",
                |o| o.last_config_pull = Some(at(-30)),
                0,
                UpToDate,
                ServiceStatus::Running,
            ),
            (
                "disconnected beats start failure",
                |o| {
                    o.last_seen = Some(at(-20));
                    o.last_config_pull = Some(at(-40));
                },
                0,
                Disconnected,
                ServiceStatus::Unknown,
            ),
            (
                "update running",
                |o| {
                    o.update = UpdateState::InProgress {
                        target: "2.251.0.0".into(),
                        since: at(-1),
                    }
                },
                0,
                Updating,
                ServiceStatus::Running,
            ),
            (
                "update failed",
                |o| {
                    o.update = UpdateState::Failed {
                        target: "2.251.0.0".into(),
                        at: at(-1),
                    }
                },
                0,
                UpdateFailed,
                ServiceStatus::Running,
            ),
            (
                "AD FS without DCs",
                |o| o.sensor_type = SensorType::AdfsIntegrated,
                0,
                NotConfigured,
                ServiceStatus::Running,
            ),
            (
                "AD FS with DCs",
                |o| {
                    o.sensor_type = SensorType::AdfsIntegrated;
                    o.has_dc_list = true;
                },
                0,
                UpToDate,
                ServiceStatus::Running,
            ),
            (
                "standalone without DCs",
                |o| o.sensor_type = SensorType::DomainControllerStandalone,
                0,
                NotConfigured,
                ServiceStatus::Running,
            ),
            (
                "settings not acknowledged",
                |o| o.desired_settings_version = 3,
                0,
                Syncing,
                ServiceStatus::Running,
            ),
            (
                "update failure beats syncing",
                |o| {
                    o.desired_settings_version = 3;
                    o.update = UpdateState::Failed {
                        target: "x".into(),
                        at: at(0),
                    };
                },
                0,
                UpdateFailed,
                ServiceStatus::Running,
            ),
            (
                "2 releases behind",
                |o| o.version = "2.249.0.0".into(),
                0,
                UpToDate,
                ServiceStatus::Running,
            ),
            (
                "3 releases behind",
                |o| o.version = "2.248.0.0".into(),
                0,
                Outdated,
                ServiceStatus::Running,
            ),
            (
                "syncing beats outdated",
                |o| {
                    o.version = "2.100.0.0".into();
                    o.desired_settings_version = 9;
                },
                0,
                Syncing,
                ServiceStatus::Running,
            ),
            (
                "unified is never outdated by the classic catalogue",
                |o| o.version = "3.0.1.0".into(),
                0,
                UpToDate,
                ServiceStatus::Running,
            ),
            (
                "unified before first report is onboarding",
                |o| {
                    o.version = "3.1.0.0".into();
                    o.reported_service = None;
                },
                0,
                UpToDate,
                ServiceStatus::Onboarding,
            ),
            (
                "classic before first report is starting",
                |o| o.reported_service = None,
                0,
                UpToDate,
                ServiceStatus::Starting,
            ),
            (
                "unified AD FS needs no DC list",
                |o| {
                    o.version = "3.1.0.0".into();
                    o.sensor_type = SensorType::AdfsIntegrated;
                },
                0,
                UpToDate,
                ServiceStatus::Running,
            ),
            (
                "stopped service is reported as is",
                |o| o.reported_service = Some(ServiceStatus::Stopped),
                0,
                UpToDate,
                ServiceStatus::Stopped,
            ),
        ];
        for (name, change, minutes, deployment, service) in cases {
            let mut o = healthy();
            change(&mut o);
            let d = derive(&o, &catalogue(), at(minutes), &t);
            assert_eq!(
                (d.deployment_status, d.service_status),
                (deployment, service),
                "{name}"
            );
        }
    }

    #[test]
    fn thresholds_are_configurable() {
        let t = Thresholds {
            disconnected_after: Duration::minutes(2),
            outdated_after_releases: 1,
            ..Thresholds::default()
        };
        let o = healthy();
        assert_eq!(
            derive(&o, &catalogue(), at(2), &t).deployment_status,
            DeploymentStatus::Disconnected
        );
        let mut o = healthy();
        o.version = "2.250.0.0".into();
        assert_eq!(
            derive(&o, &catalogue(), at(0), &t).deployment_status,
            DeploymentStatus::Outdated
        );
    }

    #[test]
    fn enrolment_status_is_what_the_engine_derives_at_that_instant() {
        let catalogues = [
            ReleaseCatalogue::default(),
            catalogue(),
            ReleaseCatalogue::new(vec!["2.900.0.0".into(), "2.901.0.0".into()]),
        ];
        let thresholds = [
            Thresholds::default(),
            Thresholds {
                stopped_communicating_after: Duration::seconds(1),
                disconnected_after: Duration::seconds(1),
                start_failure_after: Duration::seconds(1),
                outdated_after_releases: 0,
            },
        ];
        for sensor_type in [
            SensorType::DomainControllerIntegrated,
            SensorType::AdfsIntegrated,
            SensorType::AdcsIntegrated,
            SensorType::AdConnectIntegrated,
            SensorType::DomainControllerStandalone,
        ] {
            for version in ["2.100.0.0", "2.251.0.0", "3.1.25311.1"] {
                for has_dc_list in [false, true] {
                    let decided = at_enrolment(sensor_type, version, has_dc_list);
                    for releases in &catalogues {
                        for t in &thresholds {
                            let o = enrolled(sensor_type, version, has_dc_list, at(7));
                            assert_eq!(
                                derive(&o, releases, at(7), t),
                                decided,
                                "{sensor_type:?} {version} {has_dc_list}"
                            );
                        }
                    }
                }
            }
        }
        // A unified sensor is activated `syncing` and `onboarding` until its first report.
        assert_eq!(
            at_enrolment(SensorType::DomainControllerIntegrated, "3.1.25311.1", false),
            Derived {
                deployment_status: DeploymentStatus::Syncing,
                service_status: ServiceStatus::Onboarding,
            }
        );
    }

    #[test]
    fn a_settings_change_gives_what_the_engine_derives_from_the_new_settings() {
        type Case = (&'static str, fn(&mut Observed), bool);
        let cases: Vec<Case> = vec![
            ("healthy", |_| {}, false),
            ("outdated", |o| o.version = "2.248.0.0".into(), false),
            ("already syncing", |o| o.desired_settings_version = 3, false),
            (
                "AD FS gets its DC list",
                |o| o.sensor_type = SensorType::AdfsIntegrated,
                true,
            ),
            (
                "AD FS loses its DC list",
                |o| {
                    o.sensor_type = SensorType::AdfsIntegrated;
                    o.has_dc_list = true;
                },
                false,
            ),
            (
                "AD FS keeps lacking it",
                |o| o.sensor_type = SensorType::AdfsIntegrated,
                false,
            ),
            (
                "unified AD FS",
                |o| {
                    o.sensor_type = SensorType::AdfsIntegrated;
                    o.version = "3.1.0.0".into();
                },
                false,
            ),
            ("disconnected", |o| o.last_seen = Some(at(-20)), true),
            ("unreachable", |o| o.dc_exists = false, true),
            (
                "start failure",
                |o| o.last_config_pull = Some(at(-40)),
                true,
            ),
            (
                "updating",
                |o| {
                    o.update = UpdateState::InProgress {
                        target: "2.251.0.0".into(),
                        since: at(-1),
                    }
                },
                true,
            ),
            (
                "update failed",
                |o| {
                    o.update = UpdateState::Failed {
                        target: "2.251.0.0".into(),
                        at: at(-1),
                    }
                },
                false,
            ),
        ];
        let t = Thresholds::default();
        for (name, change, new_has_dc_list) in cases {
            let mut before = healthy();
            change(&mut before);
            let stored = derive(&before, &catalogue(), at(0), &t).deployment_status;
            let mut after = before.clone();
            after.desired_settings_version += 1;
            after.has_dc_list = new_has_dc_list;
            assert_eq!(
                after_settings_change(stored, after.sensor_type, &after.version, new_has_dc_list),
                derive(&after, &catalogue(), at(0), &t).deployment_status,
                "{name}"
            );
        }
    }

    #[test]
    fn silence_matters_from_the_shortest_threshold() {
        let t = Thresholds::default();
        assert_eq!(t.silent_since(at(0)), at(-5));
        let t = Thresholds {
            start_failure_after: Duration::minutes(2),
            ..Thresholds::default()
        };
        assert_eq!(t.silent_since(at(0)), at(-2));
        // Just after the cut-off, nothing time brings has happened yet.
        let mut o = healthy();
        o.last_seen = Some(at(-2) + Duration::seconds(1));
        o.last_config_pull = o.last_seen;
        assert_eq!(
            derive(&o, &catalogue(), at(0), &t).deployment_status,
            DeploymentStatus::UpToDate
        );
    }
}
