//! What a Graph operation answers, independent of whether it travels as an HTTP response or
//! inside a `$batch` reply, and the Graph error envelope (spec §3.2).

use crate::error::ApiError;
use serde_json::{json, Value};

/// Graph's JSON content type (spec §3.1); the SDKs accept it as JSON.
pub const JSON_CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    /// JSON already serialized (entity and collection reads).
    Raw(bytes::Bytes),
    /// `$count` segments answer a bare integer as text/plain (spec §0).
    Text(String),
    Empty,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GraphResponse {
    pub status: u16,
    pub body: Body,
    /// Extra headers such as `WWW-Authenticate`.
    pub headers: Vec<(&'static str, String)>,
}

impl GraphResponse {
    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            body: Body::Json(value),
            headers: Vec::new(),
        }
    }
    /// Serializes a view straight to bytes.
    pub fn serialized(status: u16, value: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => Self {
                status,
                body: Body::Raw(bytes.into()),
                headers: Vec::new(),
            },
            Err(e) => Self::json(
                500,
                json!({"error": {"code": "InternalServerError", "message": e.to_string()}}),
            ),
        }
    }
    pub fn text(value: String) -> Self {
        Self {
            status: 200,
            body: Body::Text(value),
            headers: Vec::new(),
        }
    }
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            body: Body::Empty,
            headers: Vec::new(),
        }
    }

    /// The Graph error envelope; `date` is UTC without fraction or zone (spec §3.2).
    pub fn error(err: &ApiError, request_id: &str, client_request_id: &str) -> Self {
        let date = picket_domain::time::format_error_date(&chrono::Utc::now());
        let body = json!({
            "error": {
                "code": err.code(),
                "message": err.public_message(),
                "innerError": {
                    "date": date,
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        });
        let mut body = body;
        if let ApiError::MissingPermission(why) = err {
            body["error"]["innerError"]["message"] = json!(why);
        }
        let mut response = Self::json(err.status(), body);
        if let ApiError::Unauthorized(_) = err {
            response.headers.push((
                "WWW-Authenticate",
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"invalid_token\"".into(),
            ));
        }
        if let ApiError::ServiceUnavailable(_) = err {
            response.headers.push(("Retry-After", "5".into()));
        }
        if let ApiError::Injected {
            retry_after,
            drop_connection,
            ..
        } = err
        {
            if let Some(secs) = retry_after {
                response.headers.push(("Retry-After", secs.to_string()));
            }
            if *drop_connection {
                response
                    .headers
                    .push((crate::edge::DROP_CONNECTION, "1".into()));
            }
        }
        if let ApiError::TooManyRequests { retry_after_secs } = err {
            // Graph's throttling body carries these beside date and request-id (spec §3.7).
            if let Body::Json(v) = &mut response.body {
                let inner = &mut v["error"]["innerError"];
                inner["code"] = json!("429");
                inner["message"] = json!("Please retry after");
                inner["status"] = json!("429");
            }
            response
                .headers
                .push(("Retry-After", retry_after_secs.to_string()));
        }
        response
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl GraphResponse {
    /// Re-labels an error response (used for `$batch`'s 424).
    pub fn with_status(mut self, status: u16, code: &str) -> Self {
        self.status = status;
        if let Body::Json(Value::Object(map)) = &mut self.body {
            if let Some(Value::Object(err)) = map.get_mut("error") {
                err.insert("code".into(), Value::String(code.into()));
            }
        }
        self
    }
}
