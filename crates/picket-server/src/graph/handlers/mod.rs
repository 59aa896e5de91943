//! Thin handlers, one per Graph operation: read the input, ask the store, render the answer.

mod access_key;
mod activation_configuration;
mod auto_auditing;
mod directory;
mod health_issues;
pub(crate) mod identity_accounts;
mod network_adapters;
mod sensor_candidates;
mod sensor_migration;
pub(crate) mod sensors;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::graph::routes::Operation;
use crate::response::GraphResponse;
use crate::state::AppState;
use picket_auth::Caller;
use picket_domain::time::Timestamp;

/// Everything a handler may read.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub ctx: &'a RequestContext,
    pub caller: &'a Caller,
    pub query: &'a str,
    pub body: &'a [u8],
    pub now: Timestamp,
}

impl Call<'_> {
    pub fn tenant(&self) -> &picket_domain::TenantId {
        &self.caller.tenant
    }
}

pub async fn handle(op: &Operation, call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    use Operation::*;
    match op {
        GetIdentityContainer => Ok(GraphResponse::json(
            200,
            serde_json::json!({
                "@odata.context": call.ctx.metadata("security/identities/$entity"),
                "@odata.type": "#microsoft.graph.security.identityContainer",
            }),
        )),
        ListSensors => sensors::list_sensors(call).await,
        CountSensors => sensors::count_sensors(call).await,
        GetSensor(id) => sensors::get_sensor(call, id).await,
        UpdateSensor(id) => sensors::update_sensor(call, id).await,
        DeleteSensor(id) => sensors::delete_sensor(call, id).await,
        ListSensorHealthIssues(id) => health_issues::list_sensor_health_issues(call, id).await,
        CountSensorHealthIssues(id) => health_issues::count_sensor_health_issues(call, id).await,
        GetSensorHealthIssue(sensor, id) => {
            health_issues::get_sensor_health_issue(call, sensor, id).await
        }
        GetDeploymentAccessKey => access_key::get_deployment_access_key(call).await,
        RegenerateDeploymentAccessKey => access_key::regenerate_deployment_access_key(call).await,
        GetDeploymentPackageUri => access_key::get_deployment_package_uri(call).await,
        ListSensorCandidates => sensor_candidates::list_sensor_candidates(call).await,
        CountSensorCandidates => sensor_candidates::count_sensor_candidates(call).await,
        GetSensorCandidate(id) => sensor_candidates::get_sensor_candidate(call, id).await,
        ActivateSensorCandidates => sensor_candidates::activate_sensor_candidates(call).await,
        GetActivationConfiguration => {
            activation_configuration::get_activation_configuration(call).await
        }
        UpdateActivationConfiguration => {
            activation_configuration::update_activation_configuration(call).await
        }
        ListHealthIssues => health_issues::list_health_issues(call).await,
        CountHealthIssues => health_issues::count_health_issues(call).await,
        GetHealthIssue(id) => health_issues::get_health_issue(call, id).await,
        UpdateHealthIssue(id) => health_issues::update_health_issue(call, id).await,
        GetSettings => auto_auditing::get_settings(call).await,
        GetAutoAuditingConfiguration => auto_auditing::get_auto_auditing(call).await,
        UpdateAutoAuditingConfiguration => auto_auditing::update_auto_auditing(call).await,
        ListOrganization => directory::list_organization(call).await,
        ListDomains => directory::list_domains(call).await,
        ListIdentityAccounts => identity_accounts::list(call).await,
        CountIdentityAccounts => identity_accounts::count(call).await,
        GetIdentityAccount(id) => identity_accounts::get(call, id).await,
        InvokeAccountAction(id) => identity_accounts::invoke_action(call, id).await,
        ListNetworkAdapters(sensor) => network_adapters::list(call, sensor).await,
        GetNetworkAdapter(sensor, id) => network_adapters::get(call, sensor, id).await,
        UpdateNetworkAdapter(sensor, id) => network_adapters::update(call, sensor, id).await,
        ListSensorMigrations => sensor_migration::list(call).await,
        CountSensorMigrations => sensor_migration::count(call).await,
        GetSensorMigration(id) => sensor_migration::get(call, id).await,
        MigrateSensors => sensor_migration::migrate(call).await,
    }
}
