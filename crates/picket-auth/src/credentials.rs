//! App credentials: client secrets (made here, kept only as salted hashes) and certificate
//! credentials (the public certificate is registered; the app proves itself with a JWT
//! client assertion signed by the matching private key, as MSAL's certificate flow does).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use picket_domain::identity::{AppCertificate, AppSecret};
use picket_domain::time::Timestamp;
use rand::Rng;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, DecodePem, Encode};

/// A new client secret: the text to show once, and the record to store.
pub fn new_client_secret(created_at: Timestamp, expires_at: Timestamp) -> (String, AppSecret) {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~";
    let mut rng = rand::thread_rng();
    let mut pick = |n: usize| -> String {
        (0..n)
            .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
            .collect()
    };
    // Entra's shape: three characters, a version marker `8Q~`, then 37 more (≈ 220 random bits).
    let secret = format!("{}8Q~{}", pick(3), pick(37));
    let mut salt = [0u8; 16];
    rand::thread_rng().fill(&mut salt);
    let salt = URL_SAFE_NO_PAD.encode(salt);
    let record = AppSecret {
        key_id: uuid::Uuid::new_v4().to_string(),
        hint: secret[..3].to_string(),
        hash: secret_hash(&salt, &secret),
        salt,
        created_at,
        expires_at,
    };
    (secret, record)
}

fn secret_hash(salt: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

/// True when `presented` is this secret. Compares digests without early exit.
pub fn secret_matches(record: &AppSecret, presented: &str) -> bool {
    let want = record.hash.as_bytes();
    let got = secret_hash(&record.salt, presented);
    let got = got.as_bytes();
    want.len() == got.len() && want.iter().zip(got).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NotPem,
    #[error("the certificate cannot be parsed: {0}")]
    Invalid(String),
    #[error("the certificate's key is not RSA (client assertions are RS256/PS256)")]
    NotRsa,
    #[error("the certificate expired on {0}")]
    Expired(String),
}

/// Reads a PEM certificate (the first one in the text) into a credential record.
pub fn certificate_credential(
    pem: &str,
    now: Timestamp,
) -> Result<AppCertificate, CertificateError> {
    let block = first_certificate_block(pem).ok_or(CertificateError::NotPem)?;
    let cert = x509_cert::Certificate::from_pem(block.as_bytes())
        .map_err(|e| CertificateError::Invalid(e.to_string()))?;
    let der = cert
        .to_der()
        .map_err(|e| CertificateError::Invalid(e.to_string()))?;
    rsa_key_of(&cert)?;
    let not_after: Timestamp = cert
        .tbs_certificate
        .validity
        .not_after
        .to_system_time()
        .into();
    if not_after <= now {
        return Err(CertificateError::Expired(
            picket_domain::time::format_timestamp(&not_after),
        ));
    }
    Ok(AppCertificate {
        key_id: uuid::Uuid::new_v4().to_string(),
        thumbprint: hex(&Sha1::digest(&der)).to_ascii_uppercase(),
        thumbprint_sha256: hex(&Sha256::digest(&der)),
        certificate_pem: block,
        not_after,
        created_at: now,
    })
}

fn first_certificate_block(pem: &str) -> Option<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN)?;
    let end = pem[start..].find(END)? + start + END.len();
    Some(format!("{}\n", &pem[start..end]))
}

fn rsa_key_of(cert: &x509_cert::Certificate) -> Result<DecodingKey, CertificateError> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| CertificateError::Invalid(e.to_string()))?;
    let key =
        rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|_| CertificateError::NotRsa)?;
    DecodingKey::from_rsa_components(
        &URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        &URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    )
    .map_err(|e| CertificateError::Invalid(e.to_string()))
}

/// Why a client assertion was refused; each maps to one Entra error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("The client assertion is not a valid JWT")]
    Malformed,
    #[error("The client assertion must be signed with RS256 or PS256")]
    BadAlgorithm,
    #[error(
        "The certificate used to sign the client assertion is not registered on the application"
    )]
    UnknownCertificate,
    #[error("The certificate used to sign the client assertion expired")]
    CertificateExpired,
    #[error("Client assertion failed signature validation")]
    BadSignature,
    #[error("The client assertion's audience claim does not match the token endpoint")]
    BadAudience,
    #[error("The client assertion's iss and sub claims must be the client id")]
    BadIssuer,
    #[error("The client assertion is expired or not yet valid")]
    Lifetime,
}

#[derive(Deserialize)]
struct AssertionHeader {
    alg: Option<String>,
    x5t: Option<String>,
    #[serde(rename = "x5t#S256")]
    x5t_s256: Option<String>,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    /// MSAL writes times as floating-point seconds.
    exp: Option<f64>,
    nbf: Option<f64>,
    jti: Option<String>,
}

