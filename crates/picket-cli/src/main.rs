//! `picket`: runs the server, manages tenants, apps, users, keys and trusted issuers, mints
//! tokens from the built-in issuer, seeds fixtures and reads the audit log; and, as a client,
//! manages sensors through the Graph API of Microsoft Graph or a Picket server.

mod client;
mod config;
mod config_file;
mod console_link;
mod copies;
mod device_codes;
mod identity;
mod installation;
mod logging;
mod test_double;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use config::{Database, StoreArgs};
use identity::{AppsCommand, AuditArgs, IssuersCommand, KeysCommand, TenantsCommand, UsersCommand};
use logging::{announce, LogFormat};
use picket_auth::{DirectoryRole, KeyRing, TokenRequest, TokenVerifier};
use picket_domain::time::{Clock, SystemClock};
use picket_domain::{DeploymentPackage, TenantId};
use picket_server::app::{Server, ServerConfig};
use picket_server::demo::{demo_fixture, demo_users, DEMO_ADMIN, DEMO_READER, DEMO_TENANT};
use picket_server::throttle::{parse_limit, Rate, ThrottleSettings};
use picket_server::{ApiSettings, AppState, IdentitySettings};
use picket_store::{Catalogue, PostgresStore, SqliteStore, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "picket",
    version,
    about = "A self-hosted control plane for identity-threat sensors, speaking the Microsoft Graph API of Defender for Identity sensor management",
    after_help = "Client commands (sensors, health-issues, candidates, activation, access-key, package, watch, fixtures, accounts, auditing, migration) \
talk to Microsoft Graph (--endpoint graph, the default) or a Picket server (--endpoint URL).
Exit codes: 0 ok, 1 API error, 2 usage, 3 sign-in.

Examples:
  picket serve --demo
  export PICKET_TOKEN=…; picket sensors list --endpoint http://127.0.0.1:8080
  picket health-issues list --status open --severity high -o json
  picket watch sensors --interval 10"
)]
struct Cli {
    /// TOML file of flags for every command (keys are flag names, e.g. listen, data-dir)
    /// [env: PICKET_CONFIG] [default: ~/.config/picket/config.toml, if it exists].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    ///
    /// Example: picket serve --demo
    Serve(Box<ServeArgs>),
    /// A preview in one command: the server with the demo tenant and a simulated fleet.
    ///
    /// Prints the block to paste (PICKET_ENDPOINT, PICKET_TOKEN). Examples:
    /// picket demo --in-memory          (a throwaway installation, deleted on exit)
    /// picket demo --sensors 200        (in this user's installation; picket reset empties it)
    Demo(DemoArgs),
    /// The sensor agent (the same as the picket-agent binary): run one sensor, or simulate many.
    ///
    /// Example: picket agent run --endpoint http://127.0.0.1:8080 --tenant T --access-key KEY --computer dc1.contoso.com
    Agent(picket_agent::AgentCli),
    /// Create the installation (database and signing key) store commands will use.
    ///
    /// `serve` creates it too; other store commands never do, so that one run from the wrong
    /// directory cannot start an empty installation of its own. Example: picket init
    Init {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Which installation, endpoint and identity this shell's commands use.
    ///
    /// Example: picket status
    Status {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete the installation's data (every tenant, sensor, app and key) after confirmation.
    ///
    /// Stop the server first. Example: picket reset --yes
    Reset {
        #[command(flatten)]
        store: StoreArgs,
        /// Do not ask (needed when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Print an access token signed by this installation's issuer key.
    ///
    /// Example: picket token --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47 --role SecurityIdentitiesSensors.ReadWrite.All
    Token(TokenArgs),
    /// Print a one-time sign-in link to the web console for a registered user.
    ///
    /// Picket keeps no passwords: the link (valid 10 minutes unless --lifetime, usable once)
    /// signs the user in to the console served at ENDPOINT/console/. Example:
    /// picket console-link --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47 --user admin@demo.picket.local
    ConsoleLink(console_link::ConsoleLinkArgs),
    /// Load a fixture (sensors, candidates, health issues in Graph JSON) into a tenant.
    ///
    /// Example: picket seed fixture.json --tenant 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    Seed(SeedArgs),
    /// Create and list tenants.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// App registrations: client ids, secrets, certificates and granted permissions.
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Users with directory roles, for delegated tokens.
    #[command(subcommand)]
    Users(UsersCommand),
    /// External OIDC issuers (e.g. Microsoft Entra ID) a tenant trusts.
    #[command(subcommand)]
    Issuers(IssuersCommand),
    /// The built-in issuer's signing keys: list, rotate, remove.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Show a tenant's audit log.
    ///
    /// Example: picket audit --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47 --since 24h
    Audit(AuditArgs),
    /// Apply the database migrations (a PostgreSQL database is never migrated by `serve`).
    ///
    /// Example: picket migrate --database postgres://picket@db.internal:5432/picket
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Copy a whole SQLite installation (every tenant) into PostgreSQL, then check the counts.
    ///
    /// The target is migrated first; one that already holds rows is refused unless
    /// --into-non-empty. Example:
    /// picket migrate-data --from sqlite://$HOME/.local/share/picket/picket.db --to postgres://picket@db.internal/picket
    MigrateData {
        /// sqlite://PATH of the installation to copy.
        #[arg(long)]
        from: String,
        /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE to copy into.
        #[arg(long)]
        to: String,
        /// Copy into a database that already holds rows (rows with the same key are kept).
        #[arg(long)]
        into_non_empty: bool,
    },
    /// Approve or deny a device sign-in (the token service's device code flow).
    #[command(subcommand)]
    DeviceCodes(device_codes::DeviceCodesCommand),
    /// Move a `--clock manual` server's time forward (and sweep at once).
    #[command(subcommand)]
    Clock(ClockCommand),
    /// The classic sensor release catalogue: publishing a version rolls it out.
    #[command(subcommand)]
    Releases(ReleasesCommand),
    /// Named snapshots of a tenant (or of everything) for fast resets: save, restore, list, delete.
    #[command(subcommand)]
    Snapshot(copies::SnapshotCommand),
    /// Write a verified backup of the whole installation (while it serves) to a file.
    ///
    /// Example: picket backup --out picket-2026-12-02.backup
    Backup(copies::BackupArgs),
    /// Restore a backup into an empty store (SQLite or PostgreSQL: backups move installations
    /// between engines), checking every table's count and checksum.
    ///
    /// Example: picket restore picket-2026-12-02.backup --database postgres://picket@db.internal/picket
    Restore(copies::RestoreArgs),
    /// Fault rules for a running server: answer matching Graph calls with 429, 5xx, 403s,
    /// latency or a dropped connection.
    #[command(subcommand)]
    Faults(test_double::FaultsCommand),
    /// A running server's request journal: list, show, clear, verify.
    #[command(subcommand)]
    Requests(test_double::RequestsCommand),
    /// Client: list, show, update and delete sensors.
    Sensors(client::SensorsArgs),
    /// Client: list, show, close, suppress and reopen health issues.
    HealthIssues(client::HealthIssuesArgs),
    /// Client: list sensor candidates and activate them.
    Candidates(client::CandidatesArgs),
    /// Client: show or set the candidate activation mode (manual, automated).
    Activation(client::ActivationArgs),
    /// Client: show or regenerate the deployment access key.
    AccessKey(client::AccessKeyArgs),
    /// Client: show or download the classic sensor package.
    Package(client::PackageArgs),
    /// Client: a live view of the fleet.
    Watch(client::WatchArgs),
    /// Client: clone a tenant through the Graph API into a fixture file for `picket seed`.
    Fixtures(client::FixturesArgs),
    /// Client: identity accounts and their response actions (disable, enable, reset-password, revoke-sessions).
    Accounts(client::AccountsArgs),
    /// Client: show or set automatic auditing configuration.
    Auditing(client::AuditingArgs),
    /// Client: move classic sensors to the unified sensor (list, start).
    Migration(client::MigrationArgs),
    /// Print a shell completion script.
    ///
    /// Example: picket completions bash > /etc/bash_completion.d/picket
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum ReleasesCommand {
    /// Publish a classic sensor release (2.x): sensors are told to update on their next
    /// check-in, one domain at a time, the delayed ring 72 hours later.
    ///
    /// Example: picket releases publish 2.240.18200.1
    Publish {
        version: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List published releases.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum ClockCommand {
    /// Example: picket clock advance 11m --endpoint http://127.0.0.1:8080 --token "$PICKET_TOKEN"
    Advance {
        /// 90s, 11m, 2h, 3d.
        by: String,
        #[command(flatten)]
        endpoint: config::EndpointArg,
        /// A token with SecurityIdentitiesSensors.ReadWrite.All.
        #[arg(long, env = "PICKET_TOKEN")]
        token: String,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PICKET_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// Public base URL for links (when behind a proxy); default: the request's own host.
    #[arg(long, env = "PICKET_PUBLIC_URL")]
    public_url: Option<String>,
    /// Default page size of collections when no $top is given.
    #[arg(long, env = "PICKET_PAGE_SIZE", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    page_size: u32,
    /// Download URL answered by getDeploymentPackageUri; default: the package this server
    /// builds and serves itself (the agent, a README and this server's address).
    #[arg(long, env = "PICKET_PACKAGE_URL", default_value = "")]
    package_url: String,
    /// The sensor agent put in that package; default: picket-agent beside this picket, else
    /// picket itself (which runs the agent as `picket agent run`).
    #[arg(long, env = "PICKET_AGENT_BINARY")]
    agent_binary: Option<PathBuf>,
    /// Classic sensor version answered by getDeploymentPackageUri.
    #[arg(
        long,
        env = "PICKET_PACKAGE_VERSION",
        default_value = "2.239.18124.58593"
    )]
    package_version: String,
    /// Version given to sensors created by activating a candidate.
    #[arg(
        long,
        env = "PICKET_UNIFIED_SENSOR_VERSION",
        default_value = "3.1.25311.1"
    )]
    unified_sensor_version: String,
    /// Load the demo tenant (if empty) and print its id and a ready token.
    #[arg(long, env = "PICKET_DEMO")]
    demo: bool,
    /// Load this fixture at start (into its tenantId, or --seed-tenant).
    #[arg(long, env = "PICKET_SEED")]
    seed: Option<PathBuf>,
    #[arg(long, env = "PICKET_SEED_TENANT")]
    seed_tenant: Option<String>,
    /// Graph requests kept per tenant in the request journal (`picket requests`); 0 turns it off.
    #[arg(long, env = "PICKET_JOURNAL_SIZE", default_value_t = picket_server::journal::DEFAULT_SIZE)]
    journal_size: usize,
    /// Fault rules to start with: a JSON array of rules as `picket faults add` makes them, each
    /// with its tenantId.
    #[arg(long, env = "PICKET_FAULTS", value_name = "FILE")]
    faults: Option<PathBuf>,
    /// Also serve HTTPS here (the token service needs https for azure-identity/MSAL).
    #[arg(long, env = "PICKET_TLS_LISTEN")]
    tls_listen: Option<SocketAddr>,
    /// PEM certificate chain for HTTPS; default: generated under DATA_DIR/tls with a local CA.
    #[arg(long, env = "PICKET_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "PICKET_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Extra DNS names or IPs for the generated server certificate; repeatable.
    #[arg(long = "tls-name", env = "PICKET_TLS_NAMES", value_delimiter = ',')]
    tls_names: Vec<String>,
    /// How long a web console session lasts after its sign-in: 30m, 8h, 1d.
    #[arg(long, env = "PICKET_CONSOLE_SESSION_LIFETIME", default_value = "8h",
          value_parser = parse_session_lifetime)]
    console_session_lifetime: std::time::Duration,
    /// Serve /metrics here only (a listener of its own, e.g. on an internal interface) instead
    /// of on the main listeners.
    #[arg(long, env = "PICKET_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// How many tenants (those with the most sensors) get their own label in the fleet gauges
    /// of /metrics; the others are summed under tenant="other".
    #[arg(long, env = "PICKET_METRICS_TENANT_LABELS", default_value_t = picket_server::metrics::DEFAULT_TENANT_LABELS)]
    metrics_tenant_labels: usize,
    /// Log lines as text (for people) or as one JSON object each (for log collectors).
    #[arg(long, env = "PICKET_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Lifetime of access tokens from the token endpoint, in seconds.
    #[arg(long, env = "PICKET_TOKEN_LIFETIME", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(60..=86_400))]
    token_lifetime: u64,
    #[command(flatten)]
    throttle: ThrottleArgs,
    #[command(flatten)]
    fleet: FleetArgs,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Simulated sensors (picket-agent simulate) checking in.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    sensors: u32,
    /// Seconds between one simulated sensor's check-ins.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    interval: u64,
    /// A throwaway installation in a temporary directory, deleted when the demo stops.
    #[arg(long)]
    in_memory: bool,
    /// The installation to use instead of this user's (ignored with --in-memory).
    #[arg(long, env = "PICKET_DATA_DIR", default_value_os_t = config::default_data_dir())]
    data_dir: PathBuf,
}

/// A simulated fleet started beside the server once it listens, stopped with it.
struct SimulatedFleet {
    sensors: u32,
    interval: u64,
}

async fn demo(args: DemoArgs) -> Result<()> {
    let scratch = if args.in_memory {
        Some(tempfile::Builder::new().prefix("picket-demo-").tempdir()?)
    } else {
        None
    };
    let data_dir = scratch
        .as_ref()
        .map_or(args.data_dir.clone(), |t| t.path().to_path_buf());
    let listen = args.listen.to_string();
    let argv = [
        "picket",
        "serve",
        "--demo",
        "--listen",
        &listen,
        "--data-dir",
        data_dir
            .to_str()
            .context("the data directory is not UTF-8")?,
    ];
    let Command::Serve(serve_args) = Cli::try_parse_from(argv)?.command else {
        bail!("internal: demo arguments did not parse as serve");
    };
    if let Some(t) = &scratch {
        println!(
            "Throwaway installation: {} (deleted on exit)",
            t.path().display()
        );
    }
    let fleet = (args.sensors > 0).then_some(SimulatedFleet {
        sensors: args.sensors,
        interval: args.interval,
    });
    serve_with(*serve_args, fleet).await
}

/// Starts `picket-agent simulate` (beside this binary) against the demo tenant.
async fn start_fleet(
    state: &AppState,
    addr: SocketAddr,
    fleet: &SimulatedFleet,
) -> Result<tokio::process::Child> {
    // This binary carries the agent (`picket agent simulate`), so the fleet needs nothing else.
    let agent = std::env::current_exe()?;
    let tenant = parse_tenant(DEMO_TENANT)?;
    let key = state.store.deployment_access_key(&tenant).await?;
    let child = tokio::process::Command::new(&agent)
        .args(["agent", "simulate", "--endpoint", &format!("http://{addr}")])
        .args([
            "--tenant",
            DEMO_TENANT,
            "--sensors",
            &fleet.sensors.to_string(),
        ])
        .args(["--interval", &fleet.interval.to_string()])
        // A day at most (the simulator's own bound); stopped with the demo.
        .args(["--duration", "86400", "--prefix", "demo"])
        .env("PICKET_ACCESS_KEY", key.expose())
        .env("PICKET_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", agent.display()))?;
    println!(
        "Simulated fleet: {} sensors enrolling and checking in every {} s (picket agent simulate, pid {})",
        fleet.sensors,
        fleet.interval,
        child.id().unwrap_or_default()
    );
    Ok(child)
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ClockKind {
    /// The wall clock (production).
    Wall,
    /// Time moves only with `picket clock advance` (tests, and testing your own tools).
    Manual,
}

/// The living fleet: check-ins, thresholds and the sweep.
#[derive(clap::Args)]
struct FleetArgs {
    /// `manual` adds POST /admin/v1/clock/advance and `picket clock advance`.
    #[arg(long, env = "PICKET_CLOCK", value_enum, default_value = "wall")]
    clock: ClockKind,
    /// How often sensors are told to check in, in seconds.
    #[arg(long, env = "PICKET_CHECK_IN_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=3600))]
    check_in_interval: u64,
    /// How often statuses and health issues are re-evaluated against the wall clock, in seconds.
    #[arg(long, env = "PICKET_SWEEP_INTERVAL", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    sweep_interval: u64,
    /// Silence before "Sensor stopped communicating" (e.g. 5m).
    #[arg(long, env = "PICKET_STOPPED_COMMUNICATING_AFTER", default_value = "5m", value_parser = identity::parse_duration)]
    stopped_communicating_after: std::time::Duration,
    /// Silence before deploymentStatus disconnected.
    #[arg(long, env = "PICKET_DISCONNECTED_AFTER", default_value = "10m", value_parser = identity::parse_duration)]
    disconnected_after: std::time::Duration,
    /// Time without a configuration pull before startFailure.
    #[arg(long, env = "PICKET_START_FAILURE_AFTER", default_value = "30m", value_parser = identity::parse_duration)]
    start_failure_after: std::time::Duration,
    /// Releases behind the catalogue that make a sensor outdated.
    #[arg(long, env = "PICKET_OUTDATED_AFTER_RELEASES", default_value_t = 3)]
    outdated_after_releases: usize,
    /// Sensors of one domain told to update at the same time during a rollout.
    #[arg(long, env = "PICKET_ROLLOUT_PER_DOMAIN", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    rollout_per_domain: u32,
}

impl FleetArgs {
    fn thresholds(&self) -> picket_domain::fleet::Thresholds {
        let d = |s: std::time::Duration| {
            chrono::Duration::from_std(s).unwrap_or_else(|_| chrono::Duration::minutes(10))
        };
        picket_domain::fleet::Thresholds {
            stopped_communicating_after: d(self.stopped_communicating_after),
            disconnected_after: d(self.disconnected_after),
            start_failure_after: d(self.start_failure_after),
            outdated_after_releases: self.outdated_after_releases,
        }
    }
}

/// Token-bucket limits: COUNT/PERIOD[:BURST] (e.g. 200/s:400, 6000/min) or `off`.
#[derive(clap::Args)]
struct ThrottleArgs {
    /// Reads per (tenant, app).
    #[arg(long, env = "PICKET_THROTTLE_APP_READS", value_parser = parse_limit_arg)]
    throttle_app_reads: Option<Limit>,
    /// Writes per (tenant, app).
    #[arg(long, env = "PICKET_THROTTLE_APP_WRITES", value_parser = parse_limit_arg)]
    throttle_app_writes: Option<Limit>,
    /// Reads per tenant.
    #[arg(long, env = "PICKET_THROTTLE_TENANT_READS", value_parser = parse_limit_arg)]
    throttle_tenant_reads: Option<Limit>,
    /// Writes per tenant.
    #[arg(long, env = "PICKET_THROTTLE_TENANT_WRITES", value_parser = parse_limit_arg)]
    throttle_tenant_writes: Option<Limit>,
    /// Token requests per (tenant, app).
    #[arg(long, env = "PICKET_THROTTLE_APP_TOKENS", value_parser = parse_limit_arg)]
    throttle_app_tokens: Option<Limit>,
    /// Token requests per tenant.
    #[arg(long, env = "PICKET_THROTTLE_TENANT_TOKENS", value_parser = parse_limit_arg)]
    throttle_tenant_tokens: Option<Limit>,
    /// Failed credentials (wrong access key, failed client authentication) per source address.
    #[arg(long, env = "PICKET_THROTTLE_SOURCE_FAILURES", value_parser = parse_limit_arg)]
    throttle_source_failures: Option<Limit>,
    /// Failed credentials per tenant.
    #[arg(long, env = "PICKET_THROTTLE_TENANT_FAILURES", value_parser = parse_limit_arg)]
    throttle_tenant_failures: Option<Limit>,
}

/// One limit from the command line: a rate, or `off`.
#[derive(Debug, Clone, Copy)]
struct Limit(Option<Rate>);

fn parse_limit_arg(text: &str) -> Result<Limit, String> {
    parse_limit(text).map(Limit)
}

impl ThrottleArgs {
    fn settings(&self) -> ThrottleSettings {
        let d = ThrottleSettings::defaults();
        let pick = |given: Option<Limit>, default| given.map_or(default, |l| l.0);
        ThrottleSettings {
            app_reads: pick(self.throttle_app_reads, d.app_reads),
            app_writes: pick(self.throttle_app_writes, d.app_writes),
            tenant_reads: pick(self.throttle_tenant_reads, d.tenant_reads),
            tenant_writes: pick(self.throttle_tenant_writes, d.tenant_writes),
            app_tokens: pick(self.throttle_app_tokens, d.app_tokens),
            tenant_tokens: pick(self.throttle_tenant_tokens, d.tenant_tokens),
            source_failures: pick(self.throttle_source_failures, d.source_failures),
            tenant_failures: pick(self.throttle_tenant_failures, d.tenant_failures),
        }
    }
}

#[derive(clap::Args)]
struct TokenArgs {
    /// Tenant id (a GUID); becomes the tid claim.
    #[arg(long)]
    tenant: String,
    /// Application permission (roles claim); repeatable.
    #[arg(long = "role")]
    roles: Vec<String>,
    /// Delegated permission (scp claim); repeatable. Implies a user token.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// A registered user (object id or principal name, see `picket users`): the token carries
    /// their object id and directory roles (wids).
    #[arg(long)]
    user: Option<String>,
    /// For a delegated token without --user: a directory role of the ad-hoc user; repeatable.
    #[arg(long = "directory-role")]
    directory_roles: Vec<String>,
    /// Client (application) id claim.
    #[arg(long)]
    app_id: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    lifetime: u64,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
struct SeedArgs {
    /// Fixture file (JSON).
    file: PathBuf,
    /// Tenant to load into; default: the fixture's tenantId.
    #[arg(long)]
    tenant: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

#[tokio::main]
async fn main() {
    legacy_server_variable();
    let argv: Vec<String> = std::env::args().collect();
    let loaded = match config_file::load(&argv, &<Cli as clap::CommandFactory>::command()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    let cli = Cli::parse();
    logging::init(match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => logging::from_env(),
    });
    let client_command = match cli.command {
        Command::Sensors(a) => Some(client::ClientCommand::Sensors(a)),
        Command::HealthIssues(a) => Some(client::ClientCommand::HealthIssues(a)),
        Command::Candidates(a) => Some(client::ClientCommand::Candidates(a)),
        Command::Activation(a) => Some(client::ClientCommand::Activation(a)),
        Command::AccessKey(a) => Some(client::ClientCommand::AccessKey(a)),
        Command::Package(a) => Some(client::ClientCommand::Package(a)),
        Command::Watch(a) => Some(client::ClientCommand::Watch(a)),
        Command::Fixtures(a) => Some(client::ClientCommand::Fixtures(a)),
        Command::Accounts(a) => Some(client::ClientCommand::Accounts(a)),
        Command::Auditing(a) => Some(client::ClientCommand::Auditing(a)),
        Command::Migration(a) => Some(client::ClientCommand::Migration(a)),
        Command::Agent(agent) => std::process::exit(i32::from(picket_agent::execute(agent).await)),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "picket", &mut std::io::stdout());
            return;
        }
        other => {
            run_admin(other, &loaded).await;
            None
        }
    };
    if let Some(c) = client_command {
        std::process::exit(client::run(c).await);
    }
}

async fn run_admin(command: Command, loaded: &config_file::Loaded) {
    let result = match command {
        Command::Serve(args) => serve(*args).await,
        Command::Demo(args) => demo(args).await,
        Command::Init { store } => installation::init(&store).await,
        Command::Status { store } => installation::status(&store, loaded).await,
        Command::Reset { store, yes } => installation::reset(&store, yes),
        Command::Token(args) => token(args).await,
        Command::ConsoleLink(args) => console_link::run(args).await,
        Command::Seed(args) => seed(args).await,
        Command::Tenants(cmd) => identity::tenants(cmd).await,
        Command::Apps(cmd) => identity::apps(cmd).await,
        Command::Users(cmd) => identity::users(cmd).await,
        Command::Issuers(cmd) => identity::issuers(cmd).await,
        Command::Keys(cmd) => identity::keys(cmd).await,
        Command::Audit(args) => identity::audit_log(args).await,
        Command::Clock(ClockCommand::Advance {
            by,
            endpoint,
            token,
        }) => {
            legacy_server_variable();
            advance_clock(&by, &endpoint.endpoint, &token).await
        }
        Command::Releases(cmd) => releases(cmd).await,
        Command::Snapshot(cmd) => copies::snapshot(cmd).await,
        Command::Backup(args) => copies::backup(args).await,
        Command::Restore(args) => copies::restore(args).await,
        Command::Faults(cmd) => {
            legacy_server_variable();
            test_double::faults(cmd).await
        }
        Command::Requests(cmd) => {
            legacy_server_variable();
            match test_double::requests(cmd).await {
                Ok(false) => std::process::exit(1),
                other => other.map(|_| ()),
            }
        }
        Command::DeviceCodes(cmd) => device_codes::run(cmd).await,
        Command::Migrate { store } => migrate(&store).await,
        Command::MigrateData {
            from,
            to,
            into_non_empty,
        } => migrate_data(&from, &to, into_non_empty).await,
        _ => Ok(()),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn unix_now() -> u64 {
    SystemClock.now().timestamp().max(0) as u64
}

/// Version given to sensors made by activating a candidate, unless `serve` is told otherwise.
const DEFAULT_UNIFIED_SENSOR_VERSION: &str = "3.1.25311.1";

/// Opens the installation a store command works on; never creates one (see `picket init`).
async fn open_store(args: &StoreArgs) -> Result<Arc<dyn Store>> {
    installation::require_existing(args)?;
    open_store_with(args, DEFAULT_UNIFIED_SENSOR_VERSION).await
}

/// `PICKET_SERVER` was the name of "which Picket" for `clock` and `device-codes`; it still works
/// when `PICKET_ENDPOINT` is unset.
fn legacy_server_variable() {
    if std::env::var_os("PICKET_ENDPOINT").is_none() {
        if let Some(v) = std::env::var_os("PICKET_SERVER") {
            std::env::set_var("PICKET_ENDPOINT", v);
        }
    }
}

async fn open_store_with(args: &StoreArgs, unified_sensor_version: &str) -> Result<Arc<dyn Store>> {
    let catalogue = Catalogue {
        unified_sensor_version: unified_sensor_version.to_string(),
    };
    match args.database()? {
        Database::Sqlite(path) => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            let store = SqliteStore::open(&path, catalogue)
                .await
                .with_context(|| format!("cannot open {}", path.display()))?;
            Ok(Arc::new(store))
        }
        Database::Postgres(config) => {
            // A shared database is migrated on purpose (`picket migrate`), never as a side
            // effect of a replica starting.
            let store = PostgresStore::open_current(&config, catalogue)
                .await
                .with_context(|| format!("cannot open {}", config.describe()))?;
            Ok(Arc::new(store))
        }
    }
}

/// A store URL given on its own (not through `--database`).
fn database_url(url: &str) -> Result<Database> {
    StoreArgs {
        data_dir: PathBuf::from("."),
        database: Some(url.to_string()),
        database_pool_size: 4,
        database_statement_timeout: std::time::Duration::from_secs(30),
        issuer: config::DEFAULT_ISSUER.to_string(),
    }
    .database()
}

async fn migrate_data(from: &str, to: &str, into_non_empty: bool) -> Result<()> {
    let (Database::Sqlite(source), Database::Postgres(target)) =
        (database_url(from)?, database_url(to)?)
    else {
        bail!("migrate-data copies from sqlite://PATH to postgres://…");
    };
    if !source.exists() {
        bail!("{} does not exist", source.display());
    }
    let catalogue = Catalogue {
        unified_sensor_version: DEFAULT_UNIFIED_SENSOR_VERSION.to_string(),
    };
    let copied =
        picket_store::postgres::sqlite_to_postgres(&source, &target, catalogue, into_non_empty)
            .await
            .with_context(|| format!("cannot copy into {}", target.describe()))?;
    let mut total = 0;
    for t in &copied {
        println!(
            "{:<24} {:>9} rows copied, {:>9} in the target",
            t.table, t.source_rows, t.target_rows
        );
        total += t.source_rows;
    }
    println!(
        "copied {total} rows of {} tables from {} into {}; counts verified",
        copied.len(),
        source.display(),
        target.describe()
    );
    Ok(())
}

async fn migrate(args: &StoreArgs) -> Result<()> {
    let catalogue = Catalogue {
        unified_sensor_version: DEFAULT_UNIFIED_SENSOR_VERSION.to_string(),
    };
    match args.database()? {
        Database::Sqlite(_) => {
            // SQLite belongs to one process: it is brought up to date whenever it is opened.
            open_store(args).await?;
            let latest = picket_store::sqlite::MIGRATIONS.last().map_or(0, |m| m.0);
            println!("SQLite schema at version {latest}");
        }
        Database::Postgres(config) => {
            let (_, applied) = PostgresStore::migrate(&config, catalogue)
                .await
                .with_context(|| format!("cannot migrate {}", config.describe()))?;
            let latest = picket_store::postgres::MIGRATIONS.last().map_or(0, |m| m.0);
            println!(
                "PostgreSQL schema at version {latest} ({applied} migration{} applied)",
                if applied == 1 { "" } else { "s" }
            );
        }
    }
    Ok(())
}

pub(crate) fn parse_tenant(text: &str) -> Result<TenantId> {
    TenantId::parse(text).with_context(|| format!("tenant id '{text}' is not a GUID"))
}

async fn load_fixture(
    store: &dyn Store,
    file: &PathBuf,
    tenant: Option<&str>,
) -> Result<(TenantId, picket_store::SeedSummary)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (named, fixture) = picket_server::fixture::parse_fixture(&text, SystemClock.now())?;
    let Some(tenant) = tenant.map(str::to_string).or(named) else {
        bail!("the fixture names no tenantId; pass --tenant");
    };
    let tenant = parse_tenant(&tenant)?;
    let summary = picket_store::seed_all(store, &tenant, &fixture).await?;
    Ok((tenant, summary))
}

async fn serve(args: ServeArgs) -> Result<()> {
    serve_with(args, None).await
}

async fn serve_with(args: ServeArgs, fleet: Option<SimulatedFleet>) -> Result<()> {
    // Listen first: a busy port fails before anything is printed or created.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another server running there? choose another address with --listen, e.g. --listen 127.0.0.1:8081)",
                args.listen
            )
        })?;
    let tls_listener = match args.tls_listen {
        Some(tls_addr) => Some(tokio::net::TcpListener::bind(tls_addr).await.with_context(
            || format!("cannot listen on {tls_addr} (choose another address with --tls-listen)"),
        )?),
        None => None,
    };
    let metrics_listener = match args.metrics_listen {
        Some(metrics_addr) => Some(tokio::net::TcpListener::bind(metrics_addr).await.with_context(
            || format!("cannot listen on {metrics_addr} (choose another address with --metrics-listen)"),
        )?),
        None => None,
    };
    let addr = listener.local_addr()?;
    std::fs::create_dir_all(&args.store.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            args.store.data_dir.display()
        )
    })?;
    let store = open_store_with(&args.store, &args.unified_sensor_version).await?;
    let now = SystemClock.now();
    let records =
        picket_server::signing::ensure_keys(store.as_ref(), Some(&args.store.data_dir), now)
            .await?;
    let ring = Arc::new(KeyRing::new(picket_server::signing::live_keys(
        &records, None, now,
    )));
    let key = ring.signer().context("no signing key is available")?;
    let verifier = Arc::new(TokenVerifier::new(ring, &args.store.issuer));
    verifier.set_trusted_issuers(store.list_trusted_issuers(None).await?);
    if let Some(file) = &args.seed {
        let (tenant, s) = load_fixture(store.as_ref(), file, args.seed_tenant.as_deref()).await?;
        announce(&format!("Seeded tenant {tenant}: {} sensors, {} candidates, {} health issues, {} identity accounts",
            s.sensors, s.candidates, s.health_issues, s.identity_accounts
        ));
    }
    if args.demo {
        let tenant = parse_tenant(DEMO_TENANT)?;
        store.create_tenant(&tenant, "Picket demo").await.ok();
        if !store.tenant_has_data(&tenant).await? {
            picket_store::seed_all(store.as_ref(), &tenant, &demo_fixture(SystemClock.now()))
                .await?;
        }
        if store.list_users(&tenant).await?.is_empty() {
            for user in demo_users(&tenant, SystemClock.now()) {
                store.create_user(&user).await?;
            }
        }
        let request = TokenRequest {
            tenant: DEMO_TENANT.into(),
            roles: picket_auth::Permission::ALL
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
            lifetime_secs: 24 * 3600,
            ..Default::default()
        };
        let token = key.issue(&args.store.issuer, &request, unix_now());
        announce(&format!("Demo tenant: {DEMO_TENANT}"));
        if logging::is_json() {
            // A token is a secret: never into a log collector.
            announce("Demo token not shown with --log-format json; make one with 'picket token'");
        } else {
            println!("Paste into your shell (the token carries all four permissions, valid 24 h):");
            println!("export PICKET_ENDPOINT=http://{addr}");
            println!("export PICKET_TOKEN={}", token.token);
        }
        announce("Try: picket sensors list   or   curl -H \"Authorization: Bearer $PICKET_TOKEN\" \"$PICKET_ENDPOINT/beta/security/identities/sensors\"");
        if logging::is_json() {
            // A sign-in link is a secret too.
            announce("Console sign-in link not shown with --log-format json; make one with 'picket console-link'");
        } else {
            let endpoint = args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}"));
            let lifetime = identity::parse_duration(console_link::DEFAULT_LIFETIME)
                .map_err(anyhow::Error::msg)?;
            match console_link::make(store.as_ref(), &tenant, DEMO_ADMIN, &endpoint, lifetime).await
            {
                Ok(link) => {
                    println!(
                        "Console sign-in as {DEMO_ADMIN} (one-time link, valid {}):",
                        console_link::humanize(lifetime)
                    );
                    println!("{link}");
                    // (a PostgreSQL installation is named by PICKET_DATABASE_URL, never printed)
                    let installation = match &args.store.database {
                        Some(_) => String::new(),
                        None => format!(" --data-dir {}", args.store.data_dir.display()),
                    };
                    println!(
                        "Another link (or use --user {DEMO_READER}, a reader): picket console-link --tenant {DEMO_TENANT} --user {DEMO_ADMIN} --endpoint {endpoint}{installation}"
                    );
                }
                // A demo tenant whose users were changed by hand: no link, the server still runs.
                Err(e) => println!("No console sign-in link: {e:#}"),
            }
        }
    }
    let manual_clock = (args.fleet.clock == ClockKind::Manual)
        .then(|| Arc::new(picket_domain::time::ManualClock::new(SystemClock.now())));
    let faults = picket_server::faults::Faults::default();
    if let Some(file) = &args.faults {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let n = faults
            .load_file(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        announce(&format!("Fault rules: {n} from {}", file.display()));
    }
    let config = ServerConfig {
        manual_clock: manual_clock.clone(),
        api: ApiSettings {
            default_page_size: args.page_size,
            public_url: args.public_url.clone(),
            package: DeploymentPackage {
                download_url: args.package_url.clone(),
                version: args.package_version.clone(),
            },
            // picket-agent beside this binary when it was built, else this binary itself,
            // which carries the agent as `picket agent`.
            agent_binary: args.agent_binary.clone().or_else(|| {
                let exe = std::env::current_exe().ok()?;
                let beside = exe.with_file_name("picket-agent");
                Some(if beside.is_file() { beside } else { exe })
            }),
        },
        identity: IdentitySettings {
            token_lifetime_secs: args.token_lifetime,
            console_session_secs: args.console_session_lifetime.as_secs(),
            ..IdentitySettings::default()
        },
        throttle: args.throttle.settings(),
        policy: picket_store::FleetPolicy {
            thresholds: args.fleet.thresholds(),
            rollout_per_domain: args.fleet.rollout_per_domain,
            ..picket_store::FleetPolicy::default()
        },
        base_release: Some(args.package_version.clone()),
        check_in_interval_secs: args.fleet.check_in_interval,
        journal_size: args.journal_size,
        faults,
        metrics: picket_server::metrics::MetricsSettings {
            tenant_labels: args.metrics_tenant_labels,
            own_listener: metrics_listener.is_some(),
        },
        key_reload: Some(KEY_RELOAD_INTERVAL),
        sweep_interval: Some(std::time::Duration::from_secs(args.fleet.sweep_interval)),
        ..ServerConfig::new(store, verifier)
    };
    let server = Server::start(config).await;
    let state = server.state().clone();
    if manual_clock.is_some() {
        announce(
            "Clock: manual (move it with 'picket clock advance 11m --endpoint URL --token T')",
        );
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let tls_task = match tls_listener {
        Some(tls_listener) => {
            let material = picket_server::tls::TlsMaterial::load_or_generate(
                &args.store.data_dir,
                args.tls_cert.as_deref(),
                args.tls_key.as_deref(),
                &args.tls_names,
            )?;
            let tls_bound = tls_listener.local_addr()?;
            announce(&format!(
                "Picket listening on https://{tls_bound} (trust {}{})",
                material.trust_file.display(),
                if material.generated {
                    ", a CA generated for this installation"
                } else {
                    ""
                }
            ));
            announce(&format!("Token service: https://{tls_bound}/{{tenant}}/oauth2/v2.0/token (authority https://{tls_bound})"));
            let router = picket_server::router(state.clone());
            let mut rx = stop_rx.clone();
            Some(tokio::spawn(picket_server::tls::serve_tls(
                tls_listener,
                material.config,
                router,
                async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                },
            )))
        }
        None => None,
    };
    let metrics_task = match metrics_listener {
        Some(metrics_listener) => {
            let metrics_bound = metrics_listener.local_addr()?;
            announce(&format!("Metrics on http://{metrics_bound}/metrics"));
            let mut rx = stop_rx.clone();
            Some(tokio::spawn(server.serve_metrics(
                metrics_listener,
                async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                },
            )))
        }
        None => None,
    };
    announce(&format!("Picket listening on http://{addr}"));
    tracing::info!(%addr, "listening");
    // Spawned now, served below: its first enrolments wait in the listener's backlog.
    let simulator = match &fleet {
        Some(f) => Some(start_fleet(&state, addr, f).await?),
        None => None,
    };
    let mut rx = stop_rx.clone();
    let http = server.serve(listener, async move {
        let _ = rx.wait_for(|stop| *stop).await;
    });
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    http.await?;
    if let Some(mut child) = simulator {
        let _ = child.kill().await;
    }
    if let Some(task) = tls_task {
        task.await??;
    }
    if let Some(task) = metrics_task {
        task.await??;
    }
    drop(server);
    tracing::info!("stopped");
    Ok(())
}

