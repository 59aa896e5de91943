//! The one table of Graph paths: every path and alias under `/security/identities` (spec §0,
//! §2) resolved to an [`Operation`] that names the permissions it needs. Segments match
//! case-insensitively (spec §5 D10); bound functions and actions answer to their short and
//! namespace-qualified names, with or without `()` (spec §0).

use crate::error::ApiError;
use picket_auth::{Access, Permission};
use picket_domain::{CandidateId, HealthIssueId, SensorId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    GetIdentityContainer,
    ListSensors,
    CountSensors,
    GetSensor(SensorId),
    UpdateSensor(SensorId),
    DeleteSensor(SensorId),
    ListSensorHealthIssues(SensorId),
    CountSensorHealthIssues(SensorId),
    GetSensorHealthIssue(SensorId, HealthIssueId),
    GetDeploymentAccessKey,
    RegenerateDeploymentAccessKey,
    GetDeploymentPackageUri,
    ListSensorCandidates,
    CountSensorCandidates,
    GetSensorCandidate(CandidateId),
    ActivateSensorCandidates,
    GetActivationConfiguration,
    UpdateActivationConfiguration,
    ListHealthIssues,
    CountHealthIssues,
    GetHealthIssue(HealthIssueId),
    UpdateHealthIssue(HealthIssueId),
    GetSettings,
    GetAutoAuditingConfiguration,
    UpdateAutoAuditingConfiguration,
    /// `/organization` and `/domains`: directory reads outside `/security` (spec §7, tools).
    ListOrganization,
    ListDomains,
    ListIdentityAccounts,
    CountIdentityAccounts,
    GetIdentityAccount(String),
    InvokeAccountAction(String),
    ListNetworkAdapters(SensorId),
    GetNetworkAdapter(SensorId, String),
    UpdateNetworkAdapter(SensorId, String),
    ListSensorMigrations,
    CountSensorMigrations,
    GetSensorMigration(String),
    MigrateSensors,
}

use Permission::*;
const SENSORS_READ: &[Permission] = &[SensorsRead, SensorsReadWrite];
const SENSORS_WRITE: &[Permission] = &[SensorsReadWrite];
const HEALTH_READ: &[Permission] = &[HealthRead, HealthReadWrite];
const HEALTH_WRITE: &[Permission] = &[HealthReadWrite];
const ANY: &[Permission] = &[SensorsRead, SensorsReadWrite, HealthRead, HealthReadWrite];
const AUTO_CONFIG_READ: &[Permission] = &[AutoConfigRead, AutoConfigReadWrite];
const AUTO_CONFIG_WRITE: &[Permission] = &[AutoConfigReadWrite];
const ORGANIZATION_READ: &[Permission] = &[OrganizationRead, DirectoryRead];
const DOMAIN_READ: &[Permission] = &[DomainRead, DirectoryRead];
const ACCOUNT_READ: &[Permission] = &[AccountRead];
const ACTIONS_WRITE: &[Permission] = &[ActionsReadWrite];
const MIGRATION_READ: &[Permission] = &[MigrationRead, MigrationReadWrite];
const MIGRATION_WRITE: &[Permission] = &[MigrationReadWrite];

