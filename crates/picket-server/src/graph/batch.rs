//! JSON batching (spec §3.8): up to 20 requests, run in dependency order through the same
//! dispatcher as direct calls, each authorized on its own; a request whose dependency failed
//! answers 424.

use crate::context::GraphRequest;
use crate::context::RequestIds;
use crate::error::ApiError;
use crate::graph::body;
use crate::graph::dispatch::execute;
use crate::response::{Body, GraphResponse, JSON_CONTENT_TYPE};
use crate::state::AppState;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const MAX_BATCH_REQUESTS: usize = 20;

pub(crate) struct Item {
    id: String,
    method: String,
    url: String,
    content_type: Option<String>,
    body: Option<bytes::Bytes>,
    depends_on: Vec<String>,
}

pub async fn execute_batch(state: &AppState, outer: GraphRequest) -> GraphResponse {
    let ids = outer.ids.clone();
    match run(state, outer).await {
        Ok(r) => r,
        Err(e) => GraphResponse::error(&e, &ids.request_id, &ids.client_request_id),
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

/// The `requests` of a batch envelope: 1 to [`MAX_BATCH_REQUESTS`] items with distinct ids.
pub(crate) fn parse_items(envelope: &Map<String, Value>) -> Result<Vec<Item>, ApiError> {
    let requests = envelope
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("A batch body needs a 'requests' array"))?;
    if requests.is_empty() {
        return Err(bad("A batch must contain at least one request"));
    }
    if requests.len() > MAX_BATCH_REQUESTS {
        return Err(bad(format!(
            "A batch may contain at most {MAX_BATCH_REQUESTS} requests"
        )));
    }
    let items = requests
        .iter()
        .map(parse_item)
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::HashSet::new();
    for it in &items {
        if !seen.insert(it.id.to_ascii_lowercase()) {
            return Err(bad(format!(
                "Batch request id '{}' is used more than once",
                it.id
            )));
        }
    }
    Ok(items)
}

fn parse_item(value: &Value) -> Result<Item, ApiError> {
    let obj = value
        .as_object()
        .ok_or_else(|| bad("Each batch request must be a JSON object"))?;
    let text = |name: &str| -> Result<String, ApiError> {
        obj.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| bad(format!("Each batch request needs a string '{name}'")))
    };
    let id = text("id")?;
    picket_domain::limits::id("id", &id).map_err(|e| bad(format!("Batch request {e}")))?;
    let method = text("method")?.to_ascii_uppercase();
    let url = text("url")?;
    let headers = match obj.get("headers") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(h)) => h.clone(),
        Some(_) => {
            return Err(bad(format!(
                "Batch request '{id}': 'headers' must be an object"
            )))
        }
    };
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, v)| v.as_str().map(str::to_string));
    let body = match obj.get("body") {
        None | Some(Value::Null) => None,
        Some(b) => {
            if content_type.is_none() {
                return Err(bad(format!(
                    "Batch request '{id}': a body requires a Content-Type header"
                )));
            }
            Some(bytes::Bytes::from(
                serde_json::to_vec(b).unwrap_or_default(),
            ))
        }
    };
    let depends_on = match obj.get("dependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => body::string_list("dependsOn", v)?,
    };
    Ok(Item {
        id,
        method,
        url,
        content_type,
        body,
        depends_on,
    })
}

/// Orders items so every dependency runs first; unknown ids and cycles fail the whole batch.
fn order(items: &[Item]) -> Result<Vec<usize>, ApiError> {
    let index: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.to_ascii_lowercase(), i))
        .collect();
    let mut deps = Vec::with_capacity(items.len());
    for it in items {
        let mut d = Vec::new();
        for dep in &it.depends_on {
            let i = index.get(&dep.to_ascii_lowercase()).ok_or_else(|| {
                bad(format!(
                    "Batch request '{}' depends on unknown request '{dep}'",
                    it.id
                ))
            })?;
            d.push(*i);
        }
        deps.push(d);
    }
    let mut done = vec![false; items.len()];
    let mut out = Vec::with_capacity(items.len());
    while out.len() < items.len() {
        let ready = (0..items.len()).find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]));
        let i = ready.ok_or_else(|| bad("Batch requests have circular dependencies"))?;
        done[i] = true;
        out.push(i);
    }
    Ok(out)
}

