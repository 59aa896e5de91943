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

/// One seeded tenant of [`seed_tenants`].
pub struct SeededTenant {
    pub tenant: String,
    /// A token for this tenant, with the sensors and health read-write roles.
    pub token: String,
    pub sensor_ids: Vec<String>,
    pub health: HealthTally,
}

pub struct SeededTenants {
    pub tenants: Vec<SeededTenant>,
    pub issues: usize,
    /// Building the fixtures in memory.
    pub build_time: Duration,
    /// Loading them into the store (open, migrations, every `Store::seed`, close).
    pub store_time: Duration,
}

/// The bench tenant of index `i`: [`TENANT`] first, then GUIDs counting up.
pub fn tenant_id(i: usize) -> String {
    if i == 0 {
        TENANT.into()
    } else {
        format!("0be4c4a1-2d0b-4c1e-8f01-{i:012}")
    }
}

/// Seeds `dir/picket.db` and creates `dir/signing-key.pem`, as `picket serve --data-dir dir` expects.
pub async fn seed(dir: &Path, sensors: usize, rng_seed: u64) -> Result<Seeded> {
    let mut seeded = seed_tenants(dir, 1, sensors, rng_seed).await?;
    let tenant = seeded.tenants.pop().context("no tenant was seeded")?;
    Ok(Seeded {
        sensor_ids: tenant.sensor_ids,
        health: tenant.health,
        issues: seeded.issues,
        build_time: seeded.build_time,
        store_time: seeded.store_time,
        token: tenant.token,
    })
}

/// Tenant fixtures loaded at once: the group-committed writer puts the ones arriving together
/// in one transaction (each in its own savepoint), so a thousand small tenants are not a
/// thousand syncs.
const SEEDS_IN_FLIGHT: usize = 16;

/// Seeds `tenants` tenants of `sensors` sensors each ([`tenant_id`] 0, 1, …; tenant 0 is the
/// fixture [`seed`] loads) into `dir/picket.db`, and mints a token per tenant.
pub async fn seed_tenants(
    dir: &Path,
    tenants: usize,
    sensors: usize,
    rng_seed: u64,
) -> Result<SeededTenants> {
    let now = chrono::Utc::now();
    let started = Instant::now();
    let mut fixtures = Vec::with_capacity(tenants);
    for i in 0..tenants {
        let tenant = TenantId::parse(&tenant_id(i)).context("a bench tenant is not a GUID")?;
        // Tenant 0 keeps the single-tenant bench's seed; the others get seeds of their own.
        let seed = rng_seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (fixture, health) = fixture(sensors, now, seed);
        fixtures.push((tenant, fixture, health));
    }
    let build_time = started.elapsed();

    let started = Instant::now();
    let catalogue = Catalogue {
        unified_sensor_version: UNIFIED_VERSION.into(),
    };
    let db = dir.join("picket.db");
    let store = std::sync::Arc::new(
        SqliteStore::open(&db, catalogue)
            .await
            .with_context(|| format!("cannot open {}", db.display()))?,
    );
    let mut issues = 0;
    let mut loads = tokio::task::JoinSet::new();
    let mut seeded = Vec::with_capacity(tenants);
    for (tenant, fixture, health) in fixtures {
        while loads.len() >= SEEDS_IN_FLIGHT {
            issues += joined(loads.join_next().await)?;
        }
        seeded.push(SeededTenant {
            tenant: tenant.as_str().to_string(),
            token: String::new(),
            sensor_ids: fixture.sensors.iter().map(|s| s.id.to_string()).collect(),
            health,
        });
        let store = store.clone();
        loads.spawn(async move {
            store
                .seed(&tenant, &fixture)
                .await
                .with_context(|| format!("seeding bench tenant {tenant} failed"))
                .map(|summary| summary.health_issues)
        });
    }
    while let Some(done) = loads.join_next().await {
        issues += joined(Some(done))?;
    }
    drop(store);
    checkpoint(&db)?;
    let store_time = started.elapsed();

    let key = SigningKey::load_or_create(dir)?;
    for tenant in &mut seeded {
        let request = TokenRequest {
            tenant: tenant.tenant.clone(),
            roles: vec![
                "SecurityIdentitiesSensors.ReadWrite.All".into(),
                "SecurityIdentitiesHealth.ReadWrite.All".into(),
            ],
            lifetime_secs: 6 * 3600,
            ..Default::default()
        };
        tenant.token = key
            .issue(
                ISSUER,
                &request,
                u64::try_from(now.timestamp()).unwrap_or(0),
            )
            .token;
    }
    Ok(SeededTenants {
        tenants: seeded,
        issues,
        build_time,
        store_time,
    })
}

