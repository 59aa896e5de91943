//! The health issues one evaluation of a sensor raises, reopens, closes or re-grades, how
//! they are worded, and the tenant-wide ("sensor + global", spec §4.4) issues that follow
//! from the sensor issues. Pure: the store loads the stored issues, applies what comes out,
//! and records which issue stands for which key.

use super::agent::HostIssue;
use super::health_rules::{self, Change, Rule, StoredIssue};
use super::releases::ReleaseCatalogue;
use super::status::{Observed, Thresholds};
use crate::entities::{HealthIssue, Sensor};
use crate::enums::{DeploymentStatus, HealthIssueSeverity, HealthIssueStatus, HealthIssueType};
use crate::ids::HealthIssueId;
use crate::time::Timestamp;

/// What Picket raises: its own rules, and what the sensor reported about its host.
#[derive(Debug, Clone, PartialEq)]
pub enum Raised {
    Rule(Rule),
    Host(HostIssue),
}

impl Raised {
    /// The key under which a sensor's issue of this kind is recorded (one per kind).
    pub fn key(&self) -> String {
        match self {
            Raised::Rule(r) => rule_key(*r),
            Raised::Host(h) => format!("host:{}", h.issue_type_id),
        }
    }
}

pub fn rule_key(rule: Rule) -> String {
    format!("rule:{}", rule.issue_type_id())
}

/// How one stored sensor issue (recorded under its key) must change, or a new one be raised.
#[derive(Debug, Clone, PartialEq)]
pub enum IssueChange {
    Raise(Raised),
    Reopen(String),
    Close(String),
}

/// What the sensor's stored issues (`(key, issue)`) must become at `now`: Picket's rules that
/// hold, and the host issues the sensor reported unless it is silent or its DC is gone. Nothing
/// can be learned about a silent sensor, so its other issues stay as they are.
pub fn sensor_issue_changes(
    o: &Observed,
    host_issues: &[HostIssue],
    stored: &[(String, HealthIssue)],
    releases: &ReleaseCatalogue,
    now: Timestamp,
    t: &Thresholds,
) -> Vec<IssueChange> {
    let silent = o.silent_for(now, t.stopped_communicating_after);
    let mut present: Vec<Raised> = health_rules::conditions(o, releases, now, t)
        .into_iter()
        .map(Raised::Rule)
        .collect();
    if !silent && o.dc_exists {
        present.extend(host_issues.iter().cloned().map(Raised::Host));
    }
    let mut keys: Vec<String> = present.iter().map(Raised::key).collect();
    if silent {
        for (key, issue) in stored {
            if issue.status != HealthIssueStatus::Closed && !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    let views: Vec<StoredIssue<String>> = stored
        .iter()
        .map(|(key, issue)| StoredIssue {
            key: key.clone(),
            status: issue.status,
            last_modified: issue.last_modified_date_time,
        })
        .collect();
    health_rules::reconcile(&views, &keys, now)
        .into_iter()
        .filter_map(|change| match change {
            Change::Raise(key) => present
                .iter()
                .find(|p| p.key() == key)
                .cloned()
                .map(IssueChange::Raise),
            Change::Reopen(key) => Some(IssueChange::Reopen(key)),
            Change::Close(key) => Some(IssueChange::Close(key)),
        })
        .collect()
}

/// The sensor issue Picket raises for `raised` on `sensor`.
pub fn sensor_issue(
    raised: &Raised,
    sensor: &Sensor,
    id: HealthIssueId,
    now: Timestamp,
) -> HealthIssue {
    let fqdn = sensor.fqdn();
    let (type_id, name, severity, recommendation) = match raised {
        Raised::Rule(r) => (
            r.issue_type_id().to_string(),
            r.display_name().to_string(),
            r.severity(),
            r.recommendation().to_string(),
        ),
        Raised::Host(h) => (
            h.issue_type_id.clone(),
            h.display_name.clone(),
            h.severity,
            "Follow the guidance for this health issue on the sensor's server".to_string(),
        ),
    };
    HealthIssue {
        id,
        additional_information: vec![],
        created_date_time: now,
        description: format!("{name} on {fqdn}"),
        display_name: name,
        domain_names: vec![sensor.domain_name.clone()],
        health_issue_type: health_rules::issue_type(),
        issue_type_id: type_id,
        last_modified_date_time: now,
        recommendations: vec![recommendation],
        recommended_action_commands: vec![],
        sensor_dns_names: vec![fqdn],
        severity,
        status: HealthIssueStatus::Open,
    }
}

/// A sensor silent long enough to be disconnected makes its "stopped communicating" issue
/// high (the fleet's most urgent kind); it returns to medium if the sensor is heard again
/// before the issue closes. Of the sensor's stored issues (`(key, issue)`, as they are after
/// this evaluation's changes), the one to re-grade and its new severity.
pub fn severity_change(
    stored: &[(String, HealthIssue)],
    status: DeploymentStatus,
) -> Option<(&HealthIssue, HealthIssueSeverity)> {
    let key = rule_key(Rule::StoppedCommunicating);
    let (_, issue) = stored.iter().find(|(k, _)| *k == key)?;
    let wanted = if status == DeploymentStatus::Disconnected {
        HealthIssueSeverity::High
    } else {
        HealthIssueSeverity::Medium
    };
    (issue.severity != wanted).then_some((issue, wanted))
}

/// A sensor issue that also stands as one global issue per tenant (spec §4.4 "sensor +
/// global"): it lists every sensor and domain that has the sensor issue open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalRule {
    /// The sensor issues' key.
    pub key: &'static str,
    pub display_name: &'static str,
    pub recommendation: &'static str,
}

pub const GLOBAL_RULES: [GlobalRule; 1] = [GlobalRule {
    key: "rule:2003",
    display_name: "Sensors outdated",
    recommendation: "Update these sensors to the latest release (getDeploymentPackageUri)",
}];

/// The owner under which a store records a tenant's global issues (where a sensor's issues
/// are recorded under the sensor's id).
pub const GLOBAL_OWNER: &str = "*";

impl GlobalRule {
    pub fn issue_type_id(&self) -> &'static str {
        self.key.trim_start_matches("rule:")
    }

    fn description(&self, members: &Members) -> String {
        format!(
            "{}: {} sensor(s) in {} domain(s)",
            self.display_name,
            members.fqdns.len(),
            members.domains.len()
        )
    }
}

