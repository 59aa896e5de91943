//! Account actions on their way through the fleet (spec §7.4): an Active Directory action
//! waits until a domain-controller sensor of the account's domain checks in, travels in that
//! check-in's answer, and its outcome comes back with the sensor's next check-in; then the
//! identity changes (`disable`/`enable` turn `isEnabled`) and the audit log says how it ended.

use crate::state::AppState;
use picket_domain::identity_accounts::apply;
use picket_domain::time::{format_timestamp, Timestamp};
use picket_domain::{Sensor, SensorType, TenantId};
use picket_protocol::{outcome, AccountActionOrder, ActionResult};
use picket_store::identity_accounts::{self as store, ActionStatus};
use picket_store::{NewAuditEntry, StoreError};

/// At most this many outcomes per check-in.
pub const MAX_RESULTS: usize = 50;

fn carries_actions(sensor: &Sensor) -> bool {
    matches!(
        sensor.sensor_type,
        SensorType::DomainControllerIntegrated | SensorType::DomainControllerStandalone
    )
}

/// Records the outcomes `sensor` reports and answers the orders waiting for its domain.
pub async fn exchange(
    state: &AppState,
    tenant: &TenantId,
    sensor: &Sensor,
    results: Vec<ActionResult>,
    now: Timestamp,
) -> Result<Vec<AccountActionOrder>, StoreError> {
    let s = state.store.as_ref();
    if !carries_actions(sensor) || !state.pending_actions.any(s, tenant).await? {
        return Ok(Vec::new());
    }
    let mut pending = store::pending_in_domain(s, tenant, &sensor.domain_name).await?;
    for result in results.into_iter().take(MAX_RESULTS) {
        let Some(at) = pending
            .iter()
            .position(|p| p.correlation_id == result.correlation_id)
        else {
            // Unknown, another domain's, or already settled (a repeated report): nothing to do.
            continue;
        };
        let mut record = pending.remove(at);
        let done = result.outcome == outcome::DONE;
        record.status = if done {
            ActionStatus::Done
        } else {
            ActionStatus::Failed
        };
        record.completed_date_time = Some(format_timestamp(&now));
        record.detail = Some(
            result
                .detail
                .unwrap_or_default()
                .chars()
                .take(512)
                .collect::<String>(),
        )
        .filter(|d| !d.is_empty())
        .or(Some(format!("reported by sensor {}", sensor.id)));
        let identity = if done {
            store::find(s, tenant, &record.identity_id)
                .await?
                .map(|mut i| {
                    apply(&mut i, record.action);
                    i
                })
        } else {
            None
        };
        store::record_action(s, tenant, &record, identity.as_ref()).await?;
        let entry = NewAuditEntry {
            time: now,
            tenant: tenant.clone(),
            actor: format!("sensor:{}", sensor.id),
            operation: "accountAction".into(),
            target: format!(
                "security/identities/identityAccounts/{}",
                record.identity_id
            ),
            result: record.status.as_str().into(),
            request_id: record.correlation_id.clone(),
            detail: Some(format!(
                "correlationId {}; {} {} ({}): {}",
                record.correlation_id,
                record.action.as_str(),
                record.account_id,
                record.identity_provider.as_str(),
                record.detail.as_deref().unwrap_or("")
            )),
        };
        crate::audit::record(state, &entry).await;
    }
    Ok(pending
        .iter()
        .map(|p| AccountActionOrder {
            correlation_id: p.correlation_id.clone(),
            action: p.action.as_str().into(),
            account_id: p.account_id.clone(),
        })
        .collect())
}
