//! Per-request facts every handler needs: ids for headers and errors, the API version, the
//! base URL that `@odata.nextLink` and `@odata.context` are built on, and a Graph request as
//! dispatch, `$batch` and the audit log read it.

/// `v1.0` or `beta`: they differ only where the spec says (e.g. `serviceStatus`, spec §5 D7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    Beta,
}

impl ApiVersion {
    pub fn parse(segment: &str) -> Option<Self> {
        if segment.eq_ignore_ascii_case("v1.0") {
            Some(Self::V1)
        } else if segment.eq_ignore_ascii_case("beta") {
            Some(Self::Beta)
        } else {
            None
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1.0",
            Self::Beta => "beta",
        }
    }
    pub fn is_beta(self) -> bool {
        self == Self::Beta
    }
}

#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

impl RequestIds {
    /// A fresh request id; the client's `client-request-id` is echoed, or the request id reused.
    pub fn new(client_request_id: Option<&str>) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = client_request_id
            .filter(|v| !v.is_empty() && v.len() <= 200)
            .map(str::to_string)
            .unwrap_or_else(|| request_id.clone());
        Self {
            request_id,
            client_request_id,
        }
    }
}

impl RequestIds {
    /// The token service's ids, as Entra names them: the trace id (fresh) and the correlation
    /// id (the client's `client-request-id`, else the trace id).
    pub fn for_token_service(headers: &axum::http::HeaderMap) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_string)
            .unwrap_or_else(|| request_id.clone());
        Self {
            request_id,
            client_request_id,
        }
    }
}

/// A Graph request below a version root.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    pub method: String,
    pub version: ApiVersion,
    /// Path below the version root, without the leading `/`, still percent-encoded.
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: bytes::Bytes,
    pub ids: RequestIds,
    pub base_url: String,
}

/// Everything about one Graph request that is not its body.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub ids: RequestIds,
    pub version: ApiVersion,
    /// Scheme and authority clients reached us on, e.g. `http://127.0.0.1:8080` (spec §0:
    /// nextLinks must point back here, never at graph.microsoft.com).
    pub base_url: String,
    /// The path below the version root exactly as sent (for nextLinks).
    pub path: String,
}

impl RequestContext {
    pub fn version_root(&self) -> String {
        format!("{}/{}", self.base_url, self.version.as_str())
    }
    pub fn metadata(&self, fragment: &str) -> String {
        format!("{}/$metadata#{}", self.version_root(), fragment)
    }
}
