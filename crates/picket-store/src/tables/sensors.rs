//! Everything the store knows of a sensor: its columns (one table, from which the filter map,
//! the select list, the insert and the settings update are made), the row mapping, listing,
//! lookup, settings updates under the domain rules, deletion.

use super::fleet;
use super::health::refresh_health;
use super::listing::Listing;
use super::rows::{get_enum, get_list, get_ts, inserted, json_list, ts};
use crate::odata_sql::{col, Column, ColumnKind::*, SqlValue};
use crate::sql::{Arg, Db, RowRef, Stmt};
use crate::{args, sql, Page, PageRequest, StoreError};
use picket_domain::rules::{apply_settings_patch, SettingsPatch};
use picket_domain::time::Timestamp;
use picket_domain::*;
use picket_odata::ValidatedQuery;
use std::sync::OnceLock;

/// Declares the sensor's columns after `id` (the key), each as
/// `column: kind = "odataProperty", |sensor| value written`, in select order.
macro_rules! sensor_columns {
    ($($column:ident: $kind:ident = $property:literal, |$s:ident| $write:expr;)+) => {
        /// OData property → column, for `$filter` and `$orderby`.
        pub const SENSOR_COLUMNS: &[Column] =
            &[col("id", "id", Scalar), $(col($property, stringify!($column), $kind)),+];

        /// `id`, then every column in declaration order: where `sensor_from_row` reads them.
        pub const SENSOR_SELECT: &str = concat!("id" $(, ", ", stringify!($column))+);

        /// Each column's place in [`SENSOR_SELECT`].
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy)]
        enum At {
            id,
            $($column),+
        }

        /// The value of each column after `id`, in select order.
        fn written(sensor: &Sensor) -> Vec<SqlValue> {
            vec![$({
                let $s = sensor;
                SqlValue::from($write)
            }),+]
        }
    };
}

sensor_columns! {
    created_date_time: Scalar = "createdDateTime", |s| ts(&s.created_date_time);
    deployment_status: Scalar = "deploymentStatus", |s| s.deployment_status.as_str();
    display_name: NoCase = "displayName", |s| s.display_name.as_str();
    domain_name: NoCase = "domainName", |s| s.domain_name.as_str();
    health_status: Scalar = "healthStatus", |s| s.health_status.as_str();
    open_health_issues_count: Scalar = "openHealthIssuesCount", |s| s.open_health_issues_count;
    sensor_type: Scalar = "sensorType", |s| s.sensor_type.as_str();
    service_status: Scalar = "serviceStatus", |s| s.service_status.as_str();
    description: NoCase = "settings/description", |s| s.settings.description.as_deref();
    dc_dns_names: JsonList = "settings/domainControllerDnsNames",
        |s| json_list(&s.settings.domain_controller_dns_names);
    is_delayed: Bool = "settings/isDelayedDeploymentEnabled",
        |s| s.settings.is_delayed_deployment_enabled;
    version: NoCase = "version", |s| s.version.as_str();
}

pub fn sensor_from_row(row: &dyn RowRef) -> Result<Sensor, StoreError> {
    let at = |column: At| column as usize;
    Ok(Sensor {
        id: SensorId::new(row.get::<String>(at(At::id))?),
        created_date_time: get_ts(row, at(At::created_date_time))?,
        deployment_status: get_enum(row, at(At::deployment_status), DeploymentStatus::parse)?,
        display_name: row.get(at(At::display_name))?,
        domain_name: row.get(at(At::domain_name))?,
        health_status: get_enum(row, at(At::health_status), SensorHealthStatus::parse)?,
        open_health_issues_count: row.get(at(At::open_health_issues_count))?,
        sensor_type: get_enum(row, at(At::sensor_type), SensorType::parse)?,
        service_status: get_enum(row, at(At::service_status), ServiceStatus::parse)?,
        settings: SensorSettings {
            description: row.get(at(At::description))?,
            domain_controller_dns_names: get_list(row, at(At::dc_dns_names))?,
            is_delayed_deployment_enabled: row.get(at(At::is_delayed))?,
        },
        version: row.get(at(At::version))?,
    })
}

