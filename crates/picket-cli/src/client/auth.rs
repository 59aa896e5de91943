//! Bearer tokens: a ready one, or one from the token service (Microsoft Entra ID or Picket's) by
//! client credentials (secret, or a certificate-signed JWT assertion) or the device code flow.
//! Tokens are cached per profile in a 0600 file and refreshed five minutes before they expire.

use super::error::ClientError;
use super::http::send_with_retries;
use super::target::{Credential, Target};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// A token this close to expiry is replaced before use.
const REFRESH_MARGIN_SECS: u64 = 300;

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedToken {
    /// Which identity and audience the token is for; a different one is never reused.
    key: String,
    access_token: String,
    expires_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

pub struct TokenSource {
    target: Target,
    http: reqwest::Client,
    cache_file: Option<PathBuf>,
    current: Mutex<Option<CachedToken>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `$XDG_CACHE_HOME/picket`, else `~/.cache/picket`.
fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cache")))
        .map(|b| b.join("picket"))
}

impl TokenSource {
    pub fn new(target: Target, http: reqwest::Client) -> Self {
        let cache_file = (target.token_cache
            && !matches!(target.credential, Credential::Bearer(_)))
        .then(cache_dir)
        .flatten()
        .map(|d| d.join(format!("token-{}.json", safe_name(&target.profile_name))));
        TokenSource {
            target,
            http,
            cache_file,
            current: Mutex::new(None),
        }
    }

    /// A token valid for at least the refresh margin, and one the endpoint may see: a token
    /// another issuer (a Picket installation) signed is never handed to Microsoft Graph.
    pub async fn bearer(&self) -> Result<String, ClientError> {
        let token = self.token().await?;
        if self.target.graph {
            refuse_foreign_token(&token)?;
        }
        Ok(token)
    }

    async fn token(&self) -> Result<String, ClientError> {
        if let Credential::Bearer(t) = &self.target.credential {
            return Ok(t.clone());
        }
        let key = self.cache_key();
        let mut current = self.current.lock().await;
        if current.is_none() {
            *current = self
                .cache_file
                .as_deref()
                .and_then(read_cache)
                .filter(|c| c.key == key);
        }
        if let Some(c) = current.as_ref() {
            if c.expires_at > now() + REFRESH_MARGIN_SECS {
                return Ok(c.access_token.clone());
            }
        }
        let refresh = current.as_ref().and_then(|c| c.refresh_token.clone());
        let fresh = self.acquire(key, refresh).await?;
        if let Some(file) = &self.cache_file {
            // A cache that cannot be written only costs a sign-in next time.
            let _ = write_cache(file, &fresh);
        }
        let token = fresh.access_token.clone();
        *current = Some(fresh);
        Ok(token)
    }

    /// Forgets the token (after a 401), so the next call signs in again.
    pub async fn invalidate(&self) {
        *self.current.lock().await = None;
        if let Some(f) = &self.cache_file {
            let _ = std::fs::remove_file(f);
        }
    }

    pub fn can_renew(&self) -> bool {
        !matches!(self.target.credential, Credential::Bearer(_))
    }

    fn cache_key(&self) -> String {
        let (kind, tenant, client) = match &self.target.credential {
            Credential::Bearer(_) => ("bearer", "", ""),
            Credential::Secret {
                tenant, client_id, ..
            } => ("secret", tenant.as_str(), client_id.as_str()),
            Credential::Certificate {
                tenant, client_id, ..
            } => ("cert", tenant.as_str(), client_id.as_str()),
            Credential::DeviceCode { tenant, client_id } => {
                ("device", tenant.as_str(), client_id.as_str())
            }
        };
        let text = format!(
            "{kind}|{}|{tenant}|{client}|{}",
            self.target.authority.as_deref().unwrap_or(""),
            self.target.scope
        );
        hex(&sha2::Sha256::digest(text.as_bytes()))
    }

    fn authority(&self) -> Result<&str, ClientError> {
        self.target
            .authority
            .as_deref()
            .ok_or_else(|| ClientError::usage("signing in needs --authority"))
    }

    async fn acquire(
        &self,
        key: String,
        refresh: Option<String>,
    ) -> Result<CachedToken, ClientError> {
        let authority = self.authority()?;
        let scope = self.target.scope.clone();
        let answer = match &self.target.credential {
            Credential::Bearer(t) => {
                return Ok(CachedToken {
                    key,
                    access_token: t.clone(),
                    expires_at: u64::MAX,
                    refresh_token: None,
                })
            }
            Credential::Secret {
                tenant,
                client_id,
                secret,
            } => {
                let url = token_url(authority, tenant);
                let form = vec![
                    ("grant_type", "client_credentials".to_string()),
                    ("client_id", client_id.clone()),
                    ("client_secret", secret.clone()),
                    ("scope", scope),
                ];
                self.post_token(&url, &form).await?
            }
            Credential::Certificate {
                tenant,
                client_id,
                path,
            } => {
                let url = token_url(authority, tenant);
                let assertion = client_assertion(path, client_id, &url)?;
                let form = vec![
                    ("grant_type", "client_credentials".to_string()),
                    ("client_id", client_id.clone()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
                    ),
                    ("client_assertion", assertion),
                    ("scope", scope),
                ];
                self.post_token(&url, &form).await?
            }
            Credential::DeviceCode { tenant, client_id } => {
                let url = token_url(authority, tenant);
                let delegated = format!("{scope} offline_access");
                let refreshed = match refresh {
                    Some(r) => {
                        let form = vec![
                            ("grant_type", "refresh_token".to_string()),
                            ("client_id", client_id.clone()),
                            ("refresh_token", r),
                            ("scope", delegated.clone()),
                        ];
                        self.post_token(&url, &form).await.ok()
                    }
                    None => None,
                };
                match refreshed {
                    Some(a) => a,
                    None => {
                        self.device_code(authority, tenant, client_id, &delegated)
                            .await?
                    }
                }
            }
        };
        let lifetime = match &answer.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(3600),
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(3600),
            _ => 3600,
        };
        Ok(CachedToken {
            key,
            access_token: answer.access_token,
            expires_at: now().saturating_add(lifetime),
            refresh_token: answer.refresh_token,
        })
    }

    async fn post_token(
        &self,
        url: &str,
        form: &[(&str, String)],
    ) -> Result<TokenAnswer, ClientError> {
        let (status, _, body) = self.post_form(url, form).await?;
        if status != 200 {
            return Err(ClientError::Auth(token_error(status, &body)));
        }
        serde_json::from_slice(&body).map_err(|_| {
            ClientError::Auth(format!(
                "the token service at {url} answered without an access_token"
            ))
        })
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, String)],
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), ClientError> {
        let http = self.http.clone();
        let encoded = form_urlencoded(form);
        send_with_retries(url, self.target.attempts, || {
            http.post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .body(encoded.clone())
        })
        .await
    }

    /// RFC 8628 against Entra's endpoints: show the code, then poll until the user signs in.
    async fn device_code(
        &self,
        authority: &str,
        tenant: &str,
        client_id: &str,
        scope: &str,
    ) -> Result<TokenAnswer, ClientError> {
        let url = format!("{authority}/{tenant}/oauth2/v2.0/devicecode");
        let form = vec![
            ("client_id", client_id.to_string()),
            ("scope", scope.to_string()),
        ];
        let (status, _, body) = self.post_form(&url, &form).await?;
        if status != 200 {
            return Err(ClientError::Auth(token_error(status, &body)));
        }
        let start: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| ClientError::Auth("the device code answer is not JSON".into()))?;
        let device_code = start["device_code"]
            .as_str()
            .ok_or_else(|| ClientError::Auth("the device code answer has no device_code".into()))?
            .to_string();
        let message = start["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "To sign in, open {} and enter the code {}",
                    start["verification_uri"]
                        .as_str()
                        .unwrap_or("the sign-in page"),
                    start["user_code"].as_str().unwrap_or("?")
                )
            });
        eprintln!("{message}");
        let mut interval = start["interval"].as_u64().unwrap_or(5).clamp(1, 60);
        let deadline = now().saturating_add(start["expires_in"].as_u64().unwrap_or(900));
        let token_url = token_url(authority, tenant);
        let form = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:device_code".to_string(),
            ),
            ("client_id", client_id.to_string()),
            ("device_code", device_code),
        ];
        loop {
            tokio::time::sleep(Duration::from_secs(interval)).await;
            if now() > deadline {
                return Err(ClientError::Auth(
                    "the device code expired before sign-in finished".into(),
                ));
            }
            let (status, _, body) = self.post_form(&token_url, &form).await?;
            if status == 200 {
                return serde_json::from_slice(&body)
                    .map_err(|_| ClientError::Auth("the token answer has no access_token".into()));
            }
            let error: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            match error["error"].as_str() {
                Some("authorization_pending") => {}
                Some("slow_down") => interval = (interval + 5).min(60),
                _ => return Err(ClientError::Auth(token_error(status, &body))),
            }
        }
    }
}

