//! The demo tenant `picket serve --demo` loads: a dozen sensors over three domains and every
//! sensor type, open/closed/suppressed issues of both types, and a few candidates.

use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_store::Fixture;

/// Fixed, so a restarted demo keeps its tenant and tokens keep working.
pub const DEMO_TENANT: &str = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47";

/// The demo tenant's console administrator (Security Administrator).
pub const DEMO_ADMIN: &str = "admin@demo.picket.local";
/// The demo tenant's console reader (Security Reader).
pub const DEMO_READER: &str = "reader@demo.picket.local";

/// The users `serve --demo` registers in a demo tenant that has none: an administrator and a
/// reader, to sign in to the console with (`picket console-link`). Fixed ids, like the tenant.
pub fn demo_users(tenant: &TenantId, now: Timestamp) -> Vec<picket_domain::identity::User> {
    use picket_auth::DirectoryRole;
    let user = |n: u32, upn: &str, name: &str, role: DirectoryRole| picket_domain::identity::User {
        tenant: tenant.clone(),
        object_id: format!("0d3a5c7e-0000-4000-8000-{n:012}"),
        user_principal_name: upn.into(),
        display_name: name.into(),
        roles: vec![role.template_id().to_string()],
        created_at: now,
    };
    vec![
        user(
            1,
            DEMO_ADMIN,
            "Demo Administrator",
            DirectoryRole::SecurityAdministrator,
        ),
        user(2, DEMO_READER, "Demo Reader", DirectoryRole::SecurityReader),
    ]
}

