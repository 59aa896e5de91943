//! `picket health-issues`: list with filters by status, severity, type, sensor and domain; show;
//! close, suppress, reopen.

use super::commands::{HealthIssuesCommand, IssueListArgs};
use super::error::ClientError;
use super::filter::FilterBuilder;
use super::http::Graph;
use super::output::{self, col, Column, Format, Kind};
use super::{list, segment, IDENTITIES};
use reqwest::Method;
use serde_json::json;

pub const COLUMNS: &[Column] = &[
    col("TITLE", "/displayName", Kind::Plain),
    col("SEVERITY", "/severity", Kind::Severity),
    col("STATUS", "/status", Kind::IssueStatus),
    col("TYPE", "/healthIssueType", Kind::Plain),
    col("SENSORS", "/sensorDNSNames", Kind::Plain),
    col("DOMAINS", "/domainNames", Kind::Plain),
    col("CREATED", "/createdDateTime", Kind::Plain),
    col("ID", "/id", Kind::Plain),
];

pub fn filter(args: &IssueListArgs) -> Option<String> {
    let mut f = FilterBuilder::default();
    f.any_eq("status", &args.status)
        .any_eq("severity", &args.severity)
        .any_eq("healthIssueType", &args.issue_type)
        .any_sensor("sensorDNSNames", &args.sensor)
        .any_in("domainNames", &args.domain)
        .raw(args.list.filter.as_deref());
    f.build()
}

pub async fn run(
    graph: &Graph,
    format: Format,
    cmd: HealthIssuesCommand,
) -> Result<(), ClientError> {
    let base = format!("{IDENTITIES}/healthIssues");
    let (ids, status) = match cmd {
        HealthIssuesCommand::List(args) => {
            list(graph, &base, filter(&args), &args.list, format, COLUMNS).await?;
            return Ok(());
        }
        HealthIssuesCommand::Show { id } => {
            let issue = graph.get_json(&format!("{base}/{}", segment(&id)?)).await?;
            return output::print_object(&issue, format, COLUMNS);
        }
        HealthIssuesCommand::Close { ids } => (ids, "closed"),
        HealthIssuesCommand::Suppress { ids } => (ids, "suppressed"),
        HealthIssuesCommand::Reopen { ids } => (ids, "open"),
    };
    let mut writer = output::ListWriter::new(format, COLUMNS)?;
    for id in ids {
        let body = json!({ "status": status });
        let updated = graph
            .send_json(
                Method::PATCH,
                &format!("{base}/{}", segment(&id)?),
                Some(&body),
            )
            .await?;
        let item = updated.unwrap_or_else(|| json!({ "id": id, "status": status }));
        let raw = serde_json::value::to_raw_value(&item)
            .map_err(|e| ClientError::other(e.to_string()))?;
        writer.page(vec![raw])?;
    }
    writer.finish()?;
    Ok(())
}