/// The sensors (FQDNs, as listed) and their domains (lower-cased, sorted, once each) that have
/// a global rule's sensor issue open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    pub fqdns: Vec<String>,
    pub domains: Vec<String>,
}

impl Members {
    /// From `(sensor FQDN, sensor domain)` rows, in any order: the members are listed by FQDN
    /// (byte order, the same on every engine), the domains lower-cased, once each.
    pub fn of(rows: &[(String, String)]) -> Self {
        let mut fqdns: Vec<String> = rows.iter().map(|(f, _)| f.clone()).collect();
        fqdns.sort();
        let mut domains: Vec<String> = rows.iter().map(|(_, d)| d.to_ascii_lowercase()).collect();
        domains.sort();
        domains.dedup();
        Self { fqdns, domains }
    }
}

/// What to do with one global issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalChange {
    /// A new issue to store (and record under the rule's key).
    pub raise: Option<HealthIssue>,
    /// The stored issue's new members and description (its sensor links follow the members).
    pub rewrite: Option<(HealthIssueId, String)>,
    /// The stored issue closes or reopens.
    pub status: Option<(HealthIssueId, HealthIssueStatus)>,
    /// Sensors whose health to refresh (lower-cased, sorted, once each).
    pub touched: Vec<String>,
}

/// How the tenant's global issue for `rule` must change, given the stored one and the
/// sensors that have the sensor issue open; `None` when there is neither.
pub fn global_change(
    rule: &GlobalRule,
    existing: Option<&HealthIssue>,
    members: &Members,
    new_id: impl FnOnce() -> HealthIssueId,
    now: Timestamp,
) -> Option<GlobalChange> {
    let mut change = GlobalChange {
        raise: None,
        rewrite: None,
        status: None,
        touched: members.fqdns.clone(),
    };
    match (existing, members.fqdns.is_empty()) {
        (None, true) => return None,
        (None, false) => {
            change.raise = Some(HealthIssue {
                id: new_id(),
                additional_information: vec![],
                created_date_time: now,
                description: rule.description(members),
                display_name: rule.display_name.to_string(),
                domain_names: members.domains.clone(),
                health_issue_type: HealthIssueType::Global,
                issue_type_id: rule.issue_type_id().to_string(),
                last_modified_date_time: now,
                recommendations: vec![rule.recommendation.to_string()],
                recommended_action_commands: vec![],
                sensor_dns_names: members.fqdns.clone(),
                severity: HealthIssueSeverity::Medium,
                status: HealthIssueStatus::Open,
            });
        }
        (Some(issue), true) => {
            if issue.status != HealthIssueStatus::Closed {
                change.status = Some((issue.id.clone(), HealthIssueStatus::Closed));
            }
        }
        (Some(issue), false) => {
            change.touched.extend(
                issue
                    .sensor_dns_names
                    .iter()
                    .map(|n| n.to_ascii_lowercase()),
            );
            if issue.sensor_dns_names != members.fqdns || issue.domain_names != members.domains {
                change.rewrite = Some((issue.id.clone(), rule.description(members)));
            }
            if issue.status == HealthIssueStatus::Closed {
                change.status = Some((issue.id.clone(), HealthIssueStatus::Open));
            }
        }
    }
    change.touched.sort();
    change.touched.dedup();
    Some(change)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::SensorSettings;
    use crate::enums::{SensorHealthStatus, SensorType, ServiceStatus};
    use crate::fleet::status::enrolled;
    use crate::ids::SensorId;
    use crate::time::parse_timestamp;
    use chrono::Duration;

    fn at(minutes: i64) -> Timestamp {
        parse_timestamp("2026-05-01T12:00:00Z").expect("time") + Duration::minutes(minutes)
    }

    fn sensor() -> Sensor {
        Sensor {
            id: SensorId::new("s1"),
            created_date_time: at(-60),
            deployment_status: DeploymentStatus::UpToDate,
            display_name: "DC1".into(),
            domain_name: "Contoso.com".into(),
            health_status: SensorHealthStatus::Healthy,
            open_health_issues_count: 0,
            sensor_type: SensorType::DomainControllerIntegrated,
            service_status: ServiceStatus::Running,
            settings: SensorSettings::default(),
            version: "2.250.0.0".into(),
        }
    }

    /// A classic DC sensor enrolled an hour ago, heard from now, settings acknowledged.
    fn observed() -> Observed {
        let mut o = enrolled(
            SensorType::DomainControllerIntegrated,
            "2.250.0.0",
            false,
            at(-60),
        );
        o.last_seen = Some(at(0));
        o.last_config_pull = Some(at(0));
        o.reported_service = Some(ServiceStatus::Running);
        o.applied_settings_version = o.desired_settings_version;
        o
    }

    fn host(id: &str) -> HostIssue {
        HostIssue {
            issue_type_id: id.into(),
            display_name: format!("Host issue {id}"),
            severity: HealthIssueSeverity::Low,
        }
    }

    fn stored(
        key: &str,
        status: HealthIssueStatus,
        severity: HealthIssueSeverity,
    ) -> (String, HealthIssue) {
        let mut issue = sensor_issue(
            &Raised::Rule(Rule::Outdated),
            &sensor(),
            HealthIssueId::new(format!("id-{key}")),
            at(-30),
        );
        issue.status = status;
        issue.severity = severity;
        (key.to_string(), issue)
    }

    #[test]
    fn sensor_issues_follow_rules_and_host_reports() {
        use HealthIssueSeverity::Medium;
        use HealthIssueStatus::*;
        let t = Thresholds::default();
        let releases = ReleaseCatalogue::default();
        type Case = (
            &'static str,
            fn(&mut Observed),
            Vec<HostIssue>,
            Vec<(String, HealthIssue)>,
            i64,
            Vec<IssueChange>,
        );
        let cases: Vec<Case> = vec![
            ("healthy, nothing stored", |_| {}, vec![], vec![], 0, vec![]),
            (
                "a host issue is raised",
                |_| {},
                vec![host("9001")],
                vec![],
                0,
                vec![IssueChange::Raise(Raised::Host(host("9001")))],
            ),
            (
                "a cleared host issue closes",
                |_| {},
                vec![],
                vec![stored("host:9001", Open, Medium)],
                0,
                vec![IssueChange::Close("host:9001".into())],
            ),
            (
                "silence raises its issue and keeps the others",
                |_| {},
                vec![host("9001")],
                vec![
                    stored("host:9001", Open, Medium),
                    stored("host:9002", Closed, Medium),
                ],
                5,
                vec![IssueChange::Raise(Raised::Rule(Rule::StoppedCommunicating))],
            ),
            (
                "a long suppression of a silent sensor's issue ends",
                |_| {},
                vec![],
                vec![{
                    let mut s = stored("host:9001", Suppressed, Medium);
                    s.1.last_modified_date_time = at(-8 * 24 * 60);
                    s
                }],
                5,
                vec![
                    IssueChange::Raise(Raised::Rule(Rule::StoppedCommunicating)),
                    IssueChange::Reopen("host:9001".into()),
                ],
            ),
            (
                "a deleted DC reports nothing",
                |o| o.dc_exists = false,
                vec![host("9001")],
                vec![stored("rule:2001", Open, Medium)],
                0,
                vec![IssueChange::Close("rule:2001".into())],
            ),
            (
                "a closed issue that recurs reopens",
                |_| {},
                vec![host("9001")],
                vec![stored("host:9001", Closed, Medium)],
                0,
                vec![IssueChange::Reopen("host:9001".into())],
            ),
        ];
        for (name, change, hosts, stored, minutes, expected) in cases {
            let mut o = observed();
            change(&mut o);
            assert_eq!(
                sensor_issue_changes(&o, &hosts, &stored, &releases, at(minutes), &t),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn issues_are_worded_for_their_sensor() {
        let s = sensor();
        let rule = sensor_issue(
            &Raised::Rule(Rule::FailedToStart),
            &s,
            HealthIssueId::new("i1"),
            at(0),
        );
        assert_eq!(rule.id.as_str(), "i1");
        assert_eq!(rule.display_name, "Sensor service failed to start");
        assert_eq!(
            rule.description,
            "Sensor service failed to start on dc1.contoso.com"
        );
        assert_eq!(rule.issue_type_id, "2002");
        assert_eq!(rule.severity, HealthIssueSeverity::High);
        assert_eq!(rule.sensor_dns_names, vec!["dc1.contoso.com"]);
        assert_eq!(rule.domain_names, vec!["Contoso.com"]);
        assert_eq!(rule.health_issue_type, HealthIssueType::Sensor);
        assert_eq!(rule.status, HealthIssueStatus::Open);
        assert_eq!(
            (rule.created_date_time, rule.last_modified_date_time),
            (at(0), at(0))
        );
        assert_eq!(
            rule.recommendations,
            vec![Rule::FailedToStart.recommendation()]
        );
        let h = sensor_issue(
            &Raised::Host(host("9001")),
            &s,
            HealthIssueId::new("i2"),
            at(0),
        );
        assert_eq!(h.description, "Host issue 9001 on dc1.contoso.com");
        assert_eq!(h.issue_type_id, "9001");
        assert_eq!(h.severity, HealthIssueSeverity::Low);
        assert_eq!(
            h.recommendations,
            vec!["Follow the guidance for this health issue on the sensor's server"]
        );
        assert_eq!(Raised::Host(host("9001")).key(), "host:9001");
        assert_eq!(Raised::Rule(Rule::Outdated).key(), "rule:2003");
    }

    #[test]
    fn stopped_communicating_is_high_while_disconnected() {
        use DeploymentStatus::*;
        use HealthIssueSeverity::*;
        use HealthIssueStatus::Open;
        let cases = [
            (Medium, Disconnected, Some(High)),
            (High, Disconnected, None),
            (High, UpToDate, Some(Medium)),
            (Medium, StartFailure, None),
            (Low, Syncing, Some(Medium)),
        ];
        for (severity, status, expected) in cases {
            let issues = vec![
                stored("host:9001", Open, Low),
                stored("rule:2001", Open, severity),
            ];
            let change = severity_change(&issues, status);
            assert_eq!(change.map(|(_, s)| s), expected, "{severity:?} {status:?}");
            if let Some((issue, _)) = change {
                assert_eq!(issue.id.as_str(), "id-rule:2001");
            }
        }
        let other = vec![stored("host:9001", Open, Medium)];
        assert_eq!(severity_change(&other, Disconnected), None, "no such issue");
    }

    #[test]
    fn global_issues_follow_their_members() {
        let rule = GLOBAL_RULES[0];
        let rows = |names: &[(&str, &str)]| {
            Members::of(
                &names
                    .iter()
                    .map(|(f, d)| (f.to_string(), d.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        let none = rows(&[]);
        let two = rows(&[
            ("a.contoso.com", "Contoso.com"),
            ("b.contoso.com", "contoso.com"),
        ]);
        assert_eq!(two.domains, vec!["contoso.com"]);
        let reversed = rows(&[
            ("b.contoso.com", "contoso.com"),
            ("a.contoso.com", "Contoso.com"),
        ]);
        assert_eq!(
            reversed, two,
            "the members do not depend on the rows' order"
        );
        let new_id = || HealthIssueId::new("g1");

        assert_eq!(global_change(&rule, None, &none, new_id, at(0)), None);

        let raised = global_change(&rule, None, &two, new_id, at(0)).expect("raise");
        let issue = raised.raise.clone().expect("issue");
        assert_eq!(
            issue.description,
            "Sensors outdated: 2 sensor(s) in 1 domain(s)"
        );
        assert_eq!(issue.issue_type_id, "2003");
        assert_eq!(issue.health_issue_type, HealthIssueType::Global);
        assert_eq!(issue.sensor_dns_names, two.fqdns);
        assert_eq!(issue.domain_names, two.domains);
        assert_eq!((raised.rewrite, raised.status), (None, None));
        assert_eq!(raised.touched, two.fqdns);

        let mut stored = issue.clone();
        let same = global_change(&rule, Some(&stored), &two, new_id, at(1)).expect("same");
        assert_eq!((same.raise, same.rewrite, same.status), (None, None, None));

        let one = rows(&[("a.contoso.com", "contoso.com")]);
        let shrunk = global_change(&rule, Some(&stored), &one, new_id, at(1)).expect("shrunk");
        assert_eq!(
            shrunk.rewrite,
            Some((
                HealthIssueId::new("g1"),
                "Sensors outdated: 1 sensor(s) in 1 domain(s)".into()
            ))
        );
        assert_eq!(
            shrunk.touched, two.fqdns,
            "the sensor that left is refreshed too"
        );

        let cleared = global_change(&rule, Some(&stored), &none, new_id, at(1)).expect("cleared");
        assert_eq!(
            cleared.status,
            Some((HealthIssueId::new("g1"), HealthIssueStatus::Closed))
        );
        assert!(cleared.touched.is_empty());

        stored.status = HealthIssueStatus::Closed;
        assert_eq!(
            global_change(&rule, Some(&stored), &none, new_id, at(1)),
            Some(GlobalChange {
                raise: None,
                rewrite: None,
                status: None,
                touched: vec![]
            }),
            "closed stays closed"
        );
        let back = global_change(&rule, Some(&stored), &two, new_id, at(1)).expect("back");
        assert_eq!(
            back.status,
            Some((HealthIssueId::new("g1"), HealthIssueStatus::Open))
        );
    }
}
