//! The one error type of every endpoint family: Graph, the agent protocol and `/admin/v1`, and
//! the token service. A refusal is an [`ApiError`] wherever it is made; `response.rs` renders
//! it in the envelope of the family that answers (Graph's, the agent protocol's, Entra's OAuth
//! error JSON). Its status and Graph error code are decided here (spec §3.2), and so is its
//! wording in Entra's terms ([`ApiError::to_oauth`]).

use axum::http::StatusCode;
use picket_auth::AuthError;
use picket_domain::rules::RuleViolation;
use picket_odata::ODataError;
use picket_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(#[from] AuthError),
    #[error("{0}")]
    Forbidden(String),
    /// The token lacks the permission (or the user the role): the real service answers 403
    /// `UnknownError` with an empty message, and clients branch on exactly that (spec §7.5).
    /// The explanation travels in `innerError.message`, where no client branches.
    #[error("{0}")]
    MissingPermission(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Specified HTTP method is not allowed for the request target")]
    MethodNotAllowed,
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("Request body is larger than the 1 MiB limit")]
    PayloadTooLarge,
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("Please retry again later.")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Internal(String),
    /// A refusal of the HTTP layer itself (malformed head, URI or headers too large, a body
    /// that cannot be read), with its own status.
    #[error("{message}")]
    Refused { status: u16, message: String },
    /// An answer chosen by a fault rule (see `faults`), in the real service's words.
    #[error("injected fault: {status} {code}")]
    Injected {
        status: u16,
        code: &'static str,
        message: &'static str,
        retry_after: Option<u64>,
        /// Close the connection instead of answering (the HTTP layer does it).
        drop_connection: bool,
    },
    /// A refusal with a code of its own (the agent protocol's `InvalidAccessKey`,
    /// `InvalidCredential`, `PackageUnavailable`, a device code's `Conflict`, …).
    #[error("{message}")]
    Coded {
        status: u16,
        code: &'static str,
        message: String,
        /// Seconds for `Retry-After`.
        retry_after: Option<u64>,
    },
    /// A refusal of the token service in Entra's terms.
    #[error("{0}")]
    OAuth(OAuthError),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) | ApiError::MissingPermission(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::PayloadTooLarge => 413,
            ApiError::UnsupportedMediaType => 415,
            ApiError::Internal(_) => 500,
            ApiError::ServiceUnavailable(_) => 503,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Refused { status, .. }
            | ApiError::Injected { status, .. }
            | ApiError::Coded { status, .. } => *status,
            ApiError::OAuth(e) => e.status.as_u16(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Unauthorized(_) => "InvalidAuthenticationToken",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::MissingPermission(_) => "UnknownError",
            ApiError::NotFound(_) => "NotFound",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::PayloadTooLarge => "RequestEntityTooLarge",
            ApiError::UnsupportedMediaType => "UnsupportedMediaType",
            ApiError::Internal(_) => "InternalServerError",
            ApiError::ServiceUnavailable(_) => "ServiceUnavailable",
            ApiError::TooManyRequests { .. } => "TooManyRequests",
            ApiError::Injected { code, .. } | ApiError::Coded { code, .. } => code,
            ApiError::Refused { status, .. } => refusal_code(*status),
            ApiError::OAuth(e) => refusal_code(e.status.as_u16()),
        }
    }

    /// What the client is told. Internal details stay in the server log.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "An internal server error occurred".into(),
            ApiError::Injected { message, .. } => (*message).into(),
            ApiError::MissingPermission(_) => String::new(),
            ApiError::ServiceUnavailable(_) => {
                "The service is temporarily unavailable; retry later".into()
            }
            other => other.to_string(),
        }
    }

    /// The same refusal in Entra's terms, as the token service answers it: its own words for
    /// [`ApiError::OAuth`], a throttled or unavailable service as Entra says those, and any
    /// other refusal as `invalid_request` (AADSTS90023) with its status and message.
    pub fn to_oauth(&self) -> OAuthError {
        match self {
            ApiError::OAuth(e) => e.clone(),
            ApiError::TooManyRequests { retry_after_secs } => {
                OAuthError::throttled(*retry_after_secs)
            }
            ApiError::ServiceUnavailable(_) | ApiError::Internal(_) => OAuthError::unavailable(),
            other => OAuthError::invalid_request(90_023, &other.public_message()).with_status(
                StatusCode::from_u16(other.status()).unwrap_or(StatusCode::BAD_REQUEST),
            ),
        }
    }

    /// The real service answers an unknown path segment with 400 (spec §7.5).
    pub fn not_found_segment(segment: &str) -> Self {
        ApiError::BadRequest(format!("Resource not found for the segment '{segment}'."))
    }
}

/// Graph's code for a refusal known only by its status (the HTTP layer's own).
fn refusal_code(status: u16) -> &'static str {
    match status {
        405 => "MethodNotAllowed",
        411 => "LengthRequired",
        413 => "RequestEntityTooLarge",
        414 => "RequestUriTooLong",
        431 => "RequestHeaderFieldsTooLarge",
        _ => "BadRequest",
    }
}

/// Entra's OAuth error: `error` (`invalid_request`, `invalid_client`, …), the AADSTS number
/// and its description; rendered as `{"error", "error_description": "AADSTS…: …", "error_codes",
/// "timestamp", "trace_id", "correlation_id"}`.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub message: String,
    pub retry_after: Option<u64>,
    /// Close the connection instead of answering (a fault rule's `drop`).
    pub drop_connection: bool,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} AADSTS{}: {}", self.error, self.code, self.message)
    }
}

impl OAuthError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
            retry_after: None,
            drop_connection: false,
        }
    }
    pub fn invalid_request(code: u32, message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", code, message)
    }
    pub fn unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        );
        e.retry_after = Some(1);
        e
    }
    pub fn throttled(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            90055,
            "There are too many incoming requests. Please retry later.",
        );
        e.retry_after = Some(retry_after);
        e
    }
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        ApiError::OAuth(e)
    }
}

impl From<picket_domain::limits::OutOfBounds> for ApiError {
    fn from(e: picket_domain::limits::OutOfBounds) -> Self {
        ApiError::BadRequest(format!("Property {e}"))
    }
}

impl From<crate::throttle::Throttled> for ApiError {
    fn from(t: crate::throttle::Throttled) -> Self {
        ApiError::TooManyRequests {
            retry_after_secs: t.retry_after_secs,
        }
    }
}

impl From<ODataError> for ApiError {
    fn from(e: ODataError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<RuleViolation> for ApiError {
    fn from(e: RuleViolation) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rule(rule) => rule.into(),
            StoreError::UnknownCandidates(_) | StoreError::Conflict(_) | StoreError::Invalid(_) => {
                ApiError::BadRequest(e.to_string())
            }
            StoreError::Unavailable(m) | StoreError::SchemaBehind(m) => {
                ApiError::ServiceUnavailable(m)
            }
            StoreError::Internal(m) => ApiError::Internal(m),
        }
    }
}
