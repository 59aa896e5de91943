//! A migrating sensor's check-ins (spec §7.2): while its move is under way, each answer orders
//! the agent to migrate to the unified sensor; a check-in reporting the unified version
//! settles it `upToDate`, one reporting a failure settles it `migrationFailed` (the agent
//! reports the failure as a host issue too, so the health issue follows the usual rules).

use crate::state::AppState;
use picket_domain::fleet::migration::{after_check_in, UNIFIED_SENSOR_VERSION};
use picket_domain::time::{format_timestamp, Timestamp};
use picket_domain::{MigrationState, Sensor, TenantId};
use picket_protocol::{migration_state, Command, MigrationReport};
use picket_store::sensor_migrations;
use picket_store::StoreError;

/// Settles what this check-in says and answers the order to give, if any.
pub async fn exchange(
    state: &AppState,
    tenant: &TenantId,
    sensor: &Sensor,
    reported_version: &str,
    report: Option<MigrationReport>,
    now: Timestamp,
) -> Result<Option<Command>, StoreError> {
    let s = state.store.as_ref();
    if !state.migrations.any(s, tenant).await? {
        return Ok(None);
    }
    let Some(mut record) = sensor_migrations::find(s, tenant, sensor.id.as_str()).await? else {
        return Ok(None);
    };
    if record.state != MigrationState::Migrating {
        return Ok(None);
    }
    let failed = report
        .as_ref()
        .is_some_and(|r| r.state == migration_state::FAILED);
    let next = after_check_in(reported_version, failed);
    if next != MigrationState::Migrating {
        record.state = next;
        record.completed_date_time = Some(format_timestamp(&now));
        record.detail = report
            .and_then(|r| r.detail)
            .map(|d| d.chars().take(512).collect())
            .or_else(|| Some(format!("the sensor reported {reported_version}")));
        sensor_migrations::put_all(s, tenant, std::slice::from_ref(&record)).await?;
        tracing::info!(tenant = %tenant, sensor = %sensor.id, state = %next, "sensor migration settled");
        return Ok(None);
    }
    Ok(Some(Command::Migrate {
        version: UNIFIED_SENSOR_VERSION.into(),
    }))
}
