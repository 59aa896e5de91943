//! Copies of an installation's rows: `picket snapshot` (named, kept in the store, for fast
//! resets of a tenant or of everything) and `picket backup` / `picket restore` (a verified file
//! either engine restores). The work itself is the store's (`picket_store::{snapshots,
//! backup}`); this module parses, opens the store and reports.

use crate::config::{Database, StoreArgs};
use anyhow::{bail, Context, Result};
use picket_domain::time::{Clock, SystemClock};
use picket_domain::TenantId;
use picket_store::portable::Scope;
use picket_store::{backup, snapshots, PostgresStore, Store};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Whose rows a snapshot holds.
#[derive(clap::Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct ScopeArgs {
    /// One tenant's rows (sensors, candidates, issues, apps, users, issuers, audit log, agents).
    #[arg(long, value_name = "TENANT_ID")]
    tenant: Option<String>,
    /// Every tenant, and the release catalogue.
    #[arg(long)]
    all: bool,
}

impl ScopeArgs {
    fn scope(&self) -> Result<Scope> {
        match (&self.tenant, self.all) {
            (Some(t), _) => {
                Ok(Scope::Tenant(TenantId::parse(t).with_context(|| {
                    format!("'{t}' is not a tenant id (a GUID)")
                })?))
            }
            (None, true) => Ok(Scope::Installation),
            (None, false) => bail!("say whose rows: --tenant TENANT_ID or --all"),
        }
    }
}

fn describe(scope: &Scope) -> String {
    match scope {
        Scope::Installation => "the installation".into(),
        Scope::Tenant(t) => format!("tenant {t}"),
    }
}

#[derive(clap::Subcommand)]
pub enum SnapshotCommand {
    /// Save the rows of a tenant (or of everything) under NAME, replacing a snapshot of that name.
    ///
    /// Example: picket snapshot save clean --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47
    Save {
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Put the rows back as they were saved, in one transaction (readers see the old state or
    /// the new one, never a mix). Signing keys are not part of snapshots: tokens stay valid.
    ///
    /// Example: picket snapshot restore clean --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47
    Restore {
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the snapshots of a tenant (or of the installation).
    ///
    /// Example: picket snapshot list --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47
    List {
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a snapshot.
    ///
    /// Example: picket snapshot delete clean --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47
    Delete {
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn snapshot(command: SnapshotCommand) -> Result<()> {
    match command {
        SnapshotCommand::Save { name, scope, store } => {
            let (scope, store) = (scope.scope()?, crate::open_store(&store).await?);
            let started = Instant::now();
            let info = snapshots::save(store.as_ref(), &scope, &name, SystemClock.now()).await?;
            println!(
                "Saved snapshot '{}' of {}: {} rows in {} ms",
                info.name,
                describe(&scope),
                info.rows,
                started.elapsed().as_millis()
            );
        }
        SnapshotCommand::Restore { name, scope, store } => {
            let (scope, store) = (scope.scope()?, crate::open_store(&store).await?);
            let started = Instant::now();
            let Some(done) = snapshots::restore(store.as_ref(), &scope, &name).await? else {
                bail!("{} has no snapshot named '{name}'", describe(&scope));
            };
            println!(
                "Restored snapshot '{}' of {}: {} rows in {} ms",
                done.name,
                describe(&scope),
                done.rows,
                started.elapsed().as_millis()
            );
        }
        SnapshotCommand::List { scope, store } => {
            let (scope, store) = (scope.scope()?, crate::open_store(&store).await?);
            let list = snapshots::list(store.as_ref(), &scope).await?;
            if list.is_empty() {
                println!("{} has no snapshots", describe(&scope));
            }
            for s in list {
                println!("{:<24} {:>8} rows  {}", s.name, s.rows, s.created_date_time);
            }
        }
        SnapshotCommand::Delete { name, scope, store } => {
            let (scope, store) = (scope.scope()?, crate::open_store(&store).await?);
            if !snapshots::delete(store.as_ref(), &scope, &name).await? {
                bail!("{} has no snapshot named '{name}'", describe(&scope));
            }
            println!("Deleted snapshot '{name}' of {}", describe(&scope));
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The file to write (written beside it first, then renamed into place; readable by the
    /// owner only: it holds the access keys and signing keys).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A file written by `picket backup`.
    file: PathBuf,
    /// Restore into a store that already holds rows, replacing all of them.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn backup(args: BackupArgs) -> Result<()> {
    let store = crate::open_store(&args.store).await?;
    let engine = match args.store.database()? {
        Database::Sqlite(_) => "sqlite",
        Database::Postgres(_) => "postgres",
    };
    let dir = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o600))?;
    }
    let started = Instant::now();
    let manifest = {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        backup::write(store.as_ref(), engine, SystemClock.now(), &mut out).await?
    };
    file.as_file().sync_all()?;
    file.persist(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "Backed up {} rows of {} tables to {} in {} ms (manifest checksum {})",
        manifest.rows(),
        manifest.tables.len(),
        args.out.display(),
        started.elapsed().as_millis(),
        &manifest.sha256[..16]
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> Result<()> {
    let input = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    // Verified whole before the store is opened: a damaged file writes nothing anywhere.
    let verified = backup::read(std::io::BufReader::new(input))?;
    let store = open_or_create(&args.store).await?;
    let started = Instant::now();
    let manifest = backup::restore(store.as_ref(), verified, args.force).await?;
    println!(
        "Restored {} rows of {} tables from {} in {} ms; every table's count and checksum match the manifest",
        manifest.rows(),
        manifest.tables.len(),
        args.file.display(),
        started.elapsed().as_millis()
    );
    Ok(())
}

/// A restore makes a new installation: a SQLite file is created, a PostgreSQL database is
/// migrated to this build's schema first.
async fn open_or_create(args: &StoreArgs) -> Result<Arc<dyn Store>> {
    match args.database()? {
        Database::Sqlite(_) => {
            crate::open_store_with(args, crate::DEFAULT_UNIFIED_SENSOR_VERSION).await
        }
        Database::Postgres(config) => {
            let catalogue = picket_store::Catalogue {
                unified_sensor_version: crate::DEFAULT_UNIFIED_SENSOR_VERSION.to_string(),
            };
            let (store, _) = PostgresStore::migrate(&config, catalogue)
                .await
                .with_context(|| format!("cannot open {}", config.describe()))?;
            Ok(Arc::new(store))
        }
    }
}