// A setting added later takes its default here.
#[allow(clippy::needless_update)]
pub fn demo_fixture(now: Timestamp) -> Fixture {
    let ago =
        |days: i64, hours: i64| now - chrono::Duration::days(days) - chrono::Duration::hours(hours);
    let sensor = |n: u32,
                  name: &str,
                  domain: &str,
                  ty: SensorType,
                  version: &str,
                  deployment: DeploymentStatus,
                  service: ServiceStatus,
                  delayed: bool,
                  dcs: &[&str]| Sensor {
        id: SensorId::new(format!("b3c1b5fc-828c-45fa-a1e1-{n:012}")),
        created_date_time: ago(i64::from(200 - n * 10), i64::from(n)),
        deployment_status: deployment,
        display_name: name.into(),
        domain_name: domain.into(),
        health_status: SensorHealthStatus::Healthy,
        open_health_issues_count: 0,
        sensor_type: ty,
        service_status: service,
        settings: SensorSettings {
            description: Some(format!("{name} sensor")),
            domain_controller_dns_names: dcs.iter().map(|s| s.to_string()).collect(),
            is_delayed_deployment_enabled: delayed,
            ..SensorSettings::default()
        },
        version: version.into(),
    };
    use DeploymentStatus as D;
    use SensorType as T;
    use ServiceStatus as S;
    const V2: &str = "2.239.18124.58593";
    const V3: &str = "3.1.25311.1";
    let sensors = vec![
        sensor(
            1,
            "DC1",
            "contoso.com",
            T::DomainControllerIntegrated,
            V2,
            D::UpToDate,
            S::Running,
            false,
            &["DC1.contoso.com"],
        ),
        sensor(
            2,
            "DC2",
            "contoso.com",
            T::DomainControllerIntegrated,
            V2,
            D::UpToDate,
            S::Running,
            true,
            &["DC2.contoso.com"],
        ),
        sensor(
            3,
            "DC3",
            "contoso.com",
            T::DomainControllerIntegrated,
            V3,
            D::UpToDate,
            S::Running,
            false,
            &[],
        ),
        sensor(
            4,
            "ADFS1",
            "contoso.com",
            T::AdfsIntegrated,
            V2,
            D::NotConfigured,
            S::Running,
            false,
            &[],
        ),
        sensor(
            5,
            "ADCS1",
            "contoso.com",
            T::AdcsIntegrated,
            "2.236.17800.1",
            D::Outdated,
            S::Running,
            true,
            &["DC1.contoso.com"],
        ),
        sensor(
            6,
            "ENTRA1",
            "contoso.com",
            T::AdConnectIntegrated,
            V2,
            D::UpToDate,
            S::Running,
            false,
            &["DC2.contoso.com"],
        ),
        sensor(
            7,
            "DC1",
            "fabrikam.local",
            T::DomainControllerIntegrated,
            V2,
            D::Disconnected,
            S::Unknown,
            false,
            &[],
        ),
        sensor(
            8,
            "DC2",
            "fabrikam.local",
            T::DomainControllerIntegrated,
            V2,
            D::Updating,
            S::Starting,
            false,
            &[],
        ),
        sensor(
            9,
            "STANDALONE1",
            "fabrikam.local",
            T::DomainControllerStandalone,
            V2,
            D::UpToDate,
            S::Running,
            true,
            &["DC1.fabrikam.local", "DC2.fabrikam.local"],
        ),
        sensor(
            10,
            "DC1",
            "emea.contoso.com",
            T::DomainControllerIntegrated,
            V3,
            D::UpToDate,
            S::Running,
            false,
            &[],
        ),
        sensor(
            11,
            "DC2",
            "emea.contoso.com",
            T::DomainControllerIntegrated,
            V2,
            D::UpdateFailed,
            S::Stopped,
            false,
            &[],
        ),
        sensor(
            12,
            "DC3",
            "emea.contoso.com",
            T::DomainControllerIntegrated,
            V2,
            D::StartFailure,
            S::Stopped,
            false,
            &[],
        ),
    ];
    let issue = |n: u32,
                 name: &str,
                 ty: HealthIssueType,
                 severity: HealthIssueSeverity,
                 status: HealthIssueStatus,
                 type_id: &str,
                 domains: &[&str],
                 sensors: &[&str],
                 days: i64| HealthIssue {
        id: HealthIssueId::new(format!("5e4d2c1b-0a9f-4e8d-b7c6-{n:012}")),
        additional_information: vec![],
        created_date_time: ago(days, i64::from(n)),
        description: format!(
            "{name} on {}",
            sensors
                .first()
                .or(domains.first())
                .copied()
                .unwrap_or("the workspace")
        ),
        display_name: name.into(),
        domain_names: domains.iter().map(|s| s.to_string()).collect(),
        health_issue_type: ty,
        issue_type_id: type_id.into(),
        last_modified_date_time: ago(days / 2, 0),
        recommendations: vec![format!(
            "Follow the guidance at https://aka.ms/mdi/health for '{name}'"
        )],
        recommended_action_commands: vec!["Import-Module DefenderForIdentity".into()],
        sensor_dns_names: sensors.iter().map(|s| s.to_string()).collect(),
        severity,
        status,
    };
    use HealthIssueSeverity as Sev;
    use HealthIssueStatus as St;
    use HealthIssueType as It;
    let mut auditing = issue(
        1,
        "Directory Services Object Auditing is not configured as required",
        It::Global,
        Sev::Medium,
        St::Open,
        "1031",
        &["contoso.com", "fabrikam.local"],
        &["DC1.contoso.com", "DC1.fabrikam.local"],
        20,
    );
    auditing.additional_information = vec![
        "Descendant User Objects (Schema-Id-Guid: bf967aba-0de6-11d0-a285-00aa003049e2)".into(),
    ];
    auditing.recommended_action_commands.push(
        "Set-MDIConfiguration -Configuration DomainObjectAuditing -Mode Domain -Force".into(),
    );
    let health_issues = vec![
        auditing,
        issue(
            2,
            "Sensor stopped communicating",
            It::Sensor,
            Sev::Medium,
            St::Open,
            "1002",
            &["fabrikam.local"],
            &["DC1.fabrikam.local"],
            1,
        ),
        issue(
            3,
            "Sensor service failed to start",
            It::Sensor,
            Sev::High,
            St::Open,
            "1011",
            &["emea.contoso.com"],
            &["DC3.emea.contoso.com"],
            2,
        ),
        issue(
            4,
            "Sensor update failed",
            It::Sensor,
            Sev::Medium,
            St::Open,
            "1012",
            &["emea.contoso.com"],
            &["DC2.emea.contoso.com"],
            3,
        ),
        issue(
            5,
            "AD FS sensor is not configured",
            It::Sensor,
            Sev::Low,
            St::Open,
            "1020",
            &["contoso.com"],
            &["ADFS1.contoso.com"],
            5,
        ),
        issue(
            6,
            "NTLM Auditing is not enabled",
            It::Sensor,
            Sev::Medium,
            St::Suppressed,
            "1032",
            &["contoso.com"],
            &["DC2.contoso.com"],
            9,
        ),
        issue(
            7,
            "Sensor reached a memory resource limit",
            It::Sensor,
            Sev::Medium,
            St::Closed,
            "1040",
            &["contoso.com"],
            &["DC1.contoso.com"],
            30,
        ),
        issue(
            8,
            "Read-only user password to expire shortly",
            It::Global,
            Sev::Medium,
            St::Closed,
            "1050",
            &["contoso.com"],
            &[],
            40,
        ),
        issue(
            9,
            "Power mode isn't configured for optimal processor performance",
            It::Sensor,
            Sev::Low,
            St::Open,
            "1060",
            &["contoso.com"],
            &["ADCS1.contoso.com"],
            4,
        ),
    ];
    let candidate = |n: u32, dns: &str, version: &str, hours: i64| SensorCandidate {
        id: CandidateId::new(format!("c0633ebb-8cfb-f17a-0b9e-{n:012}")),
        computer_dns_name: dns.into(),
        last_seen_date_time: ago(0, hours),
        sense_client_version: version.into(),
    };
    let candidates = vec![
        candidate(1, "dc4.contoso.com", "10.8780.27711.1000", 1),
        candidate(2, "dc3.fabrikam.local", "10.8780.27711.1000", 2),
        candidate(3, "dc4.emea.contoso.com", "10.8760.27600.1012", 5),
    ];
    // Every sensor's host has two adapters; capture is off on the backup network's.
    let network_adapters = sensors
        .iter()
        .map(|s| {
            (
                s.id.to_string(),
                vec![
                    picket_store::network_adapters::NetworkAdapter {
                        id: "1".into(),
                        name: "Ethernet0 (production)".into(),
                        is_enabled: true,
                    },
                    picket_store::network_adapters::NetworkAdapter {
                        id: "2".into(),
                        name: "Ethernet1 (backup network)".into(),
                        is_enabled: false,
                    },
                ],
            )
        })
        .collect();
    Fixture {
        activation_mode: Some(ActivationMode::Manual),
        network_adapters,
        sensors,
        candidates,
        health_issues,
        identity_accounts: demo_identity_accounts(),
        auto_auditing: Some(false),
        onboarded: None,
    }
}

