//! `picket sensors`: list (with health, deployment, type and domain filters), show, update
//! settings, delete.

use super::commands::{SensorDeleteArgs, SensorListArgs, SensorUpdateArgs, SensorsCommand};
use super::error::ClientError;
use super::filter::FilterBuilder;
use super::http::Graph;
use super::output::{self, col, Column, Format, Kind};
use super::{confirm, list, list_url, preview, progress, segment, IDENTITIES};
use reqwest::Method;
use serde_json::{json, Map, Value};

pub const COLUMNS: &[Column] = &[
    col("NAME", "/displayName", Kind::Plain),
    col("DOMAIN", "/domainName", Kind::Plain),
    col("TYPE", "/sensorType", Kind::Plain),
    col("VERSION", "/version", Kind::Plain),
    col("DEPLOYMENT", "/deploymentStatus", Kind::Deployment),
    col("SERVICE", "/serviceStatus", Kind::Service),
    col("HEALTH", "/healthStatus", Kind::Health),
    col("ISSUES", "/openHealthIssuesCount", Kind::Plain),
    col("ID", "/id", Kind::Plain),
];

pub fn filter(args: &SensorListArgs) -> Option<String> {
    let mut f = FilterBuilder::default();
    f.any_eq("healthStatus", &args.health)
        .any_eq("deploymentStatus", &args.deployment_status)
        .any_eq("sensorType", &args.sensor_type)
        .any_eq("domainName", &args.domain)
        .raw(args.list.filter.as_deref());
    f.build()
}

pub async fn run(graph: &Graph, format: Format, cmd: SensorsCommand) -> Result<(), ClientError> {
    let base = format!("{IDENTITIES}/sensors");
    match cmd {
        SensorsCommand::List(args) => {
            list(graph, &base, filter(&args), &args.list, format, COLUMNS).await?;
        }
        SensorsCommand::Show { id, issues } => {
            let mut path = format!("{base}/{}", segment(&id)?);
            if issues {
                path.push_str("?$expand=healthIssues");
            }
            let sensor = graph.get_json(&path).await?;
            output::print_object(&sensor, format, COLUMNS)?;
            if issues && format == Format::Table {
                let rows: Vec<Vec<String>> = sensor["healthIssues"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|i| output::row(i, super::health_issues::COLUMNS))
                            .collect()
                    })
                    .unwrap_or_default();
                if !rows.is_empty() {
                    println!(
                        "\n{}",
                        output::table(
                            super::health_issues::COLUMNS,
                            &rows,
                            output::colour_enabled()
                        )
                    );
                }
            }
        }
        SensorsCommand::Update(args) => {
            let body = update_body(&args)?;
            let path = format!("{base}/{}", segment(&args.id)?);
            let updated = graph.send_json(Method::PATCH, &path, Some(&body)).await?;
            match updated {
                Some(s) => output::print_object(&s, format, COLUMNS)?,
                None => eprintln!("updated sensor {}", args.id),
            }
        }
        SensorsCommand::Delete(args) => delete(graph, &base, args).await?,
    }
    Ok(())
}

/// Deletes the sensors named, or those the status and filter select, after one confirmation.
async fn delete(graph: &Graph, base: &str, args: SensorDeleteArgs) -> Result<(), ClientError> {
    // (id, what to call it)
    let chosen: Vec<(String, String)> = if args.ids.is_empty() {
        let mut f = FilterBuilder::default();
        f.any_eq("deploymentStatus", &args.deployment_status)
            .raw(args.filter.as_deref());
        let Some(filter) = f.build() else {
            return Err(ClientError::usage(
                "name sensors to delete: ids, --deployment-status or --filter",
            ));
        };
        let url = list_url(graph, base, Some(filter), Some(1000), &[]);
        let found = graph.collect(url, None).await?;
        let chosen: Vec<(String, String)> = found
            .iter()
            .filter_map(|s| {
                let id = s["id"].as_str()?;
                let name = format!(
                    "{}.{}",
                    s["displayName"].as_str().unwrap_or("?"),
                    s["domainName"].as_str().unwrap_or("?")
                );
                Some((id.to_string(), name))
            })
            .collect();
        if chosen.is_empty() {
            println!("No sensors match.");
            return Ok(());
        }
        chosen
    } else {
        args.ids.iter().map(|i| (i.clone(), i.clone())).collect()
    };
    let names: Vec<&str> = chosen.iter().map(|(_, n)| n.as_str()).collect();
    let question = format!(
        "Delete {} sensor{} ({})?",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" },
        preview(&names)
    );
    if !confirm(&question, args.yes)? {
        return Err(ClientError::other("cancelled; nothing deleted"));
    }
    let bar = progress(chosen.len(), "deleted");
    for (id, name) in &chosen {
        let path = format!("{base}/{}", segment(id)?);
        graph.send_json(Method::DELETE, &path, None).await?;
        bar.suspend(|| {
            if id == name {
                println!("deleted sensor {id}");
            } else {
                println!("deleted sensor {name} ({id})");
            }
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

/// Only what the flags set is sent: the server merges `settings` (spec §2.3).
pub fn update_body(args: &SensorUpdateArgs) -> Result<Value, ClientError> {
    let mut settings = Map::new();
    if let Some(d) = &args.description {
        settings.insert("description".into(), json!(d));
    }
    if let Some(d) = args.delayed_deployment {
        settings.insert("isDelayedDeploymentEnabled".into(), json!(d));
    }
    if let Some(names) = &args.dc_dns_names {
        let names: Vec<&str> = names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .collect();
        settings.insert("domainControllerDnsNames".into(), json!(names));
    } else if args.clear_dc_dns_names {
        settings.insert("domainControllerDnsNames".into(), json!([]));
    }
    if settings.is_empty() {
        return Err(ClientError::usage(
            "nothing to update: give --description, --delayed-deployment, --dc-dns-names or --clear-dc-dns-names",
        ));
    }
    Ok(json!({ "settings": settings }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_send_only_what_was_given() {
        let args = SensorUpdateArgs {
            id: "s".into(),
            delayed_deployment: Some(false),
            ..Default::default()
        };
        assert_eq!(
            update_body(&args).expect("body"),
            json!({"settings": {"isDelayedDeploymentEnabled": false}})
        );
        let args = SensorUpdateArgs {
            id: "s".into(),
            clear_dc_dns_names: true,
            ..Default::default()
        };
        assert_eq!(
            update_body(&args).expect("body"),
            json!({"settings": {"domainControllerDnsNames": []}})
        );
        assert!(matches!(
            update_body(&SensorUpdateArgs::default()),
            Err(ClientError::Usage(_))
        ));
    }
}
