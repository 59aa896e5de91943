//! The two engines side by side (when `PICKET_TEST_DATABASE_URL` is set): the same data and
//! the same `$filter`/`$orderby`/paging give the same ids in the same order, so pages and
//! `@odata.nextLink`s do not depend on the engine.

use super::{catalogue, query, sensor, tenant, A};
use picket_store::testing::{note_postgres_skipped, postgres_url};
use picket_store::{Fixture, PageRequest, PostgresConfig, PostgresStore, SqliteStore, Store};

/// Names that sort differently under a careless collation: case, punctuation, digits, spaces.
fn tricky_fixture() -> Fixture {
    let names = [
        "DC1", "dc2", "Dc-3", "dc_4", "DC 5", "dc.6", "Zeta", "alpha", "50%off", "dc10", "DC1",
        "_under", "~tilde", "Alpha",
    ];
    let sensors = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut s = sensor(
                &format!("s{i:02}"),
                name,
                if i % 3 == 0 {
                    "Contoso.com"
                } else {
                    "fabrikam.LOCAL"
                },
                &format!("2024-01-{:02}T00:00:00Z", 1 + i % 5),
            );
            s.settings.description = match i % 4 {
                0 => None,
                1 => Some(format!("Desc {name}")),
                2 => Some(format!("desc {}", name.to_lowercase())),
                _ => Some(String::new()),
            };
            s.settings.domain_controller_dns_names = if i % 2 == 0 {
                vec![format!("{}.CONTOSO.com", name.to_lowercase())]
            } else {
                vec![]
            };
            s.version = format!("2.{}.1.1", 230 + i % 7);
            s
        })
        .collect();
    Fixture {
        activation_mode: None,
        sensors,
        candidates: vec![],
        health_issues: vec![],
    }
}

#[tokio::test]
async fn both_engines_filter_order_and_page_alike() {
    let Some(url) = postgres_url() else {
        note_postgres_skipped();
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("picket.db"), catalogue())
        .await
        .expect("open SQLite");
    let schema = format!("t_engines_{:08x}", rand::random::<u32>());
    let config = PostgresConfig {
        schema: Some(schema.clone()),
        ..PostgresConfig::new(url.clone())
    };
    let postgres = PostgresStore::open(&config, catalogue())
        .await
        .expect("open PostgreSQL");
    let t = tenant(A);
    for store in [&sqlite as &dyn Store, &postgres] {
        store.seed(&t, &tricky_fixture()).await.expect("seed");
    }
    let cases = [
        "",
        "$orderby=displayName",
        "$orderby=displayName desc",
        "$orderby=settings/description",
        "$orderby=settings/description desc",
        "$orderby=domainName desc,displayName",
        "$orderby=version,createdDateTime desc",
        "$orderby=id desc",
        "$filter=displayName eq 'dc1'",
        "$filter=displayName gt 'dc'&$orderby=displayName",
        "$filter=displayName lt 'Dc-3'&$orderby=displayName desc",
        "$filter=startswith(displayName,'DC')",
        "$filter=contains(displayName,'_')",
        "$filter=contains(displayName,'%')",
        "$filter=endswith(domainName,'.local')",
        "$filter=settings/description eq null",
        "$filter=settings/description ne null&$orderby=settings/description",
        "$filter=not (settings/description eq 'desc dc2')",
        "$filter=settings/description eq ''",
        "$filter=settings/domainControllerDnsNames/any(d: d eq 'DC1.contoso.COM')",
        "$filter=settings/domainControllerDnsNames/any(d: startswith(d,'DC'))",
        "$filter=settings/domainControllerDnsNames/all(d: endswith(d,'.com'))",
        "$filter=settings/domainControllerDnsNames/any()",
        "$filter=version ge '2.233'&$orderby=version desc",
        "$filter=createdDateTime gt 2024-01-02T00:00:00Z and domainName eq 'CONTOSO.COM'",
        "$filter=settings/isDelayedDeploymentEnabled eq false or displayName eq 'Zeta'",
    ];
    for case in cases {
        let q = query(case);
        for page in [
            PageRequest { skip: 0, size: 100 },
            PageRequest { skip: 3, size: 4 },
        ] {
            let mut seen = Vec::new();
            for store in [&sqlite as &dyn Store, &postgres] {
                let p = store.list_sensors(&t, &q, page).await.expect("list");
                let ids: Vec<String> = p.items.iter().map(|s| s.id.to_string()).collect();
                let count = store.count_sensors(&t, &q).await.expect("count");
                seen.push((ids, p.has_more, count));
            }
            assert_eq!(seen[0], seen[1], "{case} {page:?}: SQLite, then PostgreSQL");
        }
    }
    // And that order is SQLite's NOCASE: ASCII folded to lower case, then bytewise, then id.
    let mut expected: Vec<(String, String)> = tricky_fixture()
        .sensors
        .iter()
        .map(|s| (s.display_name.to_ascii_lowercase(), s.id.to_string()))
        .collect();
    expected.sort();
    let by_name = postgres
        .list_sensors(
            &t,
            &query("$orderby=displayName"),
            PageRequest { skip: 0, size: 100 },
        )
        .await
        .expect("list");
    assert_eq!(
        by_name
            .items
            .iter()
            .map(|s| s.id.to_string())
            .collect::<Vec<_>>(),
        expected.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    );
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop schema");
}
