//! Audit records for Graph writes and token issuance. An entry names who did what to which
//! target with what result; request bodies are reduced to the property names they touched,
//! so no value (and never a secret) is written.

use crate::dispatch::GraphRequest;
use crate::error::ApiError;
use crate::response::GraphResponse;
use crate::routes::Operation;
use crate::state::AppState;
use picket_auth::Caller;
use picket_domain::time::Timestamp;
use picket_domain::TenantId;
use picket_store::NewAuditEntry;

/// Records one Graph write. Failure to record is logged, not returned: the change itself has
/// already been committed and answered.
pub async fn record_request(
    state: &AppState,
    caller: &Caller,
    op: &Operation,
    req: &GraphRequest,
    result: &Result<GraphResponse, ApiError>,
    now: Timestamp,
) {
    let status = match result {
        Ok(r) => r.status,
        Err(e) => e.status(),
    };
    let target = percent_encoding::percent_decode_str(&req.path)
        .decode_utf8_lossy()
        .into_owned();
    let entry = NewAuditEntry {
        time: now,
        tenant: caller.tenant.clone(),
        actor: caller.actor(),
        operation: op.name().to_string(),
        target,
        result: status.to_string(),
        request_id: req.ids.request_id.clone(),
        detail: body_outline(&req.body),
    };
    record(state, &entry).await;
}

/// Records an entry made elsewhere (token endpoint, identity changes).
pub async fn record(state: &AppState, entry: &NewAuditEntry) {
    if let Err(e) = state.store.record_audit(entry).await {
        tracing::error!(operation = %entry.operation, error = %e, "cannot write the audit log");
    }
}

/// A token-endpoint entry for a known tenant.
pub fn token_entry(
    tenant: &TenantId,
    client_id: &str,
    result: &str,
    request_id: &str,
    detail: Option<String>,
    now: Timestamp,
) -> NewAuditEntry {
    NewAuditEntry {
        time: now,
        tenant: tenant.clone(),
        actor: format!("app:{client_id}"),
        operation: "issueToken".into(),
        target: "https://graph.microsoft.com/.default".into(),
        result: result.to_string(),
        request_id: request_id.to_string(),
        detail,
    }
}

/// `properties: a, settings/b` for a JSON object body; `None` when there is no body.
fn body_outline(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Some("body: not a JSON object".into());
    };
    let mut names = Vec::new();
    for (key, value) in &map {
        match value {
            serde_json::Value::Object(inner) if !inner.is_empty() => {
                names.extend(inner.keys().map(|k| format!("{key}/{k}")))
            }
            _ => names.push(key.clone()),
        }
    }
    Some(format!("properties: {}", names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_keys_not_values() {
        let body = br#"{"settings":{"description":"secret-ish","isDelayedDeploymentEnabled":true},"status":"closed"}"#;
        let outline = body_outline(body).expect("outline");
        assert_eq!(
            outline,
            "properties: settings/description, settings/isDelayedDeploymentEnabled, status"
        );
        assert!(!outline.contains("secret-ish"));
        assert_eq!(body_outline(b""), None);
        assert_eq!(
            body_outline(b"[1]").as_deref(),
            Some("body: not a JSON object")
        );
    }
}
