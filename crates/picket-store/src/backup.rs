//! Backups (`picket backup --out FILE`, `picket restore FILE`): every row of the installation,
//! signing keys included, read in one consistent snapshot while the server carries on, written
//! as JSON lines either engine restores (so a backup also moves an installation from SQLite to
//! PostgreSQL or back):
//!
//! ```text
//! {"format":"picket-backup","formatVersion":1,"schemaVersion":6,"createdDateTime":"…","engine":"sqlite"}
//! {"table":"tenants","columns":["access_key",…]}
//! ["…",…]                                   one line per row
//! …                                         every table in turn
//! {"manifest":{"tables":[{"name":"tenants","rows":2,"sha256":"…"},…],"sha256":"…"}}
//! ```
//!
//! The manifest comes last, so a truncated file has none and is refused; every table's row
//! count and SHA-256 (see [`Table::checksum`]) are checked before anything is written, and
//! again on the restored rows afterwards.

use crate::portable::{self, hex, Cell, PortableStore, Purpose, Scope, Table};
use crate::StoreError;
use picket_domain::time::{format_timestamp, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};

pub const FORMAT: &str = "picket-backup";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    pub schema_version: i64,
    pub created_date_time: String,
    /// The engine it was taken from (information only).
    pub engine: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableSum {
    pub name: String,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub tables: Vec<TableSum>,
    /// SHA-256 over the tables' names and checksums, in order.
    pub sha256: String,
}

