//! Picket's rows in a form both engines read and write: the tables of one tenant or of the
//! whole installation as plain cells (null, integer, text; the only kinds either schema
//! holds). Snapshots (`snapshots.rs`) and backups (`backup.rs`) are built on it, so each is
//! written once over both engines; an engine only reads the rows of a scope in one consistent
//! snapshot and replaces them in one transaction ([`PortableStore`]).

use crate::StoreError;
use async_trait::async_trait;
use picket_domain::{SensorId, TenantId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Tables that hold one tenant's rows (each has `tenant_id`), parents before children.
pub const TENANT_TABLES: &[&str] = &[
    "tenants",
    "sensors",
    "health_issues",
    "health_issue_sensors",
    "sensor_candidates",
    "apps",
    "app_secrets",
    "app_certificates",
    "public_clients",
    "users",
    "trusted_issuers",
    "console_registrations",
    "audit_log",
    "sensor_agents",
    "agent_issues",
    "tenant_settings",
    "identity_accounts",
    "account_actions",
    "sensor_migrations",
    "network_adapters",
];

/// The release catalogue: installation-wide, part of an installation's snapshot and backup.
pub const RELEASES: &str = "releases";

/// The token-signing keys: in backups (an installation restored from one keeps accepting the
/// tokens it issued), never in snapshots (a reset must not invalidate the tokens of the test
/// suite that asked for it).
pub const SIGNING_KEYS: &str = "signing_keys";

/// Tables never copied: who runs the next sweep, the snapshots themselves, the schema
/// version (a backup records it in its manifest instead), and console sign-in secrets
/// (tickets, sessions, codes: short-lived credentials a restore must not bring back).
pub const NOT_COPIED: &[&str] = &[
    "background_runs",
    "snapshots",
    "schema_migrations",
    "sign_ins",
];

/// Whose rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Installation,
    Tenant(TenantId),
}

impl Scope {
    /// How the scope is stored and shown: the tenant id, or `*` for the installation.
    pub fn key(&self) -> String {
        match self {
            Scope::Installation => "*".into(),
            Scope::Tenant(t) => t.to_string(),
        }
    }

    pub fn tenant(&self) -> Option<&TenantId> {
        match self {
            Scope::Installation => None,
            Scope::Tenant(t) => Some(t),
        }
    }
}

/// What the rows are copied for; it decides which tables are included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Snapshot,
    Backup,
}

/// The tables a scope covers, parents before children.
pub fn tables(scope: &Scope, purpose: Purpose) -> Vec<&'static str> {
    let mut out = TENANT_TABLES.to_vec();
    if *scope == Scope::Installation {
        out.push(RELEASES);
        if purpose == Purpose::Backup {
            out.push(SIGNING_KEYS);
        }
    }
    out
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// The rows of one table (of one scope), columns in name order, rows sorted: the same rows
/// make the same table on either engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// Puts the rows in canonical order.
    pub fn sorted(mut self) -> Self {
        self.rows.sort();
        self
    }

    /// SHA-256 of the table's name, columns and rows as JSON, in hex.
    pub fn checksum(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.name.as_bytes());
        hash.update([0]);
        for c in &self.columns {
            hash.update(c.as_bytes());
            hash.update([0]);
        }
        for row in &self.rows {
            // Serialising plain cells cannot fail.
            hash.update(serde_json::to_vec(row).unwrap_or_default());
            hash.update([b'\n']);
        }
        hex(&hash.finalize())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Table and column names reach SQL only when they are plain lowercase identifiers.
pub(crate) fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The SELECT of a table's rows in a scope (`?` for the tenant; see [`numbered`]).
pub(crate) fn select_sql(table: &str, columns: &[String], scope: &Scope) -> String {
    let list = columns.join(", ");
    match scope {
        Scope::Installation => format!("SELECT {list} FROM {table}"),
        Scope::Tenant(_) => format!("SELECT {list} FROM {table} WHERE tenant_id = ?"),
    }
}

