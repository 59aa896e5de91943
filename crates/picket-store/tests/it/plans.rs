//! PostgreSQL's plans for filtered sensor lists: a filter on an indexed status uses its index
//! (`sensors_by_health`, `sensors_by_deployment`) for the page and for the count, instead of
//! scanning the tenant — which needs `=` in the SQL (not `IS NOT DISTINCT FROM`) and fresh
//! statistics after a bulk load (the seed runs ANALYZE).

use super::{catalogue, query, sensor, tenant, A};
use picket_domain::*;
use picket_store::testing::{note_postgres_skipped, postgres_url, TestDatabase};
use picket_store::{Fixture, PageRequest, PostgresStore};

const OTHER: &str = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

fn fleet(prefix: &str, n: usize) -> Fixture {
    let sensors = (0..n)
        .map(|i| {
            let mut s = sensor(
                &format!("{prefix}{i:06}"),
                &format!("DC{i:06}"),
                "contoso.com",
                "2024-01-01T00:00:00Z",
            );
            if i % 20 == 0 {
                s.deployment_status = DeploymentStatus::Disconnected;
            }
            s
        })
        .collect();
    Fixture {
        sensors,
        ..Fixture::default()
    }
}

#[tokio::test]
async fn filtered_sensor_lists_and_counts_use_their_indexes_on_postgres() {
    if postgres_url().is_none() {
        note_postgres_skipped();
        return;
    }
    let db = TestDatabase::new().expect("test database");
    let config = db.postgres_config().expect("PostgreSQL settings");
    let store = PostgresStore::open(&config, catalogue())
        .await
        .expect("open PostgreSQL");
    use picket_store::Store;
    for (prefix, t) in [("a", A), ("b", OTHER)] {
        store
            .seed(&tenant(t), &fleet(prefix, 4000))
            .await
            .expect("seed");
    }
    let page = PageRequest { skip: 0, size: 100 };
    let cases = [
        (
            "$filter=healthStatus eq 'notHealthyHigh'",
            "sensors_by_health",
        ),
        (
            "$filter=deploymentStatus eq 'disconnected'",
            "sensors_by_deployment",
        ),
    ];
    for (q, index) in cases {
        for count in [false, true] {
            let plan = store
                .explain_sensor_listing(&tenant(A), &query(q), page, count)
                .await
                .expect("explain");
            assert!(
                plan.contains(index) && !plan.contains("Seq Scan"),
                "{q} (count: {count}) should use {index}:\n{plan}"
            );
        }
    }
    // A deep page by key ($skiptoken after a row's key) is a range of the same index, not a
    // scan of everything before it.
    let keyed = [
        ("", "sensors_by_created"),
        (
            "$filter=healthStatus eq 'notHealthyHigh'&",
            "sensors_by_health",
        ),
    ];
    for (q, index) in keyed {
        let raw = picket_odata::parse_query(q.trim_end_matches('&')).expect("parses");
        let token = picket_odata::SkipToken {
            after: vec![
                picket_odata::KeyValue::Text("2024-01-01T00:00:00Z".into()),
                picket_odata::KeyValue::Text("a003000".into()),
            ],
        }
        .encode(&raw);
        let q = format!("{q}$skiptoken={token}");
        let plan = store
            .explain_sensor_listing(&tenant(A), &query(&q), page, false)
            .await
            .expect("explain");
        assert!(
            plan.contains(index) && !plan.contains("Seq Scan") && !plan.contains("Sort"),
            "{q} should be a range of {index}:\n{plan}"
        );
    }
}
