//! The identity tables through `IdentityStore`: apps and credentials, users, trusted issuers,
//! signing keys and the audit log, including after a reopen (restart).

use super::{catalogue, store, tenant, ts, A, B};
use picket_domain::identity::*;
use picket_store::{AuditQuery, NewAuditEntry, StoreError};

pub(crate) fn app(tenant_id: &str, client_id: &str) -> App {
    App {
        tenant: tenant(tenant_id),
        client_id: client_id.into(),
        display_name: "soar".into(),
        permissions: vec!["SecurityIdentitiesSensors.Read.All".into()],
        created_at: ts("2026-01-01T00:00:00Z"),
        secrets: vec![AppSecret {
            key_id: "k1".into(),
            hint: "abc".into(),
            salt: "salt".into(),
            hash: "hash".into(),
            created_at: ts("2026-01-01T00:00:00Z"),
            expires_at: ts("2027-01-01T00:00:00Z"),
        }],
        certificates: vec![],
    }
}

#[tokio::test]
async fn apps_need_a_tenant_and_keep_their_credentials() {
    let (_dir, s) = store().await;
    assert!(matches!(
        s.create_app(&app(A, "c1")).await,
        Err(StoreError::Conflict(_))
    ));
    s.create_tenant(&tenant(A), "Contoso")
        .await
        .expect("tenant");
    // Naming an existing tenant differently is refused; the same name is fine.
    s.create_tenant(&tenant(A), "Contoso").await.expect("same");
    assert!(s.create_tenant(&tenant(A), "Other").await.is_err());
    s.create_app(&app(A, "c1")).await.expect("app");
    assert!(matches!(
        s.create_app(&app(A, "c1")).await,
        Err(StoreError::Conflict(_))
    ));
    let found = s
        .find_app(&tenant(A), "c1")
        .await
        .expect("read")
        .expect("app");
    assert_eq!(found, app(A, "c1"));
    assert_eq!(s.find_app(&tenant(B), "c1").await.expect("read"), None);

    let perms = vec!["SecurityIdentitiesHealth.Read.All".to_string()];
    assert!(s
        .set_app_permissions(&tenant(A), "c1", &perms)
        .await
        .expect("set"));
    assert!(!s
        .set_app_permissions(&tenant(B), "c1", &perms)
        .await
        .expect("set"));
    assert!(!s
        .remove_app_credential(&tenant(A), "c1", "nope")
        .await
        .expect("rm"));
    assert!(s
        .remove_app_credential(&tenant(A), "c1", "k1")
        .await
        .expect("rm"));
    let found = s
        .find_app(&tenant(A), "c1")
        .await
        .expect("read")
        .expect("app");
    assert!(found.secrets.is_empty());
    assert_eq!(found.permissions, perms);
    assert!(s.delete_app(&tenant(A), "c1").await.expect("delete"));
    assert!(s.list_apps(&tenant(A)).await.expect("list").is_empty());
}

#[tokio::test]
async fn credentials_are_added_to_known_apps_only() {
    let (_dir, s) = store().await;
    s.create_tenant(&tenant(A), "Contoso")
        .await
        .expect("tenant");
    s.create_app(&app(A, "c1")).await.expect("app");
    let secret = AppSecret {
        key_id: "k2".into(),
        hint: "def".into(),
        salt: "salt2".into(),
        hash: "hash2".into(),
        created_at: ts("2026-02-01T00:00:00Z"),
        expires_at: ts("2027-02-01T00:00:00Z"),
    };
    let certificate = AppCertificate {
        key_id: "k3".into(),
        thumbprint: "AB12".into(),
        thumbprint_sha256: "cd34".into(),
        certificate_pem: "-----BEGIN CERTIFICATE-----".into(),
        not_after: ts("2027-03-01T00:00:00Z"),
        created_at: ts("2026-03-01T00:00:00Z"),
    };
    assert!(!s
        .add_app_secret(&tenant(A), "nope", &secret)
        .await
        .expect("add"));
    assert!(!s
        .add_app_certificate(&tenant(B), "c1", &certificate)
        .await
        .expect("add"));
    assert!(s
        .add_app_secret(&tenant(A), "c1", &secret)
        .await
        .expect("add"));
    assert!(s
        .add_app_certificate(&tenant(A), "c1", &certificate)
        .await
        .expect("add"));
    let found = s
        .find_app(&tenant(A), "c1")
        .await
        .expect("read")
        .expect("app");
    assert_eq!(found.secrets.len(), 2);
    assert_eq!(found.secrets[1], secret);
    assert_eq!(found.certificates, vec![certificate]);
    assert!(s
        .remove_app_credential(&tenant(A), "c1", "k3")
        .await
        .expect("rm"));
    let listed = s.list_apps(&tenant(A)).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].certificates.is_empty());
    assert_eq!(listed[0].secrets.len(), 2);
}

