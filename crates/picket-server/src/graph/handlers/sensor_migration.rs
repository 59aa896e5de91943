//! Beta `sensorMigration` and `migrate` (spec §7.2): every classic sensor, and every sensor that
//! was asked to migrate, with where it stands. A migration is real work done by the sensor's
//! agent: `migrate` marks eligible sensors `migrating`, their next check-in carries the order,
//! and their following check-ins settle it (`upToDate` as a unified sensor, or
//! `migrationFailed`). The sensor keeps its id, settings and issues.

use super::Call;
use crate::error::ApiError;
use crate::graph::body::{self, unknown_property, wrong_type};
use crate::graph::collection::{
    collection, document_page, entity_query, filter_and_sort, select_fragment, CollectionQuery,
};
use crate::graph::render::{DocumentView, Entity};
use crate::response::GraphResponse;
use picket_domain::fleet::migration::{can_migrate, migration_state};
use picket_domain::schema::sensor_migration_schema;
use picket_domain::time::format_timestamp;
use picket_domain::{MigrationState, Sensor};
use picket_odata::ValidatedQuery;
use picket_store::sensor_migrations::{self as store, MigrationRecord};
use picket_store::PageRequest;
use serde_json::{json, Value};
use std::collections::HashMap;

pub const SENSOR_MIGRATION_TYPE: &str = "#microsoft.graph.security.sensorMigration";
const MIGRATE_RESULT_TYPE: &str = "#microsoft.graph.security.migrateSensorsResult";

/// `sensorMigration` is beta's; on v1.0 the segment is unknown, as on Graph.
fn beta_only(call: &Call<'_>) -> Result<(), ApiError> {
    if call.ctx.version.is_beta() {
        Ok(())
    } else {
        Err(ApiError::not_found_segment("sensorMigration"))
    }
}

async fn all_sensors(call: &Call<'_>) -> Result<Vec<Sensor>, ApiError> {
    let mut out = Vec::new();
    let query = ValidatedQuery::default();
    loop {
        let page = call
            .state
            .store
            .list_sensors(
                call.tenant(),
                &query,
                PageRequest {
                    skip: out.len() as u64,
                    size: 1000,
                },
            )
            .await?;
        out.extend(page.items);
        if !page.has_more {
            return Ok(out);
        }
    }
}

/// A sensor's state: its migration's if it has one, else what its version and type say.
fn state_of(sensor: &Sensor, record: Option<&MigrationRecord>) -> MigrationState {
    record.map_or_else(
        || migration_state(&sensor.version, sensor.sensor_type),
        |r| r.state,
    )
}

fn document(sensor: &Sensor, state: MigrationState) -> Value {
    json!({
        "id": sensor.id.as_str(),
        "createdDateTime": format_timestamp(&sensor.created_date_time),
        "displayName": sensor.display_name,
        "domainName": sensor.domain_name,
        "healthStatus": sensor.health_status.as_str(),
        "migrationState": state.as_str(),
        "sensorType": sensor.sensor_type.as_str(),
        "serviceStatus": sensor.service_status.as_str(),
        "version": sensor.version,
    })
}

/// The migration subjects: every classic sensor and every sensor with a migration.
async fn documents(call: &Call<'_>) -> Result<Vec<Value>, ApiError> {
    let records: HashMap<String, MigrationRecord> =
        store::list(call.state.store.as_ref(), call.tenant())
            .await?
            .into_iter()
            .map(|r| (r.sensor_id.clone(), r))
            .collect();
    Ok(all_sensors(call)
        .await?
        .iter()
        .filter(|s| s.version.split('.').next() != Some("3") || records.contains_key(s.id.as_str()))
        .map(|s| document(s, state_of(s, records.get(s.id.as_str()))))
        .collect())
}

async fn matching(call: &Call<'_>, query: &CollectionQuery) -> Result<Vec<Value>, ApiError> {
    Ok(filter_and_sort(
        documents(call).await?,
        &query.valid,
        "createdDateTime",
    ))
}

pub async fn list(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    beta_only(call)?;
    let query = CollectionQuery::parse(call.query, sensor_migration_schema())?;
    let page_request = query.page_request(call.state.settings.default_page_size);
    let docs = matching(call, &query).await?;
    let total = query.valid.count.then_some(docs.len() as u64);
    let page = document_page(docs, page_request);
    let select = query.valid.select.as_deref();
    let body = collection(
        call.ctx,
        "security/identities/sensorMigration",
        &query,
        page_request,
        &page,
        total,
        |doc| DocumentView {
            doc,
            odata_type: SENSOR_MIGRATION_TYPE,
            select,
        },
    );
    GraphResponse::serialized(200, &body)
}