/// A believable directory: people, administrators and service accounts of the two AD domains,
/// some disabled, some also in Entra ID or Okta. Ids `1d3a5c7e-0000-4000-8000-0000000000NN`.
pub fn demo_identity_accounts() -> Vec<picket_domain::identity_accounts::IdentityAccount> {
    use picket_domain::identity_accounts::{actions_of, Account, IdentityAccount};
    use picket_domain::IdentityProvider::*;
    let people = [
        ("Adele Vance", "adelev", "contoso.com", true, &[EntraId][..]),
        (
            "Alex Wilber",
            "alexw",
            "contoso.com",
            true,
            &[EntraId, Okta][..],
        ),
        ("Diego Siciliani", "diegos", "contoso.com", false, &[][..]),
        ("Isaiah Langer", "isaiahl", "contoso.com", true, &[Okta][..]),
        ("Megan Bowen", "meganb", "contoso.com", true, &[EntraId][..]),
        (
            "Admin Grady Archie",
            "adm-gradya",
            "contoso.com",
            true,
            &[][..],
        ),
        (
            "Admin Lynne Robbins",
            "adm-lynner",
            "contoso.com",
            false,
            &[][..],
        ),
        ("svc-backup", "svc-backup", "contoso.com", true, &[][..]),
        ("svc-sql", "svc-sql", "contoso.com", true, &[][..]),
        // A protected account: a domain controller refuses actions on it.
        (
            "Tier 0 admin (locked)",
            "t0-locked",
            "contoso.com",
            true,
            &[][..],
        ),
        (
            "Johanna Lorenz",
            "johannal",
            "fabrikam.local",
            true,
            &[Okta][..],
        ),
        ("Lee Gu", "leeg", "fabrikam.local", true, &[][..]),
        ("svc-web", "svc-web", "fabrikam.local", false, &[][..]),
    ];
    people
        .iter()
        .enumerate()
        .map(|(i, (name, sam, domain, enabled, elsewhere))| {
            let n = i + 1;
            let mut accounts = vec![Account {
                identifier: format!("{sam}@{domain}"),
                identity_provider: ActiveDirectory,
                actions: actions_of(ActiveDirectory),
            }];
            for provider in elsewhere.iter() {
                let identifier = match provider {
                    Okta => format!("{sam}@contoso.okta.com"),
                    _ => format!("{sam}@contoso.onmicrosoft.com"),
                };
                accounts.push(Account {
                    identifier,
                    identity_provider: *provider,
                    actions: actions_of(*provider),
                });
            }
            IdentityAccount {
                id: format!("1d3a5c7e-0000-4000-8000-{n:012}"),
                display_name: name.to_string(),
                domain: domain.to_string(),
                is_enabled: *enabled,
                cloud_security_identifier: elsewhere
                    .contains(&EntraId)
                    .then(|| format!("S-1-12-1-{}-{}", 3_000_000 + n, 1_000 + n)),
                on_premises_security_identifier: Some(format!(
                    "S-1-5-21-1004336348-1177238915-682003330-{}",
                    1100 + n
                )),
                accounts,
            }
        })
        .collect()
}
