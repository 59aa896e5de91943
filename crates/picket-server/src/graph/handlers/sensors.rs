//! Sensors: list, count, get (with `$expand=healthIssues`), update settings, delete (spec §2.1–2.4).

use super::Call;
use crate::error::ApiError;
use crate::graph::body::{
    self, check_odata_type, read_only_property, unknown_property, wrong_type,
};
use crate::graph::collection::{collection, entity_query, select_fragment, CollectionQuery};
use crate::graph::permissions::missing_permission;
use crate::graph::render::{self, Entity, SensorView};
use crate::response::GraphResponse;
use picket_auth::Permission;
use picket_domain::rules::SettingsPatch;
use picket_domain::schema::{sensor_schema, SENSOR_ENTITY};
use picket_domain::sensor_settings::SettingError;
use picket_domain::{HealthIssue, Sensor, SensorId};
use picket_odata::ValidatedQuery;
use serde_json::{Map, Value};
use std::collections::HashMap;

const HEALTH_READ: &[Permission] = &[Permission::HealthRead, Permission::HealthReadWrite];
fn not_found(id: &SensorId) -> ApiError {
    ApiError::NotFound(format!("Sensor '{id}' was not found"))
}

/// Expanding issues reads health data, so it needs a health permission too (spec §2.0).
fn check_expand(call: &Call<'_>, query: &ValidatedQuery) -> Result<bool, ApiError> {
    let expand = query.expand.contains(&"healthIssues");
    if expand && !call.caller.has_any(HEALTH_READ) {
        return Err(missing_permission(call.caller, HEALTH_READ));
    }
    Ok(expand)
}

/// The issues `$expand=healthIssues` embeds, per sensor of the page, in page order (not paged
/// themselves, spec §2.2).
async fn expanded_issues(
    call: &Call<'_>,
    sensors: &[Sensor],
) -> Result<Vec<Vec<HealthIssue>>, ApiError> {
    let ids: Vec<SensorId> = sensors.iter().map(|s| s.id.clone()).collect();
    let mut by_sensor: HashMap<SensorId, Vec<HealthIssue>> = HashMap::new();
    for (sensor, issue) in call
        .state
        .store
        .health_issues_of_sensors(call.tenant(), &ids)
        .await?
    {
        by_sensor.entry(sensor).or_default().push(issue);
    }
    Ok(ids
        .iter()
        .map(|id| by_sensor.remove(id).unwrap_or_default())
        .collect())
}

pub async fn list_sensors(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let query = CollectionQuery::parse(call.query, sensor_schema(call.ctx.version.is_beta()))?;
    let expand = check_expand(call, &query.valid)?;
    let page_request = query.page_request(call.state.settings.default_page_size);
    let store = &call.state.store;
    let page = store
        .list_sensors(call.tenant(), &query.valid, page_request)
        .await?;
    let total = if query.valid.count {
        Some(store.count_sensors(call.tenant(), &query.valid).await?)
    } else {
        None
    };
    let mut issues = if expand {
        expanded_issues(call, &page.items).await?.into_iter()
    } else {
        Vec::new().into_iter()
    };
    let (beta, select) = (call.ctx.version.is_beta(), query.valid.select.as_deref());
    let migrations = super::sensor_migration::recorded_states(call).await?;
    let body = collection(
        call.ctx,
        "security/identities/sensors",
        &query,
        page_request,
        &page,
        total,
        |sensor| SensorView {
            sensor,
            beta,
            select,
            issues: issues.next(),
            migrations: migrations.as_ref(),
        },
    );
    GraphResponse::serialized(200, &body)
}

pub async fn count_sensors(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let query = CollectionQuery::parse(call.query, sensor_schema(call.ctx.version.is_beta()))?;
    let n = call
        .state
        .store
        .count_sensors(call.tenant(), &query.valid)
        .await?;
    Ok(GraphResponse::text(n.to_string()))
}

