//! Tenant-wide settings and deployment: the candidate activation mode, the deployment access key
//! (masked unless asked for), and the classic sensor package (shown or downloaded).

use super::commands::{AccessKeyCommand, ActivationCommand, PackageCommand};
use super::error::ClientError;
use super::http::{parse_json, Graph};
use super::output::{self, col, Column, Format, Kind, MASK};
use super::{confirm, IDENTITIES};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

const ACTIVATION: &[Column] = &[col("activationMode", "/activationMode", Kind::Plain)];
const KEY: &[Column] = &[col(
    "deploymentAccessKey",
    "/deploymentAccessKey",
    Kind::Plain,
)];
const PACKAGE: &[Column] = &[
    col("version", "/version", Kind::Plain),
    col("downloadUrl", "/downloadUrl", Kind::Plain),
];

/// Function results sit at the body root (spec §0); the docs' `{"value": {…}}` is read too.
fn unwrap_value(v: Value) -> Value {
    match v {
        Value::Object(mut m) if m.get("value").is_some_and(Value::is_object) => {
            m.remove("value").unwrap_or_default()
        }
        other => other,
    }
}

fn without_annotations(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('@'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub async fn activation(
    graph: &Graph,
    format: Format,
    cmd: ActivationCommand,
) -> Result<(), ClientError> {
    let path = format!("{IDENTITIES}/sensorCandidateActivationConfiguration");
    let shown = match cmd {
        ActivationCommand::Show => unwrap_value(graph.get_json(&path).await?),
        ActivationCommand::Set { mode } => {
            // The singleton PATCH the SDKs and PowerShell send (spec §2.11).
            let body = json!({ "activationMode": mode });
            graph
                .send_json(Method::PATCH, &path, Some(&body))
                .await?
                .map(unwrap_value)
                .unwrap_or(body)
        }
    };
    output::print_object(&without_annotations(&shown), format, ACTIVATION)
}

pub async fn access_key(
    graph: &Graph,
    format: Format,
    cmd: AccessKeyCommand,
) -> Result<(), ClientError> {
    let sensors = format!("{IDENTITIES}/sensors");
    let (answer, reveal) = match cmd {
        AccessKeyCommand::Show { reveal } => (
            graph
                .get_json(&format!(
                    "{sensors}/microsoft.graph.security.getDeploymentAccessKey()"
                ))
                .await?,
            reveal,
        ),
        AccessKeyCommand::Regenerate { reveal, yes } => {
            if !confirm("Regenerate the deployment access key? New classic sensor installs will need the new key.", yes)? {
                return Err(ClientError::other("cancelled; the key is unchanged"));
            }
            let answer = graph
                .send_json(
                    Method::POST,
                    &format!("{sensors}/microsoft.graph.security.regenerateDeploymentAccessKey"),
                    None,
                )
                .await?
                .ok_or_else(|| {
                    ClientError::other("the server regenerated the key but did not answer with it")
                })?;
            if !reveal {
                eprintln!("regenerated; run with --reveal to print the new key");
            }
            (answer, reveal)
        }
    };
    let answer = unwrap_value(answer);
    // Graph's docs and schema disagree on the name (spec §5 D1): take either.
    let key = answer["deploymentAccessKey"]
        .as_str()
        .or_else(|| answer["sensorDeploymentAccessKey"].as_str())
        .ok_or_else(|| ClientError::other("the answer holds no deployment access key"))?;
    let shown = if reveal { key } else { MASK };
    if format == Format::Table && !reveal {
        println!("deploymentAccessKey  {MASK}  (hidden; --reveal prints it)");
        return Ok(());
    }
    output::print_object(&json!({ "deploymentAccessKey": shown }), format, KEY)
}

pub async fn package(
    graph: &Graph,
    http: &reqwest::Client,
    format: Format,
    cmd: PackageCommand,
) -> Result<(), ClientError> {
    let path = format!("{IDENTITIES}/sensors/microsoft.graph.security.getDeploymentPackageUri()");
    let package = without_annotations(&unwrap_value(graph.get_json(&path).await?));
    match cmd {
        PackageCommand::Show => output::print_object(&package, format, PACKAGE),
        PackageCommand::Download { out, force } => {
            let url = package["downloadUrl"]
                .as_str()
                .ok_or_else(|| ClientError::other("the package answer has no downloadUrl"))?;
            let file = out.unwrap_or_else(|| default_file_name(url));
            if file.exists() && !force {
                return Err(ClientError::usage(format!(
                    "{} exists; pass --force to replace it",
                    file.display()
                )));
            }
            let bytes = download(http, url, &file).await?;
            let version = package["version"].as_str().unwrap_or("?");
            eprintln!(
                "saved {} ({bytes} bytes, version {version})",
                file.display()
            );
            if format != Format::Table {
                output::print_object(
                    &json!({ "file": file.display().to_string(), "bytes": bytes, "version": version }),
                    format,
                    PACKAGE,
                )?;
            }
            Ok(())
        }
    }
}

/// The package URL is pre-signed: it is fetched without the Graph token, streamed into a
/// `.part` file that is renamed once complete.
async fn download(http: &reqwest::Client, url: &str, file: &PathBuf) -> Result<u64, ClientError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| ClientError::transport(url, &e))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.bytes().await.unwrap_or_default();
        let detail = parse_json(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_default();
        return Err(ClientError::other(
            format!("download failed: {status} {detail}")
                .trim()
                .to_string(),
        ));
    }
    let part = file.with_extension("part");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&part)
            .map_err(|e| ClientError::other(format!("cannot write {}: {e}", part.display())))?,
    );
    let mut stream = response.bytes_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ClientError::transport(url, &e))?;
        out.write_all(&chunk)?;
        total += chunk.len() as u64;
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&part, file)?;
    Ok(total)
}

fn default_file_name(url: &str) -> PathBuf {
    let name = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
        })
        .map(|s| {
            percent_encoding::percent_decode_str(&s)
                .decode_utf8_lossy()
                .to_string()
        })
        .filter(|s| !s.is_empty() && !s.contains(['/', '\\']) && s != "." && s != "..")
        .unwrap_or_else(|| "sensor-package.zip".into());
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_file_names_come_from_the_url() {
        assert_eq!(
            default_file_name("https://x/y/Azure%20ATP%20Sensor%20Setup.zip?sig=1"),
            PathBuf::from("Azure ATP Sensor Setup.zip")
        );
        assert_eq!(
            default_file_name("https://x/"),
            PathBuf::from("sensor-package.zip")
        );
        assert_eq!(
            default_file_name("https://x/a/..%2F..%2Fetc"),
            PathBuf::from("sensor-package.zip")
        );
    }

    #[test]
    fn wrapped_and_root_results_read_alike() {
        assert_eq!(unwrap_value(json!({"value": {"a": 1}})), json!({"a": 1}));
        assert_eq!(unwrap_value(json!({"a": 1})), json!({"a": 1}));
    }
}