/// The DELETE of a table's rows in a scope.
pub(crate) fn delete_sql(table: &str, scope: &Scope) -> String {
    match scope {
        Scope::Installation => format!("DELETE FROM {table}"),
        Scope::Tenant(_) => format!("DELETE FROM {table} WHERE tenant_id = ?"),
    }
}

/// A multi-row INSERT of `rows` rows of `columns`.
pub(crate) fn insert_sql(table: &str, columns: &[String], rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        vec![one.as_str(); rows].join(", ")
    )
}

/// Rows per INSERT statement: under SQLite's 32,766 bound parameters for the widest table.
pub(crate) const ROWS_PER_INSERT: usize = 200;

/// `?` placeholders as PostgreSQL's `$1, $2, …` (the statements above hold no `?` elsewhere).
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Checks rows about to be written into `scope`: known tables of the scope only, plain column
/// names, full rows, and (for a tenant) every row that tenant's.
pub(crate) fn check_import(
    scope: &Scope,
    allowed: &[&'static str],
    tables: &[Table],
) -> Result<(), StoreError> {
    for table in tables {
        if !allowed.contains(&table.name.as_str()) {
            return Err(StoreError::Invalid(format!(
                "table '{}' does not belong in this scope",
                table.name
            )));
        }
        if let Some(bad) = table.columns.iter().find(|c| !valid_identifier(c)) {
            return Err(StoreError::Invalid(format!(
                "table '{}': '{bad}' is not a column name",
                table.name
            )));
        }
        if let Some(row) = table.rows.iter().find(|r| r.len() != table.columns.len()) {
            return Err(StoreError::Invalid(format!(
                "table '{}': a row of {} values for {} columns",
                table.name,
                row.len(),
                table.columns.len()
            )));
        }
        if let Scope::Tenant(tenant) = scope {
            let at = table
                .columns
                .iter()
                .position(|c| c == "tenant_id")
                .ok_or_else(|| {
                    StoreError::Invalid(format!("table '{}' has no tenant_id", table.name))
                })?;
            let own = Cell::Text(tenant.to_string());
            if table.rows.iter().any(|r| r[at] != own) {
                return Err(StoreError::Invalid(format!(
                    "table '{}' holds rows of another tenant",
                    table.name
                )));
            }
        }
    }
    Ok(())
}

/// The first column of each row, as text (what [`PortableStore::read_texts`] answers).
pub(crate) fn first_texts(rows: Vec<Vec<Cell>>) -> Result<Vec<String>, StoreError> {
    rows.into_iter()
        .map(|row| match row.into_iter().next() {
            Some(Cell::Text(t)) => Ok(t),
            _ => Err(StoreError::Internal("a read expected text".into())),
        })
        .collect()
}

/// A stored snapshot, without its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// A tenant id, or `*` for the whole installation.
    pub scope: String,
    pub name: String,
    pub created_date_time: String,
    pub rows: u64,
}

