//! Keeps each sensor's `healthStatus` and `openHealthIssuesCount` equal to what its open
//! issues say (spec §4.2). They are stored, not computed per read, so `$filter` on them is an
//! indexed lookup; every write that changes an issue calls [`refresh_health`] in its transaction.

use crate::sql::Db;
use crate::{args, sql, sql_per_dialect, StoreError};
use picket_domain::{HealthIssueSeverity, SensorHealthStatus, TenantId};
use std::collections::HashMap;

type Tally = HashMap<String, (i64, Option<HealthIssueSeverity>)>;

const OPEN_BY_SENSOR: &str =
    "SELECT l.sensor_fqdn, h.severity, COUNT(*) FROM health_issue_sensors l \
     JOIN health_issues h ON h.tenant_id = l.tenant_id AND h.id = l.issue_id \
     WHERE l.tenant_id = $1 AND h.status = 'open'";

async fn tally(
    db: &impl Db,
    tenant: &TenantId,
    fqdn: Option<&str>,
    into: &mut Tally,
) -> Result<(), StoreError> {
    let row = |r: &dyn crate::sql::RowRef| {
        Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?))
    };
    // One statement per shape (all sensors, or one), so each stays a cached prepared statement.
    let rows = match fqdn {
        Some(fqdn) => {
            db.query(
                sql!("{OPEN_BY_SENSOR} AND l.sensor_fqdn = $2 GROUP BY l.sensor_fqdn, h.severity"),
                args![tenant.as_str(), fqdn],
                row,
            )
            .await?
        }
        None => {
            db.query(
                sql!("{OPEN_BY_SENSOR} GROUP BY l.sensor_fqdn, h.severity"),
                args![tenant.as_str()],
                row,
            )
            .await?
        }
    };
    for (fqdn, severity, n) in rows {
        let entry = into.entry(fqdn).or_insert((0, None));
        entry.0 += n;
        let severity = HealthIssueSeverity::parse(&severity);
        if severity.map(HealthIssueSeverity::rank) > entry.1.map(HealthIssueSeverity::rank) {
            entry.1 = severity;
        }
    }
    Ok(())
}

/// Recomputes the named sensors (lower-cased FQDNs), or every sensor of the tenant.
pub async fn refresh_health(
    db: &impl Db,
    tenant: &TenantId,
    fqdns: Option<&[String]>,
) -> Result<(), StoreError> {
    let mut open = Tally::new();
    let names: Vec<String> = match fqdns {
        Some(names) => {
            for n in names {
                tally(db, tenant, Some(n), &mut open).await?;
            }
            names.to_vec()
        }
        None => {
            tally(db, tenant, None, &mut open).await?;
            db.query(
                sql!("SELECT fqdn FROM sensors WHERE tenant_id = $1"),
                args![tenant.as_str()],
                |r| r.get(0),
            )
            .await?
        }
    };
    let update = sql_per_dialect!(
        postgres: "UPDATE sensors SET health_status = $3, open_health_issues_count = $4 \
             WHERE tenant_id = $1 AND fqdn = $2 \
             AND (health_status IS DISTINCT FROM $3 OR open_health_issues_count IS DISTINCT FROM $4)",
        // Without table statistics SQLite would walk the tenant's primary key here.
        sqlite: "UPDATE sensors INDEXED BY sensors_by_fqdn SET health_status = $3, open_health_issues_count = $4 \
             WHERE tenant_id = $1 AND fqdn = $2 \
             AND (health_status IS NOT $3 OR open_health_issues_count IS NOT $4)",
    );
    for fqdn in &names {
        let (count, highest) = open.get(fqdn).copied().unwrap_or((0, None));
        let status = SensorHealthStatus::from_highest(highest);
        db.execute(update, args![tenant.as_str(), fqdn, status.as_str(), count])
            .await?;
    }
    Ok(())
}
