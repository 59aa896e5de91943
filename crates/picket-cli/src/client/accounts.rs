//! `picket accounts` (identity accounts and their response actions) and `picket auditing`
//! (automatic auditing configuration): spec §7.3, §7.4.

use super::commands::{AccountsCommand, ActionArgs, AuditingCommand};
use super::error::ClientError;
use super::filter::FilterBuilder;
use super::http::Graph;
use super::output::{self, col, Column, Format, Kind};
use super::{confirm, list, segment, IDENTITIES};
use reqwest::Method;
use serde_json::{json, Value};

pub const COLUMNS: &[Column] = &[
    col("NAME", "/displayName", Kind::Plain),
    col("DOMAIN", "/domain", Kind::Plain),
    col("ENABLED", "/isEnabled", Kind::Plain),
    col("FIRST ACCOUNT", "/accounts/0/identifier", Kind::Plain),
    col("ID", "/id", Kind::Plain),
];

const RESULT: &[Column] = &[
    col("ACTION", "/action", Kind::Plain),
    col("ACCOUNT", "/accountId", Kind::Plain),
    col("PROVIDER", "/identityProvider", Kind::Plain),
    col("CORRELATION ID", "/correlationId", Kind::Plain),
];

const ACTIONS: &[Column] = &[
    col("REQUESTED", "/requestedDateTime", Kind::Plain),
    col("STATUS", "/status", Kind::Plain),
    col("ACTION", "/action", Kind::Plain),
    col("ACCOUNT", "/accountId", Kind::Plain),
    col("CORRELATION ID", "/correlationId", Kind::Plain),
    col("DETAIL", "/detail", Kind::Plain),
];

const AUDITING: &[Column] = &[col("AUTOMATIC", "/isAutomatic", Kind::Plain)];

pub async fn run(graph: &Graph, format: Format, cmd: AccountsCommand) -> Result<(), ClientError> {
    let base = format!("{IDENTITIES}/identityAccounts");
    match cmd {
        AccountsCommand::List(args) => {
            let mut f = FilterBuilder::default();
            f.raw(args.filter.as_deref());
            list(graph, &base, f.build(), &args, format, COLUMNS).await
        }
        AccountsCommand::Show { id } => {
            let identity = graph.get_json(&format!("{base}/{}", segment(&id)?)).await?;
            output::print_object(&identity, format, COLUMNS)
        }
        AccountsCommand::Disable(a) => act(graph, format, &base, a, "disable").await,
        AccountsCommand::Enable(a) => act(graph, format, &base, a, "enable").await,
        AccountsCommand::ResetPassword(a) => {
            act(graph, format, &base, a, "forcePasswordReset").await
        }
        AccountsCommand::RevokeSessions(a) => {
            act(graph, format, &base, a, "revokeAllSessions").await
        }
        AccountsCommand::Actions => actions(graph, format).await,
    }
}

/// The account of `identity` an action goes to: the one of `provider`, else the first that
/// offers the action.
fn pick_account<'a>(
    identity: &'a Value,
    action: &str,
    provider: Option<&str>,
) -> Option<&'a Value> {
    let accounts = identity["accounts"].as_array()?;
    let offers = |a: &&Value| {
        a["actions"]
            .as_array()
            .is_some_and(|xs| xs.iter().any(|x| x == action))
    };
    match provider {
        Some(p) => accounts.iter().find(|a| a["identityProvider"] == p),
        None => accounts.iter().find(offers),
    }
}

async fn act(
    graph: &Graph,
    format: Format,
    base: &str,
    args: ActionArgs,
    action: &str,
) -> Result<(), ClientError> {
    let path = format!("{base}/{}", segment(&args.id)?);
    let identity = graph.get_json(&path).await?;
    let Some(account) = pick_account(&identity, action, args.provider.as_deref()) else {
        return Err(ClientError::other(format!(
            "{} has no {} account that offers '{action}'",
            identity["displayName"].as_str().unwrap_or(&args.id),
            args.provider.as_deref().unwrap_or("")
        )));
    };
    let (identifier, provider) = (
        account["identifier"].as_str().unwrap_or_default(),
        account["identityProvider"].as_str().unwrap_or_default(),
    );
    let question = format!("{action} {identifier} ({provider})?");
    if !confirm(&question, args.yes)? {
        println!("Nothing done.");
        return Ok(());
    }
    let body = json!({"accountId": identifier, "action": action, "identityProvider": provider});
    let answer = graph
        .send_json(Method::POST, &format!("{path}/invokeAction"), Some(&body))
        .await?
        .unwrap_or(body);
    output::print_object(&answer, format, RESULT)?;
    if provider == "activeDirectory" && format == Format::Table {
        eprintln!(
            "A domain controller's sensor of {} carries it out at its next check-in.",
            identity["domain"].as_str().unwrap_or("the domain")
        );
    }
    Ok(())
}

