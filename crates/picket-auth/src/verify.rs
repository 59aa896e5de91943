//! Bearer-token verification: RS256 only, a known `kid`, a Graph audience, the tenant's issuer,
//! and `exp`/`nbf`. A verified token's caller is cached by token text until it expires, so the
//! RSA check runs once per token rather than once per request.

use crate::caller::{Caller, Principal};
use crate::jwks::{JwksCache, JwksSettings};
use crate::keys::SigningKey;
use crate::permission::{Permission, PermissionSet};
use crate::roles::DirectoryRole;
use jsonwebtoken::{Algorithm, Validation};
use picket_domain::identity::TrustedIssuer;
use picket_domain::TenantId;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::RwLock;

/// Graph's resource URI and application id; tokens for either are Graph tokens (issue 2 §5).
pub const GRAPH_AUDIENCES: [&str; 2] = [
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
];

/// Clock skew tolerated on `exp`/`nbf`, as Entra clients assume a few minutes.
const LEEWAY_SECS: u64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Access token is empty")]
    Missing,
    #[error("Authorization header must use the Bearer scheme")]
    NotBearer,
    #[error("Access token is malformed")]
    Malformed,
    #[error("Access token must be signed with RS256")]
    BadAlgorithm,
    #[error("Access token is signed with an unknown key")]
    UnknownKey,
    #[error("Access token signature is invalid")]
    BadSignature,
    #[error("Lifetime validation failed, the token is expired")]
    Expired,
    #[error("Access token is not yet valid")]
    NotYetValid,
    #[error("Invalid audience: the token is not for Microsoft Graph")]
    BadAudience,
    #[error("Invalid issuer for tenant")]
    BadIssuer,
    #[error("Access token has no valid tenant (tid) claim")]
    BadTenant,
    #[error("The token issuer's signing keys cannot be fetched right now")]
    IssuerUnavailable,
}

#[derive(Deserialize)]
struct Claims {
    tid: Option<String>,
    iss: Option<String>,
    aud: Option<serde_json::Value>,
    #[serde(default)]
    roles: Vec<String>,
    scp: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
    oid: Option<String>,
    exp: Option<u64>,
    #[serde(default)]
    wids: Vec<String>,
}

struct CachedCaller {
    caller: Arc<Caller>,
    exp: u64,
    /// The trust generation the token was verified under; a key removal or issuer change
    /// bumps it, so cached callers are re-verified rather than trusted on stale keys.
    generation: u64,
}

/// The built-in issuer's published keys: the one that signs, and retired ones still accepted.
pub struct KeyRing {
    keys: RwLock<Arc<Vec<Arc<SigningKey>>>>,
    generation: Arc<AtomicU64>,
}

