//! Snapshots and backups on the engine under test (and, with PostgreSQL available, across the
//! two engines): every table compared row by row after a round trip, restores that are atomic
//! for readers, and damaged backups refused before anything is written.

use super::{catalogue, fixture, sensor, store, tenant, ts, A, B};
use picket_domain::rules::SettingsPatch;
use picket_domain::*;
use picket_odata::ValidatedQuery;
use picket_store::portable::{self, Purpose, Scope, Table};
use picket_store::testing::{note_postgres_skipped, postgres_url};
use picket_store::{backup, snapshots, Store, StoreError};
use std::sync::Arc;

async fn rows_of(store: &dyn Store, scope: &Scope) -> Vec<Table> {
    store
        .export_tables(scope, &portable::tables(scope, Purpose::Snapshot))
        .await
        .expect("export")
}

async fn backup_rows(store: &dyn Store) -> Vec<Table> {
    let scope = Scope::Installation;
    store
        .export_tables(&scope, &portable::tables(&scope, Purpose::Backup))
        .await
        .expect("export")
}

/// Two tenants with sensors, issues, candidates and an app each.
async fn two_tenants(store: &dyn Store) {
    for t in [A, B] {
        store
            .create_tenant(&tenant(t), "Tenant")
            .await
            .expect("tenant");
        store.seed(&tenant(t), &fixture()).await.expect("seed");
    }
}

/// Changes a tenant in several tables at once.
async fn churn(store: &dyn Store, t: &TenantId) {
    let now = ts("2024-03-01T00:00:00Z");
    store
        .delete_sensor(t, &SensorId::new("s1"), now)
        .await
        .expect("delete");
    store
        .save_sensor_settings(
            t,
            &SensorId::new("s2"),
            &SettingsPatch {
                description: Some(Some("changed".into())),
                ..SettingsPatch::default()
            },
        )
        .await
        .expect("patch")
        .expect("exists");
    store
        .regenerate_deployment_access_key(t)
        .await
        .expect("regenerate");
    let mut more = picket_store::Fixture::default();
    more.sensors
        .push(sensor("s9", "DC9", "contoso.com", "2024-01-09T00:00:00Z"));
    store.seed(t, &more).await.expect("seed more");
}

#[tokio::test]
async fn a_tenant_snapshot_brings_back_every_row_and_leaves_other_tenants_alone() {
    let (_db, store) = store().await;
    two_tenants(store.as_ref()).await;
    let a = Scope::Tenant(tenant(A));
    let b = Scope::Tenant(tenant(B));
    let before = rows_of(store.as_ref(), &a).await;
    let info = snapshots::save(store.as_ref(), &a, "clean", ts("2024-02-01T00:00:00Z"))
        .await
        .expect("save");
    assert_eq!(info.scope, A);
    assert_eq!(
        info.rows,
        before.iter().map(|t| t.rows.len() as u64).sum::<u64>()
    );
    assert!(info.rows > 10, "the fixture fills several tables");

    churn(store.as_ref(), &tenant(A)).await;
    churn(store.as_ref(), &tenant(B)).await;
    let b_changed = rows_of(store.as_ref(), &b).await;
    assert_ne!(rows_of(store.as_ref(), &a).await, before);

    let restored = snapshots::restore(store.as_ref(), &a, "clean")
        .await
        .expect("restore")
        .expect("exists");
    assert_eq!(restored.rows, info.rows);
    assert_eq!(
        rows_of(store.as_ref(), &a).await,
        before,
        "every table of A as saved"
    );
    assert_eq!(rows_of(store.as_ref(), &b).await, b_changed, "B untouched");
    // The restored sensor answers through the ordinary reads again.
    assert!(store
        .find_sensor(&tenant(A), &SensorId::new("s1"))
        .await
        .expect("find")
        .is_some());

    // A snapshot is per scope: B has none of that name.
    assert!(snapshots::restore(store.as_ref(), &b, "clean")
        .await
        .expect("restore")
        .is_none());
    let listed = snapshots::list(store.as_ref(), &a).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(snapshots::delete(store.as_ref(), &a, "clean")
        .await
        .expect("delete"));
    assert!(!snapshots::delete(store.as_ref(), &a, "clean")
        .await
        .expect("delete"));
}