/// A column a settings PATCH writes.
fn is_setting(column: &Column) -> bool {
    column.property.starts_with("settings/")
}

/// `INSERT INTO sensors (tenant_id, id, …every column…, fqdn) VALUES ($1, …)`.
fn insert_statement() -> String {
    let placeholders: Vec<String> = (1..=SENSOR_COLUMNS.len() + 2)
        .map(|n| format!("${n}"))
        .collect();
    format!(
        "INSERT INTO sensors (tenant_id, {SENSOR_SELECT}, fqdn) VALUES ({}) \
         ON CONFLICT (tenant_id, id) DO NOTHING",
        placeholders.join(", ")
    )
}

/// `UPDATE sensors SET …the settings columns in `changed`… WHERE tenant_id = $1 AND id = $2`,
/// with the new values from `$3` in column order; `changed` holds one bit per settings column
/// (in declaration order) and is never 0. One statement per combination, made on first use.
/// Why not set every setting: SQLite rewrites each index on a column an UPDATE sets, even to
/// the value it had, and the settings a `$filter` reads have indexes.
fn settings_update(changed: usize) -> &'static Stmt {
    static STATEMENTS: OnceLock<Vec<Stmt>> = OnceLock::new();
    let statements = STATEMENTS.get_or_init(|| {
        let settings: Vec<&Column> = SENSOR_COLUMNS.iter().filter(|c| is_setting(c)).collect();
        (1..1usize << settings.len())
            .map(|mask| {
                let assignments: Vec<String> = settings
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| mask & (1 << bit) != 0)
                    .enumerate()
                    .map(|(n, (_, c))| format!("{} = ${}", c.column, n + 3))
                    .collect();
                Stmt::made(format!(
                    "UPDATE sensors SET {} WHERE tenant_id = $1 AND id = $2",
                    assignments.join(", ")
                ))
            })
            .collect()
    });
    &statements[changed - 1]
}

pub(crate) fn listing<'a>(tenant: &'a TenantId, query: &'a ValidatedQuery) -> Listing<'a> {
    Listing {
        table: "sensors",
        select: SENSOR_SELECT,
        columns: SENSOR_COLUMNS,
        default_order: "created_date_time ASC, id ASC",
        tenant: tenant.as_str(),
        scope: None,
        query,
    }
}

pub async fn list(
    db: &impl Db,
    tenant: &TenantId,
    query: &ValidatedQuery,
    page: PageRequest,
) -> Result<Page<Sensor>, StoreError> {
    listing(tenant, query).page(db, page, sensor_from_row).await
}

pub async fn count(
    db: &impl Db,
    tenant: &TenantId,
    query: &ValidatedQuery,
) -> Result<u64, StoreError> {
    listing(tenant, query).count(db).await
}

/// The plan of [`list`] (or [`count`]) for `query`, as the engine's EXPLAIN prints it.
pub async fn explain_listing(
    db: &impl Db,
    tenant: &TenantId,
    query: &ValidatedQuery,
    page: PageRequest,
    count: bool,
) -> Result<String, StoreError> {
    listing(tenant, query).explain(db, page, count).await
}

pub async fn find(db: &impl Db, tenant: &TenantId, id: &str) -> Result<Option<Sensor>, StoreError> {
    db.query_opt(
        sql!("SELECT {SENSOR_SELECT} FROM sensors WHERE tenant_id = $1 AND id = $2"),
        args![tenant.as_str(), id],
        sensor_from_row,
    )
    .await
}

