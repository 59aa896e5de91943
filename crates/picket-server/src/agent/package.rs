//! The deployment package Picket serves itself (what `getDeploymentPackageUri` points at unless
//! `--package-url` names another): a zip holding the sensor agent built for this server's
//! platform, a README with the command that enrols it, and the server's address. Like the real
//! package it carries no secret: the access key is given at install time.
//!
//! `GET /downloads/{tenant}/{file}.zip`, without a token, as the real package's pre-signed URL
//! is fetched. Errors use the agent protocol's (Graph-shaped) envelope.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use picket_domain::TenantId;
use std::io::Write;

/// The download path of a tenant's package for `version`.
pub fn download_path(tenant: &TenantId, version: &str) -> String {
    format!("/downloads/{tenant}/picket-sensor-{version}.zip")
}

pub async fn download(
    State(state): State<AppState>,
    Path((tenant, file)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    extensions: axum::http::Extensions,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::NotFound("No such package; ask getDeploymentPackageUri for its address".into())
    };
    let tenant = TenantId::parse(&tenant).ok_or_else(not_found)?;
    if !file.starts_with("picket-sensor-") || !file.ends_with(".zip") {
        return Err(not_found());
    }
    match state.store.find_tenant(&tenant).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(not_found()),
        Err(e) => {
            tracing::error!(error = %e, "package download: store unavailable");
            return Err(ApiError::ServiceUnavailable(e.to_string()));
        }
    }
    let Some(agent) = state.settings.agent_binary.clone().filter(|p| p.is_file()) else {
        return Err(ApiError::Coded {
            status: 404,
            code: "PackageUnavailable",
            message: "This server has no sensor agent to package: build it beside picket (cargo build --release -p picket-agent) or start serve with --agent-binary PATH".into(),
            retry_after: None,
        });
    };
    let endpoint = crate::edge::request_base(&state, &headers, &extensions);
    let version = file
        .trim_start_matches("picket-sensor-")
        .trim_end_matches(".zip")
        .to_string();
    // The agent binary, or `picket` itself, which runs the agent as `picket agent`.
    let name = if agent.file_name().is_some_and(|n| n == "picket") {
        "picket"
    } else {
        "picket-agent"
    };
    let command = if name == "picket" {
        "./picket agent run"
    } else {
        "./picket-agent run"
    };
    let readme = readme(command, &endpoint, &tenant, &version);
    let manifest = serde_json::json!({
        "endpoint": endpoint,
        "tenantId": tenant.as_str(),
        "version": version,
        "agent": name,
        "run": command,
    })
    .to_string();
    let zip = tokio::task::spawn_blocking(move || build_zip(&agent, name, &readme, &manifest))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(|e| {
            tracing::error!(error = %e, "cannot build the sensor package");
            ApiError::Coded {
                status: 503,
                code: "ServiceUnavailable",
                message: "The sensor package could not be built; retry later".into(),
                retry_after: None,
            }
        })?;
    let mut response = zip.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

fn readme(command: &str, endpoint: &str, tenant: &TenantId, version: &str) -> String {
    format!(
        "Picket sensor package {version}\n\
         ==============================\n\n\
         The agent in this package is the sensor. On the domain controller (or any host standing\n\
         in for one), with the tenant's deployment access key (picket access-key show --reveal):\n\n\
         \x20   {command} --endpoint {endpoint} --tenant {tenant} \\\n\
         \x20       --access-key \"$ACCESS_KEY\" --computer \"$(hostname -f)\"\n\n\
         It enrols once, keeps its own credential in ./picket-agent-state, and checks in\n\
         with {endpoint}. picket.json holds the same address and tenant for scripts.\n"
    )
}

/// The zip, stored without compression: the agent binary dominates it and the time to build
/// it stays a copy.
fn build_zip(
    agent: &std::path::Path,
    name: &str,
    readme: &str,
    manifest: &str,
) -> std::io::Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let binary = std::fs::read(agent)?;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(
        binary.len() + 4096,
    )));
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(binary.len() > u32::MAX as usize);
    let zip_err = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    out.start_file(name, stored.unix_permissions(0o755))
        .map_err(zip_err)?;
    out.write_all(&binary)?;
    out.start_file("README.txt", stored.unix_permissions(0o644))
        .map_err(zip_err)?;
    out.write_all(readme.as_bytes())?;
    out.start_file("picket.json", stored.unix_permissions(0o644))
        .map_err(zip_err)?;
    out.write_all(manifest.as_bytes())?;
    Ok(out.finish().map_err(zip_err)?.into_inner())
}
