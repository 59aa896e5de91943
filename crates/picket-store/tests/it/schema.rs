//! The schema itself: every primary key and index leads with `tenant_id` (except the
//! installation-wide tables), and both migration trees produce the same tables and columns.

use super::catalogue;
use deadpool_sqlite::rusqlite;
use picket_store::testing::{note_postgres_skipped, postgres_url};
use picket_store::{PostgresConfig, PostgresStore};
use std::collections::{BTreeMap, BTreeSet};

/// Tables without a tenant: one issuer signs for every tenant, a release is published for all,
/// a sweep round covers every tenant, a snapshot is of one tenant or of the whole installation
/// (its `scope`), and the migrations table is the engine's own.
const INSTALLATION_WIDE: [&str; 5] = [
    "signing_keys",
    "releases",
    "background_runs",
    "snapshots",
    "schema_migrations",
];

type Columns = BTreeMap<String, BTreeSet<String>>;

/// A fresh PostgreSQL schema migrated by `PostgresStore::open`, and a client inside it.
async fn postgres_schema() -> Option<(String, tokio_postgres::Client, PostgresConfig)> {
    let Some(url) = postgres_url() else {
        note_postgres_skipped();
        return None;
    };
    let schema = format!("t_schema_{:08x}", rand::random::<u32>());
    let config = PostgresConfig {
        schema: Some(schema.clone()),
        ..PostgresConfig::new(url.clone())
    };
    PostgresStore::open(&config, catalogue())
        .await
        .expect("open PostgreSQL store");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    Some((schema, client, config))
}

async fn drop_schema(client: &tokio_postgres::Client, schema: &str) {
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("drop schema");
}

async fn postgres_columns(client: &tokio_postgres::Client, schema: &str) -> Columns {
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = $1",
            &[&schema],
        )
        .await
        .expect("columns");
    let mut out = Columns::new();
    for r in rows {
        out.entry(r.get(0)).or_default().insert(r.get(1));
    }
    out
}

async fn sqlite_columns() -> Columns {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("picket.db");
    picket_store::SqliteStore::open(&path, catalogue())
        .await
        .expect("open SQLite store");
    let conn = rusqlite::Connection::open(&path).expect("open file");
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("prepare");
    let names: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("names");
    let mut out = Columns::new();
    for table in names {
        let mut info = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .expect("table info");
        let columns: BTreeSet<String> = info
            .query_map([], |r| r.get(0))
            .expect("columns")
            .collect::<Result<_, _>>()
            .expect("column names");
        out.insert(table, columns);
    }
    out
}

#[tokio::test]
async fn both_migration_trees_make_the_same_tables_and_columns_on_postgres() {
    assert_eq!(
        picket_store::sqlite::MIGRATIONS
            .iter()
            .map(|(n, name, _)| (*n, *name))
            .collect::<Vec<_>>(),
        picket_store::postgres::MIGRATIONS
            .iter()
            .map(|(n, name, _)| (*n, *name))
            .collect::<Vec<_>>(),
        "the trees carry the same numbers and names"
    );
    let Some((schema, client, _)) = postgres_schema().await else {
        return;
    };
    let pg = postgres_columns(&client, &schema).await;
    drop_schema(&client, &schema).await;
    assert_eq!(sqlite_columns().await, pg);
}

/// Tables that `$filter` and `$orderby` read: their text sorts bytewise on PostgreSQL as on
/// SQLite, whichever tree (or `migrations/both`) made the column.
#[tokio::test]
async fn text_that_odata_orders_is_collated_bytewise_on_postgres() {
    let Some((schema, client, _)) = postgres_schema().await else {
        return;
    };
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text, collation_name::text \
             FROM information_schema.columns WHERE table_schema = $1 AND data_type = 'text' \
             AND table_name IN ('sensors', 'health_issues', 'sensor_candidates')",
            &[&schema],
        )
        .await
        .expect("columns");
    drop_schema(&client, &schema).await;
    assert!(rows.len() >= 30, "found the text columns");
    let wrong: Vec<String> = rows
        .iter()
        .filter(|r| r.get::<_, Option<String>>(2).as_deref() != Some("C"))
        .map(|r| format!("{}.{}", r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect();
    assert!(wrong.is_empty(), "not COLLATE \"C\": {wrong:?}");
}

#[tokio::test]
async fn every_key_and_index_leads_with_tenant_id_on_postgres() {
    let Some((schema, client, config)) = postgres_schema().await else {
        return;
    };
    // Opening again applies nothing twice.
    PostgresStore::open(&config, catalogue())
        .await
        .expect("reopen");
    let rows = client
        .query(
            "SELECT t.relname::text, i.relname::text, a.attname::text \
             FROM pg_index x \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] \
             WHERE n.nspname = $1",
            &[&schema],
        )
        .await
        .expect("indexes");
    drop_schema(&client, &schema).await;
    assert!(rows.len() >= 15, "found the schema's indexes");
    let mut wrong = Vec::new();
    for r in &rows {
        let (table, index, first): (String, String, Option<String>) =
            (r.get(0), r.get(1), r.get(2));
        if !INSTALLATION_WIDE.contains(&table.as_str()) && first.as_deref() != Some("tenant_id") {
            wrong.push(format!("{table}.{index} leads with {first:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}

#[tokio::test]
async fn every_sqlite_key_and_index_leads_with_tenant_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("picket.db");
    picket_store::SqliteStore::open(&path, catalogue())
        .await
        .expect("open SQLite store");
    let conn = rusqlite::Connection::open(&path).expect("open file");
    let mut stmt = conn
        .prepare(
            "SELECT m.name, l.name, (SELECT name FROM pragma_index_info(l.name) WHERE seqno = 0) \
             FROM sqlite_master m, pragma_index_list(m.name) l WHERE m.type = 'table'",
        )
        .expect("prepare");
    let rows: Vec<(String, String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("indexes")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(rows.len() >= 10, "found the schema's indexes");
    let wrong: Vec<_> = rows
        .iter()
        .filter(|(table, _, first)| {
            !INSTALLATION_WIDE.contains(&table.as_str()) && first.as_deref() != Some("tenant_id")
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
}