pub async fn insert(db: &impl Db, tenant: &TenantId, s: &Sensor) -> Result<(), StoreError> {
    let values = written(s);
    let fqdn = s.fqdn();
    let mut args = Vec::with_capacity(values.len() + 3);
    args.extend([Arg::from(tenant.as_str()), Arg::from(s.id.as_str())]);
    args.extend(values.iter().map(Arg::from));
    args.push(Arg::from(&fqdn));
    let n = db.execute(sql!("{}", insert_statement()), &args).await?;
    inserted(n, "sensor", s.id.as_str())?;
    Ok(())
}

pub async fn save_settings(
    db: &impl Db,
    tenant: &TenantId,
    id: &SensorId,
    patch: &SettingsPatch,
) -> Result<Option<Sensor>, StoreError> {
    let Some(sensor) = find(db, tenant, id.as_str()).await? else {
        return Ok(None);
    };
    let settings = apply_settings_patch(&sensor, patch)?;
    if settings == sensor.settings {
        return Ok(Some(sensor));
    }
    let next = Sensor {
        settings,
        ..sensor.clone()
    };
    let (before, after) = (written(&sensor), written(&next));
    let mut changed = 0;
    let mut args = vec![Arg::from(tenant.as_str()), Arg::from(id.as_str())];
    let settings = (1..SENSOR_COLUMNS.len()).filter(|&n| is_setting(&SENSOR_COLUMNS[n]));
    for (bit, n) in settings.enumerate() {
        // `written` leaves out `id`, the first column.
        let (old, new) = (&before[n - 1], &after[n - 1]);
        if old != new {
            changed |= 1 << bit;
            args.push(Arg::from(new));
        }
    }
    db.execute(settings_update(changed), &args).await?;
    // The answer shows what is stored now (`syncing` for an enrolled sensor).
    Ok(Some(fleet::settings_changed(db, tenant, next).await?))
}

pub async fn delete(
    db: &impl Db,
    tenant: &TenantId,
    id: &SensorId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Some(sensor) = find(db, tenant, id.as_str()).await? else {
        return Ok(false);
    };
    db.execute(
        sql!("DELETE FROM sensors WHERE tenant_id = $1 AND id = $2"),
        args![tenant.as_str(), id.as_str()],
    )
    .await?;
    // A deleted sensor's own problems are gone with it (spec §2.4): close its open sensor issues.
    db.execute(
        sql!(
            "UPDATE health_issues SET status = 'closed', last_modified_date_time = $3 \
             WHERE tenant_id = $1 AND status = 'open' AND health_issue_type = 'sensor' AND id IN \
             (SELECT issue_id FROM health_issue_sensors WHERE tenant_id = $1 AND sensor_fqdn = $2)"
        ),
        args![tenant.as_str(), &sensor.fqdn(), &ts(&now)],
    )
    .await?;
    refresh_health(db, tenant, Some(&[sensor.fqdn()])).await?;
    fleet::tombstone(db, tenant, id, now).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Engine;

    #[test]
    fn a_settings_update_sets_only_the_changed_settings() {
        let settings: Vec<&str> = SENSOR_COLUMNS
            .iter()
            .filter(|c| is_setting(c))
            .map(|c| c.column)
            .collect();
        assert!(settings.len() >= 2, "{settings:?}");
        let only_first = settings_update(1).text(Engine::Postgres);
        assert_eq!(
            only_first,
            format!(
                "UPDATE sensors SET {} = $3 WHERE tenant_id = $1 AND id = $2",
                settings[0]
            )
        );
        let only_second = settings_update(2).text(Engine::Sqlite);
        assert_eq!(
            only_second,
            format!(
                "UPDATE sensors SET {} = ?3 WHERE tenant_id = ?1 AND id = ?2",
                settings[1]
            )
        );
        let every = settings_update((1 << settings.len()) - 1).text(Engine::Postgres);
        for (n, column) in settings.iter().enumerate() {
            assert!(every.contains(&format!("{column} = ${}", n + 3)), "{every}");
        }
    }
}