impl Operation {
    /// Each inner slice is "one of these"; all slices must be satisfied (spec §2.0).
    pub fn required(&self) -> &'static [&'static [Permission]] {
        use Operation::*;
        match self {
            GetIdentityContainer => &[ANY],
            ListSensors
            | CountSensors
            | GetSensor(_)
            | GetDeploymentPackageUri
            | ListSensorCandidates
            | CountSensorCandidates
            | GetSensorCandidate(_)
            | GetActivationConfiguration
            | ListNetworkAdapters(_)
            | GetNetworkAdapter(..) => &[SENSORS_READ],
            // A read, but of a secret: ReadWrite only (spec §5 D17).
            UpdateSensor(_)
            | DeleteSensor(_)
            | GetDeploymentAccessKey
            | RegenerateDeploymentAccessKey
            | ActivateSensorCandidates
            | UpdateActivationConfiguration
            | UpdateNetworkAdapter(..) => &[SENSORS_WRITE],
            ListSensorHealthIssues(_) | CountSensorHealthIssues(_) | GetSensorHealthIssue(..) => {
                &[SENSORS_READ, HEALTH_READ]
            }
            ListHealthIssues | CountHealthIssues | GetHealthIssue(_) => &[HEALTH_READ],
            UpdateHealthIssue(_) => &[HEALTH_WRITE],
            GetSettings | GetAutoAuditingConfiguration => &[AUTO_CONFIG_READ],
            UpdateAutoAuditingConfiguration => &[AUTO_CONFIG_WRITE],
            ListOrganization => &[ORGANIZATION_READ],
            ListDomains => &[DOMAIN_READ],
            ListIdentityAccounts | CountIdentityAccounts | GetIdentityAccount(_) => &[ACCOUNT_READ],
            InvokeAccountAction(_) => &[ACTIONS_WRITE],
            ListSensorMigrations | CountSensorMigrations | GetSensorMigration(_) => {
                &[MIGRATION_READ]
            }
            MigrateSensors => &[MIGRATION_WRITE],
        }
    }

    /// What kind of operation this is for a signed-in user's directory roles.
    pub fn access(&self) -> Access {
        use Operation::*;
        match self {
            UpdateSensor(_)
            | DeleteSensor(_)
            | ActivateSensorCandidates
            | UpdateActivationConfiguration
            | UpdateNetworkAdapter(..) => Access::ManageSensors,
            GetDeploymentAccessKey | RegenerateDeploymentAccessKey => Access::AccessKey,
            UpdateHealthIssue(_) => Access::ManageHealth,
            UpdateAutoAuditingConfiguration => Access::ConfigureAuditing,
            InvokeAccountAction(_) => Access::AccountActions,
            MigrateSensors => Access::Migrate,
            _ => Access::Read,
        }
    }

    /// Calls under `/security/identities`, which a tenant without Defender for Identity is
    /// refused (spec §7.5); the directory reads are not.
    pub fn needs_onboarding(&self) -> bool {
        !matches!(self, Operation::ListOrganization | Operation::ListDomains)
    }

    /// Writes, and reads of a secret, go to the audit log.
    pub fn audited(&self) -> bool {
        self.access() != Access::Read
    }

    /// Name for logs and metrics.
    pub fn name(&self) -> &'static str {
        use Operation::*;
        match self {
            GetIdentityContainer => "getIdentityContainer",
            ListSensors => "listSensors",
            CountSensors => "countSensors",
            GetSensor(_) => "getSensor",
            UpdateSensor(_) => "updateSensor",
            DeleteSensor(_) => "deleteSensor",
            ListSensorHealthIssues(_) => "listSensorHealthIssues",
            CountSensorHealthIssues(_) => "countSensorHealthIssues",
            GetSensorHealthIssue(..) => "getSensorHealthIssue",
            GetDeploymentAccessKey => "getDeploymentAccessKey",
            RegenerateDeploymentAccessKey => "regenerateDeploymentAccessKey",
            GetDeploymentPackageUri => "getDeploymentPackageUri",
            ListSensorCandidates => "listSensorCandidates",
            CountSensorCandidates => "countSensorCandidates",
            GetSensorCandidate(_) => "getSensorCandidate",
            ActivateSensorCandidates => "activateSensorCandidates",
            GetActivationConfiguration => "getActivationConfiguration",
            UpdateActivationConfiguration => "updateActivationConfiguration",
            ListHealthIssues => "listHealthIssues",
            CountHealthIssues => "countHealthIssues",
            GetHealthIssue(_) => "getHealthIssue",
            UpdateHealthIssue(_) => "updateHealthIssue",
            GetSettings => "getSettings",
            GetAutoAuditingConfiguration => "getAutoAuditingConfiguration",
            UpdateAutoAuditingConfiguration => "updateAutoAuditingConfiguration",
            ListOrganization => "listOrganization",
            ListDomains => "listDomains",
            ListIdentityAccounts => "listIdentityAccounts",
            CountIdentityAccounts => "countIdentityAccounts",
            GetIdentityAccount(_) => "getIdentityAccount",
            InvokeAccountAction(_) => "invokeAction",
            ListNetworkAdapters(_) => "listNetworkAdapters",
            GetNetworkAdapter(..) => "getNetworkAdapter",
            UpdateNetworkAdapter(..) => "updateNetworkAdapter",
            ListSensorMigrations => "listSensorMigrations",
            CountSensorMigrations => "countSensorMigrations",
            GetSensorMigration(_) => "getSensorMigration",
            MigrateSensors => "migrateSensors",
        }
    }
}

