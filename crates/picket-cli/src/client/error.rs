//! What can go wrong in a client command, and the exit code each kind maps to, so scripts can
//! tell a typo (2) from a refused sign-in (3) from an API answer (1).

use std::fmt;

/// Exit codes are part of the interface: scripts branch on them.
pub const EXIT_OK: i32 = 0;
pub const EXIT_API: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_AUTH: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The command line (or profile) asks for something that cannot work.
    #[error("{0}")]
    Usage(String),
    /// No token could be had: bad credentials, unknown app or tenant, or a 401 from the API.
    #[error("sign-in failed: {0}")]
    Auth(String),
    /// The API answered with an error.
    #[error("{0}")]
    Api(GraphError),
    /// The request did not get an answer.
    #[error("cannot reach {url}: {reason}")]
    Transport { url: String, reason: String },
    /// Anything else that stops the command (files, unexpected bodies).
    #[error("{0}")]
    Other(String),
    /// Whoever read our output stopped reading (`| head`): not a failure.
    #[error("output closed")]
    OutputClosed,
}

impl ClientError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::OutputClosed => EXIT_OK,
            ClientError::Usage(_) => EXIT_USAGE,
            ClientError::Auth(_) => EXIT_AUTH,
            ClientError::Api(_) | ClientError::Transport { .. } | ClientError::Other(_) => EXIT_API,
        }
    }

    pub fn usage(text: impl Into<String>) -> Self {
        ClientError::Usage(text.into())
    }

    pub fn other(text: impl Into<String>) -> Self {
        ClientError::Other(text.into())
    }

    /// A transport error without the URL's query (which can be long) in the message.
    pub fn transport(url: &str, error: &reqwest::Error) -> Self {
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(s) = source {
            reason = format!("{reason}: {s}");
            source = s.source();
        }
        ClientError::Transport {
            url: url.split('?').next().unwrap_or(url).to_string(),
            reason,
        }
    }
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return ClientError::OutputClosed;
        }
        ClientError::Other(e.to_string())
    }
}

/// One Graph error answer, reduced to what an operator needs on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl GraphError {
    /// Reads Graph's `{"error": {code, message, innerError}}` envelope (spec §3.2; `innererror`
    /// is accepted too); falls back to the status line when the body is not that envelope.
    pub fn from_response(status: u16, header_request_id: Option<String>, body: &[u8]) -> Self {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let text = |key: &str| {
            error
                .and_then(|e| e.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let inner = error.and_then(|e| e.get("innerError").or_else(|| e.get("innererror")));
        let inner_id = inner
            .and_then(|i| i.get("request-id"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let fallback = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(200)
            .collect::<String>();
        // The real service answers a missing permission with an empty message (spec §7.5);
        // Picket says why in innerError.message.
        let inner_message = inner
            .and_then(|i| i.get("message"))
            .and_then(|v| v.as_str())
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        let message = match text("message") {
            Some(m) if !m.is_empty() => m,
            Some(_) => inner_message.unwrap_or_else(|| {
                "(no message: the token may lack the permission this call needs)".into()
            }),
            None => fallback,
        };
        GraphError {
            status,
            code: text("code").unwrap_or_else(|| reason_phrase(status).to_string()),
            message,
            request_id: header_request_id.or(inner_id),
        }
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request-id {id})")?;
        }
        Ok(())
    }
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_errors_read_the_envelope_and_prefer_the_header_id() {
        let body = br#"{"error":{"code":"NotFound","message":"No sensor 'x'","innerError":{"request-id":"inner-1"}}}"#;
        let e = GraphError::from_response(404, None, body);
        assert_eq!(
            e.to_string(),
            "404 NotFound: No sensor 'x' (request-id inner-1)"
        );
        let e = GraphError::from_response(404, Some("hdr-2".into()), body);
        assert_eq!(e.request_id.as_deref(), Some("hdr-2"));
        let e = GraphError::from_response(502, None, b"bad gateway");
        assert_eq!(e.to_string(), "502 Bad Gateway: bad gateway");
        let lower =
            br#"{"error":{"code":"Forbidden","message":"m","innererror":{"request-id":"r"}}}"#;
        assert_eq!(
            GraphError::from_response(403, None, lower)
                .request_id
                .as_deref(),
            Some("r")
        );
    }
}
