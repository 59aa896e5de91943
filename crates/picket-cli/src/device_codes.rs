//! `picket device-codes approve|deny`: an administrator decides a device sign-in (the device
//! code flow of Picket's token service) on a running server.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Subcommand)]
pub enum DeviceCodesCommand {
    /// Sign a registered user in on the device that shows CODE.
    ///
    /// The token must be a Global Administrator's delegated token of the tenant, e.g.
    /// `picket token --tenant T --scope SecurityIdentitiesSensors.Read.All --directory-role "Global Administrator"`.
    ///
    /// Example: picket device-codes approve BCDF-GHJK --user ana@contoso.test --endpoint http://127.0.0.1:8080 --token "$ADMIN_TOKEN"
    Approve {
        /// The code the device shows (any case, dash optional).
        code: String,
        /// User principal name (or object id) of the registered user who signs in.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Refuse the sign-in of the device that shows CODE.
    ///
    /// Example: picket device-codes deny BCDF-GHJK --endpoint http://127.0.0.1:8080 --token "$ADMIN_TOKEN"
    Deny {
        code: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(clap::Args)]
pub struct ServerArgs {
    #[command(flatten)]
    endpoint: crate::config::EndpointArg,
    /// A delegated token of a Global Administrator of the tenant.
    #[arg(long, env = "PICKET_TOKEN", hide_env_values = true)]
    token: String,
    /// PEM CA certificate to trust for an https:// server (e.g. DATA_DIR/tls/ca.pem).
    #[arg(long)]
    ca_file: Option<std::path::PathBuf>,
}

pub async fn run(command: DeviceCodesCommand) -> Result<()> {
    let (verb, code, user, server) = match command {
        DeviceCodesCommand::Approve { code, user, server } => ("approve", code, Some(user), server),
        DeviceCodesCommand::Deny { code, server } => ("deny", code, None, server),
    };
    let mut client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30));
    if let Some(path) = &server.ca_file {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        client = client.add_root_certificate(
            reqwest::Certificate::from_pem(&pem).context("the CA file is not a PEM certificate")?,
        );
    }
    let url = format!(
        "{}/admin/v1/deviceCodes/{verb}",
        server.endpoint.endpoint.trim_end_matches('/')
    );
    let mut body = json!({ "userCode": code });
    if let Some(u) = &user {
        body["userPrincipalName"] = json!(u);
    }
    let response = client
        .build()?
        .post(&url)
        .bearer_auth(&server.token)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "{status}: {}",
            answer["error"]["message"].as_str().unwrap_or("no message")
        );
    }
    match user {
        Some(u) => println!(
            "approved {}: {u} signs in to app {} with {}",
            answer["userCode"].as_str().unwrap_or(&code),
            answer["clientId"].as_str().unwrap_or("?"),
            answer["scopes"]
                .as_array()
                .map(|s| s
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        None => println!(
            "denied {} (app {})",
            answer["userCode"].as_str().unwrap_or(&code),
            answer["clientId"].as_str().unwrap_or("?")
        ),
    }
    Ok(())
}
