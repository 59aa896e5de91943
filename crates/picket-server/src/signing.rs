//! The built-in issuer's signing keys live in the store, so every process on one database signs
//! and verifies with the same set. This module creates the first key, rotates, and keeps each
//! process's [`KeyRing`] and trusted-issuer table in step with the store.

use crate::state::AppState;
use picket_auth::{KeyRing, SigningKey};
use picket_domain::identity::SigningKeyRecord;
use picket_domain::time::Timestamp;
use picket_store::{Store, StoreError};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Key(String),
}

/// A key file written by earlier versions (one key in the data directory); imported once.
pub const LEGACY_KEY_FILE: &str = "signing-key.pem";

/// Makes sure a signing key exists, importing `data_dir/signing-key.pem` or generating one.
pub async fn ensure_keys(
    store: &dyn Store,
    data_dir: Option<&Path>,
    now: Timestamp,
) -> Result<Vec<SigningKeyRecord>, KeySetupError> {
    let existing = store.signing_keys().await?;
    if existing.iter().any(|k| k.retired_at.is_none()) {
        return Ok(existing);
    }
    let legacy = data_dir
        .map(|d| d.join(LEGACY_KEY_FILE))
        .filter(|p| p.exists());
    let pem = match legacy {
        Some(path) => std::fs::read_to_string(&path)
            .map_err(|e| KeySetupError::Key(format!("cannot read {}: {e}", path.display())))?,
        None => SigningKey::generate_pem().map_err(|e| KeySetupError::Key(e.to_string()))?,
    };
    let record = record_for(&pem, now)?;
    Ok(store.ensure_signing_key(&record).await?)
}

fn record_for(pem: &str, now: Timestamp) -> Result<SigningKeyRecord, KeySetupError> {
    let key = SigningKey::from_pem(pem)
        .ok_or_else(|| KeySetupError::Key("the signing key is not a PKCS#8 RSA key".into()))?;
    Ok(SigningKeyRecord {
        kid: key.kid().to_string(),
        private_pem: pem.to_string(),
        created_at: now,
        retired_at: None,
        remove_after: None,
    })
}

/// Retires the current key (kept for `retirement`) and makes a fresh one current.
pub async fn rotate(
    store: &dyn Store,
    now: Timestamp,
    retirement: Duration,
) -> Result<SigningKeyRecord, KeySetupError> {
    let pem = SigningKey::generate_pem().map_err(|e| KeySetupError::Key(e.to_string()))?;
    let record = record_for(&pem, now)?;
    let remove_after =
        now + chrono::Duration::from_std(retirement).unwrap_or_else(|_| chrono::Duration::hours(1));
    store.rotate_signing_key(&record, now, remove_after).await?;
    Ok(record)
}

/// The keys to publish and accept at `now`, the signing key first. Keys already parsed in
/// `ring` are reused (parsing RSA keys is the slow part).
pub fn live_keys(
    records: &[SigningKeyRecord],
    ring: Option<&KeyRing>,
    now: Timestamp,
) -> Vec<Arc<SigningKey>> {
    let parsed = ring.map(|r| r.all());
    let mut live: Vec<&SigningKeyRecord> = records.iter().filter(|r| r.is_live(now)).collect();
    // Unretired first, then newest first.
    live.sort_by(|a, b| {
        a.retired_at
            .is_some()
            .cmp(&b.retired_at.is_some())
            .then(b.created_at.cmp(&a.created_at))
    });
    live.into_iter()
        .filter_map(|r| {
            parsed
                .as_ref()
                .and_then(|p| p.iter().find(|k| k.kid() == r.kid).cloned())
                .or_else(|| SigningKey::from_pem(&r.private_pem).map(Arc::new))
        })
        .collect()
}

/// Re-reads keys and trusted issuers from the store into this process's verifier.
pub async fn reload(state: &AppState) -> Result<(), StoreError> {
    let now = chrono::Utc::now();
    let records = state.store.signing_keys().await?;
    let keys = live_keys(&records, Some(state.verifier.keys()), now);
    if !keys.is_empty() {
        state.verifier.keys().replace(keys);
    }
    let issuers = state.store.list_trusted_issuers(None).await?;
    state.verifier.set_trusted_issuers(issuers);
    Ok(())
}

/// Reloads every `interval`, so a rotation or issuer change made by `picket keys …` or
/// another replica takes effect here without a restart.
pub fn spawn_reload(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = reload(&state).await {
                tracing::warn!(error = %e, "cannot reload signing keys and issuers");
            }
        }
    })
}
