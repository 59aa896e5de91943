//! What bearer-token validation costs, measured in-process on the verifier the server uses:
//! a token seen before (the per-token cache: no RSA, no key parsing) and first sight of a
//! token (full RS256 verification). The bench relates the cached figure to the server CPU a
//! GET-sensor request costs in the same run.

use anyhow::{Context, Result};
use picket_auth::{KeyRing, SigningKey, TokenRequest, TokenVerifier};
use std::sync::Arc;
use std::time::Instant;

pub struct AuthCost {
    /// Nanoseconds per validation of a token already verified once.
    pub cached_ns: f64,
    /// Microseconds per validation of a token never seen before.
    pub uncached_us: f64,
}

const CACHED_ROUNDS: u32 = 300_000;
const UNCACHED_TOKENS: u64 = 400;

pub async fn measure(tenant: &str, issuer: &str) -> Result<AuthCost> {
    let pem = SigningKey::generate_pem()?;
    let key = Arc::new(SigningKey::from_pem(&pem).context("generated key")?);
    let verifier = TokenVerifier::new(Arc::new(KeyRing::new(vec![key.clone()])), issuer);
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let mint = |i: u64| {
        let request = TokenRequest {
            tenant: tenant.into(),
            roles: vec!["SecurityIdentitiesSensors.Read.All".into()],
            lifetime_secs: 3600 + i,
            ..Default::default()
        };
        format!("Bearer {}", key.issue(issuer, &request, now).token)
    };
    let header = mint(0);
    verifier
        .verify_header(Some(&header), now)
        .await
        .context("the bench token does not verify")?;
    let started = Instant::now();
    for _ in 0..CACHED_ROUNDS {
        let caller = verifier.verify_header(Some(&header), now).await?;
        std::hint::black_box(caller);
    }
    let cached_ns = started.elapsed().as_nanos() as f64 / f64::from(CACHED_ROUNDS);

    let tokens: Vec<String> = (1..=UNCACHED_TOKENS).map(mint).collect();
    let started = Instant::now();
    for t in &tokens {
        std::hint::black_box(verifier.verify_header(Some(t), now).await?);
    }
    let uncached_us = started.elapsed().as_secs_f64() * 1e6 / UNCACHED_TOKENS as f64;
    Ok(AuthCost {
        cached_ns,
        uncached_us,
    })
}
