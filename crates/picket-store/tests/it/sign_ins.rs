//! Console sign-in secrets (`picket_store::sign_ins`), on whichever engine the suite runs:
//! stored as digests, used once (also under concurrency), expiring, revocable, per tenant.

use super::{store, tenant, ts, A, B};
use chrono::Duration;
use picket_store::portable::Cell;
use picket_store::sign_ins::{self, CodeBinding, Kind, Refusal};

#[tokio::test]
async fn a_ticket_is_stored_as_its_digest_and_used_once() {
    let (_db, store) = store().await;
    let (a, b) = (tenant(A), tenant(B));
    let now = ts("2026-05-01T12:00:00Z");
    let s = store.as_ref();
    let ticket = sign_ins::create(s, &a, Kind::Ticket, "u1", None, Duration::minutes(10), now)
        .await
        .expect("create");
    assert_eq!(ticket.expose().len(), 43);
    assert_eq!(format!("{ticket:?}"), "Secret(…)");

    // Only the digest is in the table.
    let rows = s
        .read_rows(
            "SELECT digest, kind, user_id FROM sign_ins WHERE tenant_id = ?",
            vec![Cell::Text(A.into())],
        )
        .await
        .expect("rows");
    assert_eq!(
        rows,
        vec![vec![
            Cell::Text(sign_ins::digest(ticket.expose())),
            Cell::Text("ticket".into()),
            Cell::Text("u1".into()),
        ]]
    );
    assert_eq!(sign_ins::digest(ticket.expose()).len(), 64);
    assert_ne!(sign_ins::digest(ticket.expose()), ticket.expose());

    // Another tenant or another kind does not know it.
    let later = now + Duration::minutes(1);
    for (t, kind) in [(&b, Kind::Ticket), (&a, Kind::Code), (&a, Kind::Session)] {
        assert_eq!(
            sign_ins::redeem(s, t, kind, ticket.expose(), later)
                .await
                .expect("redeem"),
            Err(Refusal::Unknown)
        );
    }
    let used = sign_ins::redeem(s, &a, Kind::Ticket, ticket.expose(), later)
        .await
        .expect("redeem")
        .expect("first use");
    assert_eq!((used.kind, used.user_id.as_str()), (Kind::Ticket, "u1"));
    assert_eq!(used.used_at, Some(later));
    assert_eq!(
        sign_ins::redeem(s, &a, Kind::Ticket, ticket.expose(), later)
            .await
            .expect("redeem"),
        Err(Refusal::Used)
    );
}

#[tokio::test]
async fn expired_and_revoked_secrets_are_refused() {
    let (_db, store) = store().await;
    let a = tenant(A);
    let now = ts("2026-05-01T12:00:00Z");
    let s = store.as_ref();
    let ticket = sign_ins::create(s, &a, Kind::Ticket, "u1", None, Duration::seconds(60), now)
        .await
        .expect("create");
    assert_eq!(
        sign_ins::redeem(
            s,
            &a,
            Kind::Ticket,
            ticket.expose(),
            now + Duration::seconds(60)
        )
        .await
        .expect("redeem"),
        Err(Refusal::Expired)
    );
    let session = sign_ins::create(s, &a, Kind::Session, "u1", None, Duration::hours(8), now)
        .await
        .expect("create");
    let live = sign_ins::live_session(s, &a, session.expose(), now)
        .await
        .expect("live")
        .expect("a live session");
    assert_eq!(live.expires_at, now + Duration::hours(8));
    assert_eq!(
        sign_ins::live_session(s, &a, session.expose(), now + Duration::hours(8))
            .await
            .expect("live"),
        Err(Refusal::Expired)
    );
    assert!(
        sign_ins::revoke(s, &a, Kind::Session, session.expose(), now)
            .await
            .expect("revoke")
    );
    assert!(
        !sign_ins::revoke(s, &a, Kind::Session, session.expose(), now)
            .await
            .expect("revoke again")
    );
    assert_eq!(
        sign_ins::live_session(s, &a, session.expose(), now)
            .await
            .expect("live"),
        Err(Refusal::Revoked)
    );
    // Rows expired over an hour ago are pruned when the tenant's next secret is made.
    sign_ins::create(
        s,
        &a,
        Kind::Ticket,
        "u2",
        None,
        Duration::minutes(10),
        now + Duration::hours(2),
    )
    .await
    .expect("create");
    assert_eq!(
        sign_ins::find(s, &a, Kind::Ticket, ticket.expose())
            .await
            .expect("find"),
        None
    );
    assert!(sign_ins::find(s, &a, Kind::Session, session.expose())
        .await
        .expect("find")
        .is_some());
}

#[tokio::test]
async fn a_code_keeps_what_it_is_bound_to() {
    let (_db, store) = store().await;
    let a = tenant(A);
    let now = ts("2026-05-01T12:00:00Z");
    let binding = CodeBinding {
        client_id: "client".into(),
        redirect_uri: "http://127.0.0.1:8080/console/".into(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        scopes: vec!["SecurityIdentitiesSensors.Read.All".into()],
    };
    let code = sign_ins::create(
        store.as_ref(),
        &a,
        Kind::Code,
        "u1",
        Some(&binding),
        Duration::seconds(60),
        now,
    )
    .await
    .expect("create");
    let row = sign_ins::redeem(store.as_ref(), &a, Kind::Code, code.expose(), now)
        .await
        .expect("redeem")
        .expect("unused");
    assert_eq!(row.code, Some(binding));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_of_one_ticket_succeed_once() {
    let (_db, store) = store().await;
    let a = tenant(A);
    let now = ts("2026-05-01T12:00:00Z");
    let ticket = sign_ins::create(
        store.as_ref(),
        &a,
        Kind::Ticket,
        "u1",
        None,
        Duration::minutes(10),
        now,
    )
    .await
    .expect("create");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, a, secret) = (store.clone(), a.clone(), ticket.expose().to_string());
            tokio::spawn(async move {
                sign_ins::redeem(store.as_ref(), &a, Kind::Ticket, &secret, now).await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.expect("join").expect("redeem") {
            Ok(_) => won += 1,
            Err(refusal) => assert_eq!(refusal, Refusal::Used),
        }
    }
    assert_eq!(won, 1, "exactly one redemption uses the ticket");
}
