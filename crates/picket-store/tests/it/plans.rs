//! Each engine's plans for filtered sensor lists: a filter on any filterable property of the
//! sensor's schema (made from the schema, see `selective_filters`) finds its rows through an
//! index led by the tenant and searched by that property, for the page and for the count,
//! instead of scanning the tenant. On PostgreSQL that needs `=` in the SQL (not `IS NOT
//! DISTINCT FROM`), comparisons not wrapped in `COALESCE`, the same `lower(…)` expression in
//! the filter as in the index for case-insensitive text, and fresh statistics after a bulk load
//! (the seed runs ANALYZE); on SQLite, indexes in the NOCASE collation the comparison uses.
//! A property added without its index fails here.

use super::{catalogue, query, sensor, tenant, A};
use picket_domain::*;
use picket_odata::{PropType, ValidatedQuery};
use picket_store::testing::{note_postgres_skipped, postgres_url, TestDatabase};
use picket_store::{Fixture, PageRequest, PostgresStore, SqliteStore, Store, StoreError};

const OTHER: &str = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

/// A fleet where every filterable property has a value one sensor in twenty holds (and each
/// display name is unique), so an index is the plan a sound planner picks for it.
fn fleet(prefix: &str, n: usize) -> Fixture {
    let sensors = (0..n)
        .map(|i| {
            let mut s = sensor(
                &format!("{prefix}{i:06}"),
                &format!("DC{i:06}"),
                &format!("d{}.contoso.com", i % 20),
                "2024-01-01T00:00:00Z",
            );
            match i % 20 {
                0 => s.deployment_status = DeploymentStatus::Disconnected,
                1 => s.service_status = ServiceStatus::Stopped,
                2 => s.sensor_type = SensorType::AdfsIntegrated,
                3 => s.version = "2.240.0.0".into(),
                4 => s.open_health_issues_count = 3,
                5 => s.settings.is_delayed_deployment_enabled = true,
                6 => s.settings.description = Some("Edge site".into()),
                7 => s.health_status = SensorHealthStatus::NotHealthyHigh,
                _ => {}
            }
            s
        })
        .collect();
    Fixture {
        sensors,
        ..Fixture::default()
    }
}

/// The selective filters this test asks for each filterable property of the sensor's schema,
/// made from its type alone, so a property added to the schema is checked without editing
/// this test: text and numbers by a value no sensor has, a date after every sensor's, an enum
/// or a boolean by the value fewest sensors have (counted first). A string collection (only
/// `settings/domainControllerDnsNames`) has no B-tree index; migration 0014 says why.
async fn selective_filters(store: &dyn Store) -> Vec<(&'static str, String)> {
    let mut filters = Vec::new();
    for p in &picket_domain::schema::sensor_schema(true).properties {
        let candidates: Vec<String> = match p.ty {
            PropType::String => vec!["'Zz-absent'".into()],
            PropType::Int64 => vec!["987654".into()],
            PropType::DateTime => {
                filters.push((p.name, format!("{} gt 2099-01-01T00:00:00Z", p.name)));
                continue;
            }
            PropType::Enum(members) => members.iter().map(|m| format!("'{m}'")).collect(),
            PropType::Bool => vec!["true".into(), "false".into()],
            PropType::StringCollection => continue,
        };
        let mut rarest = None;
        for value in candidates {
            let filter = format!("{} eq {value}", p.name);
            let n = store
                .count_sensors(&tenant(A), &query(&format!("$filter={filter}")))
                .await
                .expect("count");
            if rarest.as_ref().is_none_or(|(m, _)| n < *m) {
                rarest = Some((n, filter));
            }
        }
        let (_, filter) = rarest.expect("a value");
        filters.push((p.name, filter));
    }
    filters
}

/// One engine's store, and how to read its plans.
enum Planner {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Planner {
    fn store(&self) -> &dyn Store {
        match self {
            Planner::Sqlite(s) => s,
            Planner::Postgres(s) => s,
        }
    }