/// What each engine provides for snapshots and backups.
#[async_trait]
pub trait PortableStore: Send + Sync {
    /// The rows of `tables` in `scope`, all read in one consistent snapshot of the database
    /// (writers carry on meanwhile), each table [`Table::sorted`].
    async fn export_tables(
        &self,
        scope: &Scope,
        tables: &[&'static str],
    ) -> Result<Vec<Table>, StoreError>;

    /// In one transaction: deletes the rows of `scope` from every table of `tables` and
    /// inserts the given rows; returns the rows inserted. Readers see all of the old rows or
    /// all of the new.
    async fn replace_tables(
        &self,
        scope: &Scope,
        tables: &[&'static str],
        rows: Vec<Table>,
    ) -> Result<u64, StoreError>;

    /// How many rows each of `tables` holds in all (to refuse a non-empty restore target).
    async fn count_rows(&self, tables: &[&'static str]) -> Result<Vec<(String, u64)>, StoreError>;

    /// The schema version (the latest migration applied).
    async fn schema_version(&self) -> Result<i64, StoreError>;

    /// Stores (or replaces) a snapshot.
    async fn put_snapshot(&self, info: &SnapshotInfo, body: String) -> Result<(), StoreError>;
    /// A snapshot's body.
    async fn snapshot_body(&self, scope: &str, name: &str) -> Result<Option<String>, StoreError>;
    /// The snapshots of a scope (every scope when `None`), by name.
    async fn list_snapshots(&self, scope: Option<&str>) -> Result<Vec<SnapshotInfo>, StoreError>;
    /// False when there was no such snapshot.
    async fn delete_snapshot(&self, scope: &str, name: &str) -> Result<bool, StoreError>;

    /// Runs a read written once for both engines (`?` placeholders bound in order to
    /// `params`; see `statements`) and answers its first column as text, row by row.
    async fn read_texts(
        &self,
        sql: &'static str,
        params: Vec<Cell>,
    ) -> Result<Vec<String>, StoreError> {
        first_texts(self.read_rows(sql, params).await?)
    }

    /// Like [`Self::read_texts`], every column of each row as a [`Cell`].
    async fn read_rows(
        &self,
        sql: &'static str,
        params: Vec<Cell>,
    ) -> Result<Vec<Vec<Cell>>, StoreError>;

    /// Runs writes written once for both engines, in order, as one transaction of `tenant`'s
    /// (its lock taken on PostgreSQL, through the group commit on SQLite): all or none.
    /// Answers the rows each changed.
    async fn write_statements(
        &self,
        tenant: &TenantId,
        statements: Vec<(&'static str, Vec<Cell>)>,
    ) -> Result<Vec<u64>, StoreError>;

    /// Like [`Self::write_statements`] for rows of one sensor only: on PostgreSQL under that
    /// sensor's lock beside its tenant's other check-ins (as a check-in is), not the whole
    /// tenant's, so a fleet reporting at once is not one queue.
    async fn write_sensor_statements(
        &self,
        tenant: &TenantId,
        sensor: &SensorId,
        statements: Vec<(&'static str, Vec<Cell>)>,
    ) -> Result<Vec<u64>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered("DELETE FROM t WHERE a = ? AND b = ?"),
            "DELETE FROM t WHERE a = $1 AND b = $2"
        );
        assert_eq!(
            insert_sql("t", &["a".into(), "b".into()], 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn scopes_cover_the_right_tables() {
        let tenant =
            Scope::Tenant(TenantId::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779f").unwrap());
        assert!(!tables(&tenant, Purpose::Backup).contains(&RELEASES));
        assert!(!tables(&Scope::Installation, Purpose::Snapshot).contains(&SIGNING_KEYS));
        assert!(tables(&Scope::Installation, Purpose::Backup).contains(&SIGNING_KEYS));
        assert!(tables(&Scope::Installation, Purpose::Snapshot).contains(&RELEASES));
    }

    #[test]
    fn a_checksum_changes_with_any_cell() {
        let t = Table {
            name: "sensors".into(),
            columns: vec!["a".into(), "b".into()],
            rows: vec![vec![Cell::Int(1), Cell::Text("x".into())]],
        };
        let mut u = t.clone();
        u.rows[0][1] = Cell::Text("y".into());
        let mut v = t.clone();
        v.rows[0][0] = Cell::Null;
        assert_ne!(t.checksum(), u.checksum());
        assert_ne!(t.checksum(), v.checksum());
        assert_eq!(t.checksum(), t.clone().checksum());
    }

    #[test]
    fn imports_are_checked_before_any_sql() {
        let tenant = TenantId::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779f").unwrap();
        let scope = Scope::Tenant(tenant.clone());
        let allowed = tables(&scope, Purpose::Snapshot);
        let table = |name: &str, col: &str, v: &str| Table {
            name: name.into(),
            columns: vec![col.into()],
            rows: vec![vec![Cell::Text(v.into())]],
        };
        let own = tenant.to_string();
        assert!(check_import(&scope, &allowed, &[table("sensors", "tenant_id", &own)]).is_ok());
        for bad in [
            table("signing_keys", "tenant_id", &own),
            table(
                "sensors",
                "tenant_id",
                "11111111-2222-3333-4444-555555555555",
            ),
            table("sensors", "x; drop", &own),
            table("sensors", "id", &own),
        ] {
            assert!(check_import(&scope, &allowed, &[bad]).is_err());
        }
    }
}
