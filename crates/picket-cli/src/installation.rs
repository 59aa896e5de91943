//! One installation, found the same way by every command: `picket init` creates it, `status`
//! says which one (and which endpoint and identity) this shell uses, `reset` empties it, and
//! store commands refuse to run on one that does not exist.

use crate::config::{Database, StoreArgs};
use crate::config_file::Loaded;
use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::path::Path;

/// Store commands work on an existing installation only: one run from the wrong place must not
/// start an empty one of its own that no server reads.
pub fn require_existing(args: &StoreArgs) -> Result<()> {
    if let Database::Sqlite(path) = args.database()? {
        if !path.exists() {
            bail!(
                "no Picket installation at {} (data directory {}).\n\
                 Run `picket init` to create it, or `picket serve` (which creates it); or point \
                 --data-dir, PICKET_DATA_DIR or the configuration file (`picket status` shows which) \
                 at the installation your server uses.",
                path.display(),
                args.data_dir.display()
            );
        }
    }
    Ok(())
}

pub async fn init(args: &StoreArgs) -> Result<()> {
    let existed = match args.database()? {
        Database::Sqlite(path) => path.exists(),
        Database::Postgres(_) => true,
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let store = crate::open_store_with(args, crate::DEFAULT_UNIFIED_SENSOR_VERSION).await?;
    let now = picket_domain::time::Clock::now(&picket_domain::time::SystemClock);
    picket_server::signing::ensure_keys(store.as_ref(), Some(&args.data_dir), now).await?;
    println!(
        "{} Picket installation: {}",
        if existed { "Existing" } else { "Created the" },
        describe(args)?
    );
    println!("Next: picket serve --demo   (or picket tenants create --name NAME)");
    Ok(())
}

fn describe(args: &StoreArgs) -> Result<String> {
    Ok(match args.database()? {
        Database::Sqlite(path) => format!(
            "sqlite://{} (data directory {})",
            path.display(),
            args.data_dir.display()
        ),
        Database::Postgres(config) => config.describe(),
    })
}

pub async fn status(args: &StoreArgs, loaded: &Loaded) -> Result<()> {
    println!(
        "Configuration file: {}",
        match &loaded.path {
            Some(p) if loaded.applied.is_empty() => format!(
                "{} (nothing applied: the environment sets every key it holds)",
                p.display()
            ),
            Some(p) => format!("{} (applied: {})", p.display(), loaded.applied.join(", ")),
            None => match crate::config_file::default_path() {
                Some(d) => format!("none ({} does not exist)", d.display()),
                None => "none".into(),
            },
        }
    );
    let exists = match args.database()? {
        Database::Sqlite(path) => path.exists(),
        Database::Postgres(_) => true,
    };
    println!(
        "Installation:       {}{}",
        describe(args)?,
        if exists {
            ""
        } else {
            " — not created yet (picket init)"
        }
    );
    if exists {
        match crate::open_store(args).await {
            Ok(store) => {
                let tenants = store.list_tenants().await?;
                println!("Tenants:            {}", tenants.len());
            }
            Err(e) => println!("Tenants:            cannot open the store: {e:#}"),
        }
    }
    let endpoint = std::env::var("PICKET_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty());
    println!(
        "Endpoint:           {}",
        match &endpoint {
            Some(e) => format!("{e} (PICKET_ENDPOINT)"),
            None => "graph — Microsoft Graph, the client commands' default (set PICKET_ENDPOINT=http://127.0.0.1:8080 for a local Picket)".into(),
        }
    );
    println!("Identity:           {}", identity());
    Ok(())
}

/// Who the client commands act as, from the environment (no secret is printed).
fn identity() -> String {
    if let Some(token) = std::env::var("PICKET_TOKEN").ok().filter(|t| !t.is_empty()) {
        return match claims(&token) {
            Some(c) => {
                let text = |k: &str| c[k].as_str().unwrap_or("?").to_string();
                let roles = c["roles"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .or_else(|| c["scp"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let expires = c["exp"].as_i64().map_or("?".into(), |exp| {
                    chrono::DateTime::from_timestamp(exp, 0)
                        .map_or("?".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                });
                format!(
                    "PICKET_TOKEN from {} for tenant {}, permissions {roles}, expires {expires}",
                    text("iss"),
                    text("tid")
                )
            }
            None => "PICKET_TOKEN (not a JWT this command can read)".into(),
        };
    }
    match (
        std::env::var("AZURE_TENANT_ID").ok(),
        std::env::var("AZURE_CLIENT_ID").ok(),
    ) {
        (Some(t), Some(c)) => format!("app {c} of tenant {t} (AZURE_* variables)"),
        _ => "none set (PICKET_TOKEN, or AZURE_TENANT_ID + AZURE_CLIENT_ID + a secret or certificate)".into(),
    }
}

/// The payload of a JWT, unverified: only shown back to its owner.
fn claims(token: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn reset(args: &StoreArgs, yes: bool) -> Result<()> {
    let path = match args.database()? {
        Database::Sqlite(path) => path,
        Database::Postgres(config) => bail!(
            "reset empties an embedded (SQLite) installation; for {} drop its schema with psql and run `picket migrate`",
            config.describe()
        ),
    };
    if !path.exists() {
        bail!("nothing to reset: no installation at {}", path.display());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "reset deletes every tenant, sensor, app and key at {}; confirm with --yes",
                path.display()
            );
        }
        eprint!(
            "Delete every tenant, sensor, app and signing key at {}? Type 'reset' to confirm: ",
            path.display()
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "reset" {
            bail!("not confirmed; nothing deleted");
        }
    }
    let removed = remove_database(&path)?;
    // Signing keys live in the database; an older installation's key file would be imported
    // again, so it goes too: a reset starts a new issuer.
    let legacy = args.data_dir.join(picket_server::signing::LEGACY_KEY_FILE);
    if legacy.is_file() {
        std::fs::remove_file(&legacy)
            .with_context(|| format!("cannot remove {}", legacy.display()))?;
    }
    println!(
        "Reset {} ({removed} files removed); `picket serve` or `picket init` starts it afresh",
        path.display()
    );
    Ok(())
}

/// The database file and its WAL and shared-memory companions.
fn remove_database(path: &Path) -> Result<usize> {
    let mut removed = 0;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = std::path::PathBuf::from(p);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}
