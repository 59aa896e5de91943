//! On PostgreSQL an enrolment shares its tenant's lock, as check-ins do, and locks only its
//! computer's name (and, for a re-install, the sensor it finds). Enrolments of different
//! computers run side by side, beside check-ins, and still wait for a write that locks the
//! whole tenant. The locks are held here from a connection of the test's own, by the keys the
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
async fn finishes(task: &mut JoinHandle<Enrolled>, wait: Duration) -> Option<Enrolled> {
    match tokio::time::timeout(wait, task).await {
        Ok(done) => Some(done.expect("enrolment task")),
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

const PROMPT: Duration = Duration::from_secs(5);
const HELD: Duration = Duration::from_millis(400);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolments_wait_only_for_their_computer_their_sensor_and_tenant_writes_on_postgres() {
    let Some(url) = postgres_url() else {
        note_postgres_skipped();
        return;
    };
    let db = TestDatabase::new().expect("test database");
    let schema = db
        .postgres_config()
        .and_then(|c| c.schema)
        .expect("a schema of the test's own");
    let store = db.open(catalogue()).await.expect("open");
    let access_key = store.deployment_access_key(&tenant(A)).await.expect("key");
    let access_key = access_key.expose();
    let holder = Holder::connect(&url).await;
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
