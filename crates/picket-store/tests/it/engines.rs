//! The two engines side by side (when `PICKET_TEST_DATABASE_URL` is set): the same data and
//! the same `$filter`/`$orderby`/paging give the same ids in the same order, so pages and
//! `@odata.nextLink`s do not depend on the engine.

use super::{candidate, catalogue, issue, query, sensor, tenant, ts, A};
use picket_domain::*;
use picket_odata::{parse_query, validate_query, ValidatedQuery};
use picket_store::testing::{note_postgres_skipped, postgres_url};
use picket_store::{
    Fixture, IssueScope, PageRequest, PostgresConfig, PostgresStore, SqliteStore, Store,
};

/// Names that sort differently under a careless collation: case, punctuation, digits, spaces.
fn tricky_fixture() -> Fixture {
    let names = [
        "DC1", "dc2", "Dc-3", "dc_4", "DC 5", "dc.6", "Zeta", "alpha", "50%off", "dc10", "DC1",
        "_under", "~tilde", "Alpha",
    ];
    let sensors: Vec<Sensor> = names
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
    let fqdns: Vec<String> = sensors.iter().map(Sensor::fqdn).collect();
    let candidates = [
        "b.contoso.com",
        "A.contoso.com",
        "a-1.contoso.com",
        "_x.contoso.com",
        "Z9",
    ]
    .iter()
    .enumerate()
    .map(|(i, dns)| candidate(&format!("c{i}"), dns))
    .collect();
    let health_issues = (0..12)
        .map(|i| {
            use HealthIssueSeverity::*;
            use HealthIssueStatus::*;
            let mut h = issue(
                &format!("h{i:02}"),
                [Low, Medium, High][i % 3],
                [Open, Closed, Suppressed, Open][i % 4],
                &[&fqdns[i % fqdns.len()], &fqdns[(i + 5) % fqdns.len()]],
            );
            h.created_date_time = ts(&format!("2024-02-{:02}T00:00:00Z", 1 + i % 4));
            h.display_name = format!("{} issue", names[(i * 7) % names.len()]);
            h.domain_names = vec![if i % 2 == 0 {
                "Contoso.com"
            } else {
                "fabrikam.local"
            }
            .into()];
            h.issue_type_id = format!("{}", 1000 + i % 5);
            h
        })
        .collect();
    Fixture {
        activation_mode: None,
        sensors,
        candidates,
        health_issues,
        ..Fixture::default()
    }
}

fn issue_query(q: &str) -> ValidatedQuery {
    let schema = picket_domain::schema::health_issue_schema();
    validate_query(&parse_query(q).expect("parses"), schema).expect("valid")
}

fn candidate_query(q: &str) -> ValidatedQuery {
    let schema = picket_domain::schema::candidate_schema();
    validate_query(&parse_query(q).expect("parses"), schema).expect("valid")
}

const PAGES: [PageRequest; 2] = [
    PageRequest { skip: 0, size: 100 },
    PageRequest { skip: 3, size: 4 },
];

