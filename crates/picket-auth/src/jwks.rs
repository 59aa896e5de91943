//! Signing keys of trusted external issuers (Microsoft Entra ID or any OIDC issuer), fetched
//! from their JWKS and cached. A token naming an unknown `kid` triggers at most one refresh per
//! issuer per [`JwksSettings::min_refresh_interval`] (issuers rotate keys, but a stream of
//! forged kids must not make us hammer them); concurrent lookups share that one fetch. When a
//! refresh fails, the keys already known keep working.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// How long fetched keys are used before they are fetched again.
    pub max_age: Duration,
    /// At most one refresh per issuer in this interval for unknown kids.
    pub min_refresh_interval: Duration,
    /// HTTP timeout of discovery and JWKS fetches.
    pub timeout: Duration,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(24 * 3600),
            min_refresh_interval: Duration::from_secs(300),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("cannot fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("{url} did not answer a JSON key set")]
    NotJwks { url: String },
    #[error("the discovery document names issuer '{found}', not '{expected}'")]
    IssuerMismatch { expected: String, found: String },
}

#[derive(Default)]
struct Entry {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched: Option<Instant>,
    /// When the last fetch (successful or not) started.
    attempted: Option<Instant>,
}

pub struct JwksCache {
    settings: JwksSettings,
    client: reqwest::Client,
    entries: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Entry>>>>,
    fetches: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

impl JwksCache {
    pub fn new(settings: JwksSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .unwrap_or_default();
        Self::with_client(settings, client)
    }

    pub fn with_client(settings: JwksSettings, client: reqwest::Client) -> Self {
        Self {
            settings,
            client,
            entries: Mutex::new(HashMap::new()),
            fetches: Mutex::new(HashMap::new()),
        }
    }

    fn entry(&self, uri: &str) -> Arc<tokio::sync::Mutex<Entry>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.entry(uri.to_string()).or_default().clone()
    }

    fn counter(&self, uri: &str) -> Arc<AtomicU64> {
        let mut fetches = self.fetches.lock().unwrap_or_else(|p| p.into_inner());
        fetches.entry(uri.to_string()).or_default().clone()
    }

    pub fn fetch_count(&self, jwks_uri: &str) -> u64 {
        self.counter(jwks_uri).load(Ordering::SeqCst)
    }

    /// The RS256 key for `kid` at `jwks_uri`; `Ok(None)` when the issuer does not publish it.
    pub async fn key(
        &self,
        jwks_uri: &str,
        kid: &str,
    ) -> Result<Option<Arc<DecodingKey>>, JwksError> {
        let entry = self.entry(jwks_uri);
        // One lookup at a time per issuer: callers queued behind a fetch see its result.
        let mut e = entry.lock().await;
        let fresh = e
            .fetched
            .is_some_and(|t| t.elapsed() < self.settings.max_age);
        if fresh {
            if let Some(k) = e.keys.get(kid) {
                return Ok(Some(k.clone()));
            }
        }
        let may_refresh = e
            .attempted
            .is_none_or(|t| t.elapsed() >= self.settings.min_refresh_interval)
            || !fresh && e.fetched.is_some();
        if !may_refresh {
            return Ok(e.keys.get(kid).cloned());
        }
        e.attempted = Some(Instant::now());
        match self.fetch(jwks_uri).await {
            Ok(keys) => {
                e.keys = keys;
                e.fetched = Some(Instant::now());
            }
            Err(err) if e.fetched.is_some() => {
                tracing::warn!(uri = jwks_uri, error = %err, "JWKS refresh failed; keeping the keys known");
            }
            Err(err) => return Err(err),
        }
        Ok(e.keys.get(kid).cloned())
    }

