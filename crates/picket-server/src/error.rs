//! The one place errors become HTTP statuses and Graph error codes (spec §3.2).

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
            ApiError::Refused { status, .. } | ApiError::Injected { status, .. } => *status,
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
            ApiError::Injected { code, .. } => code,
            ApiError::Refused { status, .. } => match status {
                405 => "MethodNotAllowed",
                411 => "LengthRequired",
                413 => "RequestEntityTooLarge",
                414 => "RequestUriTooLong",
                431 => "RequestHeaderFieldsTooLarge",
                _ => "BadRequest",
            },
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

    /// The real service answers an unknown path segment with 400 (spec §7.5).
    pub fn not_found_segment(segment: &str) -> Self {
        ApiError::BadRequest(format!("Resource not found for the segment '{segment}'."))
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
