//! Request bodies: JSON objects only, with Graph-shaped errors for everything else.

use crate::error::ApiError;
use serde_json::{Map, Value};

pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("A request body is required".into()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest(
            "The request body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!(
            "Invalid JSON in request body: {e}"
        ))),
    }
}

/// Accepts an empty body or `{}` (for actions without parameters, spec §2.6).
pub fn empty_or_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    json_object(body)
}

/// `@odata.type` in a body may carry `#` or not, and must name the expected type (spec §3.4).
pub fn check_odata_type(value: &Value, expected: &str) -> Result<(), ApiError> {
    let given = value.as_str().unwrap_or_default();
    let bare = expected.trim_start_matches('#');
    if given.trim_start_matches('#').eq_ignore_ascii_case(bare) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "'@odata.type' must be '#{bare}'"
        )))
    }
}

pub fn unknown_property(name: &str, entity: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "Property '{name}' does not exist on type '{entity}'"
    ))
}

pub fn read_only_property(name: &str) -> ApiError {
    ApiError::BadRequest(format!("Property '{name}' is read-only and cannot be set"))
}

pub fn wrong_type(name: &str, expected: &str) -> ApiError {
    ApiError::BadRequest(format!("Property '{name}' must be {expected}"))
}

pub fn string_list(name: &str, value: &Value) -> Result<Vec<String>, ApiError> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(name, "an array of strings"))?;
    items
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| wrong_type(name, "an array of strings"))
        })
        .collect()
}
