//! The benchmark tenant: N sensors over twenty domains with a realistic share of open health
//! issues, loaded into a fresh SQLite store in one call, plus a token the server will accept.

use anyhow::{Context, Result};
use chrono::Duration as Span;
use picket_auth::{SigningKey, TokenRequest};
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_store::{Catalogue, Fixture, SqliteStore, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

/// Fixed, so two runs seed the same tenant.
pub const TENANT: &str = "0be4c4a1-2d0b-4c1e-8f00-000000100000";
/// Passed to `picket serve --issuer` too, so the minted token's `iss` matches.
pub const ISSUER: &str = "https://sts.picket.local";
const UNIFIED_VERSION: &str = "3.1.25311.1";

const DOMAINS: [&str; 20] = [
    "contoso.com",
    "corp.contoso.com",
    "emea.contoso.com",
    "apac.contoso.com",
    "amer.contoso.com",
    "fabrikam.local",
    "dev.fabrikam.local",
    "northwind.net",
    "eu.northwind.net",
    "adatum.com",
    "research.adatum.com",
    "litware.org",
    "tailspintoys.com",
    "wingtiptoys.com",
    "woodgrovebank.com",
    "lab.woodgrovebank.com",
    "proseware.com",
    "fourthcoffee.com",
    "treyresearch.net",
    "wideworldimporters.com",
];

/// (display name, issue type id) by severity.
const HIGH: [(&str, &str); 3] = [
    ("Sensor stopped communicating", "1002"),
    ("Sensor service failed to start", "1011"),
    ("Sensor outdated versions", "1008"),
];
const MEDIUM: [(&str, &str); 3] = [
    ("Sensor update failed", "1012"),
    ("NTLM Auditing is not enabled", "1032"),
    ("Sensor reached a memory resource limit", "1040"),
];
const LOW: [(&str, &str); 2] = [
    (
        "Power mode isn't configured for optimal processor performance",
        "1060",
    ),
    ("Some network traffic could not be analyzed", "1015"),
];

/// How many sensors ended up at each health level (the store recomputes it the same way).
#[derive(Debug, Default, Clone, Copy)]
pub struct HealthTally {
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub healthy: usize,
}

pub struct Seeded {
    pub sensor_ids: Vec<String>,
    pub health: HealthTally,
    pub issues: usize,
    pub build_time: Duration,
    pub store_time: Duration,
    pub token: String,
}

/// Seeds `dir/picket.db` and creates `dir/signing-key.pem`, as `picket serve --data-dir dir` expects.
pub async fn seed(dir: &Path, sensors: usize, rng_seed: u64) -> Result<Seeded> {
    let tenant = TenantId::parse(TENANT).context("the bench tenant is not a GUID")?;
    let now = chrono::Utc::now();
    let started = Instant::now();
    let (fixture, health) = fixture(sensors, now, rng_seed);
    let build_time = started.elapsed();

    let started = Instant::now();
    let catalogue = Catalogue {
        unified_sensor_version: UNIFIED_VERSION.into(),
    };
    let db = dir.join("picket.db");
    let store = SqliteStore::open(&db, catalogue)
        .await
        .with_context(|| format!("cannot open {}", db.display()))?;
    let summary = store
        .seed(&tenant, &fixture)
        .await
        .context("seeding the bench tenant failed")?;
    drop(store);
    let store_time = started.elapsed();

    let key = SigningKey::load_or_create(dir)?;
    let request = TokenRequest {
        tenant: TENANT.into(),
        roles: vec![
            "SecurityIdentitiesSensors.ReadWrite.All".into(),
            "SecurityIdentitiesHealth.ReadWrite.All".into(),
        ],
        lifetime_secs: 6 * 3600,
        ..Default::default()
    };
    let token = key
        .issue(
            ISSUER,
            &request,
            u64::try_from(now.timestamp()).unwrap_or(0),
        )
        .token;

    Ok(Seeded {
        sensor_ids: fixture.sensors.iter().map(|s| s.id.to_string()).collect(),
        health,
        issues: summary.health_issues,
        build_time,
        store_time,
        token,
    })
}

/// A deterministic fixture: the same seed gives the same sensors and issues.
pub fn fixture(count: usize, now: Timestamp, rng_seed: u64) -> (Fixture, HealthTally) {
    let mut rng = StdRng::seed_from_u64(rng_seed);
    let mut sensors = Vec::with_capacity(count);
    let mut issues = Vec::with_capacity(count / 3);
    let mut tally = HealthTally::default();
    for n in 0..count {
        let mut sensor = sensor(&mut rng, n, now);
        let roll = rng.gen_range(0..100);
        let (severity, pool): (Option<HealthIssueSeverity>, &[(&str, &str)]) = match roll {
            0..10 => (Some(HealthIssueSeverity::High), &HIGH),
            10..18 => (Some(HealthIssueSeverity::Medium), &MEDIUM),
            18..23 => (Some(HealthIssueSeverity::Low), &LOW),
            _ => (None, &[]),
        };
        let mut open = 0;
        if let Some(severity) = severity {
            issues.push(issue(
                &mut rng,
                now,
                pool,
                severity,
                HealthIssueStatus::Open,
                &sensor,
            ));
            open += 1;
            // One unhealthy sensor in five carries a second, lesser issue.
            if severity != HealthIssueSeverity::Low && rng.gen_bool(0.2) {
                issues.push(issue(
                    &mut rng,
                    now,
                    &LOW,
                    HealthIssueSeverity::Low,
                    HealthIssueStatus::Open,
                    &sensor,
                ));
                open += 1;
            }
        }
        // History: closed and suppressed issues, which must not affect health.
        if rng.gen_bool(0.03) {
            issues.push(issue(
                &mut rng,
                now,
                &HIGH,
                HealthIssueSeverity::High,
                HealthIssueStatus::Closed,
                &sensor,
            ));
        }
        if rng.gen_bool(0.01) {
            issues.push(issue(
                &mut rng,
                now,
                &MEDIUM,
                HealthIssueSeverity::Medium,
                HealthIssueStatus::Suppressed,
                &sensor,
            ));
        }
        sensor.health_status = SensorHealthStatus::from_highest(severity);
        sensor.open_health_issues_count = open;
        match severity {
            Some(HealthIssueSeverity::High) => tally.high += 1,
            Some(HealthIssueSeverity::Medium) => tally.medium += 1,
            Some(_) => tally.low += 1,
            None => tally.healthy += 1,
        }
        sensors.push(sensor);
    }
    // Workspace-wide issues name domains, not sensors.
    for domain in DOMAINS {
        let mut global = issue_base(
            &mut rng,
            now,
            (
                "Directory Services Object Auditing is not configured as required",
                "1031",
            ),
        );
        global.health_issue_type = HealthIssueType::Global;
        global.severity = HealthIssueSeverity::Medium;
        global.description =
            format!("Directory Services Object Auditing is not configured as required on {domain}");
        global.domain_names = vec![domain.into()];
        issues.push(global);
    }
    let fixture = Fixture {
        activation_mode: Some(ActivationMode::Manual),
        sensors,
        candidates: Vec::new(),
        health_issues: issues,
        ..Fixture::default()
    };
    (fixture, tally)
}

fn pick<'a>(rng: &mut StdRng, pool: &[(&'a str, &'a str)]) -> (&'a str, &'a str) {
    pool[rng.gen_range(0..pool.len())]
}