/// Hosts of Microsoft Entra ID's token services (`iss` of the tokens Graph accepts): the global
/// cloud's (v2.0 and v1.0 issuers) and the national clouds'.
const MICROSOFT_ISSUER_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "sts.windows.net",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn",
    "sts.chinacloudapi.cn",
    "login.microsoftonline.de",
];

/// The `iss` claim of a JWT, read without checking the signature; `None` for an opaque token
/// (or an encrypted one), which cannot be judged.
pub fn token_issuer(token: &str) -> Option<String> {
    token_claim(token, "iss")
}

/// A string claim of a JWT (`iss`, `tid`, …), read without checking the signature; `None` for
/// an opaque or encrypted token.
pub fn token_claim(token: &str, name: &str) -> Option<String> {
    let mut parts = token.trim().split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get(name)?.as_str().map(str::to_string)
}

/// `https://` and one of Entra ID's hosts.
pub fn is_microsoft_issuer(iss: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(iss) else {
        return false;
    };
    url.scheme() == "https"
        && url.port().is_none()
        && url.host_str().is_some_and(|h| {
            MICROSOFT_ISSUER_HOSTS
                .iter()
                .any(|m| h.eq_ignore_ascii_case(m))
        })
}

/// Graph would refuse such a token anyway, but only after it has seen it.
fn refuse_foreign_token(token: &str) -> Result<(), ClientError> {
    match token_issuer(token) {
        Some(iss) if !is_microsoft_issuer(&iss) => {
            let iss: String = iss.chars().filter(|c| !c.is_control()).take(200).collect();
            Err(ClientError::usage(format!(
                "this token was issued by {iss}, not by Microsoft Entra ID; it is not sent to Microsoft Graph. Set --endpoint (or PICKET_ENDPOINT) to your Picket server, e.g. http://127.0.0.1:8080"
            )))
        }
        _ => Ok(()),
    }
}