    async fn explain(
        &self,
        q: &ValidatedQuery,
        page: PageRequest,
        count: bool,
    ) -> Result<String, StoreError> {
        self.store()
            .explain_sensor_listing(&tenant(A), q, page, count)
            .await
    }

    /// Whether `plan` finds its rows through an index searched by the filter, never by reading
    /// the table or the tenant's whole range of an index (PostgreSQL: no `Seq Scan`, and no
    /// `Filter:` left after the index condition; SQLite: only `SEARCH`es that constrain more
    /// than the tenant).
    fn searches(&self, plan: &str) -> bool {
        match self {
            Planner::Postgres(_) => {
                plan.contains("Index")
                    && !plan.contains("Seq Scan")
                    && !plan.lines().any(|l| l.trim_start().starts_with("Filter:"))
            }
            Planner::Sqlite(_) => {
                let reads: Vec<&str> = plan.lines().filter(|l| l.contains(" sensors")).collect();
                !reads.is_empty()
                    && reads.iter().all(|l| {
                        l.starts_with("SEARCH sensors USING ") && l.contains("(tenant_id=? AND ")
                    })
            }
        }
    }

    /// Whether `plan` reads `index` (PostgreSQL's name for it).
    fn uses(&self, plan: &str, index: &str) -> bool {
        match self {
            Planner::Postgres(_) => plan.contains(index),
            Planner::Sqlite(_) => plan.contains(&format!("INDEX {index} (")),
        }
    }

    /// Whether `plan` sorts the rows it read (instead of reading them in the page's order).
    fn sorts(&self, plan: &str) -> bool {
        match self {
            Planner::Postgres(_) => plan.contains("Sort"),
            Planner::Sqlite(_) => plan.contains("TEMP B-TREE"),
        }
    }
}

async fn check_plans(planner: Planner) {
    for (prefix, t) in [("a", A), ("b", OTHER)] {
        planner
            .store()
            .seed(&tenant(t), &fleet(prefix, 4000))
            .await
            .expect("seed");
    }
    let page = PageRequest { skip: 0, size: 100 };
    let filters = selective_filters(planner.store()).await;
    assert!(filters.len() >= 12, "{filters:?}");
    for (property, filter) in &filters {
        let q = format!("$filter={filter}");
        for count in [false, true] {
            let plan = planner
                .explain(&query(&q), page, count)
                .await
                .expect("explain");
            assert!(
                planner.searches(&plan),
                "{property}: {q} (count: {count}) should search an index of its own:\n{plan}"
            );
        }
    }
    // The filters find what they ask for, whatever the case it is asked in. (The seed derives
    // health and the open-issue count from the fixture's issues, so those two are not counted.)
    for (filter, expected) in [
        ("displayName eq 'dc000042'", 1),
        ("domainName eq 'D7.CONTOSO.COM'", 200),
        ("settings/description eq 'EDGE SITE'", 200),
        ("settings/isDelayedDeploymentEnabled eq true", 200),
        ("sensorType eq 'adfsIntegrated'", 200),
    ] {
        let q = format!("$filter={filter}");
        let counted = planner
            .store()
            .count_sensors(&tenant(A), &query(&q))
            .await
            .expect("count");
        assert_eq!(counted, expected, "{filter}");
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
        let plan = planner
            .explain(&query(&q), page, false)
            .await
            .expect("explain");
        assert!(
            planner.searches(&plan) && planner.uses(&plan, index) && !planner.sorts(&plan),
            "{q} should be a range of {index}:\n{plan}"
        );
    }
}

#[tokio::test]
async fn filtered_sensor_lists_and_counts_use_their_indexes_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("plans.db"), catalogue())
        .await
        .expect("open SQLite");
    check_plans(Planner::Sqlite(store)).await;
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
    check_plans(Planner::Postgres(store)).await;
}
