//! `picket`: runs the server, mints tokens from the built-in issuer, and seeds fixtures.

mod config;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use config::{Database, StoreArgs};
use picket_auth::{SigningKey, TokenRequest, TokenVerifier};
use picket_domain::time::{Clock, SystemClock};
use picket_domain::{DeploymentPackage, TenantId};
use picket_server::demo::{demo_fixture, DEMO_TENANT};
use picket_server::{ApiSettings, AppState};
use picket_store::{Catalogue, SqliteStore, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "picket",
    version,
    about = "A self-hosted control plane for identity-threat sensors, speaking the Microsoft Graph API of Defender for Identity sensor management"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    ///
    /// Example: picket serve --demo
    Serve(ServeArgs),
    /// Print an access token signed by this installation's issuer key.
    ///
    /// Example: picket token --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47 --role SecurityIdentitiesSensors.ReadWrite.All
    Token(TokenArgs),
    /// Load a fixture (sensors, candidates, health issues in Graph JSON) into a tenant.
    ///
    /// Example: picket seed fixture.json --tenant 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    Seed(SeedArgs),
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
    /// Download URL answered by getDeploymentPackageUri.
    #[arg(
        long,
        env = "PICKET_PACKAGE_URL",
        default_value = "https://sensorpackage.picket.local/Azure%20ATP%20Sensor%20Setup.zip"
    )]
    package_url: String,
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
    /// User object id for a delegated token.
    #[arg(long)]
    user: Option<String>,
    /// Client (application) id claim.
    #[arg(long)]
    app_id: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    lifetime: u64,
    #[arg(long, env = "PICKET_DATA_DIR", default_value = "./picket-data")]
    data_dir: PathBuf,
    #[arg(long, env = "PICKET_ISSUER", default_value = config::DEFAULT_ISSUER)]
    issuer: String,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PICKET_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Token(args) => token(args),
        Command::Seed(args) => seed(args).await,
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn unix_now() -> u64 {
    SystemClock.now().timestamp().max(0) as u64
}

async fn open_store(args: &StoreArgs, unified_sensor_version: &str) -> Result<Arc<dyn Store>> {
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
    }
}

fn parse_tenant(text: &str) -> Result<TenantId> {
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
    let summary = store.seed(&tenant, &fixture).await?;
    Ok((tenant, summary))
}

async fn serve(args: ServeArgs) -> Result<()> {
    std::fs::create_dir_all(&args.store.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            args.store.data_dir.display()
        )
    })?;
    let store = open_store(&args.store, &args.unified_sensor_version).await?;
    let key = Arc::new(SigningKey::load_or_create(&args.store.data_dir)?);
    let verifier = Arc::new(TokenVerifier::new(vec![key.clone()], &args.store.issuer));
    if let Some(file) = &args.seed {
        let (tenant, s) = load_fixture(store.as_ref(), file, args.seed_tenant.as_deref()).await?;
        println!(
            "Seeded tenant {tenant}: {} sensors, {} candidates, {} health issues",
            s.sensors, s.candidates, s.health_issues
        );
    }
    if args.demo {
        let tenant = parse_tenant(DEMO_TENANT)?;
        if !store.tenant_has_data(&tenant).await? {
            store
                .seed(&tenant, &demo_fixture(SystemClock.now()))
                .await?;
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
        println!("Demo tenant: {DEMO_TENANT}");
        println!("Token (all four permissions, valid 24 h):");
        println!("export PICKET_TOKEN={}", token.token);
        println!("Try: curl -H \"Authorization: Bearer $PICKET_TOKEN\" http://{}/beta/security/identities/sensors", args.listen);
    }
    let state = AppState {
        store,
        verifier,
        clock: Arc::new(SystemClock),
        settings: Arc::new(ApiSettings {
            default_page_size: args.page_size,
            public_url: args.public_url.clone(),
            package: DeploymentPackage {
                download_url: args.package_url.clone(),
                version: args.package_version.clone(),
            },
        }),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("Picket listening on http://{addr}");
    tracing::info!(%addr, "listening");
    picket_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

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

fn token(args: TokenArgs) -> Result<()> {
    parse_tenant(&args.tenant)?;
    for name in args.roles.iter().chain(&args.scopes) {
        if picket_auth::Permission::from_name(name).is_none() {
            eprintln!("warning: '{name}' is not a permission Picket checks");
        }
    }
    if !args.roles.is_empty() && !args.scopes.is_empty() {
        bail!("a token carries either application roles (--role) or delegated scopes (--scope), not both");
    }
    let key = SigningKey::load_or_create(&args.data_dir)?;
    let user = match (&args.user, args.scopes.is_empty()) {
        (Some(u), _) => Some(u.clone()),
        (None, false) => Some("00000000-0000-0000-0000-00000000a11c".to_string()),
        (None, true) => None,
    };
    let request = TokenRequest {
        tenant: args.tenant,
        roles: args.roles,
        scopes: args.scopes,
        user,
        app_id: args.app_id,
        lifetime_secs: args.lifetime,
    };
    println!("{}", key.issue(&args.issuer, &request, unix_now()).token);
    Ok(())
}

async fn seed(args: SeedArgs) -> Result<()> {
    let store = open_store(&args.store, "3.1.25311.1").await?;
    let (tenant, s) = load_fixture(store.as_ref(), &args.file, args.tenant.as_deref()).await?;
    println!(
        "Seeded tenant {tenant}: {} sensors, {} candidates, {} health issues",
        s.sensors, s.candidates, s.health_issues
    );
    Ok(())
}
