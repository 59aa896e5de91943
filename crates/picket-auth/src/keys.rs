//! The built-in issuer's RSA signing key: generated once, kept (owner-only) in the data
//! directory, and used to mint tokens for `picket token` and the demo. The private key never
//! appears in `Debug` output or logs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the signing key at {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the signing key at {path} is not a PKCS#8 RSA private key")]
    Invalid { path: String },
    #[error("cannot generate an RSA key: {0}")]
    Generate(String),
}

pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    n: String,
    e: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

pub const KEY_FILE: &str = "signing-key.pem";

impl SigningKey {
    /// Loads `dir/signing-key.pem`, creating it (mode 0600) when absent.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        if path.exists() {
            let pem = std::fs::read_to_string(&path).map_err(io)?;
            return Self::from_pem(&pem).ok_or_else(|| KeyError::Invalid {
                path: path.display().to_string(),
            });
        }
        std::fs::create_dir_all(dir).map_err(io)?;
        let pem = Self::generate_pem()?;
        write_private(&path, &pem).map_err(io)?;
        Self::from_pem(&pem).ok_or_else(|| KeyError::Invalid {
            path: path.display().to_string(),
        })
    }

    /// A fresh 2048-bit key as PKCS#8 PEM.
    pub fn generate_pem() -> Result<String, KeyError> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        key.to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| KeyError::Generate(e.to_string()))
    }

    pub fn from_pem(pem: &str) -> Option<Self> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem).ok()?;
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        // The kid is a thumbprint of the public key, so it changes exactly when the key does.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(format!("{n}.{e}").as_bytes())[..16]);
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).ok()?;
        let decoding = DecodingKey::from_rsa_components(&n, &e).ok()?;
        Some(Self {
            kid,
            encoding,
            decoding,
            n,
            e,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The public half as a JWK (for a JWKS document).
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e})
    }

    /// Signs other claims (an OpenID Connect ID token) with this key: RS256, its `kid`.
    pub fn sign_claims(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        // As in `issue`: a JSON object always encodes with a key we parsed ourselves.
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap_or_default()
    }

    /// Signs an access token for Graph.
    pub fn issue(&self, issuer_base: &str, request: &TokenRequest, now: u64) -> IssuedToken {
        let expires_on = now + request.lifetime_secs;
        let app_id = request
            .app_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let claims = Claims {
            aud: "https://graph.microsoft.com",
            iss: format!("{}/{}/", issuer_base.trim_end_matches('/'), request.tenant),
            iat: now,
            nbf: now,
            exp: expires_on,
            tid: request.tenant.clone(),
            appid: app_id.clone(),
            azp: app_id,
            oid: request
                .user
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            sub: request.user.clone().unwrap_or_else(|| "picket-app".into()),
            idtyp: if request.user.is_some() {
                "user"
            } else {
                "app"
            },
            roles: (!request.roles.is_empty()).then(|| request.roles.clone()),
            wids: (!request.wids.is_empty()).then(|| request.wids.clone()),
            upn: request.upn.clone(),
            unique_name: request.upn.clone(),
            name: request.name.clone(),
            uti: uuid::Uuid::new_v4().simple().to_string(),
            scp: (!request.scopes.is_empty()).then(|| request.scopes.join(" ")),
            ver: "1.0",
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        // Encoding with a key we parsed ourselves cannot fail for these plain claims; an
        // empty token would still be rejected by every verifier, never accepted.
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap_or_default();
        IssuedToken { token, expires_on }
    }
}

/// What `picket token` asks for.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub tenant: String,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    /// Set for a delegated (user) token.
    pub user: Option<String>,
    pub app_id: Option<String>,
    /// Directory role template ids of the user (delegated tokens).
    pub wids: Vec<String>,
    /// The signed-in user's principal name and display name (delegated tokens carry them as
    /// `upn`/`unique_name` and `name`, as Entra's v1 access tokens do).
    pub upn: Option<String>,
    pub name: Option<String>,
    pub lifetime_secs: u64,
}

pub struct IssuedToken {
    pub token: String,
    pub expires_on: u64,
}

#[derive(Serialize)]
struct Claims {
    aud: &'static str,
    iss: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    tid: String,
    appid: String,
    azp: String,
    oid: String,
    sub: String,
    idtyp: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unique_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Unique token id, so two tokens minted in the same second differ.
    uti: String,
    ver: &'static str,
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}
