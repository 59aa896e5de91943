//! Sensor candidates: list, count, get, and `activate` (spec §2.8, §2.9).

use super::Call;
use crate::error::ApiError;
use crate::graph::body::{self, unknown_property, wrong_type};
use crate::graph::collection::{collection, entity_query, select_fragment, CollectionQuery};
use crate::graph::render::{CandidateView, Entity};
use crate::response::GraphResponse;
use picket_domain::schema::candidate_schema;
use picket_domain::CandidateId;

/// One activation call may name at most this many servers; larger lists are split by clients.
const MAX_SERVER_IDS: usize = 1000;

pub async fn list_sensor_candidates(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let query = CollectionQuery::parse(call.query, candidate_schema())?;
    if !query.valid.expand.is_empty() {
        return Err(ApiError::BadRequest(
            "Sensor candidates have no navigation properties to expand".into(),
        ));
    }
    let page_request = query.page_request(call.state.settings.default_page_size);
    let store = &call.state.store;
    let page = store
        .list_candidates(call.tenant(), &query.valid, page_request)
        .await?;
    let total = if query.valid.count {
        Some(store.count_candidates(call.tenant(), &query.valid).await?)
    } else {
        None
    };
    let select = query.valid.select.as_deref();
    let body = collection(
        call.ctx,
        "security/identities/sensorCandidates",
        &query,
        page_request,
        &page,
        total,
        |candidate| CandidateView {
            candidate,
            select,
            beta: call.ctx.version.is_beta(),
        },
    );
    GraphResponse::serialized(200, &body)
}

pub async fn count_sensor_candidates(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let query = CollectionQuery::parse(call.query, candidate_schema())?;
    let n = call
        .state
        .store
        .count_candidates(call.tenant(), &query.valid)
        .await?;
    Ok(GraphResponse::text(n.to_string()))
}

pub async fn get_sensor_candidate(
    call: &Call<'_>,
    id: &CandidateId,
) -> Result<GraphResponse, ApiError> {
    let query = entity_query(call.query, candidate_schema())?;
    let candidate = call
        .state
        .store
        .find_candidate(call.tenant(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Sensor candidate '{id}' was not found")))?;
    let body = Entity {
        context: call.ctx.metadata(&select_fragment(
            "security/identities/sensorCandidates/$entity",
            &query,
        )),
        fields: CandidateView {
            candidate: &candidate,
            select: query.select.as_deref(),
            beta: call.ctx.version.is_beta(),
        },
    };
    GraphResponse::serialized(200, &body)
}

/// `{"serverIds": [...]}`: every id is checked before anything changes; answers 200 with no
/// body as documented (spec §5 D15).
pub async fn activate_sensor_candidates(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let body = body::json_object(call.body)?;
    let mut ids = None;
    for (name, value) in &body {
        match name.as_str() {
            "serverIds" => ids = Some(body::string_list(name, value)?),
            other => return Err(unknown_property(other, "microsoft.graph.security.activate")),
        }
    }
    let ids =
        ids.ok_or_else(|| ApiError::BadRequest("Parameter 'serverIds' is required".into()))?;
    if ids.is_empty() {
        return Err(ApiError::BadRequest(
            "Parameter 'serverIds' must name at least one server".into(),
        ));
    }
    if ids.len() > MAX_SERVER_IDS {
        return Err(ApiError::BadRequest(format!(
            "Parameter 'serverIds' may name at most {MAX_SERVER_IDS} servers"
        )));
    }
    if ids.iter().any(|id| id.trim().is_empty()) {
        return Err(wrong_type("serverIds", "an array of non-empty strings"));
    }
    for (i, id) in ids.iter().enumerate() {
        picket_domain::limits::id(&format!("serverIds[{i}]"), id)?;
    }
    let ids: Vec<CandidateId> = ids.into_iter().map(CandidateId::new).collect();
    call.state
        .store
        .activate_candidates(call.tenant(), &ids, call.now)
        .await?;
    Ok(GraphResponse::empty(200))
}
