//! Audit records for Graph writes and token issuance. An entry names who did what to which
//! target with what result; request bodies are reduced to the property names they touched,
//! so no value (and never a secret) is written.

use crate::context::GraphRequest;
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
    operation: &str,
    req: &GraphRequest,
    status: u16,
    now: Timestamp,
) {
    let target = percent_encoding::percent_decode_str(&req.path)
        .decode_utf8_lossy()
        .into_owned();
    let entry = NewAuditEntry {
        time: now,
        tenant: caller.tenant.clone(),
        actor: caller.actor(),
        operation: operation.to_string(),
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

/// Records a call of `caller` outside Graph (`/admin/v1`): its operation, target and status.
pub async fn record_call(
    state: &AppState,
    caller: &Caller,
    operation: &str,
    target: &str,
    status: u16,
) {
    let entry = NewAuditEntry {
        time: state.clock.now(),
        tenant: caller.tenant.clone(),
        actor: caller.actor(),
        operation: operation.into(),
        target: target.into(),
        result: status.to_string(),
        request_id: uuid::Uuid::new_v4().to_string(),
        detail: None,
    };
    record(state, &entry).await;
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
