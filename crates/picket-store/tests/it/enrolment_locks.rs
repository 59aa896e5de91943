//! On PostgreSQL an enrolment shares its tenant's lock, as check-ins do, and locks only its
//! computer's name (and, for a re-install, the sensor it finds). Enrolments of different
//! computers run side by side, beside check-ins, and still wait for a write that locks the
//! whole tenant. A PATCH of a sensor's settings locks that sensor alone, the same way. The locks are held here from a connection of the test's own, by the keys the
//! store documents (`{schema}:tenant:{tenant}`, `…:computer:{tenant}:{name}`,
//! `…:sensor:{tenant}:{id}`).

use super::{catalogue, tenant, ts, A};
use picket_domain::SensorType;
use picket_store::fleet::{EnrollRequest, Enrolled, FleetPolicy};
use picket_store::testing::{note_postgres_skipped, postgres_url, TestDatabase};
use picket_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Starts enrolling `computer` of tenant A through `store` with the access key `key`, in a
/// task of its own.
fn start_enrolment(store: &Arc<dyn Store>, key: &str, computer: &str) -> JoinHandle<Enrolled> {
    let store = store.clone();
    let key = key.to_string();
    let request = EnrollRequest {
        computer_dns_name: computer.into(),
        sensor_type: SensorType::DomainControllerIntegrated,
        version: "2.239.1.1".into(),
    };
    tokio::spawn(async move {
        store
            .enroll(
                &tenant(A),
                &key,
                &request,
                "hash-of-credential",
                ts("2026-05-01T12:00:00Z"),
                &FleetPolicy::default(),
            )
            .await
            .expect("store")
            .expect("enrolled")
    })
}

/// Whether the task finishes within `wait`.
async fn finishes<T>(task: &mut JoinHandle<T>, wait: Duration) -> Option<T> {
    match tokio::time::timeout(wait, task).await {
        Ok(done) => Some(done.expect("the store's task")),
        Err(_) => None,
    }
}

/// A connection of the test's own holding advisory locks in an open transaction.
struct Holder(tokio_postgres::Client);

impl Holder {
    async fn connect(url: &str) -> Self {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        Self(client)
    }

    async fn hold(&self, key: &str, shared: bool) {
        let lock = if shared {
            "pg_advisory_xact_lock_shared"
        } else {
            "pg_advisory_xact_lock"
        };
        self.0.batch_execute("BEGIN").await.expect("begin");
        self.0
            .execute(&format!("SELECT {lock}(hashtextextended($1, 0))"), &[&key])
            .await
            .expect("lock");
    }

    async fn release(&self) {
        self.0.batch_execute("COMMIT").await.expect("commit");
    }
}

/// A store on a PostgreSQL schema of its own, tenant A's access key, and a connection of the
/// test's own to hold locks from; `None` without PostgreSQL.
struct Locked {
    _db: TestDatabase,
    store: Arc<dyn Store>,
    access_key: String,
    holder: Holder,
    schema: String,
}

impl Locked {
    async fn open() -> Option<Self> {
        let url = postgres_url()?;
        let db = TestDatabase::new().expect("test database");
        let schema = db
            .postgres_config()
            .and_then(|c| c.schema)
            .expect("a schema of the test's own");
        let store = db.open(catalogue()).await.expect("open");
        let key = store.deployment_access_key(&tenant(A)).await.expect("key");
        Some(Self {
            access_key: key.expose().to_string(),
            _db: db,
            store,
            holder: Holder::connect(&url).await,
            schema,
        })
    }
}

