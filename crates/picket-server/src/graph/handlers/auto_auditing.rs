//! `settings` and its `autoAuditingConfiguration` (spec §7.3): whether sensors configure the
//! Windows audit policies of their hosts themselves.

use super::Call;
use crate::error::ApiError;
use crate::graph::body::{self, check_odata_type, unknown_property, wrong_type};
use crate::response::GraphResponse;
use picket_store::tenant_settings;
use serde_json::json;

pub const SETTINGS_TYPE: &str = "#microsoft.graph.security.settingsContainer";
pub const AUTO_AUDITING_TYPE: &str = "#microsoft.graph.security.autoAuditingConfiguration";

pub async fn get_settings(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": call.ctx.metadata("security/identities/settings/$entity"),
            "@odata.type": SETTINGS_TYPE,
        }),
    ))
}

fn body_of(call: &Call<'_>, on: bool) -> serde_json::Value {
    json!({
        "@odata.context": call.ctx.metadata("security/identities/settings/autoAuditingConfiguration/$entity"),
        "@odata.type": AUTO_AUDITING_TYPE,
        "isAutomatic": on,
    })
}

pub async fn get_auto_auditing(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let on = tenant_settings::auto_auditing(call.state.store.as_ref(), call.tenant()).await?;
    Ok(GraphResponse::json(200, body_of(call, on)))
}

/// PATCH (the SDKs, v1.0 docs) or POST (older beta docs): `{"isAutomatic": bool}`; answers the
/// configuration as it now is.
pub async fn update_auto_auditing(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let body = body::json_object(call.body)?;
    let mut on = None;
    for (name, value) in &body {
        match name.as_str() {
            "@odata.type" => check_odata_type(value, AUTO_AUDITING_TYPE)?,
            "isAutomatic" => {
                on = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| wrong_type("isAutomatic", "a boolean"))?,
                )
            }
            "id" => {}
            other => {
                return Err(unknown_property(
                    other,
                    "microsoft.graph.security.autoAuditingConfiguration",
                ))
            }
        }
    }
    let on = on.ok_or_else(|| ApiError::BadRequest("Property 'isAutomatic' is required".into()))?;
    tenant_settings::set_auto_auditing(call.state.store.as_ref(), call.tenant(), on).await?;
    call.state.auto_auditing.remember(call.tenant(), on);
    Ok(GraphResponse::json(200, body_of(call, on)))
}
