//! The deployment access key and package functions bound to the sensors collection
//! (spec §2.5–2.7). Results sit at the root of the body, not under `value` (spec §0, §5 D2),
//! and the key is emitted under both documented names (spec §5 D1).

use super::Call;
use crate::error::ApiError;
use crate::graph::body;
use crate::graph::render;
use crate::response::GraphResponse;
use picket_domain::DeploymentAccessKey;
use serde_json::json;

fn key_body(call: &Call<'_>, key: &DeploymentAccessKey) -> serde_json::Value {
    json!({
        "@odata.context": call.ctx.metadata("microsoft.graph.security.deploymentAccessKeyType"),
        "@odata.type": render::ACCESS_KEY_TYPE,
        "deploymentAccessKey": key.expose(),
        "sensorDeploymentAccessKey": key.expose(),
    })
}

pub async fn get_deployment_access_key(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let key = call
        .state
        .store
        .deployment_access_key(call.tenant())
        .await?;
    Ok(GraphResponse::json(200, key_body(call, &key)))
}

/// The old key stops working for new registrations as soon as this returns (spec §2.6).
pub async fn regenerate_deployment_access_key(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    // The action takes no parameters (spec §2.6): an empty body or `{}` only.
    if let Some(name) = body::empty_or_object(call.body)?.keys().next() {
        return Err(body::unknown_property(
            name,
            "microsoft.graph.security.regenerateDeploymentAccessKey",
        ));
    }
    let key = call
        .state
        .store
        .regenerate_deployment_access_key(call.tenant())
        .await?;
    Ok(GraphResponse::json(200, key_body(call, &key)))
}

pub async fn get_deployment_package_uri(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let package = &call.state.settings.package;
    // The newest published release, when the catalogue has one beyond the configured package.
    let latest = call
        .state
        .fleet
        .policy()
        .releases
        .latest()
        .map(str::to_string);
    let version = latest.unwrap_or_else(|| package.version.clone());
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": call.ctx.metadata("microsoft.graph.security.sensorDeploymentPackage"),
            "@odata.type": render::PACKAGE_TYPE,
            "downloadUrl": if package.download_url.is_empty() {
                format!(
                    "{}{}",
                    call.ctx.base_url,
                    crate::agent::package::download_path(call.tenant(), &version)
                )
            } else {
                package.download_url.clone()
            },
            "version": version,
        }),
    ))
}