pub fn token_url(authority: &str, tenant: &str) -> String {
    format!("{authority}/{tenant}/oauth2/v2.0/token")
}

/// Entra's OAuth error body (`error`, `error_description` starting with the AADSTS code) as one
/// line; the description's trace/correlation lines are dropped, the trace id kept.
fn token_error(status: u16, body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = v["error"].as_str().unwrap_or("error");
    let description = v["error_description"]
        .as_str()
        .and_then(|d| d.lines().next())
        .unwrap_or("")
        .trim()
        .to_string();
    let mut line = format!("{status} {code}");
    if !description.is_empty() {
        line = format!("{line}: {description}");
    }
    if let Some(trace) = v["trace_id"].as_str() {
        line = format!("{line} (trace-id {trace})");
    }
    line
}

fn form_urlencoded(form: &[(&str, String)]) -> String {
    let enc =
        |s: &str| percent_encoding::utf8_percent_encode(s, super::http::QUERY_VALUE).to_string();
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A client assertion as Entra wants it: RS256, `x5t` = base64url SHA-1 of the certificate,
/// `aud` = the token endpoint, `iss` = `sub` = the client id, ten minutes of life.
pub fn client_assertion(
    path: &Path,
    client_id: &str,
    token_url: &str,
) -> Result<String, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ClientError::usage(format!("cannot read certificate {}: {e}", path.display()))
    })?;
    let mut cert_der = None;
    for item in rustls_pemfile::read_all(&mut text.as_bytes()) {
        if let Ok(rustls_pemfile::Item::X509Certificate(der)) = item {
            cert_der = Some(der.to_vec());
            break;
        }
    }
    let cert_der = cert_der.ok_or_else(|| {
        ClientError::usage(format!("{} holds no CERTIFICATE block", path.display()))
    })?;
    let key_pem = pem_block(&text, "PRIVATE KEY").ok_or_else(|| {
        ClientError::usage(format!(
            "{} holds no RSA PRIVATE KEY or PRIVATE KEY block",
            path.display()
        ))
    })?;
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes()).map_err(|e| {
        ClientError::usage(format!(
            "the key in {} is not an RSA key: {e}",
            path.display()
        ))
    })?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5t = Some(URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&cert_der)));
    let t = now();
    let claims = serde_json::json!({
        "aud": token_url,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": t,
        "iat": t,
        "exp": t + 600,
    });
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| ClientError::usage(format!("cannot sign the client assertion: {e}")))
}

