//! Sweep rounds claimed through two stores on one database (two replicas on PostgreSQL, two
//! processes on one SQLite file): of every claim made at once, exactly one wins; the next round
//! can be claimed once the gap has passed, by either.

use super::catalogue;
use picket_store::fleet::claim_gap;
use picket_store::testing::TestDatabase;
use picket_store::Store;
use std::sync::Arc;
use std::time::Duration;

async fn claims_at_once(replicas: &[Arc<dyn Store>], every: Duration) -> Vec<String> {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = replicas[i % replicas.len()].clone();
            tokio::spawn(async move {
                let holder = format!("replica-{}-task-{i}", i % 2);
                let won = store.claim_sweep(&holder, every).await.expect("claim");
                won.then_some(holder)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        winners.extend(task.await.expect("join"));
    }
    winners
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_sweep_round_is_claimed_once_across_replicas() {
    let db = TestDatabase::new().expect("test database");
    let replicas: Vec<Arc<dyn Store>> = vec![
        db.open(catalogue()).await.expect("open a"),
        db.open(catalogue()).await.expect("open b"),
    ];
    let every = Duration::from_millis(1500);
    assert_eq!(
        claims_at_once(&replicas, every).await.len(),
        1,
        "first round"
    );
    assert!(
        claims_at_once(&replicas, every).await.is_empty(),
        "the round is taken"
    );
    tokio::time::sleep(claim_gap(every) + Duration::from_millis(200)).await;
    assert_eq!(
        claims_at_once(&replicas, every).await.len(),
        1,
        "next round"
    );
    // A replica that stops claiming (it died) leaves the next round to the other.
    tokio::time::sleep(claim_gap(every) + Duration::from_millis(200)).await;
    assert!(replicas[1]
        .claim_sweep("replica-1", every)
        .await
        .expect("claim"));
}