/// The HTTP methods this router knows; anything else is 405.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
    Other,
}

impl Method {
    pub fn parse(m: &str) -> Self {
        match m.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }
}

/// Strips the namespace qualifier and a trailing `()` from a bound operation's name.
fn operation_name(segment: &str) -> String {
    let lower = segment.to_ascii_lowercase();
    let name = lower
        .strip_prefix("microsoft.graph.security.")
        .unwrap_or(&lower);
    name.strip_suffix("()").unwrap_or(name).to_string()
}

fn is(segment: &str, name: &str) -> bool {
    segment.eq_ignore_ascii_case(name)
}

/// Resolves the path below the version root (already split on `/`, percent-decoded).
pub fn resolve(method: Method, segments: &[&str]) -> Result<Operation, ApiError> {
    use Method::*;
    use Operation::*;
    let not_found =
        |i: usize| ApiError::not_found_segment(segments.get(i).copied().unwrap_or_default());
    let allow = |pairs: &[(Method, Operation)]| -> Result<Operation, ApiError> {
        pairs
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, op)| op.clone())
            .ok_or(ApiError::MethodNotAllowed)
    };
    match segments {
        [c] if is(c, "organization") => return allow(&[(Get, ListOrganization)]),
        [c] if is(c, "domains") => return allow(&[(Get, ListDomains)]),
        _ => {}
    }
    if segments.first().is_none_or(|s| !is(s, "security")) {
        return Err(not_found(0));
    }
    if segments.get(1).is_none_or(|s| !is(s, "identities")) {
        return Err(not_found(1));
    }
    let rest = &segments[2..];
    match rest {
        [] => allow(&[(Get, GetIdentityContainer)]),
        [c, tail @ ..] if is(c, "sensors") => match tail {
            [] => allow(&[(Get, ListSensors)]),
            [s] if *s == "$count" => allow(&[(Get, CountSensors)]),
            [s] if operation_name(s) == "getdeploymentaccesskey" => {
                allow(&[(Get, GetDeploymentAccessKey)])
            }
            [s] if operation_name(s) == "regeneratedeploymentaccesskey" => {
                allow(&[(Post, RegenerateDeploymentAccessKey)])
            }
            [s] if operation_name(s) == "getdeploymentpackageuri" => {
                allow(&[(Get, GetDeploymentPackageUri)])
            }
            [id] => {
                let id = SensorId::new(*id);
                allow(&[
                    (Get, GetSensor(id.clone())),
                    (Patch, UpdateSensor(id.clone())),
                    (Delete, DeleteSensor(id)),
                ])
            }
            [id, n] if is(n, "healthIssues") => {
                allow(&[(Get, ListSensorHealthIssues(SensorId::new(*id)))])
            }
            [id, n, c] if is(n, "healthIssues") && *c == "$count" => {
                allow(&[(Get, CountSensorHealthIssues(SensorId::new(*id)))])
            }
            [id, n, issue] if is(n, "healthIssues") => allow(&[(
                Get,
                GetSensorHealthIssue(SensorId::new(*id), HealthIssueId::new(*issue)),
            )]),
            [id, s, n] if is(s, "settings") && is(n, "networkAdapters") => {
                allow(&[(Get, ListNetworkAdapters(SensorId::new(*id)))])
            }
            [id, s, n, adapter] if is(s, "settings") && is(n, "networkAdapters") => allow(&[
                (
                    Get,
                    GetNetworkAdapter(SensorId::new(*id), adapter.to_string()),
                ),
                (
                    Patch,
                    UpdateNetworkAdapter(SensorId::new(*id), adapter.to_string()),
                ),
            ]),
            _ => Err(not_found(segments.len() - 1)),
        },
        [c, tail @ ..] if is(c, "sensorCandidates") => match tail {
            [] => allow(&[(Get, ListSensorCandidates)]),
            [s] if *s == "$count" => allow(&[(Get, CountSensorCandidates)]),
            [s] if operation_name(s) == "activate" => allow(&[(Post, ActivateSensorCandidates)]),
            [id] => allow(&[(Get, GetSensorCandidate(CandidateId::new(*id)))]),
            _ => Err(not_found(segments.len() - 1)),
        },
        // Singleton by SDK metadata (PATCH), plural collection by the docs (POST) (spec §5 D12).
        [c] if is(c, "sensorCandidateActivationConfiguration") => allow(&[
            (Get, GetActivationConfiguration),
            (Patch, UpdateActivationConfiguration),
        ]),
        [c] if is(c, "sensorCandidateActivationConfigurations") => {
            allow(&[(Post, UpdateActivationConfiguration)])
        }
        [c, tail @ ..] if is(c, "healthIssues") => match tail {
            [] => allow(&[(Get, ListHealthIssues)]),
            [s] if *s == "$count" => allow(&[(Get, CountHealthIssues)]),
            [id] => {
                let id = HealthIssueId::new(*id);
                allow(&[
                    (Get, GetHealthIssue(id.clone())),
                    (Patch, UpdateHealthIssue(id)),
                ])
            }
            _ => Err(not_found(segments.len() - 1)),
        },
        [c, tail @ ..] if is(c, "identityAccounts") => match tail {
            [] => allow(&[(Get, ListIdentityAccounts)]),
            [s] if *s == "$count" => allow(&[(Get, CountIdentityAccounts)]),
            [id] => allow(&[(Get, GetIdentityAccount(id.to_string()))]),
            [id, a] if operation_name(a) == "invokeaction" => {
                allow(&[(Post, InvokeAccountAction(id.to_string()))])
            }
            _ => Err(not_found(segments.len() - 1)),
        },
        [c, tail @ ..] if is(c, "sensorMigration") => match tail {
            [] => allow(&[(Get, ListSensorMigrations)]),
            [s] if *s == "$count" => allow(&[(Get, CountSensorMigrations)]),
            [s] if operation_name(s) == "migrate" => allow(&[(Post, MigrateSensors)]),
            [id] => allow(&[(Get, GetSensorMigration(id.to_string()))]),
            _ => Err(not_found(segments.len() - 1)),
        },
        [c, tail @ ..] if is(c, "settings") => match tail {
            [] => allow(&[(Get, GetSettings)]),
            [a] if is(a, "autoAuditingConfiguration") => allow(&[
                (Get, GetAutoAuditingConfiguration),
                (Patch, UpdateAutoAuditingConfiguration),
                // Older beta docs say POST.
                (Post, UpdateAutoAuditingConfiguration),
            ]),
            _ => Err(not_found(segments.len() - 1)),
        },
        _ => Err(not_found(2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Method::*;

    fn check(method: Method, path: &str, expected: Result<Operation, u16>) {
        let segments: Vec<&str> = path.split('/').collect();
        let got = resolve(method, &segments).map_err(|e| e.status());
        assert_eq!(got, expected, "{method:?} {path}");
    }

    #[test]
    fn table() {
        use Operation::*;
        let sid = || SensorId::new("abc");
        let cases = [
            (Get, "security/identities", Ok(GetIdentityContainer)),
            (Get, "security/identities/sensors", Ok(ListSensors)),
            (Get, "Security/Identities/SENSORS", Ok(ListSensors)),
            (Post, "security/identities/sensors", Err(405)),
            (Get, "security/identities/sensors/$count", Ok(CountSensors)),
            (Get, "security/identities/sensors/abc", Ok(GetSensor(sid()))),
            (Patch, "security/identities/sensors/abc", Ok(UpdateSensor(sid()))),
            (Delete, "security/identities/sensors/abc", Ok(DeleteSensor(sid()))),
            (Other, "security/identities/sensors/abc", Err(405)),
            (Get, "security/identities/sensors/getDeploymentAccessKey", Ok(GetDeploymentAccessKey)),
            (Get, "security/identities/sensors/getDeploymentAccessKey()", Ok(GetDeploymentAccessKey)),
            (Get, "security/identities/sensors/microsoft.graph.security.getDeploymentAccessKey()", Ok(GetDeploymentAccessKey)),
            (Get, "security/identities/sensors/microsoft.graph.security.getDeploymentAccessKey", Ok(GetDeploymentAccessKey)),
            (Post, "security/identities/sensors/getDeploymentAccessKey", Err(405)),
            (Post, "security/identities/sensors/microsoft.graph.security.regenerateDeploymentAccessKey", Ok(RegenerateDeploymentAccessKey)),
            (Post, "security/identities/sensors/regenerateDeploymentAccessKey()", Ok(RegenerateDeploymentAccessKey)),
            (Get, "security/identities/sensors/microsoft.graph.security.getDeploymentPackageUri()", Ok(GetDeploymentPackageUri)),
            (Get, "security/identities/sensors/abc/healthIssues", Ok(ListSensorHealthIssues(sid()))),
            (Get, "security/identities/sensors/abc/healthissues/$count", Ok(CountSensorHealthIssues(sid()))),
            (Get, "security/identities/sensors/abc/healthIssues/h1", Ok(GetSensorHealthIssue(sid(), HealthIssueId::new("h1")))),
            (Patch, "security/identities/sensors/abc/healthIssues/h1", Err(405)),
            (Get, "security/identities/sensors/abc/other", Err(400)),
            (Get, "security/identities/sensorCandidates", Ok(ListSensorCandidates)),
            (Get, "security/identities/sensorCandidates/$count", Ok(CountSensorCandidates)),
            (Post, "security/identities/sensorCandidates/microsoft.graph.security.activate", Ok(ActivateSensorCandidates)),
            (Post, "security/identities/sensorCandidates/activate", Ok(ActivateSensorCandidates)),
            (Get, "security/identities/sensorCandidates/c1", Ok(GetSensorCandidate(CandidateId::new("c1")))),
            (Delete, "security/identities/sensorCandidates/c1", Err(405)),
            (Get, "security/identities/sensorCandidateActivationConfiguration", Ok(GetActivationConfiguration)),
            (Patch, "security/identities/sensorCandidateActivationConfiguration", Ok(UpdateActivationConfiguration)),
            (Delete, "security/identities/sensorCandidateActivationConfiguration", Err(405)),
            (Post, "security/identities/sensorCandidateActivationConfigurations", Ok(UpdateActivationConfiguration)),
            (Get, "security/identities/healthissues", Ok(ListHealthIssues)),
            (Get, "security/identities/healthIssues/$count", Ok(CountHealthIssues)),
            (Patch, "security/identities/healthIssues/h1", Ok(UpdateHealthIssue(HealthIssueId::new("h1")))),
            (Post, "security/identities/healthIssues", Err(405)),
            (Get, "security/identities/identityAccounts", Ok(ListIdentityAccounts)),
            (Get, "security/identities/identityAccounts/$count", Ok(CountIdentityAccounts)),
            (Get, "security/identities/identityAccounts/i1", Ok(GetIdentityAccount("i1".into()))),
            (Post, "security/identities/identityAccounts/i1/invokeAction", Ok(InvokeAccountAction("i1".into()))),
            (Post, "security/identities/identityAccounts/i1/microsoft.graph.security.invokeAction", Ok(InvokeAccountAction("i1".into()))),
            (Get, "security/identities/identityAccounts/i1/invokeAction", Err(405)),
            (Post, "security/identities/identityAccounts", Err(405)),
            (Get, "security/identities/sensorMigration", Ok(ListSensorMigrations)),
            (Get, "security/identities/sensorMigration/$count", Ok(CountSensorMigrations)),
            (Get, "security/identities/sensorMigration/s1", Ok(GetSensorMigration("s1".into()))),
            (Post, "security/identities/sensorMigration/migrate", Ok(MigrateSensors)),
            (Post, "security/identities/sensorMigration/microsoft.graph.security.migrate", Ok(MigrateSensors)),
            (Get, "security/identities/sensorMigration/migrate", Err(405)),
            (Get, "security/alerts", Err(400)),
            (Get, "me", Err(400)),
            (Get, "organization", Ok(ListOrganization)),
            (Get, "Domains", Ok(ListDomains)),
            (Post, "domains", Err(405)),
            (Get, "organization/x", Err(400)),
            (Get, "security/identities/settings", Ok(GetSettings)),
            (Get, "security/identities/settings/autoAuditingConfiguration", Ok(GetAutoAuditingConfiguration)),
            (Patch, "security/identities/settings/autoAuditingConfiguration", Ok(UpdateAutoAuditingConfiguration)),
            (Post, "security/identities/settings/autoAuditingConfiguration", Ok(UpdateAutoAuditingConfiguration)),
            (Delete, "security/identities/settings/autoAuditingConfiguration", Err(405)),
            (Get, "security/identities/settings/other", Err(400)),
        ];
        for (m, p, e) in cases {
            check(m, p, e);
        }
    }
}