#[tokio::test]
async fn users_by_id_or_name_and_unique_names() {
    let (_dir, s) = store().await;
    s.create_tenant(&tenant(A), "Contoso")
        .await
        .expect("tenant");
    let user = User {
        tenant: tenant(A),
        object_id: "u1".into(),
        user_principal_name: "Ana@Contoso.test".into(),
        display_name: "Ana".into(),
        roles: vec!["194ae4cb-b126-40b2-bd5b-6091b380977d".into()],
        created_at: ts("2026-01-01T00:00:00Z"),
    };
    s.create_user(&user).await.expect("user");
    let mut twin = user.clone();
    twin.object_id = "u2".into();
    twin.user_principal_name = "ana@contoso.test".into();
    assert!(matches!(
        s.create_user(&twin).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.find_user(&tenant(A), "ana@CONTOSO.test")
            .await
            .expect("read"),
        Some(user.clone())
    );
    assert_eq!(
        s.find_user(&tenant(A), "u1").await.expect("read"),
        Some(user)
    );
    assert!(s
        .set_user_roles(&tenant(A), "u1", &[])
        .await
        .expect("roles"));
    assert!(s
        .find_user(&tenant(A), "u1")
        .await
        .expect("read")
        .expect("user")
        .roles
        .is_empty());
    assert!(s.delete_user(&tenant(A), "u1").await.expect("delete"));
    assert_eq!(s.find_user(&tenant(A), "u1").await.expect("read"), None);
}

fn key(kid: &str, created: &str) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        private_pem: format!("pem-{kid}"),
        created_at: ts(created),
        retired_at: None,
        remove_after: None,
    }
}

#[tokio::test]
async fn signing_keys_rotate_and_survive_a_restart() {
    let (dir, s) = store().await;
    let keys = s
        .ensure_signing_key(&key("k1", "2026-01-01T00:00:00Z"))
        .await
        .expect("ensure");
    assert_eq!(keys.len(), 1);
    // A second ensure keeps the existing key.
    let keys = s
        .ensure_signing_key(&key("k2", "2026-01-02T00:00:00Z"))
        .await
        .expect("ensure");
    assert_eq!(
        keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
        vec!["k1"]
    );
    s.rotate_signing_key(
        &key("k3", "2026-02-01T00:00:00Z"),
        ts("2026-02-01T00:00:00Z"),
        ts("2026-02-01T01:05:00Z"),
    )
    .await
    .expect("rotate");
    assert!(matches!(
        s.remove_signing_key("k3").await,
        Err(StoreError::Conflict(_))
    ));
    drop(s);
    let reopened = dir.open(catalogue()).await.expect("reopen");
    let keys = reopened.signing_keys().await.expect("keys");
    assert_eq!(keys[0].kid, "k3");
    assert_eq!(keys[0].retired_at, None);
    assert_eq!(keys[1].kid, "k1");
    assert_eq!(keys[1].remove_after, Some(ts("2026-02-01T01:05:00Z")));
    assert!(keys[1].is_live(ts("2026-02-01T01:00:00Z")));
    assert!(!keys[1].is_live(ts("2026-02-01T01:06:00Z")));
    assert!(reopened.remove_signing_key("k1").await.expect("remove"));
    assert!(!reopened.remove_signing_key("k1").await.expect("gone"));
}

#[tokio::test]
async fn audit_is_numbered_per_tenant_and_filtered() {
    let (_dir, s) = store().await;
    let entry = |t: &str, time: &str, op: &str| NewAuditEntry {
        time: ts(time),
        tenant: tenant(t),
        actor: "app:x".into(),
        operation: op.into(),
        target: "security/identities/sensors/1".into(),
        result: "200".into(),
        request_id: "r".into(),
        detail: None,
    };
    s.record_audit(&entry(A, "2026-01-01T00:00:00Z", "updateSensor"))
        .await
        .expect("a1");
    s.record_audit(&entry(B, "2026-01-01T00:00:01Z", "deleteSensor"))
        .await
        .expect("b1");
    s.record_audit(&entry(A, "2026-01-02T00:00:00Z", "deleteSensor"))
        .await
        .expect("a2");
    let all = AuditQuery {
        since: None,
        operation: None,
        limit: 10,
        ..Default::default()
    };
    let a = s.audit_entries(&tenant(A), &all).await.expect("read");
    assert_eq!(a.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    let b = s.audit_entries(&tenant(B), &all).await.expect("read");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].seq, 1);
    let since = AuditQuery {
        since: Some(ts("2026-01-01T12:00:00Z")),
        ..all.clone()
    };
    assert_eq!(
        s.audit_entries(&tenant(A), &since)
            .await
            .expect("read")
            .len(),
        1
    );
    let op = AuditQuery {
        operation: Some("updateSensor".into()),
        ..all
    };
    assert_eq!(
        s.audit_entries(&tenant(A), &op).await.expect("read")[0].operation,
        "updateSensor"
    );
}

#[tokio::test]
async fn trusted_issuers_upsert_per_tenant() {
    let (_dir, s) = store().await;
    let issuer = TrustedIssuer {
        tenant: tenant(A),
        issuer: "https://login.example/a/v2.0".into(),
        jwks_uri: "https://login.example/keys".into(),
        audiences: vec!["api://picket".into()],
        created_at: ts("2026-01-01T00:00:00Z"),
    };
    s.save_trusted_issuer(&issuer).await.expect("save");
    let mut changed = issuer.clone();
    changed.jwks_uri = "https://login.example/keys2".into();
    s.save_trusted_issuer(&changed).await.expect("upsert");
    assert_eq!(
        s.list_trusted_issuers(Some(&tenant(A)))
            .await
            .expect("list"),
        vec![changed]
    );
    assert!(s
        .list_trusted_issuers(Some(&tenant(B)))
        .await
        .expect("list")
        .is_empty());
    assert_eq!(s.list_trusted_issuers(None).await.expect("all").len(), 1);
    assert!(s
        .remove_trusted_issuer(&tenant(A), &issuer.issuer)
        .await
        .expect("rm"));
    assert!(s.list_trusted_issuers(None).await.expect("all").is_empty());
}
