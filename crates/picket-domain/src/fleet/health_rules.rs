//! Health issues Picket raises and closes itself (spec §4.3, §4.4): which conditions hold for a
//! sensor now, and how the stored issues must change so they match — raise what is new, reopen
//! what recurs, close what cleared, leave suppressed issues suppressed (for seven days).

use super::releases::ReleaseCatalogue;
use super::status::{Observed, Thresholds, UpdateState};
use crate::enums::{HealthIssueSeverity, HealthIssueStatus, HealthIssueType};
use crate::time::Timestamp;
use chrono::Duration;

/// The catalogue entries Picket detects, with stable private `issueTypeId`s (spec §4.4: only
/// 1031 is published).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    StoppedCommunicating,
    FailedToStart,
    Outdated,
    UpdateFailed,
    NotConfigured,
}

impl Rule {
    pub const ALL: [Rule; 5] = [
        Rule::StoppedCommunicating,
        Rule::FailedToStart,
        Rule::Outdated,
        Rule::UpdateFailed,
        Rule::NotConfigured,
    ];

    pub fn issue_type_id(self) -> &'static str {
        match self {
            Rule::StoppedCommunicating => "2001",
            Rule::FailedToStart => "2002",
            Rule::Outdated => "2003",
            Rule::UpdateFailed => "2004",
            Rule::NotConfigured => "2005",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Rule::StoppedCommunicating => "Sensor stopped communicating",
            Rule::FailedToStart => "Sensor service failed to start",
            Rule::Outdated => "Sensor outdated",
            Rule::UpdateFailed => "Sensor update failed",
            Rule::NotConfigured => "Sensor is not configured",
        }
    }

    pub fn severity(self) -> HealthIssueSeverity {
        match self {
            Rule::FailedToStart => HealthIssueSeverity::High,
            _ => HealthIssueSeverity::Medium,
        }
    }

    pub fn recommendation(self) -> &'static str {
        match self {
            Rule::StoppedCommunicating => "Check that the sensor service is running and that the server can reach Picket; see https://aka.ms/mdi/stoppedcommunicating",
            Rule::FailedToStart => "Check the sensor service logs on the server and restart the service",
            Rule::Outdated => "Update the sensor to the latest release (getDeploymentPackageUri)",
            Rule::UpdateFailed => "Check the updater log on the server; the update is retried on the next release",
            Rule::NotConfigured => "Configure the domain controllers this sensor queries (settings/domainControllerDnsNames)",
        }
    }
}

/// Which rules hold for a sensor at `now`.
pub fn conditions(
    o: &Observed,
    releases: &ReleaseCatalogue,
    now: Timestamp,
    t: &Thresholds,
) -> Vec<Rule> {
    let mut found = Vec::new();
    if !o.dc_exists {
        return found;
    }
    if o.silent_for(now, t.stopped_communicating_after) {
        found.push(Rule::StoppedCommunicating);
        // Nothing else can be known about a silent sensor.
        return found;
    }
    if o.start_failed(now, t.start_failure_after) {
        found.push(Rule::FailedToStart);
    }
    if matches!(o.update, UpdateState::Failed { .. }) {
        found.push(Rule::UpdateFailed);
    }
    if !o.is_unified() && releases.releases_newer_than(&o.version) >= t.outdated_after_releases {
        found.push(Rule::Outdated);
    }
    if o.needs_dc_list() && !o.has_dc_list {
        found.push(Rule::NotConfigured);
    }
    found
}

/// How long a suppression holds while its condition persists (spec §4.3).
pub fn suppression_lasts() -> Duration {
    Duration::days(7)
}

/// A stored issue as the reconciler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIssue<K> {
    pub key: K,
    pub status: HealthIssueStatus,
    pub last_modified: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<K> {
    Raise(K),
    Reopen(K),
    Close(K),
}

/// What to do so the stored issues match the conditions present now. An issue recurs as the
/// same issue (reopened), never as a duplicate; a suppressed issue stays suppressed while its
/// condition lasts, up to seven days; a cleared condition closes its issue, suppressed or not.
pub fn reconcile<K: Clone + PartialEq>(
    stored: &[StoredIssue<K>],
    present: &[K],
    now: Timestamp,
) -> Vec<Change<K>> {
    let mut changes = Vec::new();
    for key in present {
        match stored.iter().find(|s| &s.key == key) {
            None => changes.push(Change::Raise(key.clone())),
            Some(s) => match s.status {
                HealthIssueStatus::Closed => changes.push(Change::Reopen(key.clone())),
                HealthIssueStatus::Suppressed if now - s.last_modified >= suppression_lasts() => {
                    changes.push(Change::Reopen(key.clone()))
                }
                _ => {}
            },
        }
    }
    for s in stored {
        let active = matches!(
            s.status,
            HealthIssueStatus::Open | HealthIssueStatus::Suppressed
        );
        if active && !present.contains(&s.key) {
            changes.push(Change::Close(s.key.clone()));
        }
    }
    changes
}

