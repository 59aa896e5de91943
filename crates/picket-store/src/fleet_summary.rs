//! A tenant's fleet in numbers, for dashboards (the console's overview): sensors by health,
//! deployment and service status, by version and by domain, and open health issues by
//! severity. One statement, written once for both engines and run by
//! [`PortableStore::read_texts`]; each row comes back as `kind|key…|count` (statuses, versions
//! and DNS names never hold a `|`).

use crate::portable::{Cell, PortableStore};
use crate::StoreError;
use picket_domain::TenantId;
use std::collections::BTreeMap;

const SUMMARY: &str = "\
SELECT 'h|' || health_status || '|' || CAST(count(*) AS TEXT) FROM sensors WHERE tenant_id = ? GROUP BY health_status \
UNION ALL SELECT 's|' || service_status || '|' || CAST(count(*) AS TEXT) FROM sensors WHERE tenant_id = ? GROUP BY service_status \
UNION ALL SELECT 'd|' || lower(domain_name) || '|' || version || '|' || deployment_status || '|' || CAST(count(*) AS TEXT) \
 FROM sensors WHERE tenant_id = ? GROUP BY lower(domain_name), version, deployment_status \
UNION ALL SELECT 'i|' || severity || '|' || CAST(count(*) AS TEXT) FROM health_issues \
 WHERE tenant_id = ? AND status = 'open' GROUP BY severity";

/// Counts by key, keys sorted.
pub type Counts = BTreeMap<String, u64>;

/// One AD domain's sensors: how far a rollout has gone there.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainCounts {
    pub sensors: u64,
    pub by_version: Counts,
    pub by_deployment_status: Counts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetSummary {
    pub sensors: u64,
    pub by_health_status: Counts,
    pub by_deployment_status: Counts,
    pub by_service_status: Counts,
    pub by_version: Counts,
    pub open_issues_by_severity: Counts,
    pub domains: BTreeMap<String, DomainCounts>,
}

pub async fn fleet_summary<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<FleetSummary, StoreError> {
    let params = vec![Cell::Text(tenant.to_string()); 4];
    let rows = store.read_texts(SUMMARY, params).await?;
    Ok(summarize(&rows))
}

fn summarize(rows: &[String]) -> FleetSummary {
    let mut out = FleetSummary::default();
    let add =
        |counts: &mut Counts, key: &str, n: u64| *counts.entry(key.to_string()).or_default() += n;
    for row in rows {
        let fields: Vec<&str> = row.split('|').collect();
        let Some(n) = fields.last().and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        match fields.as_slice() {
            ["h", status, _] => {
                add(&mut out.by_health_status, status, n);
                out.sensors += n;
            }
            ["s", status, _] => add(&mut out.by_service_status, status, n),
            ["i", severity, _] => add(&mut out.open_issues_by_severity, severity, n),
            ["d", domain, version, deployment, _] => {
                add(&mut out.by_version, version, n);
                add(&mut out.by_deployment_status, deployment, n);
                let d = out.domains.entry(domain.to_string()).or_default();
                d.sensors += n;
                add(&mut d.by_version, version, n);
                add(&mut d.by_deployment_status, deployment, n);
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_counts() {
        let rows: Vec<String> = [
            "h|healthy|3",
            "h|notHealthyHigh|1",
            "s|running|4",
            "d|contoso.com|2.250.1|upToDate|2",
            "d|contoso.com|2.249.0|outdated|1",
            "d|fabrikam.com|2.250.1|upToDate|1",
            "i|high|2",
            "x|ignored|9",
            "h|broken|not-a-number",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let s = summarize(&rows);
        assert_eq!(s.sensors, 4);
        assert_eq!(s.by_version["2.250.1"], 3);
        assert_eq!(s.by_deployment_status["outdated"], 1);
        assert_eq!(s.domains["contoso.com"].sensors, 3);
        assert_eq!(s.domains["fabrikam.com"].by_version["2.250.1"], 1);
        assert_eq!(s.open_issues_by_severity["high"], 2);
        assert!(!s.by_health_status.contains_key("broken"));
    }
}