#[tokio::test]
async fn an_installation_snapshot_covers_every_tenant() {
    let (_db, store) = store().await;
    two_tenants(store.as_ref()).await;
    let all = Scope::Installation;
    let before = rows_of(store.as_ref(), &all).await;
    snapshots::save(store.as_ref(), &all, "all", ts("2024-02-01T00:00:00Z"))
        .await
        .expect("save");
    churn(store.as_ref(), &tenant(A)).await;
    churn(store.as_ref(), &tenant(B)).await;
    let c = tenant("22222222-3333-4444-5555-666666666666");
    store.create_tenant(&c, "New").await.expect("tenant");
    snapshots::restore(store.as_ref(), &all, "all")
        .await
        .expect("restore")
        .expect("exists");
    assert_eq!(rows_of(store.as_ref(), &all).await, before);
    assert!(store.find_tenant(&c).await.expect("find").is_none());
}

#[tokio::test]
async fn bad_snapshot_names_are_refused() {
    let (_db, store) = store().await;
    let a = Scope::Tenant(tenant(A));
    for name in ["", "../x", "a b", ".hidden"] {
        assert!(matches!(
            snapshots::save(store.as_ref(), &a, name, ts("2024-02-01T00:00:00Z")).await,
            Err(StoreError::Invalid(_))
        ));
    }
}

/// Readers racing restores see one whole state or the other: 3 sensors or 4, never a mix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_is_atomic_for_readers() {
    let (_db, store) = store().await;
    two_tenants(store.as_ref()).await;
    let t = tenant(A);
    let a = Scope::Tenant(t.clone());
    let now = ts("2024-02-01T00:00:00Z");
    snapshots::save(store.as_ref(), &a, "three", now)
        .await
        .expect("save");
    let mut more = picket_store::Fixture::default();
    more.sensors
        .push(sensor("s9", "DC9", "contoso.com", "2024-01-09T00:00:00Z"));
    store.seed(&t, &more).await.expect("seed");
    snapshots::save(store.as_ref(), &a, "four", now)
        .await
        .expect("save");

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..2 {
        let (store, t, stop) = (store.clone(), t.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut seen = std::collections::BTreeSet::new();
            let mut reads = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && reads < 5_000 {
                let n = store
                    .count_sensors(&t, &ValidatedQuery::default())
                    .await
                    .expect("count");
                seen.insert(n);
                reads += 1;
                tokio::task::yield_now().await;
            }
            seen
        }));
    }
    for i in 0..20 {
        let name = if i % 2 == 0 { "three" } else { "four" };
        snapshots::restore(store.as_ref(), &a, name)
            .await
            .expect("restore")
            .expect("exists");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        let seen = r.await.expect("reader");
        assert!(
            seen.iter().all(|n| *n == 3 || *n == 4),
            "a reader saw a mix: {seen:?}"
        );
    }
}

#[tokio::test]
async fn a_backup_restores_into_an_empty_store_with_every_row() {
    let (_db, store) = store().await;
    two_tenants(store.as_ref()).await;
    churn(store.as_ref(), &tenant(A)).await;
    let mut file = Vec::new();
    let manifest = backup::write(
        store.as_ref(),
        "test",
        ts("2024-02-01T00:00:00Z"),
        &mut file,
    )
    .await
    .expect("backup");
    assert!(manifest.rows() > 20);

    let (_db2, target) = super::store().await;
    let read = backup::read(file.as_slice()).expect("verified");
    let restored = backup::restore(target.as_ref(), read, false)
        .await
        .expect("restore");
    assert_eq!(restored, manifest);
    assert_eq!(
        backup_rows(target.as_ref()).await,
        backup_rows(store.as_ref()).await
    );

    // Now the target holds rows: a second restore is refused unless forced.
    let again = backup::read(file.as_slice()).expect("verified");
    assert!(matches!(
        backup::restore(target.as_ref(), again, false).await,
        Err(StoreError::Conflict(_))
    ));
    let forced = backup::read(file.as_slice()).expect("verified");
    backup::restore(target.as_ref(), forced, true)
        .await
        .expect("forced restore");
    assert_eq!(
        backup_rows(target.as_ref()).await,
        backup_rows(store.as_ref()).await
    );
}

