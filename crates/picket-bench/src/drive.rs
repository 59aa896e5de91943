//! `picket-bench drive`: only the load generator, against a server someone else started (the
//! profiling script runs `perf record` on it meanwhile). The same closed loop as the bench:
//! N keep-alive connections, a warm-up, then a measured window with HDR latencies.

use crate::load;
use anyhow::{anyhow, bail, ensure, Context, Result};
use hyper::header::HeaderValue;
use hyper::Uri;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct DriveArgs {
    /// Base URL of the running server (plain http), e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// A request path with its query, percent-encoded, below the base URL (e.g.
    /// `/beta/security/identities/sensors/ID`); repeatable. Each request picks one at random.
    #[arg(long = "path", value_name = "PATH")]
    paths: Vec<String>,
    /// A file of request paths, one a line (blank lines skipped), added to the --path ones.
    #[arg(long, value_name = "FILE")]
    paths_file: Option<PathBuf>,
    /// Bearer token sent with every request (none when absent). Prefer the environment
    /// variable: a command line is visible to every user of the machine.
    #[arg(long, env = "PICKET_BENCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Concurrent keep-alive connections (one load task each).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    connections: u32,
    /// Measured seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Unmeasured warm-up seconds before the window.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup: u64,
    /// Seed of the random path choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The server's pid: its CPU use during the window is printed too (from /proc/PID/stat).
    #[arg(long)]
    server_pid: Option<u32>,
    /// PATCH every request with this JSON body instead of GETting it (e.g. a sensor's
    /// `{"settings": {"description": "…"}}`).
    #[arg(long, value_name = "JSON")]
    patch: Option<String>,
}

/// Line printed (and flushed) the moment the measured window opens: a script waits for it.
pub const WINDOW_OPENS: &str = "measuring";

pub async fn drive(args: DriveArgs) -> Result<ExitCode> {
    let base: Uri = args
        .url
        .parse()
        .with_context(|| format!("--url {} is not a URL", args.url))?;
    ensure!(
        base.scheme_str() == Some("http"),
        "--url must be a plain http:// URL (got {})",
        args.url
    );
    let host = base
        .host()
        .ok_or_else(|| anyhow!("--url {} has no host", args.url))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = base.port_u16().unwrap_or(80);
    let addr = tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .ok_or_else(|| anyhow!("{host} resolves to no address"))?;
    let prefix = base.path().trim_end_matches('/');

    let mut raw = args.paths.clone();
    if let Some(file) = &args.paths_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        raw.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    ensure!(
        !raw.is_empty(),
        "no request paths: give --path or --paths-file"
    );
    let paths = raw
        .iter()
        .map(|p| {
            if !p.starts_with('/') {
                bail!("the path '{p}' does not start with '/'");
            }
            format!("{prefix}{p}")
                .parse::<Uri>()
                .with_context(|| format!("'{p}' is not a request path"))
        })
        .collect::<Result<Vec<_>>>()?;
    let auth = args
        .token
        .as_deref()
        .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
        .transpose()
        .context("the token is not a header value")?;

    let plan = load::Plan {
        connections: usize::try_from(args.connections)?,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
    };
    let mut target = load::Target::get(addr, paths, auth);
    if let Some(body) = &args.patch {
        serde_json::from_str::<serde_json::Value>(body).context("--patch is not JSON")?;
        target.patch = Some(bytes::Bytes::from(body.clone()));
    }
    println!(
        "drive: {} connections to {addr}, {} s warm-up + {} s measured, {} distinct paths",
        plan.connections,
        args.warmup,
        args.duration,
        target.paths.len()
    );
    let outcome = load::run(&target, plan, args.server_pid, args.seed, || {
        println!("{WINDOW_OPENS}");
    })
    .await?;

    let rate = outcome.rate();
    println!("requests: {}", outcome.requests);
    println!("errors: {}", outcome.errors);
    if let Some(e) = &outcome.first_error {
        println!("first error: {e}");
    }
    println!("window s: {:.3}", outcome.window.as_secs_f64());
    println!("req/s: {rate:.1}");
    println!("p50 ms: {:.3}", outcome.p50_ms());
    println!("p99 ms: {:.3}", outcome.p99_ms());
    println!("max ms: {:.3}", outcome.latency.max() as f64 / 1000.0);
    // CPU per request: cores (CPU seconds per wall second) over requests per second.
    let per_request = |cores: f64| cores / rate.max(1e-9) * 1e6;
    if let Some(cores) = outcome.server_cpu {
        println!("server cores: {cores:.3}");
        println!("server CPU us/req: {:.2}", per_request(cores));
    }
    if let Some(cores) = outcome.generator_cpu {
        println!("generator cores: {cores:.3}");
        println!("generator CPU us/req: {:.2}", per_request(cores));
    }
    if outcome.errors > 0 {
        eprintln!(
            "error: {} requests failed (any answer outside 2xx counts); the figures are not trustworthy",
            outcome.errors
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