/// `--console-session-lifetime`: between a minute and a week.
fn parse_session_lifetime(text: &str) -> Result<std::time::Duration, String> {
    let d = identity::parse_duration(text)?;
    if !(60..=7 * 86_400).contains(&d.as_secs()) {
        return Err("a console session lasts between 1m and 7d".into());
    }
    Ok(d)
}

/// How soon a key rotation or issuer change made elsewhere reaches this process.
const KEY_RELOAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

async fn token(args: TokenArgs) -> Result<()> {
    let tenant = parse_tenant(&args.tenant)?;
    for name in args.roles.iter().chain(&args.scopes) {
        if picket_auth::Permission::from_name(name).is_none() {
            eprintln!("warning: '{name}' is not a permission Picket checks");
        }
    }
    if !args.roles.is_empty() && !args.scopes.is_empty() {
        bail!("a token carries either application roles (--role) or delegated scopes (--scope), not both");
    }
    let store = open_store(&args.store).await?;
    let now = SystemClock.now();
    let records =
        picket_server::signing::ensure_keys(store.as_ref(), Some(&args.store.data_dir), now)
            .await?;
    let key = picket_server::signing::live_keys(&records, None, now)
        .into_iter()
        .next()
        .context("no signing key is available")?;
    let delegated = !args.scopes.is_empty() || args.user.is_some();
    let (user, wids) = match &args.user {
        Some(u) => {
            let found = store.find_user(&tenant, u).await?.with_context(|| {
                format!("no user '{u}' in tenant {tenant}; see 'picket users create'")
            })?;
            if !args.directory_roles.is_empty() {
                bail!("--directory-role is for ad-hoc users; a registered user's roles come from 'picket users set-roles'");
            }
            (Some(found.object_id), found.roles)
        }
        None if delegated => {
            let mut wids = Vec::new();
            for r in &args.directory_roles {
                let role = DirectoryRole::parse(r)
                    .with_context(|| format!("'{r}' is not a directory role Picket knows"))?;
                wids.push(role.template_id().to_string());
            }
            if wids.is_empty() {
                eprintln!("warning: a delegated token without a directory role is refused by every operation; add --directory-role or --user");
            }
            (
                Some("00000000-0000-0000-0000-00000000a11c".to_string()),
                wids,
            )
        }
        None => (None, Vec::new()),
    };
    let request = TokenRequest {
        tenant: args.tenant,
        roles: args.roles,
        scopes: args.scopes,
        user,
        app_id: args.app_id,
        wids,
        lifetime_secs: args.lifetime,
        ..Default::default()
    };
    println!(
        "{}",
        key.issue(&args.store.issuer, &request, unix_now()).token
    );
    Ok(())
}