const PROMPT: Duration = Duration::from_secs(5);
const HELD: Duration = Duration::from_millis(400);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolments_wait_only_for_their_computer_their_sensor_and_tenant_writes_on_postgres() {
    let Some(Locked {
        _db,
        store,
        access_key,
        holder,
        schema,
    }) = Locked::open().await
    else {
        note_postgres_skipped();
        return;
    };
    let access_key = access_key.as_str();
    let key = |what: &str| format!("{schema}:{what}");

    // A check-in holds the tenant's lock shared: an enrolment runs beside it.
    holder.hold(&key(&format!("tenant:{A}")), true).await;
    let mut first = start_enrolment(&store, access_key, "dc1.contoso.com");
    let dc1 = finishes(&mut first, PROMPT)
        .await
        .expect("an enrolment runs beside a check-in");
    assert!(!dc1.reinstalled);
    holder.release().await;

    // Another enrolment of the same computer (named in another case) waits for it; one of
    // another computer does not.
    holder
        .hold(&key(&format!("computer:{A}:dc2.contoso.com")), false)
        .await;
    let mut same = start_enrolment(&store, access_key, "DC2.contoso.com");
    let mut other = start_enrolment(&store, access_key, "dc3.contoso.com");
    assert!(
        finishes(&mut other, PROMPT).await.is_some(),
        "another computer's enrolment waits for nothing"
    );
    assert!(
        finishes(&mut same, HELD).await.is_none(),
        "an enrolment of the same computer must wait"
    );
    holder.release().await;
    assert!(finishes(&mut same, PROMPT).await.is_some());

    // A re-install waits for its sensor's check-in.
    holder
        .hold(&key(&format!("sensor:{A}:{}", dc1.sensor.id)), false)
        .await;
    let mut again = start_enrolment(&store, access_key, "dc1.contoso.com");
    assert!(
        finishes(&mut again, HELD).await.is_none(),
        "a re-install must wait for its sensor's check-in"
    );
    holder.release().await;
    let again = finishes(&mut again, PROMPT).await.expect("re-installed");
    assert!(again.reinstalled);
    assert_eq!(again.sensor.id, dc1.sensor.id);

    // A write that locks the whole tenant (a Graph write, a candidate's report) still excludes
    // enrolments.
    holder.hold(&key(&format!("tenant:{A}")), false).await;
    let mut blocked = start_enrolment(&store, access_key, "dc4.contoso.com");
    assert!(
        finishes(&mut blocked, HELD).await.is_none(),
        "an enrolment must wait for a tenant write"
    );
    holder.release().await;
    assert!(finishes(&mut blocked, PROMPT).await.is_some());
}

/// Starts a PATCH of `sensor`'s description through `store`, in a task of its own.
fn start_patch(store: &Arc<dyn Store>, sensor: &picket_domain::SensorId) -> JoinHandle<()> {
    let store = store.clone();
    let sensor = sensor.clone();
    tokio::spawn(async move {
        let patch = picket_domain::rules::SettingsPatch {
            description: Some(Some("patched".into())),
            ..Default::default()
        };
        let saved = store
            .save_sensor_settings(&tenant(A), &sensor, &patch)
            .await
            .expect("store")
            .expect("the sensor");
        assert_eq!(saved.settings.description.as_deref(), Some("patched"));
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_patches_wait_only_for_their_sensor_and_tenant_writes_on_postgres() {
    let Some(Locked {
        _db,
        store,
        access_key,
        holder,
        schema,
    }) = Locked::open().await
    else {
        note_postgres_skipped();
        return;
    };
    let access_key = access_key.as_str();
    let mut first = start_enrolment(&store, access_key, "dc1.contoso.com");
    let dc1 = finishes(&mut first, PROMPT)
        .await
        .expect("enrolled")
        .sensor
        .id;
    let key = |what: &str| format!("{schema}:{what}");

    // Check-ins of the tenant (its lock shared) and of other sensors do not hold it up.
    holder.hold(&key(&format!("tenant:{A}")), true).await;
    let mut beside = start_patch(&store, &dc1);
    assert!(
        finishes(&mut beside, PROMPT).await.is_some(),
        "a PATCH runs beside the tenant's check-ins"
    );
    holder.release().await;
    holder
        .hold(&key(&format!("sensor:{A}:another")), false)
        .await;
    let mut other = start_patch(&store, &dc1);
    assert!(
        finishes(&mut other, PROMPT).await.is_some(),
        "another sensor's lock does not hold up a PATCH"
    );
    holder.release().await;

    // Its own sensor's check-in, and a write that locks the whole tenant, do.
    for (what, shared) in [
        (format!("sensor:{A}:{dc1}"), false),
        (format!("tenant:{A}"), false),
    ] {
        holder.hold(&key(&what), shared).await;
        let mut waiting = start_patch(&store, &dc1);
        assert!(
            finishes(&mut waiting, HELD).await.is_none(),
            "a PATCH must wait for {what}"
        );
        holder.release().await;
        assert!(finishes(&mut waiting, PROMPT).await.is_some());
    }
}