/// The `healthIssueType` Picket uses for its own sensor issues.
pub fn issue_type() -> HealthIssueType {
    HealthIssueType::Sensor
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::{SensorType, ServiceStatus};
    use crate::time::parse_timestamp;

    fn at(minutes: i64) -> Timestamp {
        parse_timestamp("2026-05-01T12:00:00Z").expect("time") + Duration::minutes(minutes)
    }

    fn sensor() -> Observed {
        Observed {
            sensor_type: SensorType::DomainControllerIntegrated,
            version: "2.250.0.0".into(),
            enrolled_at: at(-60),
            last_seen: Some(at(0)),
            last_config_pull: Some(at(0)),
            reported_service: Some(ServiceStatus::Running),
            desired_settings_version: 1,
            applied_settings_version: 1,
            update: UpdateState::Idle,
            dc_exists: true,
            has_dc_list: false,
        }
    }

    fn catalogue() -> ReleaseCatalogue {
        ReleaseCatalogue::new(
            ["2.248.0.0", "2.249.0.0", "2.250.0.0", "2.251.0.0"]
                .map(String::from)
                .to_vec(),
        )
    }

    #[test]
    fn conditions_table() {
        let t = Thresholds::default();
        type Case = (&'static str, fn(&mut Observed), i64, Vec<Rule>);
        let cases: Vec<Case> = vec![
            ("healthy", |_| {}, 0, vec![]),
            ("4 min silent", |_| {}, 4, vec![]),
            ("5 min silent", |_| {}, 5, vec![Rule::StoppedCommunicating]),
            (
                "silent hides the rest",
                |o| o.version = "2.1.0.0".into(),
                6,
                vec![Rule::StoppedCommunicating],
            ),
            (
                "no config pull",
                |o| o.last_config_pull = Some(at(-31)),
                0,
                vec![Rule::FailedToStart],
            ),
            (
                "update failed and outdated",
                |o| {
                    o.update = UpdateState::Failed {
                        target: "2.251.0.0".into(),
                        at: at(0),
                    };
                    o.version = "2.248.0.0".into();
                },
                0,
                vec![Rule::UpdateFailed, Rule::Outdated],
            ),
            (
                "AD CS without DCs",
                |o| o.sensor_type = SensorType::AdcsIntegrated,
                0,
                vec![Rule::NotConfigured],
            ),
            (
                "deleted DC raises nothing",
                |o| o.dc_exists = false,
                30,
                vec![],
            ),
        ];
        for (name, change, minutes, expected) in cases {
            let mut o = sensor();
            change(&mut o);
            assert_eq!(
                conditions(&o, &catalogue(), at(minutes), &t),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn reconcile_raises_reopens_closes_and_respects_suppression() {
        let issue = |key: &'static str, status, minutes| StoredIssue {
            key,
            status,
            last_modified: at(minutes),
        };
        use HealthIssueStatus::*;
        let stored = vec![
            issue("open-still", Open, 0),
            issue("open-cleared", Open, 0),
            issue("closed-recurs", Closed, 0),
            issue("closed-quiet", Closed, 0),
            issue("suppressed-still", Suppressed, -60),
            issue("suppressed-cleared", Suppressed, -60),
            issue("suppressed-long-ago", Suppressed, -(8 * 24 * 60)),
        ];
        let present = vec![
            "open-still",
            "closed-recurs",
            "suppressed-still",
            "suppressed-long-ago",
            "new",
        ];
        let changes = reconcile(&stored, &present, at(0));
        assert_eq!(
            changes,
            vec![
                Change::Reopen("closed-recurs"),
                Change::Reopen("suppressed-long-ago"),
                Change::Raise("new"),
                Change::Close("open-cleared"),
                Change::Close("suppressed-cleared"),
            ]
        );
        // Applying the changes and reconciling again changes nothing.
        assert!(reconcile(&[issue("a", Open, 0)], &["a"], at(5)).is_empty());
    }

    #[test]
    fn every_rule_has_catalogue_text() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.issue_type_id()).collect();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
        for r in Rule::ALL {
            assert!(!r.display_name().is_empty() && !r.recommendation().is_empty());
        }
        assert_eq!(Rule::FailedToStart.severity(), HealthIssueSeverity::High);
    }
}