impl KeyRing {
    /// `keys[0]` signs; the rest are accepted only.
    pub fn new(keys: Vec<Arc<SigningKey>>) -> Self {
        Self {
            keys: RwLock::new(Arc::new(keys)),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn replace(&self, keys: Vec<Arc<SigningKey>>) {
        let changed = {
            let current = self.all();
            current.len() != keys.len()
                || current.iter().zip(&keys).any(|(a, b)| a.kid() != b.kid())
        };
        if let Ok(mut guard) = self.keys.write() {
            *guard = Arc::new(keys);
        }
        if changed {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub fn all(&self) -> Arc<Vec<Arc<SigningKey>>> {
        self.keys
            .read()
            .map(|k| k.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The key new tokens are signed with.
    pub fn signer(&self) -> Option<Arc<SigningKey>> {
        self.all().first().cloned()
    }

    fn find(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.all().iter().find(|k| k.kid() == kid).cloned()
    }
}

/// Trusted external issuers by tenant.
#[derive(Default)]
pub struct TrustedIssuers {
    by_tenant: RwLock<HashMap<String, Vec<TrustedIssuer>>>,
}

impl TrustedIssuers {
    /// True when the table changed.
    fn replace(&self, issuers: Vec<TrustedIssuer>) -> bool {
        let mut map: HashMap<String, Vec<TrustedIssuer>> = HashMap::new();
        for i in issuers {
            map.entry(i.tenant.as_str().to_string())
                .or_default()
                .push(i);
        }
        match self.by_tenant.write() {
            Ok(mut guard) if *guard != map => {
                *guard = map;
                true
            }
            _ => false,
        }
    }

    fn find(&self, tenant: &str, issuer: &str) -> Option<TrustedIssuer> {
        let guard = self.by_tenant.read().ok()?;
        guard
            .get(&tenant.to_ascii_lowercase())?
            .iter()
            .find(|i| i.issuer == issuer)
            .cloned()
    }
}

pub struct TokenVerifier {
    keys: Arc<KeyRing>,
    issuers: TrustedIssuers,
    jwks: JwksCache,
    issuer_base: String,
    generation: Arc<AtomicU64>,
    cache: quick_cache::sync::Cache<String, Arc<CachedCaller>>,
}

impl TokenVerifier {
    pub fn new(keys: Arc<KeyRing>, issuer_base: &str) -> Self {
        Self::with_jwks(keys, issuer_base, JwksCache::new(JwksSettings::default()))
    }

    pub fn with_jwks(keys: Arc<KeyRing>, issuer_base: &str, jwks: JwksCache) -> Self {
        Self {
            generation: keys.generation.clone(),
            keys,
            issuers: TrustedIssuers::default(),
            jwks,
            issuer_base: issuer_base.trim_end_matches('/').to_string(),
            cache: quick_cache::sync::Cache::new(10_000),
        }
    }

    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// The trusted issuers' key cache (and its HTTP client).
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    pub fn issuer_base(&self) -> &str {
        &self.issuer_base
    }

    /// Replaces the trusted external issuers (and drops callers verified under the old set).
    pub fn set_trusted_issuers(&self, issuers: Vec<TrustedIssuer>) {
        if self.issuers.replace(issuers) {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The issuer a token for `tenant` must carry.
    pub fn issuer_for(&self, tenant: &str) -> String {
        format!("{}/{}/", self.issuer_base, tenant)
    }

    /// Verifies an `Authorization` header value at time `now` (unix seconds).
    pub async fn verify_header(
        &self,
        header: Option<&str>,
        now: u64,
    ) -> Result<Arc<Caller>, AuthError> {
        let value = header.map(str::trim).unwrap_or_default();
        if value.is_empty() || value.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Missing);
        }
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::NotBearer);
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        self.verify(token, now).await
    }

    pub async fn verify(&self, token: &str, now: u64) -> Result<Arc<Caller>, AuthError> {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(hit) = self.cache.get(token) {
            if hit.generation == generation {
                if now <= hit.exp + LEEWAY_SECS {
                    return Ok(hit.caller.clone());
                }
                self.cache.remove(token);
                return Err(AuthError::Expired);
            }
            self.cache.remove(token);
        }
        let (caller, exp) = self.verify_uncached(token, now).await?;
        let caller = Arc::new(caller);
        self.cache.insert(
            token.to_string(),
            Arc::new(CachedCaller {
                caller: caller.clone(),
                exp,
                generation,
            }),
        );
        Ok(caller)
    }

    async fn verify_uncached(&self, token: &str, now: u64) -> Result<(Caller, u64), AuthError> {
        let header = read_header(token)?;
        // Only RS256: `none` and HMAC algorithms would let anyone who knows a public key mint tokens.
        if header.alg.as_deref() != Some("RS256") {
            return Err(AuthError::BadAlgorithm);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        // Our own keys first; otherwise the token must come from an issuer the tenant trusts.
        let (key, external) = match self.keys.find(&kid) {
            Some(k) => (KeyRef::Own(k), None),
            None => {
                let unverified = read_payload(token)?;
                let tid = unverified.tid.as_deref().ok_or(AuthError::UnknownKey)?;
                let iss = unverified.iss.as_deref().ok_or(AuthError::UnknownKey)?;
                let trusted = self.issuers.find(tid, iss).ok_or(AuthError::UnknownKey)?;
                let key = self
                    .jwks
                    .key(&trusted.jwks_uri, &kid)
                    .await
                    .map_err(|e| {
                        tracing::warn!(issuer = %trusted.issuer, error = %e, "cannot fetch the issuer's keys");
                        AuthError::IssuerUnavailable
                    })?
                    .ok_or(AuthError::UnknownKey)?;
                (KeyRef::External(key), Some(trusted))
            }
        };
        let mut validation = Validation::new(Algorithm::RS256);
        // Time and audience are checked below against our own clock and rules.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(token, key.decoding(), &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => AuthError::BadSignature,
                _ => AuthError::Malformed,
            })?;
        let raw = data.claims;
        let nbf = raw.get("nbf").and_then(serde_json::Value::as_u64);
        let claims: Claims = serde_json::from_value(raw).map_err(|_| AuthError::Malformed)?;
        let exp = claims.exp.ok_or(AuthError::Expired)?;
        if now > exp + LEEWAY_SECS {
            return Err(AuthError::Expired);
        }
        if nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECS) {
            return Err(AuthError::NotYetValid);
        }
        let extra_audiences = external
            .as_ref()
            .map(|t| t.audiences.as_slice())
            .unwrap_or(&[]);
        if !audience_ok(claims.aud.as_ref(), extra_audiences) {
            return Err(AuthError::BadAudience);
        }
        let tid = claims.tid.as_deref().ok_or(AuthError::BadTenant)?;
        let tenant = TenantId::parse(tid).ok_or(AuthError::BadTenant)?;
        let expected_issuer = match &external {
            Some(t) if t.tenant == tenant => t.issuer.clone(),
            Some(_) => return Err(AuthError::BadIssuer),
            None => self.issuer_for(tid),
        };
        if claims.iss.as_deref() != Some(expected_issuer.as_str()) {
            return Err(AuthError::BadIssuer);
        }
        let app_id = claims.appid.or(claims.azp).unwrap_or_default();
        let mut permissions = PermissionSet::default();
        // Delegated tokens carry `scp`; application tokens carry `roles` (spec §6.2).
        let (principal, roles) = match claims.scp {
            Some(scp) => {
                scp.split(' ')
                    .filter_map(Permission::from_name)
                    .for_each(|p| permissions.insert(p));
                let roles = claims
                    .wids
                    .iter()
                    .filter_map(|w| DirectoryRole::from_template_id(w))
                    .collect();
                (
                    Principal::User {
                        object_id: claims.oid.unwrap_or_default(),
                        app_id,
                    },
                    roles,
                )
            }
            None => {
                claims
                    .roles
                    .iter()
                    .filter_map(|r| Permission::from_name(r))
                    .for_each(|p| permissions.insert(p));
                (Principal::App { app_id }, Vec::new())
            }
        };
        Ok((
            Caller {
                tenant,
                principal,
                permissions,
                roles,
            },
            exp,
        ))
    }
}

enum KeyRef {
    Own(Arc<SigningKey>),
    External(Arc<jsonwebtoken::DecodingKey>),
}

impl KeyRef {
    fn decoding(&self) -> &jsonwebtoken::DecodingKey {
        match self {
            KeyRef::Own(k) => k.decoding_key(),
            KeyRef::External(k) => k,
        }
    }
}

#[derive(Deserialize)]
struct UnverifiedClaims {
    tid: Option<String>,
    iss: Option<String>,
}

/// The payload read without checking the signature: used only to pick the issuer whose keys
/// will then check it.
fn read_payload(token: &str) -> Result<UnverifiedClaims, AuthError> {
    use base64::Engine;
    let encoded = token.split('.').nth(1).ok_or(AuthError::Malformed)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

#[derive(Deserialize)]
struct JoseHeader {
    alg: Option<String>,
    kid: Option<String>,
}

/// Reads the header ourselves, so an algorithm the JWT library has no name for (`none`) is
/// reported as a bad algorithm rather than a malformed token.
fn read_header(token: &str) -> Result<JoseHeader, AuthError> {
    use base64::Engine;
    let encoded = token.split('.').next().ok_or(AuthError::Malformed)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

fn audience_ok(aud: Option<&serde_json::Value>, extra: &[String]) -> bool {
    let matches = |s: &str| {
        let s = s.trim_end_matches('/');
        GRAPH_AUDIENCES.iter().any(|a| a.eq_ignore_ascii_case(s))
            || extra
                .iter()
                .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(s))
    };
    match aud {
        Some(serde_json::Value::String(s)) => matches(s),
        Some(serde_json::Value::Array(items)) => {
            items.iter().filter_map(|v| v.as_str()).any(matches)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::TokenRequest;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const TENANT: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
    const NOW: u64 = 1_800_000_000;

    fn key() -> Arc<SigningKey> {
        static PEM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let pem = PEM.get_or_init(|| SigningKey::generate_pem().expect("keygen"));
        Arc::new(SigningKey::from_pem(pem).expect("valid pem"))
    }

    fn request(roles: &[&str]) -> TokenRequest {
        TokenRequest {
            tenant: TENANT.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            lifetime_secs: 3600,
            ..Default::default()
        }
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[tokio::test]
    async fn accepts_own_tokens_and_reads_roles() {
        let k = key();
        let v = TokenVerifier::new(
            Arc::new(KeyRing::new(vec![k.clone()])),
            "https://sts.example",
        );
        let t = k.issue(
            "https://sts.example",
            &request(&["SecurityIdentitiesSensors.Read.All", "Other.Role"]),
            NOW,
        );
        let c = v
            .verify_header(Some(&format!("Bearer {}", t.token)), NOW)
            .await
            .expect("valid");
        assert_eq!(c.tenant.as_str(), TENANT);
        assert!(c.has_any(&[Permission::SensorsRead]));
        assert!(!c.has_any(&[Permission::SensorsReadWrite]));
        assert!(!c.is_delegated());
    }

    #[tokio::test]
    async fn rejection_table() {
        let k = key();
        let v = TokenVerifier::new(
            Arc::new(KeyRing::new(vec![k.clone()])),
            "https://sts.example",
        );
        let good = k.issue("https://sts.example", &request(&[]), NOW).token;
        let parts: Vec<&str> = good.split('.').collect();
        let none_alg = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
            parts[1]
        );
        let hs256 = {
            let h = jsonwebtoken::Header {
                kid: Some(k.kid().into()),
                ..jsonwebtoken::Header::new(Algorithm::HS256)
            };
            let claims: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64"))
                    .expect("json");
            jsonwebtoken::encode(
                &h,
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(b"public"),
            )
            .expect("encode")
        };
        let other_key = {
            let pem = SigningKey::generate_pem().expect("keygen");
            SigningKey::from_pem(&pem)
                .expect("pem")
                .issue("https://sts.example", &request(&[]), NOW)
                .token
        };
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64(
                &serde_json::json!({"tid": TENANT, "roles": ["SecurityIdentitiesSensors.ReadWrite.All"]})
            ),
            parts[2]
        );
        let wrong_issuer = k.issue("https://evil.example", &request(&[]), NOW).token;
        let expired = k
            .issue("https://sts.example", &request(&[]), NOW - 10_000)
            .token;
        let future = k
            .issue("https://sts.example", &request(&[]), NOW + 10_000)
            .token;
        let cases: Vec<(Option<String>, AuthError)> = vec![
            (None, AuthError::Missing),
            (Some("Bearer ".into()), AuthError::Missing),
            (Some(format!("Basic {good}")), AuthError::NotBearer),
            (Some("Bearer garbage".into()), AuthError::Malformed),
            (Some(format!("Bearer {none_alg}")), AuthError::BadAlgorithm),
            (Some(format!("Bearer {hs256}")), AuthError::BadAlgorithm),
            (Some(format!("Bearer {other_key}")), AuthError::UnknownKey),
            (Some(format!("Bearer {tampered}")), AuthError::BadSignature),
            (Some(format!("Bearer {wrong_issuer}")), AuthError::BadIssuer),
            (Some(format!("Bearer {expired}")), AuthError::Expired),
            (Some(format!("Bearer {future}")), AuthError::NotYetValid),
        ];
        for (header, expected) in cases {
            assert_eq!(
                v.verify_header(header.as_deref(), NOW).await.err(),
                Some(expected.clone()),
                "{header:?}"
            );
        }
        // A cached token still expires.
        assert!(v.verify(&good, NOW).await.is_ok());
        assert_eq!(
            v.verify(&good, NOW + 100_000).await.err(),
            Some(AuthError::Expired)
        );
    }
}