/// `/admin/v1/accountActions` of the Picket server the client talks to.
async fn actions(graph: &Graph, format: Format) -> Result<(), ClientError> {
    let root = graph.root().trim_end_matches('/');
    let server = root
        .rsplit_once('/')
        .map_or(root, |(server, _version)| server);
    let (_, bytes) = graph
        .call(
            Method::GET,
            &format!("{server}/admin/v1/accountActions"),
            None,
        )
        .await?;
    let list = super::http::parse_json(&bytes)?;
    let items: Vec<Box<serde_json::value::RawValue>> = list["value"]
        .as_array()
        .map(|xs| {
            xs.iter()
                .filter_map(|x| serde_json::value::to_raw_value(x).ok())
                .collect()
        })
        .unwrap_or_default();
    let mut writer = output::ListWriter::new(format, ACTIONS)?;
    writer.page(items)?;
    writer.finish()?;
    Ok(())
}

pub async fn auditing(
    graph: &Graph,
    format: Format,
    cmd: AuditingCommand,
) -> Result<(), ClientError> {
    let path = format!("{IDENTITIES}/settings/autoAuditingConfiguration");
    let shown = match cmd {
        AuditingCommand::Show => graph.get_json(&path).await?,
        AuditingCommand::Set { automatic } => {
            let body = json!({ "isAutomatic": automatic });
            graph
                .send_json(Method::PATCH, &path, Some(&body))
                .await?
                .unwrap_or(body)
        }
    };
    output::print_object(&shown, format, AUDITING)
}

const MIGRATION: &[Column] = &[
    col("NAME", "/displayName", Kind::Plain),
    col("DOMAIN", "/domainName", Kind::Plain),
    col("STATE", "/migrationState", Kind::Plain),
    col("VERSION", "/version", Kind::Plain),
    col("TYPE", "/sensorType", Kind::Plain),
    col("ID", "/id", Kind::Plain),
];

/// `picket migration` (beta `sensorMigration`, spec §7.2): always on the beta API.
pub async fn migration(
    graph: &Graph,
    format: Format,
    cmd: super::commands::MigrationCommand,
) -> Result<(), ClientError> {
    use super::commands::MigrationCommand;
    let base = format!("{IDENTITIES}/sensorMigration");
    let beta = graph.beta();
    match cmd {
        MigrationCommand::List(args) => {
            let mut f = FilterBuilder::default();
            f.raw(args.filter.as_deref());
            list(&beta, &base, f.build(), &args, format, MIGRATION).await
        }
        MigrationCommand::Start {
            ids,
            all_ready,
            yes,
        } => {
            let mut ids = ids;
            if all_ready {
                let ready = beta
                    .collect(
                        super::list_url(
                            &beta,
                            &base,
                            Some("migrationState eq 'readyForMigration'".into()),
                            Some(1000),
                            &[],
                        ),
                        None,
                    )
                    .await?;
                ids.extend(
                    ready
                        .iter()
                        .filter_map(|m| m["id"].as_str().map(str::to_string)),
                );
            }
            if ids.is_empty() {
                println!("No sensors to migrate.");
                return Ok(());
            }
            if !confirm(
                &format!("Migrate {} sensor(s) to the unified sensor?", ids.len()),
                yes,
            )? {
                println!("Nothing done.");
                return Ok(());
            }
            let answer = beta
                .send_json(
                    Method::POST,
                    &format!("{base}/migrate"),
                    Some(&json!({"sensorIds": ids})),
                )
                .await?
                .unwrap_or(Value::Null);
            let started = answer["successfulMigrationSensorIds"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let failed = answer["failedMigrationSensorIds"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if format == Format::Table {
                println!("Started: {}", started.len());
                for f in &failed {
                    println!("Not eligible: {}", f.as_str().unwrap_or(""));
                }
            } else {
                output::print_object(&answer, format, &[])?;
            }
            if !failed.is_empty() && started.is_empty() {
                return Err(ClientError::other("no sensor was eligible for migration"));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_go_to_the_account_that_offers_them() {
        let identity = json!({"accounts": [
            {"identifier": "a@contoso.com", "identityProvider": "activeDirectory", "actions": ["disable", "enable", "forcePasswordReset"]},
            {"identifier": "a@okta", "identityProvider": "okta", "actions": ["disable", "enable", "revokeAllSessions"]}
        ]});
        assert_eq!(
            pick_account(&identity, "disable", None).unwrap()["identifier"],
            "a@contoso.com"
        );
        assert_eq!(
            pick_account(&identity, "revokeAllSessions", None).unwrap()["identifier"],
            "a@okta"
        );
        assert_eq!(
            pick_account(&identity, "disable", Some("okta")).unwrap()["identifier"],
            "a@okta"
        );
        assert!(pick_account(&identity, "markUserAsCompromised", None).is_none());
        assert!(pick_account(&identity, "disable", Some("entraID")).is_none());
    }
}
