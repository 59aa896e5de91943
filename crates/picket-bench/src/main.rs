//! `picket-bench`: seeds 100,000 sensors, runs the real `picket serve` and a bare axum baseline
//! as child processes, drives each at 64 keep-alive connections, and prints requests/s, p50/p99
//! latency, the ratio to the baseline, the server's memory and verdicts against the targets.
//! `picket-bench scale` measures how those costs grow with the store (see `scale`).

mod auth_cost;
mod baseline;
mod drive;
mod load;
mod procs;
mod report;
mod scale;
mod seed;

use anyhow::{anyhow, ensure, Context, Result};
use clap::{Parser, Subcommand};
use hyper::header::HeaderValue;
use hyper::{StatusCode, Uri};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};
use std::time::Duration;

const SENSORS_PATH: &str = "/beta/security/identities/sensors";
/// (b): `$filter=healthStatus eq 'notHealthyHigh'&$top=100`, percent-encoded.
const LIST_QUERY: &str =
    "/beta/security/identities/sensors?$filter=healthStatus%20eq%20%27notHealthyHigh%27&$top=100";
const PAGE_SIZE: usize = 100;

#[derive(Parser)]
#[command(
    name = "picket-bench",
    version,
    about = "Load benchmark: Picket with 100,000 seeded sensors beside a bare axum handler",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Seed the benchmark tenant into DIR (for `picket serve --data-dir DIR`) and print a
    /// token for it on stdout; used by bench/cli.sh.
    Seed {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        sensors: u32,
        /// Seed of the fixture.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the seeded sensors' ids to this file, one a line.
        #[arg(long)]
        ids: Option<PathBuf>,
    },
    /// Load an already running server and print requests, errors, req/s and p50/p99 latency;
    /// used by bench/profile.sh, which profiles the server meanwhile.
    Drive(drive::DriveArgs),
    /// The cost curve: the same measurements at 10,000, 100,000 and 1,000,000 sensors in one
    /// tenant and 1,000 tenants of 1,000, each on a fresh store, then the targets of issue 15.
    Scale(scale::ScaleArgs),
    /// Internal: the bare axum server the bench compares against (started by the bench itself).
    BaselineServer {
        /// Body answered at /entity.
        #[arg(long)]
        entity: PathBuf,
        /// Body answered at /list.
        #[arg(long)]
        list: PathBuf,
        /// Body answered by POST /agent/v1/tenants/{t}/sensors/{s}/checkIn (default: --entity's).
        #[arg(long)]
        check_in: Option<PathBuf>,
        #[arg(long, default_value = "application/json")]
        content_type: String,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Serve from this (empty) PostgreSQL database instead: the seeded SQLite store is copied
    /// into it with `picket migrate-data` first.
    #[arg(long)]
    database: Option<String>,
    /// Sensors to seed.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
    sensors: u32,
    /// Concurrent keep-alive connections (one load task each).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    connections: u32,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Unmeasured warm-up seconds before each scenario's window.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup: u64,
    /// The picket binary; default: `picket` beside this executable (target/release/picket).
    #[arg(long)]
    picket_bin: Option<PathBuf>,
    /// Seed of the fixture and of the random sensor choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Seed {
            dir,
            sensors,
            seed,
            ids,
        }) => seed_only(&dir, sensors, seed, ids.as_deref()).await,
        Some(Command::Drive(args)) => tokio::select! {
            result = drive::drive(args) => result,
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        },
        // Dropping the run on Ctrl-C still kills the server and removes the data directory.
        Some(Command::Scale(args)) => tokio::select! {
            result = scale::run(args) => result,
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        },
        Some(Command::BaselineServer {
            entity,
            list,
            check_in,
            content_type,
        }) => baseline::serve(&entity, &list, check_in.as_deref(), &content_type)
            .await
            .map(|()| ExitCode::SUCCESS),
        // Dropping the bench on Ctrl-C still kills the servers and removes the data directory.
        None => tokio::select! {
            result = bench(cli.run) => result,
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        },
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}

async fn seed_only(
    dir: &Path,
    sensors: u32,
    rng_seed: u64,
    ids: Option<&Path>,
) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let seeded = seed::seed(dir, usize::try_from(sensors)?, rng_seed).await?;
    if let Some(path) = ids {
        let mut text = seeded.sensor_ids.join("\n");
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!(
        "seeded {sensors} sensors and {} health issues into tenant {} in {:.2} s (serve with --issuer {})",
        seeded.issues,
        seed::TENANT,
        seeded.store_time.as_secs_f64(),
        seed::ISSUER
    );
    println!("{}", seeded.token);
    Ok(ExitCode::SUCCESS)
}