/// What a valid assertion proved: the certificate it was signed with, and its `jti` and
/// expiry (for replay protection by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub key_id: String,
    pub jti: Option<String>,
    pub exp: i64,
}

const ASSERTION_LEEWAY_SECS: i64 = 300;

/// Checks a client assertion against an app's registered certificates.
pub fn verify_client_assertion(
    assertion: &str,
    client_id: &str,
    token_endpoints: &[String],
    certificates: &[AppCertificate],
    now: Timestamp,
) -> Result<VerifiedAssertion, AssertionError> {
    let header_b64 = assertion.split('.').next().unwrap_or_default();
    let header: AssertionHeader = URL_SAFE_NO_PAD
        .decode(header_b64.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AssertionError::Malformed)?;
    let alg = match header.alg.as_deref() {
        Some("RS256") => Algorithm::RS256,
        Some("PS256") => Algorithm::PS256,
        _ => return Err(AssertionError::BadAlgorithm),
    };
    let thumb = |b64: &Option<String>| {
        b64.as_deref().and_then(|t| {
            URL_SAFE_NO_PAD
                .decode(t.trim_end_matches('='))
                .or_else(|_| STANDARD.decode(t))
                .ok()
                .map(|b| hex(&b))
        })
    };
    let (sha1, sha256) = (thumb(&header.x5t), thumb(&header.x5t_s256));
    let candidates: Vec<&AppCertificate> = certificates
        .iter()
        .filter(|c| match (&sha1, &sha256) {
            (_, Some(s)) => c.thumbprint_sha256.eq_ignore_ascii_case(s),
            (Some(s), None) => c.thumbprint.eq_ignore_ascii_case(s),
            // No thumbprint named: try every registered certificate.
            (None, None) => true,
        })
        .collect();
    if candidates.is_empty() {
        return Err(AssertionError::UnknownCertificate);
    }
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut last = AssertionError::BadSignature;
    for cert in candidates {
        let Ok(parsed) = x509_cert::Certificate::from_pem(cert.certificate_pem.as_bytes())
            .or_else(|_| x509_cert::Certificate::from_der(cert.certificate_pem.as_bytes()))
        else {
            continue;
        };
        let Ok(key) = rsa_key_of(&parsed) else {
            continue;
        };
        let claims = match jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation) {
            Ok(data) => data.claims,
            Err(e) => {
                tracing::debug!(error = %e, "client assertion rejected");
                last = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                        AssertionError::BadSignature
                    }
                    _ => AssertionError::Malformed,
                };
                continue;
            }
        };
        if cert.not_after <= now {
            return Err(AssertionError::CertificateExpired);
        }
        if claims.iss.as_deref() != Some(client_id) || claims.sub.as_deref() != Some(client_id) {
            return Err(AssertionError::BadIssuer);
        }
        if !audience_matches(claims.aud.as_ref(), token_endpoints) {
            return Err(AssertionError::BadAudience);
        }
        let t = now.timestamp();
        let exp = claims.exp.ok_or(AssertionError::Lifetime)? as i64;
        if t > exp + ASSERTION_LEEWAY_SECS
            || claims
                .nbf
                .is_some_and(|n| n as i64 > t + ASSERTION_LEEWAY_SECS)
        {
            return Err(AssertionError::Lifetime);
        }
        return Ok(VerifiedAssertion {
            key_id: cert.key_id.clone(),
            jti: claims.jti,
            exp,
        });
    }
    Err(last)
}

fn audience_matches(aud: Option<&serde_json::Value>, endpoints: &[String]) -> bool {
    let ok = |a: &str| {
        endpoints.iter().any(|e| {
            e.trim_end_matches('/')
                .eq_ignore_ascii_case(a.trim_end_matches('/'))
        })
    };
    match aud {
        Some(serde_json::Value::String(s)) => ok(s),
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).any(ok),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn secrets_verify_only_themselves() {
        let now = Utc::now();
        let (secret, record) = new_client_secret(now, now + Duration::days(1));
        assert_eq!(secret.len(), 43);
        assert_eq!(&secret[3..6], "8Q~");
        assert_eq!(record.hint, secret[..3]);
        assert!(!record.hash.contains(&secret));
        assert!(secret_matches(&record, &secret));
        assert!(!secret_matches(&record, &format!("{secret}x")));
        assert!(!secret_matches(&record, ""));
        let (other, _) = new_client_secret(now, now);
        assert_ne!(other, secret);
        assert!(!format!("{record:?}").contains(&record.hash));
    }

    #[test]
    fn certificate_errors() {
        let now = Utc::now();
        assert_eq!(
            certificate_credential("hello", now),
            Err(CertificateError::NotPem)
        );
        assert!(matches!(
            certificate_credential(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                now
            ),
            Err(CertificateError::Invalid(_))
        ));
    }
}
