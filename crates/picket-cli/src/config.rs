//! Where state lives: the data directory, the database URL, and the token issuer.

use anyhow::{bail, Result};
use std::path::PathBuf;

pub const DEFAULT_ISSUER: &str = "https://sts.picket.local";

#[derive(clap::Args)]
pub struct StoreArgs {
    /// Directory for the embedded database and the issuer's signing key.
    #[arg(long, env = "PICKET_DATA_DIR", default_value = "./picket-data")]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://PATH (default: DATA_DIR/picket.db).
    #[arg(long, env = "PICKET_DATABASE_URL")]
    pub database: Option<String>,
    /// Issuer base URL; tokens carry iss = ISSUER/{tenant}/.
    #[arg(long, env = "PICKET_ISSUER", default_value = DEFAULT_ISSUER)]
    pub issuer: String,
}

pub enum Database {
    Sqlite(PathBuf),
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
            bail!("PostgreSQL is not supported by this build yet; use sqlite://PATH");
        }
        bail!("unsupported database URL '{url}': expected sqlite://PATH");
    }
}
