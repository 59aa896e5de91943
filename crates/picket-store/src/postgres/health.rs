//! Keeps each sensor's `healthStatus` and `openHealthIssuesCount` equal to what its open
//! issues say (spec §4.2), as `sqlite/health.rs` does: stored, and refreshed by every write
//! that changes an issue, in its transaction.

use super::{execute, query, Tx};
use crate::StoreError;
use picket_domain::{HealthIssueSeverity, SensorHealthStatus, TenantId};
use std::collections::HashMap;

type Tally = HashMap<String, (i64, Option<HealthIssueSeverity>)>;

const OPEN_BY_SENSOR: &str =
    "SELECT l.sensor_fqdn, h.severity, COUNT(*) FROM health_issue_sensors l \
     JOIN health_issues h ON h.tenant_id = l.tenant_id AND h.id = l.issue_id \
     WHERE l.tenant_id = $1 AND h.status = 'open'";

async fn tally(
    tx: &Tx<'_>,
    tenant: &TenantId,
    fqdn: Option<&str>,
    into: &mut Tally,
) -> Result<(), StoreError> {
    let rows = match fqdn {
        Some(fqdn) => {
            let sql = format!(
                "{OPEN_BY_SENSOR} AND l.sensor_fqdn = $2 GROUP BY l.sensor_fqdn, h.severity"
            );
            query(tx, &sql, &[&tenant.as_str(), &fqdn]).await?
        }
        None => {
            let sql = format!("{OPEN_BY_SENSOR} GROUP BY l.sensor_fqdn, h.severity");
            query(tx, &sql, &[&tenant.as_str()]).await?
        }
    };
    for r in rows {
        let (fqdn, severity, n): (String, String, i64) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
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
    tx: &Tx<'_>,
    tenant: &TenantId,
    fqdns: Option<&[String]>,
) -> Result<(), StoreError> {
    let mut open = Tally::new();
    let names: Vec<String> = match fqdns {
        Some(names) => {
            for n in names {
                tally(tx, tenant, Some(n), &mut open).await?;
            }
            names.to_vec()
        }
        None => {
            tally(tx, tenant, None, &mut open).await?;
            query(
                tx,
                "SELECT fqdn FROM sensors WHERE tenant_id = $1",
                &[&tenant.as_str()],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?
        }
    };
    for fqdn in &names {
        let (count, highest) = open.get(fqdn).copied().unwrap_or((0, None));
        let status = SensorHealthStatus::from_highest(highest);
        execute(
            tx,
            "UPDATE sensors SET health_status = $3, open_health_issues_count = $4 \
             WHERE tenant_id = $1 AND fqdn = $2 AND (health_status IS DISTINCT FROM $3 OR open_health_issues_count IS DISTINCT FROM $4)",
            &[&tenant.as_str(), fqdn, &status.as_str(), &count],
        )
        .await?;
    }
    Ok(())
}