/// The first PEM block whose label ends with `label` (`PRIVATE KEY`, `RSA PRIVATE KEY`).
fn pem_block(text: &str, label: &str) -> Option<String> {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line.starts_with("-----BEGIN ") && line.ends_with(&format!("{label}-----")) {
            let end = line.replacen("BEGIN", "END", 1);
            let mut block = vec![line.to_string()];
            for l in lines.by_ref() {
                block.push(l.trim().to_string());
                if l.trim() == end {
                    return Some(block.join("\n"));
                }
            }
        }
    }
    None
}

fn read_cache(path: &Path) -> Option<CachedToken> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Written to a temporary file created 0600 and renamed, so the token is never world-readable,
/// not even for a moment.
fn write_cache(path: &Path, token: &CachedToken) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("token"),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let mut file = options.open(&tmp)?;
    file.write_all(&serde_json::to_vec(token).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_errors_keep_the_aadsts_line_and_trace_id() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","error_codes":[7000215],"trace_id":"abc"}"#;
        assert_eq!(
            token_error(401, body),
            "401 invalid_client: AADSTS7000215: Invalid client secret provided. (trace-id abc)"
        );
    }

    #[test]
    fn pem_blocks_are_found_beside_a_certificate() {
        let text = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\nBBBB\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            pem_block(text, "PRIVATE KEY").as_deref(),
            Some("-----BEGIN RSA PRIVATE KEY-----\nBBBB\n-----END RSA PRIVATE KEY-----")
        );
        assert_eq!(pem_block("nothing", "PRIVATE KEY"), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_cache_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sub").join("token-default.json");
        let t = CachedToken {
            key: "k".into(),
            access_token: "a".into(),
            expires_at: 1,
            refresh_token: None,
        };
        write_cache(&file, &t).expect("writes");
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_cache(&file).map(|c| c.access_token), Some("a".into()));
    }

    fn jwt(claims: serde_json::Value) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn only_microsoft_issued_tokens_go_to_graph() {
        for ms in [
            "https://login.microsoftonline.com/6babcaad-604b-40ac-a9d7-9fd97c0b779f/v2.0",
            "https://sts.windows.net/6babcaad-604b-40ac-a9d7-9fd97c0b779f/",
            "https://login.microsoftonline.us/t/v2.0",
            "https://login.partner.microsoftonline.cn/t/v2.0",
            "https://LOGIN.MICROSOFTONLINE.COM/t/",
        ] {
            assert!(is_microsoft_issuer(ms), "{ms}");
            assert!(refuse_foreign_token(&jwt(serde_json::json!({"iss": ms}))).is_ok());
        }
        for other in [
            "https://sts.picket.local/6babcaad-604b-40ac-a9d7-9fd97c0b779f/",
            "http://login.microsoftonline.com/t/",
            "https://login.microsoftonline.com.evil.example/t/",
            "https://login.microsoftonline.com:8443/t/",
            "https://127.0.0.1:8443/t/",
            "picket",
        ] {
            assert!(!is_microsoft_issuer(other), "{other}");
        }
        let picket = jwt(serde_json::json!({"iss": "https://sts.picket.local/t/", "aud": "x"}));
        assert_eq!(
            token_issuer(&picket).as_deref(),
            Some("https://sts.picket.local/t/")
        );
        match refuse_foreign_token(&picket) {
            Err(ClientError::Usage(m)) => assert_eq!(
                m,
                "this token was issued by https://sts.picket.local/t/, not by Microsoft Entra ID; it is not sent to Microsoft Graph. Set --endpoint (or PICKET_ENDPOINT) to your Picket server, e.g. http://127.0.0.1:8080"
            ),
            other => panic!("{other:?}"),
        }
        // Opaque, encrypted or issuer-less tokens cannot be judged and go as they are.
        for opaque in [
            "graph-token",
            "a.b.c.d.e",
            "e30.e30.",
            &jwt(serde_json::json!({"sub": "x"})),
        ] {
            assert!(refuse_foreign_token(opaque).is_ok(), "{opaque}");
        }
    }
}