pub async fn get_sensor(call: &Call<'_>, id: &SensorId) -> Result<GraphResponse, ApiError> {
    let query = entity_query(call.query, sensor_schema(call.ctx.version.is_beta()))?;
    let expand = check_expand(call, &query)?;
    let sensor = call
        .state
        .store
        .find_sensor(call.tenant(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let issues = if expand {
        expanded_issues(call, std::slice::from_ref(&sensor))
            .await?
            .pop()
    } else {
        None
    };
    let migrations = super::sensor_migration::recorded_states(call).await?;
    let body = Entity {
        context: call.ctx.metadata(&select_fragment(
            "security/identities/sensors/$entity",
            &query,
        )),
        fields: SensorView {
            sensor: &sensor,
            beta: call.ctx.version.is_beta(),
            select: query.select.as_deref(),
            issues,
            migrations: migrations.as_ref(),
        },
    };
    GraphResponse::serialized(200, &body)
}

/// Reads a PATCH body: only `settings` may change; read-only and unknown properties are refused
/// so a typo never silently does nothing (spec §2.3).
pub(crate) fn settings_patch(
    body: &Map<String, Value>,
    id: &SensorId,
) -> Result<SettingsPatch, ApiError> {
    const READ_ONLY: &[&str] = &[
        "createdDateTime",
        "deploymentStatus",
        "displayName",
        "domainName",
        "healthStatus",
        "openHealthIssuesCount",
        "sensorType",
        "serviceStatus",
        "version",
        "healthIssues",
        "migrationState",
    ];
    let mut patch = SettingsPatch::default();
    for (name, value) in body {
        match name.as_str() {
            "@odata.type" => check_odata_type(value, render::SENSOR_TYPE)?,
            "id" if value.as_str() == Some(id.as_str()) => {}
            "settings" => {
                let settings = value
                    .as_object()
                    .ok_or_else(|| wrong_type("settings", "an object"))?;
                for (key, v) in settings {
                    if key == "@odata.type" {
                        check_odata_type(v, render::SETTINGS_TYPE)?;
                        continue;
                    }
                    patch.set(key, v).map_err(|e| match e {
                        SettingError::Unknown => {
                            unknown_property(key, "microsoft.graph.security.sensorSettings")
                        }
                        SettingError::WrongType(expected) => wrong_type(key, expected),
                        SettingError::OutOfBounds(bound) => bound.into(),
                    })?;
                }
            }
            other if READ_ONLY.contains(&other) || other == "id" => {
                return Err(read_only_property(other))
            }
            other => return Err(unknown_property(other, SENSOR_ENTITY)),
        }
    }
    Ok(patch)
}

pub async fn update_sensor(call: &Call<'_>, id: &SensorId) -> Result<GraphResponse, ApiError> {
    let body = body::json_object(call.body)?;
    let patch = settings_patch(&body, id)?;
    let sensor = call
        .state
        .store
        .save_sensor_settings(call.tenant(), id, &patch)
        .await?
        .ok_or_else(|| not_found(id))?;
    let migrations = super::sensor_migration::recorded_states(call).await?;
    let body = Entity {
        context: call.ctx.metadata("security/identities/sensors/$entity"),
        fields: SensorView {
            sensor: &sensor,
            beta: call.ctx.version.is_beta(),
            select: None,
            issues: None,
            migrations: migrations.as_ref(),
        },
    };
    GraphResponse::serialized(200, &body)
}

pub async fn delete_sensor(call: &Call<'_>, id: &SensorId) -> Result<GraphResponse, ApiError> {
    if call
        .state
        .store
        .delete_sensor(call.tenant(), id, call.now)
        .await?
    {
        Ok(GraphResponse::empty(204))
    } else {
        Err(not_found(id))
    }
}

/// Used by the health-issue handlers: a sensor's issue list needs the sensor to exist.
pub async fn require_sensor(call: &Call<'_>, id: &SensorId) -> Result<(), ApiError> {
    call.state
        .store
        .find_sensor(call.tenant(), id)
        .await?
        .map(|_| ())
        .ok_or_else(|| not_found(id))
}
