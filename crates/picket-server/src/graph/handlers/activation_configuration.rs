//! The candidate activation configuration singleton (spec §2.10, §2.11).

use super::Call;
use crate::error::ApiError;
use crate::graph::body::{self, check_odata_type, unknown_property, wrong_type};
use crate::graph::render;
use crate::response::GraphResponse;
use picket_domain::ActivationMode;
use serde_json::json;

fn body_of(call: &Call<'_>, mode: ActivationMode) -> serde_json::Value {
    json!({
        "@odata.context": call.ctx.metadata("security/identities/sensorCandidateActivationConfiguration/$entity"),
        "@odata.type": render::ACTIVATION_CONFIGURATION_TYPE,
        "activationMode": mode.as_str(),
    })
}

/// Query options are ignored here, as the docs disagree on them (spec §5 D13).
pub async fn get_activation_configuration(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let mode = call.state.store.activation_mode(call.tenant()).await?;
    Ok(GraphResponse::json(200, body_of(call, mode)))
}

/// PATCH on the singleton or POST on the documented plural: same effect, and the resulting
/// object as the body (spec §2.11).
pub async fn update_activation_configuration(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let body = body::json_object(call.body)?;
    let mut mode = None;
    for (name, value) in &body {
        match name.as_str() {
            "@odata.type" => check_odata_type(value, render::ACTIVATION_CONFIGURATION_TYPE)?,
            "activationMode" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| wrong_type("activationMode", "a string"))?;
                mode = match ActivationMode::parse(text) {
                    Some(m) if m != ActivationMode::UnknownFutureValue => Some(m),
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "'{text}' is not a valid value for property 'activationMode'; expected one of: manual, automated"
                        )))
                    }
                };
            }
            "id" => {}
            other => {
                return Err(unknown_property(
                    other,
                    "microsoft.graph.security.sensorCandidateActivationConfiguration",
                ))
            }
        }
    }
    let mode =
        mode.ok_or_else(|| ApiError::BadRequest("Property 'activationMode' is required".into()))?;
    call.state
        .store
        .save_activation_mode(call.tenant(), mode, call.now)
        .await?;
    Ok(GraphResponse::json(200, body_of(call, mode)))
}
