//! Public client apps and the console's registrations at trusted issuers
//! (`picket_store::console_clients`), on whichever engine the suite runs: per tenant, replaced
//! in place, gone with their app or issuer.

use super::identity::app;
use super::{store, tenant, ts, A, B};
use picket_domain::identity::{ConsoleRegistration, TrustedIssuer};
use picket_store::console_clients as cc;

const ISSUER: &str = "https://login.example/a/v2.0";

fn registration(t: &str) -> ConsoleRegistration {
    ConsoleRegistration {
        tenant: tenant(t),
        issuer: ISSUER.into(),
        display_name: "Example ID".into(),
        client_id: "spa-1".into(),
        authorization_endpoint: "https://login.example/a/authorize".into(),
        token_endpoint: "https://login.example/a/token".into(),
        scopes: vec!["api://picket/.default".into()],
        created_at: ts("2026-01-01T00:00:00Z"),
    }
}

#[tokio::test]
async fn a_public_client_has_its_redirect_uris_and_goes_with_its_app() {
    let (_db, store) = store().await;
    let s = store.as_ref();
    let a = tenant(A);
    s.create_tenant(&a, "Contoso").await.expect("tenant");
    s.create_app(&app(A, "c1")).await.expect("app");
    assert_eq!(
        cc::public_client_redirect_uris(s, &a, "c1")
            .await
            .expect("read"),
        None
    );
    // An app that does not exist cannot become one.
    assert!(cc::set_public_client(s, &a, "nope", &["https://x/".into()])
        .await
        .is_err());
    let uris = vec![
        "https://a.example/console/".to_string(),
        "http://localhost:8080/console/".into(),
    ];
    cc::set_public_client(s, &a, "c1", &uris)
        .await
        .expect("set");
    assert_eq!(
        cc::public_client_redirect_uris(s, &a, "c1")
            .await
            .expect("read"),
        Some(uris)
    );
    cc::set_public_client(s, &a, "c1", &["https://b.example/".into()])
        .await
        .expect("replace");
    assert_eq!(
        cc::public_client_redirect_uris(s, &a, "c1")
            .await
            .expect("read"),
        Some(vec!["https://b.example/".into()])
    );
    assert_eq!(
        cc::public_client_redirect_uris(s, &tenant(B), "c1")
            .await
            .expect("read"),
        None
    );
    assert!(s.delete_app(&a, "c1").await.expect("delete"));
    s.create_app(&app(A, "c1")).await.expect("again");
    assert_eq!(
        cc::public_client_redirect_uris(s, &a, "c1")
            .await
            .expect("read"),
        None
    );
}

#[tokio::test]
async fn a_console_registration_belongs_to_a_trusted_issuer() {
    let (_db, store) = store().await;
    let s = store.as_ref();
    let a = tenant(A);
    s.create_tenant(&a, "Contoso").await.expect("tenant");
    // Not without the issuer.
    assert!(cc::save_registration(s, &registration(A)).await.is_err());
    let issuer = TrustedIssuer {
        tenant: a.clone(),
        issuer: ISSUER.into(),
        jwks_uri: "https://login.example/keys".into(),
        audiences: vec![],
        created_at: ts("2026-01-01T00:00:00Z"),
    };
    s.save_trusted_issuer(&issuer).await.expect("issuer");
    cc::save_registration(s, &registration(A))
        .await
        .expect("save");
    let mut changed = registration(A);
    changed.client_id = "spa-2".into();
    changed.scopes = vec![
        "https://graph.microsoft.com/.default".into(),
        "openid".into(),
    ];
    cc::save_registration(s, &changed).await.expect("replace");
    assert_eq!(
        cc::registrations(s, &a).await.expect("list"),
        vec![changed.clone()]
    );
    assert_eq!(
        cc::registration(s, &a, ISSUER).await.expect("one"),
        Some(changed)
    );
    assert!(cc::registrations(s, &tenant(B))
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        cc::registration(s, &a, "https://other").await.expect("one"),
        None
    );
    // Re-trusting the issuer (new keys) keeps the registration; untrusting it removes it.
    s.save_trusted_issuer(&issuer).await.expect("upsert");
    assert_eq!(cc::registrations(s, &a).await.expect("list").len(), 1);
    assert!(s.remove_trusted_issuer(&a, ISSUER).await.expect("remove"));
    assert!(cc::registrations(s, &a).await.expect("list").is_empty());
    s.save_trusted_issuer(&issuer).await.expect("again");
    cc::save_registration(s, &registration(A))
        .await
        .expect("save");
    assert!(cc::remove_registration(s, &a, ISSUER)
        .await
        .expect("remove"));
    assert!(!cc::remove_registration(s, &a, ISSUER).await.expect("again"));
}
