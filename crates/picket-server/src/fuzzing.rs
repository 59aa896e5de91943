//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz) and for the hostile-input tests:
//! every decoder of bytes a client or a sensor sends, run as the server runs it. Each returns
//! whether the input was accepted; none may panic, whatever the bytes.

use crate::agent;
use crate::graph::body;
use picket_domain::schema::{candidate_schema, health_issue_schema, sensor_schema};
use picket_domain::SensorId;

/// An `/agent/v1` body as the enrolment, candidate-report and check-in handlers decode it.
pub fn agent_body(data: &[u8]) -> bool {
    agent::decode_bodies(data)
}

/// A Graph request body as the write handlers and `$batch` decode it.
pub fn graph_body(data: &[u8]) -> bool {
    let Ok(object) = body::json_object(data) else {
        return false;
    };
    let patch_ok =
        crate::graph::handlers::sensors::settings_patch(&object, &SensorId::new("fuzz")).is_ok();
    let batch_ok = crate::graph::batch::parse_items(&object).is_ok();
    patch_ok || batch_ok
}

/// A query string (`$filter=…&$orderby=…`) parsed and validated against every entity schema.
pub fn odata_query(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(raw) = picket_odata::parse_query(text) else {
        return false;
    };
    [
        sensor_schema(false),
        sensor_schema(true),
        health_issue_schema(),
        candidate_schema(),
    ]
    .into_iter()
    .any(|schema| picket_odata::validate_query(&raw, schema).is_ok())
}
