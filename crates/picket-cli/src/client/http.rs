//! HTTP to Graph (or Picket): the headers Graph clients send, retries of 429/503/504 after
//! `Retry-After`, Graph error envelopes turned into one line, and lists followed through
//! `@odata.nextLink` one page at a time (the next page is fetched while this one is written).

use super::auth::TokenSource;
use super::error::{ClientError, GraphError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// RFC 3986 unreserved characters stay as they are; everything else in a query value is escaped.
pub const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub const USER_AGENT: &str = concat!("picket/", env!("CARGO_PKG_VERSION"));

/// The longest wait a `Retry-After` may ask for before we give up instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// A reqwest client trusting the built-in roots plus `ca_file`.
pub fn build_client(ca_file: Option<&std::path::Path>) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(120));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            ClientError::usage(format!("cannot read CA file {}: {e}", path.display()))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ClientError::usage(format!(
                "{} is not a PEM certificate bundle: {e}",
                path.display()
            ))
        })?;
        if certs.is_empty() {
            return Err(ClientError::usage(format!(
                "{} holds no certificate",
                path.display()
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| ClientError::other(format!("cannot build the HTTP client: {e}")))
}

/// Sends the request `make` builds, again after `Retry-After` while the answer is 429, 503 or
/// 504 and attempts are left. Returns status, headers and body of the last answer.
pub async fn send_with_retries(
    url: &str,
    attempts: u32,
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<(u16, HeaderMap, Vec<u8>), ClientError> {
    let mut attempt = 1;
    loop {
        let response = make()
            .send()
            .await
            .map_err(|e| ClientError::transport(url, &e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let retryable = matches!(status, 429 | 503 | 504);
        if retryable && attempt < attempts {
            let wait = retry_after(&headers)
                .unwrap_or_else(|| Duration::from_secs(1 << (attempt - 1).min(5)));
            if wait <= MAX_RETRY_AFTER {
                eprintln!(
                    "{status} from the server; retrying in {:.1} s (attempt {} of {attempts})",
                    wait.as_secs_f64(),
                    attempt + 1
                );
                // Drain the body so the connection can be reused.
                let _ = response.bytes().await;
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::transport(url, &e))?;
        return Ok((status, headers, body.to_vec()));
    }
}

/// `Retry-After` in seconds (what Graph sends) or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<f64>() {
        // A value too large for a Duration is as good as "too long to wait".
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[derive(Deserialize)]
struct Page {
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(default)]
    value: Vec<Box<RawValue>>,
}

/// The Graph API at one version root, signed in.
#[derive(Clone)]
pub struct Graph {
    http: reqwest::Client,
    tokens: Arc<TokenSource>,
    root: String,
    attempts: u32,
}

impl Graph {
    pub fn new(
        http: reqwest::Client,
        tokens: Arc<TokenSource>,
        root: String,
        attempts: u32,
    ) -> Self {
        Graph {
            http,
            tokens,
            root,
            attempts,
        }
    }

    /// The bearer token requests carry (signing in first if need be); for reading its claims.
    pub async fn bearer(&self) -> Result<String, ClientError> {
        self.tokens.bearer().await
    }

    /// The same connection on the beta API (for what only beta has, e.g. sensorMigration).
    pub fn beta(&self) -> Graph {
        let root = self.root.trim_end_matches('/');
        let root = match root.rsplit_once('/') {
            Some((server, version)) if version == "v1.0" || version == "beta" => {
                format!("{server}/beta")
            }
            _ => root.to_string(),
        };
        Graph {
            http: self.http.clone(),
            tokens: self.tokens.clone(),
            root,
            attempts: self.attempts,
        }
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// `path` is relative to the version root, e.g. `/security/identities/sensors`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    /// One request with Graph's headers; a non-2xx answer becomes the error.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let payload = body.map(|b| b.to_string());
        let mut renewed = false;
        loop {
            let token = self.tokens.bearer().await?;
            let (status, headers, bytes) = send_with_retries(url, self.attempts, || {
                let mut r = self
                    .http
                    .request(method.clone(), url)
                    .bearer_auth(&token)
                    .header("Accept", "application/json")
                    .header("client-request-id", uuid::Uuid::new_v4().to_string());
                if let Some(p) = &payload {
                    r = r.header("Content-Type", "application/json").body(p.clone());
                }
                r
            })
            .await?;
            if (200..300).contains(&status) {
                return Ok((status, bytes));
            }
            let request_id = headers
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let error = GraphError::from_response(status, request_id, &bytes);
            if status == 401 {
                // A cached token the server no longer accepts (key rotated, revoked): once more.
                if self.tokens.can_renew() && !renewed {
                    self.tokens.invalidate().await;
                    renewed = true;
                    continue;
                }
                return Err(ClientError::Auth(error.to_string()));
            }
            return Err(ClientError::Api(error));
        }
    }

    pub async fn get_json(&self, path: &str) -> Result<Value, ClientError> {
        let (_, bytes) = self.call(Method::GET, &self.url(path), None).await?;
        parse_json(&bytes)
    }

    /// PATCH or POST with an optional body; an empty answer (200 without body, 204) is `None`.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, ClientError> {
        let (_, bytes) = self.call(method, &self.url(path), body).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        parse_json(&bytes).map(Some)
    }

    /// Follows `@odata.nextLink` from `first` until the end or `max` items, handing each page to
    /// `each` as it arrives; only two pages are ever held. Returns how many items were handed on.
    pub async fn for_each_page(
        &self,
        first: String,
        max: Option<usize>,
        mut each: impl FnMut(Vec<Box<RawValue>>) -> Result<(), ClientError>,
    ) -> Result<usize, ClientError> {
        let mut seen = 0usize;
        let mut current = self.fetch_page(first).await?;
        loop {
            let mut items = std::mem::take(&mut current.value);
            if let Some(m) = max {
                items.truncate(m.saturating_sub(seen));
            }
            seen += items.len();
            let more = max.is_none_or(|m| seen < m);
            let prefetch = match current.next_link.take() {
                Some(next) if more => {
                    self.check_same_origin(&next)?;
                    let me = self.clone();
                    Some(tokio::spawn(async move { me.fetch_page(next).await }))
                }
                _ => None,
            };
            each(items)?;
            match prefetch {
                Some(task) => {
                    current = task
                        .await
                        .map_err(|e| ClientError::other(format!("page fetch failed: {e}")))??;
                }
                None => return Ok(seen),
            }
        }
    }

    /// Every item of a collection as JSON (for views that sort or match on the whole set).
    pub async fn collect(
        &self,
        first: String,
        max: Option<usize>,
    ) -> Result<Vec<Value>, ClientError> {
        let mut all = Vec::new();
        self.for_each_page(first, max, |items| {
            for raw in items {
                all.push(parse_json(raw.get().as_bytes())?);
            }
            Ok(())
        })
        .await?;
        Ok(all)
    }

    async fn fetch_page(&self, url: String) -> Result<Page, ClientError> {
        let (_, bytes) = self.call(Method::GET, &url, None).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ClientError::other(format!(
                "unexpected list answer from {}: {e}",
                strip_query(&url)
            ))
        })
    }

    /// The bearer token goes only where the user pointed us: a nextLink elsewhere is refused.
    fn check_same_origin(&self, link: &str) -> Result<(), ClientError> {
        let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin());
        if origin(link).is_some() && origin(link) == origin(&self.root) {
            Ok(())
        } else {
            Err(ClientError::other(format!(
                "the server's @odata.nextLink points elsewhere ({}); not sending the token there",
                strip_query(link)
            )))
        }
    }
}

pub fn parse_json(bytes: &[u8]) -> Result<Value, ClientError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ClientError::other(format!("the answer is not JSON: {e}")))
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        for odd in ["soon", "1e30", "-1", "NaN"] {
            h.insert("retry-after", odd.parse().expect("header"));
            assert_eq!(retry_after(&h), None, "{odd}");
        }
    }

    #[test]
    fn query_values_are_escaped_but_unreserved_kept() {
        assert_eq!(encode("status eq 'open'"), "status%20eq%20%27open%27");
        assert_eq!(encode("a-b.c_d~"), "a-b.c_d~");
    }
}