/// Copies the write-ahead log into the database file and empties it, so that the seed is done
/// when the data is where a server opening the file reads it (a seed of a million sensors
/// leaves a WAL as large as the database otherwise).
fn checkpoint(db: &Path) -> Result<()> {
    use deadpool_sqlite::rusqlite::Connection;
    let conn = Connection::open(db).with_context(|| format!("cannot open {}", db.display()))?;
    conn.pragma_update(None, "busy_timeout", 10_000)?;
    // The closed store's checkpointer thread notices within a second that it should stop; a
    // checkpoint meeting its checkpoint answers busy.
    for _ in 0..50 {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!("the WAL of {} could not be checkpointed", db.display())
}

fn joined(done: Option<Result<Result<usize>, tokio::task::JoinError>>) -> Result<usize> {
    match done {
        Some(result) => result.context("a seeding task panicked")?,
        None => Ok(0),
    }
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
    order_for_loading(&mut sensors, &mut issues);
    let fixture = Fixture {
        activation_mode: Some(ActivationMode::Manual),
        sensors,
        candidates: Vec::new(),
        health_issues: issues,
        ..Fixture::default()
    };
    (fixture, tally)
}

/// Hands the random ids and creation times out in sorted order, so rows go into the store in
/// key order: each index of the sensors and issues tables then grows at its end (or at one end
/// per status) instead of at random places. The values and their spread are those drawn; only
/// which sensor gets which changes.
fn order_for_loading(sensors: &mut [Sensor], issues: &mut [HealthIssue]) {
    let mut ids: Vec<SensorId> = sensors.iter().map(|s| s.id.clone()).collect();
    ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut created: Vec<Timestamp> = sensors.iter().map(|s| s.created_date_time).collect();
    created.sort_unstable();
    for ((sensor, id), at) in sensors.iter_mut().zip(ids).zip(created) {
        sensor.id = id;
        sensor.created_date_time = at;
    }
    let mut ids: Vec<HealthIssueId> = issues.iter().map(|h| h.id.clone()).collect();
    ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    for (issue, id) in issues.iter_mut().zip(ids) {
        issue.id = id;
    }
}

fn pick<'a>(rng: &mut StdRng, pool: &[(&'a str, &'a str)]) -> (&'a str, &'a str) {
    pool[rng.gen_range(0..pool.len())]
}

fn guid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

// A setting added later takes its default here.
#[allow(clippy::needless_update)]
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
            ..SensorSettings::default()
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

    #[test]
    fn sensors_and_issues_come_in_key_order() {
        let (fixture, _) = fixture(2_000, chrono::Utc::now(), 3);
        let sorted = |keys: Vec<&str>| keys.windows(2).all(|w| w[0] < w[1]);
        assert!(sorted(
            fixture.sensors.iter().map(|s| s.id.as_str()).collect()
        ));
        assert!(fixture
            .sensors
            .windows(2)
            .all(|w| w[0].created_date_time <= w[1].created_date_time));
        assert!(sorted(
            fixture
                .health_issues
                .iter()
                .map(|h| h.id.as_str())
                .collect()
        ));
    }

    #[test]
    fn tenant_ids_are_guids_and_the_first_is_the_bench_tenant() {
        assert_eq!(tenant_id(0), TENANT);
        for i in [1, 999, 1_000] {
            assert!(TenantId::parse(&tenant_id(i)).is_some(), "{}", tenant_id(i));
        }
        assert_ne!(tenant_id(1), tenant_id(2));
    }
}
