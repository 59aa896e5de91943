//! `sensors/{id}/settings/networkAdapters` (spec §7.1): the adapters a sensor reported, and
//! whether it captures traffic on each (`PATCH isEnabled`).

use super::Call;
use crate::error::ApiError;
use crate::graph::body::{self, check_odata_type, unknown_property, wrong_type};
use crate::response::GraphResponse;
use picket_domain::SensorId;
use picket_store::network_adapters::{self as store, NetworkAdapter};
use serde_json::{json, Value};

pub const NETWORK_ADAPTER_TYPE: &str = "#microsoft.graph.security.networkAdapter";

fn view(a: &NetworkAdapter) -> Value {
    json!({
        "@odata.type": NETWORK_ADAPTER_TYPE,
        "id": a.id,
        "name": a.name,
        "isEnabled": a.is_enabled,
    })
}

/// The sensor's adapters; 404 for an unknown sensor.
async fn adapters(call: &Call<'_>, sensor: &SensorId) -> Result<Vec<NetworkAdapter>, ApiError> {
    if call
        .state
        .store
        .find_sensor(call.tenant(), sensor)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!(
            "Sensor '{sensor}' was not found"
        )));
    }
    Ok(store::of_sensor(call.state.store.as_ref(), call.tenant(), sensor.as_str()).await?)
}

fn context(call: &Call<'_>, sensor: &SensorId, entity: bool) -> String {
    let path = format!("security/identities/sensors('{sensor}')/settings/networkAdapters");
    call.ctx.metadata(&if entity {
        format!("{path}/$entity")
    } else {
        path
    })
}

pub async fn list(call: &Call<'_>, sensor: &SensorId) -> Result<GraphResponse, ApiError> {
    let all = adapters(call, sensor).await?;
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": context(call, sensor, false),
            "value": all.iter().map(view).collect::<Vec<_>>(),
        }),
    ))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Network adapter '{id}' was not found"))
}

pub async fn get(call: &Call<'_>, sensor: &SensorId, id: &str) -> Result<GraphResponse, ApiError> {
    let all = adapters(call, sensor).await?;
    let adapter = all
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found(id))?;
    let mut body = view(adapter);
    body["@odata.context"] = json!(context(call, sensor, true));
    Ok(GraphResponse::json(200, body))
}

/// `{"isEnabled": bool}`: whether the sensor captures on this adapter; answers the adapter.
pub async fn update(
    call: &Call<'_>,
    sensor: &SensorId,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let body = body::json_object(call.body)?;
    let mut enabled = None;
    for (name, value) in &body {
        match name.as_str() {
            "@odata.type" => check_odata_type(value, NETWORK_ADAPTER_TYPE)?,
            "isEnabled" => {
                enabled = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| wrong_type("isEnabled", "a boolean"))?,
                )
            }
            "id" | "name" => {
                return Err(ApiError::BadRequest(format!(
                    "Property '{name}' is read-only"
                )))
            }
            other => {
                return Err(unknown_property(
                    other,
                    "microsoft.graph.security.networkAdapter",
                ))
            }
        }
    }
    let enabled =
        enabled.ok_or_else(|| ApiError::BadRequest("Property 'isEnabled' is required".into()))?;
    let mut all = adapters(call, sensor).await?;
    let adapter = all
        .iter_mut()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found(id))?;
    adapter.is_enabled = enabled;
    let changed = adapter.clone();
    store::put(
        call.state.store.as_ref(),
        call.tenant(),
        &[(sensor.to_string(), all)],
    )
    .await?;
    let mut body = view(&changed);
    body["@odata.context"] = json!(context(call, sensor, true));
    Ok(GraphResponse::json(200, body))
}
