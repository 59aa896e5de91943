//! Health issues: list, count, get, update status, and the same reads under a sensor
//! (spec §2.12–2.15).

use super::sensors::require_sensor;
use super::Call;
use crate::error::ApiError;
use crate::graph::body::{
    self, check_odata_type, read_only_property, unknown_property, wrong_type,
};
use crate::graph::collection::{collection, entity_query, select_fragment, CollectionQuery};
use crate::graph::render::{self, Entity, IssueView};
use crate::response::GraphResponse;
use picket_domain::rules::check_issue_status;
use picket_domain::schema::{health_issue_schema, HEALTH_ISSUE_ENTITY};
use picket_domain::{HealthIssueId, HealthIssueStatus, SensorId};
use picket_store::IssueScope;

fn not_found(id: &HealthIssueId) -> ApiError {
    ApiError::NotFound(format!("Health issue '{id}' was not found"))
}

async fn list(
    call: &Call<'_>,
    scope: IssueScope,
    fragment: &str,
) -> Result<GraphResponse, ApiError> {
    let query = CollectionQuery::parse(call.query, health_issue_schema())?;
    if !query.valid.expand.is_empty() {
        return Err(ApiError::BadRequest(
            "Health issues have no navigation properties to expand".into(),
        ));
    }
    let page_request = query.page_request(call.state.settings.default_page_size);
    let store = &call.state.store;
    let page = store
        .list_health_issues(call.tenant(), &scope, &query.valid, page_request)
        .await?;
    let total = if query.valid.count {
        Some(
            store
                .count_health_issues(call.tenant(), &scope, &query.valid)
                .await?,
        )
    } else {
        None
    };
    let select = query.valid.select.as_deref();
    let body = collection(
        call.ctx,
        fragment,
        &query,
        page_request,
        &page,
        total,
        |issue| IssueView { issue, select },
    );
    GraphResponse::serialized(200, &body)
}

async fn count(call: &Call<'_>, scope: IssueScope) -> Result<GraphResponse, ApiError> {
    let query = CollectionQuery::parse(call.query, health_issue_schema())?;
    let n = call
        .state
        .store
        .count_health_issues(call.tenant(), &scope, &query.valid)
        .await?;
    Ok(GraphResponse::text(n.to_string()))
}

async fn get(
    call: &Call<'_>,
    scope: IssueScope,
    id: &HealthIssueId,
) -> Result<GraphResponse, ApiError> {
    let query = entity_query(call.query, health_issue_schema())?;
    let issue = call
        .state
        .store
        .find_health_issue(call.tenant(), &scope, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let body = Entity {
        context: call.ctx.metadata(&select_fragment(
            "security/identities/healthIssues/$entity",
            &query,
        )),
        fields: IssueView {
            issue: &issue,
            select: query.select.as_deref(),
        },
    };
    GraphResponse::serialized(200, &body)
}

pub async fn list_health_issues(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    list(call, IssueScope::Tenant, "security/identities/healthIssues").await
}

pub async fn count_health_issues(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    count(call, IssueScope::Tenant).await
}

pub async fn get_health_issue(
    call: &Call<'_>,
    id: &HealthIssueId,
) -> Result<GraphResponse, ApiError> {
    get(call, IssueScope::Tenant, id).await
}

pub async fn list_sensor_health_issues(
    call: &Call<'_>,
    sensor: &SensorId,
) -> Result<GraphResponse, ApiError> {
    require_sensor(call, sensor).await?;
    let fragment = format!("security/identities/sensors('{sensor}')/healthIssues");
    list(call, IssueScope::Sensor(sensor.clone()), &fragment).await
}

pub async fn count_sensor_health_issues(
    call: &Call<'_>,
    sensor: &SensorId,
) -> Result<GraphResponse, ApiError> {
    require_sensor(call, sensor).await?;
    count(call, IssueScope::Sensor(sensor.clone())).await
}

pub async fn get_sensor_health_issue(
    call: &Call<'_>,
    sensor: &SensorId,
    id: &HealthIssueId,
) -> Result<GraphResponse, ApiError> {
    require_sensor(call, sensor).await?;
    get(call, IssueScope::Sensor(sensor.clone()), id).await
}

/// Only `status` is writable (spec §2.14).
pub async fn update_health_issue(
    call: &Call<'_>,
    id: &HealthIssueId,
) -> Result<GraphResponse, ApiError> {
    let body = body::json_object(call.body)?;
    let mut status = None;
    for (name, value) in &body {
        match name.as_str() {
            "@odata.type" => check_odata_type(value, render::HEALTH_ISSUE_TYPE)?,
            "status" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| wrong_type("status", "a string"))?;
                let parsed = HealthIssueStatus::parse(text).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "'{text}' is not a valid value for property 'status'; expected one of: open, closed, suppressed"
                    ))
                })?;
                status = Some(check_issue_status(parsed)?);
            }
            other if health_issue_schema().selectable.contains(&other) => {
                return Err(read_only_property(other))
            }
            other => return Err(unknown_property(other, HEALTH_ISSUE_ENTITY)),
        }
    }
    let status =
        status.ok_or_else(|| ApiError::BadRequest("Property 'status' is required".into()))?;
    let issue = call
        .state
        .store
        .save_health_issue_status(call.tenant(), id, status, call.now)
        .await?
        .ok_or_else(|| not_found(id))?;
    let body = Entity {
        context: call
            .ctx
            .metadata("security/identities/healthIssues/$entity"),
        fields: IssueView {
            issue: &issue,
            select: None,
        },
    };
    GraphResponse::serialized(200, &body)
}
