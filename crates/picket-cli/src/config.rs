//! Where state lives: the data directory, the database URL, and the token issuer.

use anyhow::{bail, Result};
use picket_store::PostgresConfig;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_ISSUER: &str = "https://sts.picket.local";

/// The per-user installation: `$XDG_DATA_HOME/picket` (`~/.local/share/picket`), else
/// `./picket-data` where no home directory is known.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("picket"))
        .unwrap_or_else(|| PathBuf::from("./picket-data"))
}

/// "Which Picket" for the commands that call a running server's admin API (`clock`,
/// `device-codes`); the client commands and `picket-agent` use the same name.
#[derive(clap::Args, Debug, Clone)]
pub struct EndpointArg {
    /// The Picket server (`--server`, `PICKET_SERVER` are older names).
    #[arg(
        long,
        alias = "server",
        env = "PICKET_ENDPOINT",
        default_value = "http://127.0.0.1:8080"
    )]
    pub endpoint: String,
}

#[derive(clap::Args)]
pub struct StoreArgs {
    /// Directory for the embedded database and the issuer's signing key (one per user by
    /// default, wherever the command is run from).
    #[arg(long, env = "PICKET_DATA_DIR", default_value_os_t = default_data_dir())]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://PATH (default: DATA_DIR/picket.db) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=CA.pem]
    /// (replicas may share it; sslmode as in libpq: disable, prefer (default), require,
    /// verify-ca, verify-full).
    #[arg(long, env = "PICKET_DATABASE_URL")]
    pub database: Option<String>,
    /// PostgreSQL only: connections in the pool.
    #[arg(long, env = "PICKET_DATABASE_POOL_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: u32,
    /// PostgreSQL only: statements running longer are cancelled (e.g. 500ms, 5s, 1m).
    #[arg(long, env = "PICKET_DATABASE_STATEMENT_TIMEOUT", default_value = "5s",
          value_parser = parse_timeout)]
    pub database_statement_timeout: Duration,
    /// Issuer base URL; tokens carry iss = ISSUER/{tenant}/.
    #[arg(long, env = "PICKET_ISSUER", default_value = DEFAULT_ISSUER)]
    pub issuer: String,
}

pub enum Database {
    Sqlite(PathBuf),
    Postgres(PostgresConfig),
}

/// `500ms`, `5s`, `1m`.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 500ms, 5s or 1m"))?;
    let timeout = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(format!("unknown unit in '{text}': use ms, s or m")),
    };
    if timeout.is_zero() {
        return Err("the statement timeout must be positive".into());
    }
    Ok(timeout)
}

impl StoreArgs {
    pub fn database(&self) -> Result<Database> {
        let Some(url) = &self.database else {
            return Ok(Database::Sqlite(self.data_dir.join("picket.db")));
        };
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.starts_with(":memory:") {
                bail!("--database needs a file path, e.g. sqlite://./picket-data/picket.db");
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(PostgresConfig {
                pool_size: self.database_pool_size as usize,
                statement_timeout: self.database_statement_timeout,
                ..PostgresConfig::new(url.clone())
            }));
        }
        bail!("unsupported database URL: expected sqlite://PATH or postgres://USER@HOST/DATABASE");
    }
}