#[tokio::test]
async fn a_damaged_backup_is_refused_and_nothing_is_written() {
    let (_db, store) = store().await;
    two_tenants(store.as_ref()).await;
    let mut file = Vec::new();
    backup::write(
        store.as_ref(),
        "test",
        ts("2024-02-01T00:00:00Z"),
        &mut file,
    )
    .await
    .expect("backup");
    let text = String::from_utf8(file).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();

    // One changed cell in a row of sensors.
    let at = lines
        .iter()
        .position(|l| l.contains("\"DC2\""))
        .expect("a sensor row");
    let mut changed = lines.clone();
    let edited = lines[at].replacen("DC2", "DC7", 1);
    changed[at] = &edited;
    // A dropped row, a cut-off file, a stranger's file.
    let mut dropped = lines.clone();
    dropped.remove(at);
    let cut = lines[..lines.len() - 1].to_vec();
    let damaged = [
        changed.join("\n"),
        dropped.join("\n"),
        cut.join("\n"),
        "{\"hello\":1}\n".to_string(),
        String::new(),
    ];
    let (_db2, target) = super::store().await;
    for bad in damaged {
        match backup::read(bad.as_bytes()) {
            Err(StoreError::Invalid(m)) => assert!(!m.is_empty()),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("a damaged backup was accepted"),
        }
    }
    let counts = target
        .count_rows(&portable::tables(&Scope::Installation, Purpose::Backup))
        .await
        .expect("count");
    assert!(counts.iter().all(|(_, n)| *n == 0), "{counts:?}");
}

#[tokio::test]
async fn every_table_is_copied_or_named_as_not_copied() {
    let (_db, store) = store().await;
    let all = portable::tables(&Scope::Installation, Purpose::Backup);
    // Counting a table that does not exist fails, so every listed table exists…
    store
        .count_rows(&all)
        .await
        .expect("every listed table exists");
    // …and every table of the schema is listed one way or the other.
    let names = schema_tables().await;
    for name in names {
        assert!(
            all.contains(&name.as_str()) || portable::NOT_COPIED.contains(&name.as_str()),
            "table '{name}' is neither copied by backups nor listed in NOT_COPIED"
        );
    }
}

/// The tables the SQLite schema creates (the PostgreSQL schema has the same ones; a test in
/// the schema suite compares them).
async fn schema_tables() -> Vec<String> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("p.db");
    drop(
        picket_store::SqliteStore::open(&path, catalogue())
            .await
            .expect("open"),
    );
    let c = deadpool_sqlite::rusqlite::Connection::open(&path).expect("open");
    let mut stmt = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("prepare");
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    names
}

/// A backup taken from SQLite restores into PostgreSQL with the same rows, and back.
#[tokio::test]
async fn a_backup_moves_an_installation_between_engines_on_postgres() {
    let Some(url) = postgres_url() else {
        note_postgres_skipped();
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = picket_store::SqliteStore::open(&dir.path().join("p.db"), catalogue())
        .await
        .expect("open");
    two_tenants(&sqlite).await;
    churn(&sqlite, &tenant(B)).await;
    let mut file = Vec::new();
    let manifest = backup::write(&sqlite, "sqlite", ts("2024-02-01T00:00:00Z"), &mut file)
        .await
        .expect("backup");

    let schema = format!("t_{:016x}", rand_u64());
    let config = picket_store::PostgresConfig {
        schema: Some(schema.clone()),
        ..picket_store::PostgresConfig::new(url.clone())
    };
    let pg = picket_store::PostgresStore::open(&config, catalogue())
        .await
        .expect("open");
    let restored = backup::restore(&pg, backup::read(file.as_slice()).expect("read"), false).await;
    let pg_rows = backup_rows(&pg).await;
    let sqlite_rows = backup_rows(&sqlite).await;
    // And back again, into a fresh SQLite file.
    let mut file2 = Vec::new();
    backup::write(&pg, "postgres", ts("2024-02-01T00:00:00Z"), &mut file2)
        .await
        .expect("backup from postgres");
    let back = picket_store::SqliteStore::open(&dir.path().join("back.db"), catalogue())
        .await
        .expect("open");
    backup::restore(&back, backup::read(file2.as_slice()).expect("read"), false)
        .await
        .expect("restore into sqlite");
    let back_rows = backup_rows(&back).await;
    drop(pg);
    drop_schema(&url, &schema).await;
    assert_eq!(restored.expect("restore into postgres"), manifest);
    assert_eq!(pg_rows, sqlite_rows);
    assert_eq!(back_rows, sqlite_rows);
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}

async fn drop_schema(url: &str, schema: &str) {
    if let Ok((client, conn)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        let _ = client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await;
    }
}
