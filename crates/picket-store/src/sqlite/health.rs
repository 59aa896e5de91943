//! Keeps each sensor's `healthStatus` and `openHealthIssuesCount` equal to what its open
//! issues say (spec §4.2). They are stored, not computed per read, so `$filter` on them is an
//! indexed lookup; every write that changes an issue calls [`refresh_health`] in its transaction.

use crate::StoreError;
use deadpool_sqlite::rusqlite::{params, params_from_iter, Transaction};
use picket_domain::{HealthIssueSeverity, SensorHealthStatus, TenantId};
use std::collections::HashMap;

type Tally = HashMap<String, (i64, Option<HealthIssueSeverity>)>;

const OPEN_BY_SENSOR: &str =
    "SELECT l.sensor_fqdn, h.severity, COUNT(*) FROM health_issue_sensors l \
     JOIN health_issues h ON h.tenant_id = l.tenant_id AND h.id = l.issue_id \
     WHERE l.tenant_id = ?1 AND h.status = 'open'";

fn tally(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    fqdn: Option<&str>,
    into: &mut Tally,
) -> Result<(), StoreError> {
    let mut add = |fqdn: String, severity: String, n: i64| {
        let entry = into.entry(fqdn).or_insert((0, None));
        entry.0 += n;
        let severity = HealthIssueSeverity::parse(&severity);
        if severity.map(HealthIssueSeverity::rank) > entry.1.map(HealthIssueSeverity::rank) {
            entry.1 = severity;
        }
    };
    // One statement per shape (all sensors, or one), so each stays a cached prepared statement.
    let (sql, values): (String, Vec<&str>) = match fqdn {
        Some(fqdn) => (
            format!("{OPEN_BY_SENSOR} AND l.sensor_fqdn = ?2 GROUP BY l.sensor_fqdn, h.severity"),
            vec![tenant.as_str(), fqdn],
        ),
        None => (
            format!("{OPEN_BY_SENSOR} GROUP BY l.sensor_fqdn, h.severity"),
            vec![tenant.as_str()],
        ),
    };
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    for r in rows {
        let (f, s, n) = r?;
        add(f, s, n);
    }
    Ok(())
}

/// Recomputes the named sensors (lower-cased FQDNs), or every sensor of the tenant.
pub fn refresh_health(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    fqdns: Option<&[String]>,
) -> Result<(), StoreError> {
    let mut open = Tally::new();
    let names: Vec<String> = match fqdns {
        Some(names) => {
            for n in names {
                tally(tx, tenant, Some(n), &mut open)?;
            }
            names.to_vec()
        }
        None => {
            tally(tx, tenant, None, &mut open)?;
            tx.prepare_cached("SELECT fqdn FROM sensors WHERE tenant_id = ?1")?
                .query_map(params![tenant.as_str()], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        }
    };
    let mut update = tx.prepare_cached(
        // Without table statistics SQLite would walk the tenant's primary key here.
        "UPDATE sensors INDEXED BY sensors_by_fqdn SET health_status = ?3, open_health_issues_count = ?4 \
         WHERE tenant_id = ?1 AND fqdn = ?2 AND (health_status IS NOT ?3 OR open_health_issues_count IS NOT ?4)",
    )?;
    for fqdn in &names {
        let (count, highest) = open.get(fqdn).copied().unwrap_or((0, None));
        let status = SensorHealthStatus::from_highest(highest);
        update.execute(params![tenant.as_str(), fqdn, status.as_str(), count])?;
    }
    Ok(())
}