fn guid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

fn sensor(rng: &mut StdRng, n: usize, now: Timestamp) -> Sensor {
    let domain = DOMAINS[rng.gen_range(0..DOMAINS.len())];
    let (sensor_type, prefix) = match rng.gen_range(0..100) {
        0..70 => (SensorType::DomainControllerIntegrated, "DC"),
        70..80 => (SensorType::DomainControllerStandalone, "SA"),
        80..87 => (SensorType::AdfsIntegrated, "ADFS"),
        87..94 => (SensorType::AdcsIntegrated, "ADCS"),
        _ => (SensorType::AdConnectIntegrated, "ENTRA"),
    };
    // Unified (3.x) sensors run on domain controllers only.
    let version = if sensor_type == SensorType::DomainControllerIntegrated && rng.gen_bool(0.4) {
        if rng.gen_bool(0.8) {
            UNIFIED_VERSION.to_string()
        } else {
            format!("3.0.{}.1", rng.gen_range(24100..25300))
        }
    } else {
        format!(
            "2.{}.{}.{}",
            rng.gen_range(230..240),
            rng.gen_range(17000..18200),
            rng.gen_range(10000..65000)
        )
    };
    let deployment_status = match rng.gen_range(0..100) {
        0..80 => DeploymentStatus::UpToDate,
        80..88 => DeploymentStatus::Outdated,
        88..91 => DeploymentStatus::Updating,
        91..93 => DeploymentStatus::UpdateFailed,
        93..95 => DeploymentStatus::NotConfigured,
        95..96 => DeploymentStatus::Unreachable,
        96..98 => DeploymentStatus::Disconnected,
        98..99 => DeploymentStatus::StartFailure,
        _ => DeploymentStatus::Syncing,
    };
    let service_status = match deployment_status {
        DeploymentStatus::Disconnected | DeploymentStatus::Unreachable => ServiceStatus::Unknown,
        DeploymentStatus::StartFailure | DeploymentStatus::UpdateFailed => ServiceStatus::Stopped,
        DeploymentStatus::Updating => ServiceStatus::Starting,
        DeploymentStatus::Syncing => ServiceStatus::Onboarding,
        _ => ServiceStatus::Running,
    };
    let display_name = format!("{prefix}{n:06}");
    let domain_controller_dns_names = if sensor_type == SensorType::DomainControllerIntegrated {
        Vec::new()
    } else {
        (0..rng.gen_range(1..=2))
            .map(|_| format!("DC{:02}.{domain}", rng.gen_range(1..=40)))
            .collect()
    };
    Sensor {
        id: SensorId::new(guid(rng)),
        created_date_time: now - Span::seconds(rng.gen_range(3600..2 * 365 * 86_400)),
        deployment_status,
        display_name: display_name.clone(),
        domain_name: domain.into(),
        health_status: SensorHealthStatus::Healthy,
        open_health_issues_count: 0,
        sensor_type,
        service_status,
        settings: SensorSettings {
            description: rng
                .gen_bool(0.5)
                .then(|| format!("{display_name} sensor, site {}", rng.gen_range(1..=60))),
            domain_controller_dns_names,
            is_delayed_deployment_enabled: rng.gen_bool(0.1),
        },
        version,
    }
}