/// One measured scenario: where it sends requests and which row it is compared with.
struct Scenario {
    name: &'static str,
    what: String,
    target: load::Target,
    server_pid: u32,
    body_bytes: usize,
    baseline: Option<usize>,
}

/// The picket binary: the one given, or `picket` beside this executable.
fn picket_binary(given: Option<PathBuf>) -> Result<PathBuf> {
    let picket_bin = match given {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("picket"),
    };
    ensure!(
        picket_bin.is_file(),
        "no picket binary at {} (build it with `cargo build --release -p picket-cli`, or pass --picket-bin)",
        picket_bin.display()
    );
    Ok(picket_bin)
}

async fn bench(args: RunArgs) -> Result<ExitCode> {
    let picket_bin = picket_binary(args.picket_bin)?;
    let sensors = usize::try_from(args.sensors)?;
    let plan = load::Plan {
        connections: usize::try_from(args.connections)?,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
    };
    // Declared first so it is removed last, after both servers are killed.
    let data = tempfile::Builder::new()
        .prefix("picket-bench-")
        .tempdir()
        .context("cannot create a temporary data directory")?;
    let dir = data.path();

    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "picket-bench: {sensors} sensors, {} connections, {} s warm-up + {} s measured per scenario",
        plan.connections, args.warmup, args.duration
    );
    println!("machine: nproc = {nproc}; the load generator, Picket and the baseline server share these cores,");
    println!("         so absolute req/s is bounded by the machine and the ratio to the bare handler is the figure to compare");
    println!("data dir: {}", dir.display());

    let seeded = seed::seed(dir, sensors, args.seed).await?;
    let h = seeded.health;
    println!(
        "seeded {sensors} sensors ({} notHealthyHigh, {} notHealthyMedium, {} notHealthyLow, {} healthy) and {} health issues \
         in {:.2} s (fixture built in {:.2} s)",
        h.high,
        h.medium,
        h.low,
        h.healthy,
        seeded.issues,
        seeded.store_time.as_secs_f64(),
        seeded.build_time.as_secs_f64()
    );

    let mut command = picket_command(&picket_bin, dir);
    if let Some(url) = &args.database {
        let started = std::time::Instant::now();
        let from = format!("sqlite://{}", dir.join("picket.db").display());
        let copied = Process::new(&picket_bin)
            .args(["migrate-data", "--from", &from, "--to", url])
            .env("PICKET_LOG", "warn")
            .output()
            .context("cannot run picket migrate-data")?;
        anyhow::ensure!(
            copied.status.success(),
            "picket migrate-data failed: {}",
            String::from_utf8_lossy(&copied.stderr)
        );
        println!(
            "copied into PostgreSQL in {:.2} s; serving from there",
            started.elapsed().as_secs_f64()
        );
        command.args(["--database", url]);
    }
    let picket = procs::Server::spawn("picket", command, &dir.join("picket.log"))?;
    let idle = procs::memory(picket.pid())?;
    println!(
        "picket (pid {}) listening on http://{}",
        picket.pid(),
        picket.addr
    );

    let auth = HeaderValue::from_str(&format!("Bearer {}", seeded.token))
        .context("the token is not a header value")?;
    let entity_paths = seeded
        .sensor_ids
        .iter()
        .map(|id| format!("{SENSORS_PATH}/{id}").parse::<Uri>())
        .collect::<Result<Vec<_>, _>>()
        .context("a sensor path is not a URI")?;
    let list_path: Uri = LIST_QUERY.parse()?;
    let first = entity_paths
        .first()
        .ok_or_else(|| anyhow!("no sensors seeded"))?;

    // One answer of each kind: checks the token and fixes the baseline's body sizes.
    let (entity_body, content_type) = sample(picket.addr, first, &auth).await?;
    let (list_body, _) = sample(picket.addr, &list_path, &auth).await?;
    let page: serde_json::Value =
        serde_json::from_slice(&list_body).context("the filtered page is not JSON")?;
    let items = page
        .get("value")
        .and_then(|v| v.as_array())
        .map_or(0, Vec::len);
    let expected = h.high.min(PAGE_SIZE);
    ensure!(
        items == expected,
        "the filtered page holds {items} sensors; expected {expected}"
    );

    let entity_file = dir.join("baseline-entity.json");
    let list_file = dir.join("baseline-list.json");
    std::fs::write(&entity_file, &entity_body)?;
    std::fs::write(&list_file, &list_body)?;
    let mut command = Process::new(std::env::current_exe()?);
    command
        .arg("baseline-server")
        .arg("--entity")
        .arg(&entity_file)
        .arg("--list")
        .arg(&list_file);
    command.arg("--content-type").arg(&content_type);
    let baseline = procs::Server::spawn("baseline", command, &dir.join("baseline.log"))?;
    println!(
        "baseline (pid {}) listening on http://{}",
        baseline.pid(),
        baseline.addr
    );

    let target = |addr, paths: Vec<Uri>| load::Target::get(addr, paths, Some(auth.clone()));
    let patch_body =
        bytes::Bytes::from_static(br#"{"settings":{"description":"written by picket-bench"}}"#);
    let scenarios = [
        Scenario {
            name: "baseline-entity",
            what: format!("GET {} on the bare axum handler (fixed body, the size of one sensor)", baseline::ENTITY_PATH),
            target: target(baseline.addr, vec![Uri::from_static(baseline::ENTITY_PATH)]),
            server_pid: baseline.pid(),
            body_bytes: entity_body.len(),
            baseline: None,
        },
        Scenario {
            name: "picket-get",
            what: format!("(a) GET {SENSORS_PATH}/{{id}}, a random one of the {sensors} sensors each time"),
            target: target(picket.addr, entity_paths.clone()),
            server_pid: picket.pid(),
            body_bytes: entity_body.len(),
            baseline: Some(0),
        },
        Scenario {
            name: "baseline-list",
            what: format!("GET {} on the bare axum handler (fixed body, the size of one page of (b))", baseline::LIST_PATH),
            target: target(baseline.addr, vec![Uri::from_static(baseline::LIST_PATH)]),
            server_pid: baseline.pid(),
            body_bytes: list_body.len(),
            baseline: None,
        },
        Scenario {
            name: "picket-list",
            what: format!("(b) GET {SENSORS_PATH}?$filter=healthStatus eq 'notHealthyHigh'&$top={PAGE_SIZE} ({} matching sensors)", h.high),
            target: target(picket.addr, vec![list_path]),
            server_pid: picket.pid(),
            body_bytes: list_body.len(),
            baseline: Some(2),
        },
        Scenario {
            name: "picket-patch",
            what: format!("(c) PATCH {SENSORS_PATH}/{{id}} settings/description, a random sensor each time (a committed write; no baseline)"),
            target: load::Target {
                patch: Some(patch_body),
                ..target(picket.addr, entity_paths)
            },
            server_pid: picket.pid(),
            body_bytes: entity_body.len(),
            baseline: None,
        },
    ];

    let mut rows = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        println!("running {} ...", s.name);
        let outcome = load::run(&s.target, plan, Some(s.server_pid), args.seed, || {}).await?;
        rows.push(report::Row {
            name: s.name,
            what: s.what,
            body_bytes: s.body_bytes,
            outcome,
            baseline: s.baseline,
        });
    }
    let loaded = procs::memory(picket.pid())?;
    report::print(&rows, sensors, idle, loaded);
    let auth = auth_cost::measure(seed::TENANT, seed::ISSUER).await?;
    report::print_auth_cost(&rows, &auth);

    drop(baseline);
    drop(picket);
    let errors: u64 = rows.iter().map(|r| r.outcome.errors).sum();
    if errors > 0 {
        eprintln!("error: {errors} requests failed; the figures above are not trustworthy");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `picket serve` on an ephemeral loopback port over the seeded data directory, isolated from
/// any PICKET_* settings in the caller's environment.
fn picket_command(bin: &Path, dir: &Path) -> Process {
    let mut command = Process::new(bin);
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--issuer",
            seed::ISSUER,
            // One token drives the whole load: the per-app limits would measure the throttle.
            "--throttle-app-reads",
            "off",
            "--throttle-tenant-reads",
            "off",
            "--throttle-app-writes",
            "off",
            "--throttle-tenant-writes",
            "off",
            "--data-dir",
        ])
        .arg(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PICKET_") {
            command.env_remove(name);
        }
    }
    command.env("PICKET_LOG", "warn");
    command
}

/// One authorised GET that must answer 200: (body, content type).
async fn sample(
    addr: std::net::SocketAddr,
    uri: &Uri,
    auth: &HeaderValue,
) -> Result<(bytes::Bytes, String)> {
    let (status, content_type, body) = load::fetch(addr, uri, Some(auth)).await?;
    ensure!(
        status == StatusCode::OK,
        "GET {uri} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok((body, content_type))
}