impl Manifest {
    fn of(tables: &[Table]) -> Self {
        let tables: Vec<TableSum> = tables
            .iter()
            .map(|t| TableSum {
                name: t.name.clone(),
                rows: t.rows.len() as u64,
                sha256: t.checksum(),
            })
            .collect();
        let mut hash = Sha256::new();
        for t in &tables {
            hash.update(t.name.as_bytes());
            hash.update(b":");
            hash.update(t.sha256.as_bytes());
            hash.update(b"\n");
        }
        Manifest {
            tables,
            sha256: hex(&hash.finalize()),
        }
    }

    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableStart {
    table: String,
    columns: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestLine {
    manifest: Manifest,
}

/// A backup read back and verified.
pub struct Backup {
    pub header: Header,
    pub tables: Vec<Table>,
    pub manifest: Manifest,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("backup file: {e}"))
}

fn json(e: serde_json::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Writes a backup of the whole installation to `out`; returns its manifest.
pub async fn write<S: PortableStore + ?Sized, W: Write>(
    store: &S,
    engine: &str,
    now: Timestamp,
    out: &mut W,
) -> Result<Manifest, StoreError> {
    let scope = Scope::Installation;
    let schema_version = store.schema_version().await?;
    let tables = store
        .export_tables(&scope, &portable::tables(&scope, Purpose::Backup))
        .await?;
    let header = Header {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        schema_version,
        created_date_time: format_timestamp(&now),
        engine: engine.into(),
    };
    let line = |out: &mut W, v: &dyn erased::Line| -> Result<(), StoreError> {
        out.write_all(v.json()?.as_bytes()).map_err(io)?;
        out.write_all(b"\n").map_err(io)
    };
    line(out, &header)?;
    for t in &tables {
        line(
            out,
            &TableStart {
                table: t.name.clone(),
                columns: t.columns.clone(),
            },
        )?;
        for row in &t.rows {
            line(out, row)?;
        }
    }
    let manifest = Manifest::of(&tables);
    line(
        out,
        &ManifestLine {
            manifest: manifest.clone(),
        },
    )?;
    out.flush().map_err(io)?;
    Ok(manifest)
}

/// Serialises any line type through one function pointer (keeps `write` readable).
mod erased {
    pub trait Line {
        fn json(&self) -> Result<String, crate::StoreError>;
    }
    impl<T: serde::Serialize> Line for T {
        fn json(&self) -> Result<String, crate::StoreError> {
            serde_json::to_string(self).map_err(super::json)
        }
    }
}

fn corrupt(line: usize, what: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("the backup is damaged at line {line}: {what}"))
}

/// Reads and verifies a backup: its header, every table, and the manifest's counts and
/// checksums. Nothing is written anywhere.
pub fn read<R: BufRead>(input: R) -> Result<Backup, StoreError> {
    let mut lines = input.lines().enumerate();
    let mut next = || -> Result<Option<(usize, String)>, StoreError> {
        match lines.next() {
            None => Ok(None),
            Some((i, Ok(text))) => Ok(Some((i + 1, text))),
            Some((i, Err(e))) => Err(corrupt(i + 1, e)),
        }
    };
    let Some((n, first)) = next()? else {
        return Err(StoreError::Invalid("the backup file is empty".into()));
    };
    let header: Header = serde_json::from_str(&first)
        .map_err(|_| corrupt(n, "this is not a Picket backup (no header)"))?;
    if header.format != FORMAT || header.format_version != FORMAT_VERSION {
        return Err(corrupt(
            n,
            format!(
                "format '{}' version {} is not one this build reads",
                header.format, header.format_version
            ),
        ));
    }
    let mut tables: Vec<Table> = Vec::new();
    let manifest = loop {
        let Some((n, text)) = next()? else {
            return Err(StoreError::Invalid(
                "the backup ends before its manifest: it is incomplete".into(),
            ));
        };
        if text.starts_with('[') {
            let row: Vec<Cell> = serde_json::from_str(&text).map_err(|e| corrupt(n, e))?;
            let Some(table) = tables.last_mut() else {
                return Err(corrupt(n, "a row before any table"));
            };
            if row.len() != table.columns.len() {
                return Err(corrupt(n, "a row of the wrong width"));
            }
            table.rows.push(row);
        } else if text.starts_with("{\"table\"") {
            let start: TableStart = serde_json::from_str(&text).map_err(|e| corrupt(n, e))?;
            tables.push(Table {
                name: start.table,
                columns: start.columns,
                rows: Vec::new(),
            });
        } else {
            let line: ManifestLine = serde_json::from_str(&text).map_err(|e| corrupt(n, e))?;
            if next()?.is_some() {
                return Err(corrupt(n + 1, "lines after the manifest"));
            }
            break line.manifest;
        }
    };
    let found = Manifest::of(&tables);
    if found.tables.len() != manifest.tables.len() {
        return Err(StoreError::Invalid(format!(
            "the backup holds {} tables but its manifest lists {}",
            found.tables.len(),
            manifest.tables.len()
        )));
    }
    for (got, want) in found.tables.iter().zip(&manifest.tables) {
        if got != want {
            return Err(StoreError::Invalid(format!(
                "table '{}' does not match the manifest ({} rows, checksum {}; the manifest says '{}', {} rows, checksum {})",
                got.name, got.rows, &got.sha256[..12], want.name, want.rows, &want.sha256.get(..12).unwrap_or("")
            )));
        }
    }
    if found.sha256 != manifest.sha256 {
        return Err(StoreError::Invalid(
            "the manifest's own checksum does not match".into(),
        ));
    }
    Ok(Backup {
        header,
        tables,
        manifest,
    })
}

/// Restores a verified backup into `store`: refused when the store holds any row (unless
/// `into_non_empty`, which replaces everything) or is at another schema version; afterwards the
/// stored rows are read back and checked against the manifest.
pub async fn restore<S: PortableStore + ?Sized>(
    store: &S,
    backup: Backup,
    into_non_empty: bool,
) -> Result<Manifest, StoreError> {
    let current = store.schema_version().await?;
    if backup.header.schema_version != current {
        return Err(StoreError::Invalid(format!(
            "the backup is of schema version {}, and this store is at {current}: restore it with the Picket release that made it, then upgrade",
            backup.header.schema_version
        )));
    }
    let scope = Scope::Installation;
    let tables = portable::tables(&scope, Purpose::Backup);
    if !into_non_empty {
        let counts = store.count_rows(&tables).await?;
        if let Some((table, n)) = counts.iter().find(|(_, n)| *n > 0) {
            return Err(StoreError::Conflict(format!(
                "the target store is not empty (table '{table}' has {n} rows); restore into it anyway, replacing everything, with --force"
            )));
        }
    }
    store.replace_tables(&scope, &tables, backup.tables).await?;
    let restored = Manifest::of(&store.export_tables(&scope, &tables).await?);
    if restored != backup.manifest {
        return Err(StoreError::Internal(
            "the restored rows do not match the backup's manifest".into(),
        ));
    }
    Ok(restored)
}