async fn releases(cmd: ReleasesCommand) -> Result<()> {
    match cmd {
        ReleasesCommand::Publish { version, store } => {
            if !picket_domain::fleet::releases::is_classic_version(&version) {
                bail!("'{version}' is not a classic sensor version like 2.240.18200.1 (unified 3.x sensors update through Windows Update)");
            }
            let store = open_store(&store).await?;
            if store.publish_release(&version, SystemClock.now()).await? {
                println!(
                    "published {version}; running servers roll it out within their sweep interval"
                );
            } else {
                println!("{version} was published before");
            }
        }
        ReleasesCommand::List { store } => {
            let store = open_store(&store).await?;
            for (version, at) in store.releases().await? {
                println!(
                    "{version}  published {}",
                    picket_domain::time::format_timestamp(&at)
                );
            }
        }
    }
    Ok(())
}

async fn advance_clock(by: &str, server: &str, token: &str) -> Result<()> {
    let url = format!("{}/admin/v1/clock/advance", server.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(token)
        .json(&serde_json::json!({ "by": by }))
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "{status}: {}",
            body["error"]["message"].as_str().unwrap_or("no message")
        );
    }
    println!(
        "now {} (swept {} sensors: {} status changes, {} issues raised, {} reopened, {} closed)",
        body["now"].as_str().unwrap_or("?"),
        body["sweep"]["sensors"],
        body["sweep"]["statusChanges"],
        body["sweep"]["issuesRaised"],
        body["sweep"]["issuesReopened"],
        body["sweep"]["issuesClosed"]
    );
    Ok(())
}

async fn seed(args: SeedArgs) -> Result<()> {
    let store = open_store(&args.store).await?;
    let (tenant, s) = load_fixture(store.as_ref(), &args.file, args.tenant.as_deref()).await?;
    println!(
        "Seeded tenant {tenant}: {} sensors, {} candidates, {} health issues, {} identity accounts",
        s.sensors, s.candidates, s.health_issues, s.identity_accounts
    );
    Ok(())
}