    async fn fetch(&self, uri: &str) -> Result<HashMap<String, Arc<DecodingKey>>, JwksError> {
        self.counter(uri).fetch_add(1, Ordering::SeqCst);
        let set: KeySet = self.get_json(uri).await?;
        let mut keys = HashMap::new();
        for raw in set.keys {
            let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
                continue;
            };
            if jwk.kty.as_deref() != Some("RSA") || jwk.use_.as_deref().is_some_and(|u| u != "sig")
            {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            let valid = URL_SAFE_NO_PAD.decode(&n).is_ok() && URL_SAFE_NO_PAD.decode(&e).is_ok();
            if let (true, Ok(key)) = (valid, DecodingKey::from_rsa_components(&n, &e)) {
                keys.insert(kid, Arc::new(key));
            }
        }
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, JwksError> {
        let fetch_error = |reason: String| JwksError::Fetch {
            url: url.to_string(),
            reason,
        };
        let response = self
            .client
            .get(url)
            .timeout(self.settings.timeout)
            .send()
            .await
            .map_err(|e| fetch_error(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fetch_error(format!("status {}", response.status())));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| fetch_error(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|_| JwksError::NotJwks {
            url: url.to_string(),
        })
    }

    /// `{issuer}/.well-known/openid-configuration` → its `jwks_uri`, after checking the
    /// document names the same issuer.
    pub async fn discover_jwks_uri(&self, issuer: &str) -> Result<String, JwksError> {
        Ok(self.discover(issuer).await?.jwks_uri)
    }

    /// `{issuer}/.well-known/openid-configuration`, after checking the document names the same
    /// issuer and has a `jwks_uri`.
    pub async fn discover(&self, issuer: &str) -> Result<Discovery, JwksError> {
        #[derive(Deserialize)]
        struct Document {
            issuer: Option<String>,
            jwks_uri: Option<String>,
            authorization_endpoint: Option<String>,
            token_endpoint: Option<String>,
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc: Document = self.get_json(&url).await?;
        let found = doc.issuer.unwrap_or_default();
        if found.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(JwksError::IssuerMismatch {
                expected: issuer.to_string(),
                found,
            });
        }
        Ok(Discovery {
            jwks_uri: doc.jwks_uri.ok_or(JwksError::NotJwks { url })?,
            authorization_endpoint: doc.authorization_endpoint,
            token_endpoint: doc.token_endpoint,
        })
    }

    /// The HTTP client (and its timeout) the keys are fetched with, for other calls to the
    /// same issuers (the console's code redemption).
    pub fn http_client(&self) -> (&reqwest::Client, Duration) {
        (&self.client, self.settings.timeout)
    }
}

/// What an issuer's OpenID Connect discovery document says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub jwks_uri: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{SigningKey, TokenRequest};
    use std::sync::atomic::AtomicU16;

    /// A local issuer whose key set and status the test controls.
    struct Issuer {
        url: String,
        base: String,
        body: Arc<Mutex<String>>,
        discovery: Arc<Mutex<String>>,
        status: Arc<AtomicU16>,
    }

    async fn issuer(initial: serde_json::Value) -> Issuer {
        let body = Arc::new(Mutex::new(initial.to_string()));
        let status = Arc::new(AtomicU16::new(200));
        let discovery = Arc::new(Mutex::new(String::from("{}")));
        let (b, s, d) = (body.clone(), status.clone(), discovery.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let router = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || {
                    let d = d.clone();
                    async move { d.lock().expect("lock").clone() }
                }),
            )
            .route(
                "/keys",
                axum::routing::get(move || {
                    let (b, s) = (b.clone(), s.clone());
                    async move {
                        let code = axum::http::StatusCode::from_u16(s.load(Ordering::SeqCst))
                            .expect("status");
                        (code, b.lock().expect("lock").clone())
                    }
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Issuer {
            url: format!("http://127.0.0.1:{port}/keys"),
            base: format!("http://127.0.0.1:{port}"),
            body,
            discovery,
            status,
        }
    }

    fn new_key() -> Arc<SigningKey> {
        Arc::new(SigningKey::from_pem(&SigningKey::generate_pem().expect("key")).expect("pem"))
    }

    fn set(keys: &[&SigningKey]) -> serde_json::Value {
        serde_json::json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()})
    }

    fn quick() -> JwksSettings {
        JwksSettings {
            max_age: Duration::from_secs(3600),
            min_refresh_interval: Duration::from_millis(80),
            timeout: Duration::from_secs(5),
        }
    }

    #[tokio::test]
    async fn fetches_once_refreshes_on_unknown_kid_at_most_once_per_interval() {
        let (k1, k2) = (new_key(), new_key());
        let iss = issuer(set(&[&k1])).await;
        let cache = JwksCache::new(quick());
        assert!(cache
            .key(&iss.url, k1.kid())
            .await
            .expect("fetch")
            .is_some());
        assert!(cache
            .key(&iss.url, k1.kid())
            .await
            .expect("cached")
            .is_some());
        assert_eq!(cache.fetch_count(&iss.url), 1);
        // Unknown kid inside the interval: no fetch.
        assert!(cache.key(&iss.url, "nope").await.expect("lookup").is_none());
        assert_eq!(cache.fetch_count(&iss.url), 1);
        // The issuer rotates; after the interval one refresh finds the new key.
        *iss.body.lock().expect("lock") = set(&[&k1, &k2]).to_string();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(cache
            .key(&iss.url, k2.kid())
            .await
            .expect("refresh")
            .is_some());
        assert_eq!(cache.fetch_count(&iss.url), 2);
        assert!(cache
            .key(&iss.url, "other")
            .await
            .expect("lookup")
            .is_none());
        assert_eq!(cache.fetch_count(&iss.url), 2);
    }

    #[tokio::test]
    async fn concurrent_unknown_kids_share_one_fetch() {
        let k1 = new_key();
        let iss = issuer(set(&[&k1])).await;
        let cache = Arc::new(JwksCache::new(quick()));
        let lookups = (0..20).map(|i| {
            let (cache, url) = (cache.clone(), iss.url.clone());
            tokio::spawn(async move { cache.key(&url, &format!("forged-{i}")).await })
        });
        for l in lookups {
            assert!(l.await.expect("task").expect("lookup").is_none());
        }
        assert_eq!(cache.fetch_count(&iss.url), 1);
    }

    #[tokio::test]
    async fn failures_error_first_and_keep_known_keys_later() {
        let k1 = new_key();
        let iss = issuer(serde_json::json!("garbage")).await;
        let cache = JwksCache::new(quick());
        assert!(matches!(
            cache.key(&iss.url, k1.kid()).await,
            Err(JwksError::NotJwks { .. })
        ));
        *iss.body.lock().expect("lock") = set(&[&k1]).to_string();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(cache.key(&iss.url, k1.kid()).await.expect("ok").is_some());
        iss.status.store(500, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // A refresh attempt fails; the known key still answers.
        assert!(cache
            .key(&iss.url, "unknown")
            .await
            .expect("kept")
            .is_none());
        assert!(cache.key(&iss.url, k1.kid()).await.expect("kept").is_some());
        let fresh = JwksCache::new(quick());
        assert!(matches!(
            fresh.key(&iss.url, k1.kid()).await,
            Err(JwksError::Fetch { .. })
        ));
    }

    #[tokio::test]
    async fn fetched_key_verifies_the_issuers_tokens_and_discovery_checks_the_issuer() {
        let k1 = new_key();
        let iss = issuer(set(&[&k1])).await;
        let cache = JwksCache::new(quick());
        let key = cache
            .key(&iss.url, k1.kid())
            .await
            .expect("fetch")
            .expect("key");
        let token = k1
            .issue(
                "https://issuer.test",
                &TokenRequest {
                    tenant: "t".into(),
                    lifetime_secs: 600,
                    ..Default::default()
                },
                1_900_000_000,
            )
            .token;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).is_ok());
        let other = new_key();
        let forged = other
            .issue(
                "https://issuer.test",
                &TokenRequest::default(),
                1_900_000_000,
            )
            .token;
        assert!(jsonwebtoken::decode::<serde_json::Value>(&forged, &key, &validation).is_err());

        // Discovery: the document must name the issuer it was fetched for.
        *iss.discovery.lock().expect("lock") =
            serde_json::json!({"issuer": format!("{}/", iss.base), "jwks_uri": iss.url})
                .to_string();
        assert_eq!(
            cache
                .discover_jwks_uri(&iss.base)
                .await
                .expect("discovered"),
            iss.url
        );
        *iss.discovery.lock().expect("lock") =
            serde_json::json!({"issuer": "https://evil.test", "jwks_uri": iss.url}).to_string();
        assert!(matches!(
            cache.discover_jwks_uri(&iss.base).await,
            Err(JwksError::IssuerMismatch { .. })
        ));
    }
}