#[tokio::test]
async fn both_engines_filter_order_and_page_alike_on_postgres() {
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
        for page in PAGES {
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
    let issue_cases = [
        "",
        "$orderby=displayName",
        "$orderby=severity desc,createdDateTime",
        "$filter=status eq 'open'",
        "$filter=sensorDNSNames/any(n: n eq 'dc1')",
        "$filter=domainNames/any(d: endswith(d,'.COM'))",
        "$filter=startswith(displayName,'dc') and severity ne 'low'",
        "$filter=issueTypeId eq '1002' or contains(displayName,'_')",
    ];
    for case in issue_cases {
        let q = issue_query(case);
        for scope in [IssueScope::Tenant, IssueScope::Sensor(SensorId::new("s00"))] {
            for page in PAGES {
                let mut seen = Vec::new();
                for store in [&sqlite as &dyn Store, &postgres] {
                    let p = store
                        .list_health_issues(&t, &scope, &q, page)
                        .await
                        .expect("list");
                    let ids: Vec<String> = p.items.iter().map(|h| h.id.to_string()).collect();
                    let count = store
                        .count_health_issues(&t, &scope, &q)
                        .await
                        .expect("count");
                    let sensors = store
                        .find_sensor(&t, &SensorId::new("s00"))
                        .await
                        .expect("find")
                        .map(|s| (s.health_status, s.open_health_issues_count));
                    seen.push((ids, p.has_more, count, sensors));
                }
                assert_eq!(
                    seen[0], seen[1],
                    "{case} {scope:?} {page:?}: SQLite, then PostgreSQL"
                );
            }
        }
    }
    for case in [
        "",
        "$orderby=computerDnsName desc",
        "$filter=startswith(computerDnsName,'a')",
        "$filter=computerDnsName eq 'B.CONTOSO.COM'",
    ] {
        let q = candidate_query(case);
        for page in PAGES {
            let mut seen = Vec::new();
            for store in [&sqlite as &dyn Store, &postgres] {
                let p = store.list_candidates(&t, &q, page).await.expect("list");
                let ids: Vec<String> = p.items.iter().map(|c| c.id.to_string()).collect();
                seen.push((ids, p.has_more));
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

/// A sensor as the document evaluator sees it: the filterable properties, `null` when unset.
fn as_document(s: &Sensor) -> serde_json::Value {
    serde_json::json!({
        "id": s.id.as_str(),
        "displayName": s.display_name,
        "domainName": s.domain_name,
        "version": s.version,
        "settings": {
            "description": s.settings.description,
            "domainControllerDnsNames": s.settings.domain_controller_dns_names,
            "isDelayedDeploymentEnabled": s.settings.is_delayed_deployment_enabled,
        },
    })
}

/// Null and negation in SQL (`not`, comparisons and functions on a missing description) give
/// what OData's semantics, as the document evaluator states them, give: a comparison with null
/// is false, and `not` of it true. Run on SQLite, and on PostgreSQL when it is configured.
#[tokio::test]
async fn filters_on_missing_values_agree_with_the_document_evaluator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut stores: Vec<Box<dyn Store>> = vec![Box::new(
        SqliteStore::open(&dir.path().join("picket.db"), catalogue())
            .await
            .expect("open SQLite"),
    )];
    if let Some(url) = postgres_url() {
        let config = PostgresConfig {
            schema: Some(format!("t_nulls_{:08x}", rand::random::<u32>())),
            ..PostgresConfig::new(url)
        };
        stores.push(Box::new(
            PostgresStore::open(&config, catalogue())
                .await
                .expect("open PostgreSQL"),
        ));
    }
    let t = tenant(A);
    let fixture = tricky_fixture();
    let documents: Vec<serde_json::Value> = fixture.sensors.iter().map(as_document).collect();
    let cases = [
        "settings/description gt 'desc'",
        "not (settings/description gt 'desc')",
        "not (settings/description le 'desc dc2')",
        "not (not (settings/description ge 'desc'))",
        "contains(settings/description,'dc')",
        "not contains(settings/description,'dc')",
        "not startswith(settings/description,'Desc') and displayName ne 'Zeta'",
        "not (settings/description lt 'z' or displayName eq 'dc2')",
        "not (settings/description lt 'z' and displayName eq 'dc2')",
        "settings/domainControllerDnsNames/all(d: not startswith(d,'dc'))",
        "not settings/domainControllerDnsNames/any(d: d eq 'DC1.contoso.com')",
        "settings/description ne null and not (settings/description eq '')",
    ];
    for store in &stores {
        store.seed(&t, &fixture).await.expect("seed");
    }
    for case in cases {
        let q = query(&format!("$filter={case}"));
        let filter = q.filter.as_ref().expect("a filter");
        let mut expected: Vec<&str> = documents
            .iter()
            .filter(|d| picket_odata::eval::matches(filter, d))
            .map(|d| d["id"].as_str().expect("id"))
            .collect();
        expected.sort_unstable();
        assert!(
            !expected.is_empty() && expected.len() < documents.len(),
            "{case}: a case that tells the semantics apart selects some sensors, not all"
        );
        for store in &stores {
            let page = store
                .list_sensors(&t, &q, PageRequest { skip: 0, size: 100 })
                .await
                .expect("list");
            let mut ids: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
            ids.sort_unstable();
            assert_eq!(ids, expected, "{case}");
            let count = store.count_sensors(&t, &q).await.expect("count");
            assert_eq!(count as usize, expected.len(), "{case} ($count)");
        }
    }
}