fn issue_base(rng: &mut StdRng, now: Timestamp, (name, type_id): (&str, &str)) -> HealthIssue {
    let created = now - Span::seconds(rng.gen_range(600..90 * 86_400));
    HealthIssue {
        id: HealthIssueId::new(guid(rng)),
        additional_information: Vec::new(),
        created_date_time: created,
        description: name.into(),
        display_name: name.into(),
        domain_names: Vec::new(),
        health_issue_type: HealthIssueType::Sensor,
        issue_type_id: type_id.into(),
        last_modified_date_time: created + (now - created) / 2,
        recommendations: vec![format!(
            "Follow the guidance at https://aka.ms/mdi/health for '{name}'"
        )],
        recommended_action_commands: Vec::new(),
        sensor_dns_names: Vec::new(),
        severity: HealthIssueSeverity::Low,
        status: HealthIssueStatus::Open,
    }
}

/// An issue of one of `pool`'s kinds naming `sensor` by its FQDN, as Defender for Identity does.
fn issue(
    rng: &mut StdRng,
    now: Timestamp,
    pool: &[(&str, &str)],
    severity: HealthIssueSeverity,
    status: HealthIssueStatus,
    sensor: &Sensor,
) -> HealthIssue {
    let template = pick(rng, pool);
    let fqdn = format!("{}.{}", sensor.display_name, sensor.domain_name);
    HealthIssue {
        description: format!("{} on {fqdn}", template.0),
        domain_names: vec![sensor.domain_name.clone()],
        sensor_dns_names: vec![fqdn],
        severity,
        status,
        ..issue_base(rng, now, template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_a_tenth_of_sensors_are_not_healthy_high() {
        let (fixture, tally) = fixture(10_000, chrono::Utc::now(), 7);
        assert_eq!(fixture.sensors.len(), 10_000);
        assert!((800..1200).contains(&tally.high), "{tally:?}");
        assert_eq!(
            tally.high + tally.medium + tally.low + tally.healthy,
            10_000
        );
        let fqdns: std::collections::HashSet<_> =
            fixture.sensors.iter().map(Sensor::fqdn).collect();
        assert_eq!(fqdns.len(), 10_000, "sensor FQDNs are unique");
    }
}