async fn run(state: &AppState, outer: GraphRequest) -> Result<GraphResponse, ApiError> {
    // The batch itself needs a valid token, as on Graph; each inner request is then
    // authorized on its own.
    crate::access::authenticate(state, outer.authorization.as_deref()).await?;
    if outer.method != "POST" {
        return Err(ApiError::MethodNotAllowed);
    }
    if !outer
        .content_type
        .as_deref()
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"))
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    let envelope = body::json_object(&outer.body)?;
    let items = parse_items(&envelope)?;
    let mut statuses: Vec<Option<u16>> = vec![None; items.len()];
    let mut responses = Vec::with_capacity(items.len());
    for i in order(&items)? {
        let item = &items[i];
        let ids = RequestIds::new(Some(&outer.ids.client_request_id));
        let dep_failed = item.depends_on.iter().any(|dep| {
            items
                .iter()
                .position(|o| o.id.eq_ignore_ascii_case(dep))
                .and_then(|p| statuses[p])
                .is_none_or(|s| !(200..300).contains(&s))
        });
        let response = if dep_failed {
            GraphResponse::error(
                &ApiError::BadRequest("A request this one depends on failed".into()),
                &ids.request_id,
                &ids.client_request_id,
            )
            .with_status(424, "FailedDependency")
        } else {
            match inner_request(&outer, item, ids.clone()) {
                Ok(req) => execute(state, req).await,
                Err(e) => GraphResponse::error(&e, &ids.request_id, &ids.client_request_id),
            }
        };
        statuses[i] = Some(response.status);
        responses.push(render_item(&item.id, response));
    }
    Ok(GraphResponse::json(200, json!({ "responses": responses })))
}

/// An inner URL is relative to the version root; other versions and nested batches are refused.
fn inner_request(
    outer: &GraphRequest,
    item: &Item,
    ids: RequestIds,
) -> Result<GraphRequest, ApiError> {
    let url = item.url.trim_start_matches('/');
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let first = path.split('/').next().unwrap_or_default();
    if first.eq_ignore_ascii_case("v1.0")
        || first.eq_ignore_ascii_case("beta")
        || url.contains("://")
    {
        return Err(bad(
            "Batch request URLs must be relative to the version root of the batch",
        ));
    }
    if first.eq_ignore_ascii_case("$batch") {
        return Err(bad("Batches cannot be nested"));
    }
    Ok(GraphRequest {
        method: item.method.clone(),
        version: outer.version,
        path: path.to_string(),
        query: query.to_string(),
        authorization: outer.authorization.clone(),
        content_type: item.content_type.clone(),
        body: item.body.clone().unwrap_or_default(),
        ids,
        base_url: outer.base_url.clone(),
    })
}

fn render_item(id: &str, response: GraphResponse) -> Value {
    let mut headers = Map::new();
    let body = match response.body {
        Body::Json(v) => {
            headers.insert(
                "Content-Type".into(),
                Value::String(JSON_CONTENT_TYPE.into()),
            );
            Some(v)
        }
        Body::Raw(bytes) => {
            headers.insert(
                "Content-Type".into(),
                Value::String(JSON_CONTENT_TYPE.into()),
            );
            serde_json::from_slice(&bytes).ok()
        }
        // Non-JSON bodies travel base64-encoded in batch replies, as Graph sends them and the
        // SDKs decode them (spec §3.8).
        Body::Text(t) => {
            headers.insert("Content-Type".into(), Value::String("text/plain".into()));
            Some(Value::String(
                base64::engine::general_purpose::STANDARD.encode(t),
            ))
        }
        Body::Empty => None,
    };
    for (name, value) in response.headers {
        // A dropped connection inside a batch is that request's 502 alone.
        if name == crate::response::DROP_CONNECTION {
            continue;
        }
        headers.insert(name.into(), Value::String(value));
    }
    let mut out = Map::new();
    out.insert("id".into(), Value::String(id.into()));
    out.insert("status".into(), Value::from(response.status));
    out.insert("headers".into(), Value::Object(headers));
    if let Some(b) = body {
        out.insert("body".into(), b);
    }
    Value::Object(out)
}