pub async fn count(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    beta_only(call)?;
    let query = CollectionQuery::parse(call.query, sensor_migration_schema())?;
    Ok(GraphResponse::text(
        matching(call, &query).await?.len().to_string(),
    ))
}

pub async fn get(call: &Call<'_>, id: &str) -> Result<GraphResponse, ApiError> {
    beta_only(call)?;
    let query = entity_query(call.query, sensor_migration_schema())?;
    let doc = documents(call)
        .await?
        .into_iter()
        .find(|d| d["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
        .ok_or_else(|| ApiError::NotFound(format!("Sensor migration '{id}' was not found")))?;
    let body = Entity {
        context: call.ctx.metadata(&select_fragment(
            "security/identities/sensorMigration/$entity",
            &query,
        )),
        fields: DocumentView {
            doc: &doc,
            odata_type: SENSOR_MIGRATION_TYPE,
            select: query.select.as_deref(),
        },
    };
    GraphResponse::serialized(200, &body)
}

/// `{"sensorIds": [...]}`: eligible sensors start migrating, the others are named as failed;
/// nothing half-migrates.
pub async fn migrate(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    beta_only(call)?;
    let body = body::json_object(call.body)?;
    let mut ids: Option<Vec<String>> = None;
    for (name, value) in &body {
        match name.as_str() {
            "sensorIds" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| wrong_type("sensorIds", "an array of strings"))?;
                if list.len() > 1000 {
                    return Err(ApiError::BadRequest("At most 1000 sensorIds".into()));
                }
                ids = Some(
                    list.iter()
                        .map(|v| {
                            v.as_str()
                                .filter(|s| {
                                    !s.is_empty() && s.len() <= picket_domain::limits::MAX_ID_LEN
                                })
                                .map(str::to_string)
                                .ok_or_else(|| wrong_type("sensorIds", "an array of sensor ids"))
                        })
                        .collect::<Result<_, _>>()?,
                );
            }
            other => return Err(unknown_property(other, "migrate")),
        }
    }
    let ids = ids.ok_or_else(|| ApiError::BadRequest("Property 'sensorIds' is required".into()))?;
    let records: HashMap<String, MigrationRecord> =
        store::list(call.state.store.as_ref(), call.tenant())
            .await?
            .into_iter()
            .map(|r| (r.sensor_id.clone(), r))
            .collect();
    let sensors = all_sensors(call).await?;
    let (mut ok, mut failed, mut started) = (Vec::new(), Vec::new(), Vec::new());
    let now = format_timestamp(&call.now);
    for id in ids {
        let sensor = sensors
            .iter()
            .find(|s| s.id.as_str().eq_ignore_ascii_case(&id));
        match sensor {
            Some(s) if can_migrate(state_of(s, records.get(s.id.as_str()))) => {
                if !ok.contains(&s.id.to_string()) {
                    ok.push(s.id.to_string());
                    started.push(MigrationRecord {
                        sensor_id: s.id.to_string(),
                        state: MigrationState::Migrating,
                        requested_date_time: now.clone(),
                        completed_date_time: None,
                        from_version: s.version.clone(),
                        detail: None,
                    });
                }
            }
            _ => {
                if !failed.contains(&id) {
                    failed.push(id)
                }
            }
        }
    }
    if !started.is_empty() {
        store::put_all(call.state.store.as_ref(), call.tenant(), &started).await?;
        call.state.migrations.started(call.tenant());
    }
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": call.ctx.metadata("microsoft.graph.security.migrateSensorsResult"),
            "@odata.type": MIGRATE_RESULT_TYPE,
            "successfulMigrationSensorIds": ok,
            "failedMigrationSensorIds": failed,
        }),
    ))
}

/// The recorded migration states of the tenant's sensors, for beta sensor reads; `None` when
/// the tenant never migrated a sensor (the common case costs a cached flag).
pub async fn recorded_states(
    call: &Call<'_>,
) -> Result<Option<HashMap<String, MigrationState>>, ApiError> {
    if !call.ctx.version.is_beta()
        || !call
            .state
            .migrations
            .any(call.state.store.as_ref(), call.tenant())
            .await?
    {
        return Ok(None);
    }
    Ok(Some(
        store::list(call.state.store.as_ref(), call.tenant())
            .await?
            .into_iter()
            .map(|r| (r.sensor_id, r.state))
            .collect(),
    ))
}
