//! The HTTP layer: what a connection tells about a request (the peer's address, whether it
//! came over TLS, the base URL the client reached us on), and the HTTP layer's own refusals,
//! in the envelope of the endpoint family they were meant for.
//!
//! Three families share the listener: Graph (`/v1.0`, `/beta`, anything unrouted), the agent
//! and admin protocol (`/agent/…`, `/admin/…`; Graph's error shape too) and the token service
//! (`/{tenant}/oauth2/…`, `/{tenant}/discovery/…`, `/{tenant}/v2.0/…`; Entra's OAuth error
//! JSON). A refusal made before a handler runs (a malformed head, a URI or header block too
//! large, a body that cannot be read) must still reach a client in its family's shape.
//!
//! hyper answers a request head it cannot parse by itself (400, 414, 431) with an empty body
//! and closes the connection. [`RefusingIo`] sits between hyper and the socket, remembers the
//! start of the request being read, and replaces such an automatic answer with a complete one.

use crate::context::{ApiVersion, RequestIds};
use crate::error::ApiError;
use crate::response::Envelope;
use crate::state::AppState;
use axum::http::{self as http, HeaderMap, StatusCode};
use bytes::Bytes;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Which protocol's error envelope a path answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Graph,
    Agent,
    TokenService,
}

/// Graph's version trees come first: nothing under `/v1.0` or `/beta` is ever anything else.
pub(crate) fn family(path: &str) -> Family {
    let mut segments = path.trim_start_matches('/').split('/');
    let first = segments.next().unwrap_or_default();
    if ApiVersion::parse(first).is_some() {
        return Family::Graph;
    }
    if first == "agent" || first == "admin" {
        return Family::Agent;
    }
    match segments.next() {
        Some("oauth2" | "discovery" | "v2.0" | "devicelogin") => Family::TokenService,
        _ => Family::Graph,
    }
}

/// True when the first path segment is a Graph version (`v1.0`, `beta`, any case).
pub(crate) fn is_graph_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next();
    first.is_some_and(|s| ApiVersion::parse(s).is_some())
}

/// A refusal of the HTTP layer as the family of `path` words it (agent and admin paths, like
/// Graph's, in Graph's envelope).
pub(crate) fn refusal(path: &str, status: StatusCode, message: &str) -> http::Response<Bytes> {
    let error = ApiError::Refused {
        status: status.as_u16(),
        message: message.to_string(),
    };
    let ids = RequestIds::new(None);
    match family(path) {
        Family::Graph | Family::Agent => error.render(Envelope::Graph(&ids)),
        Family::TokenService => error.render(Envelope::OAuth(&ids)),
    }
}

/// A refusal the framework made (plain text or no body, 4xx or 5xx) put in the envelope of
/// `path`'s family; any other answer unchanged.
pub(crate) async fn in_envelope(
    path: &str,
    response: axum::response::Response,
) -> axum::response::Response {
    let status = response.status();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let framework_made = content_type.is_empty() || content_type.starts_with("text/plain");
    if !(status.is_client_error() || status.is_server_error()) || !framework_made {
        return response;
    }
    let (parts, body) = response.into_parts();
    // The framework's own words are short; keep them as the message.
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).trim().to_string();
    if message.is_empty() {
        message = status
            .canonical_reason()
            .unwrap_or("The request was refused")
            .to_string();
    }
    let mut answer = refusal(path, status, &message).map(axum::body::Body::from);
    for name in [http::header::RETRY_AFTER, http::header::ALLOW] {
        if let Some(v) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, v.clone());
        }
    }
    answer
}

/// Whether reading a body failed because it was over the limit (else it was malformed).
pub(crate) fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// A body that could not be read (bad chunked encoding, a connection cut mid-body).
pub(crate) fn unreadable_body() -> ApiError {
    ApiError::Refused {
        status: 400,
        message: "The request body could not be read (malformed chunked encoding or cut short)"
            .into(),
    }
}

/// The bytes of a complete HTTP/1.1 answer that closes the connection.
fn wire_bytes(response: http::Response<Bytes>) -> Vec<u8> {
    let (parts, body) = response.into_parts();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or("Error")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        if name == http::header::CONTENT_LENGTH || name == http::header::CONNECTION {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&body);
    out
}

/// The status and wording of an answer hyper makes by itself, if `head` is one. Handlers never
/// answer these statuses with an empty body, so an empty one is always hyper's.
fn automatic_refusal(head: &[u8]) -> Option<(StatusCode, &'static str)> {
    if !head.ends_with(b"\r\n\r\n") || !contains(head, b"\r\ncontent-length: 0\r\n") {
        return None;
    }
    match head.get(..13)? {
        b"HTTP/1.1 400 " => Some((
            StatusCode::BAD_REQUEST,
            "The request is not valid HTTP/1.1 (request line or header malformed)",
        )),
        b"HTTP/1.1 414 " => Some((
            StatusCode::URI_TOO_LONG,
            "The request URI is longer than 65,534 bytes",
        )),
        b"HTTP/1.1 431 " => Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "The request's header block is too large (at most 100 headers, about 400 KiB in all)",
        )),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The fault header that asks for the connection to be dropped, as it stands in an answer's
/// head (hyper writes header names in lower case).
const DROP_MARKER: &[u8] = b"\r\nx-picket-drop-connection: 1\r\n";

fn asks_to_drop(buf: &[u8]) -> bool {
    if !buf.starts_with(b"HTTP/1.") {
        return false;
    }
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(buf.len());
    buf[..(head_end + 2).min(buf.len())]
        .windows(DROP_MARKER.len())
        .any(|w| w.eq_ignore_ascii_case(DROP_MARKER))
}

/// How much of a request's start is kept: enough for the method and the path's first segments.
const KEPT: usize = 256;

/// A connection whose automatic refusals are rewritten into the right envelope.
pub struct RefusingIo<T> {
    inner: T,
    /// The first bytes of the request being read (for its path).
    request_start: Vec<u8>,
    /// Set when an answer was written: the next bytes read start a new request.
    answered: bool,
    /// A rewritten answer still being written.
    pending: Vec<u8>,
}

impl<T> RefusingIo<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            request_start: Vec::new(),
            answered: false,
            pending: Vec::new(),
        }
    }

    fn request_path(&self) -> String {
        let line = self.request_start.split(|b| *b == b'\n').next();
        let line = String::from_utf8_lossy(line.unwrap_or_default());
        line.split(' ').nth(1).unwrap_or("/").to_string()
    }
}

impl<T: AsyncWrite + Unpin> RefusingIo<T> {
    /// Writes what is left of a rewritten answer; Ready once it is all out.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = match Pin::new(&mut self.inner).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            self.pending.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for RefusingIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = &buf.filled()[before..];
        if !read.is_empty() {
            if this.answered {
                this.request_start.clear();
                this.answered = false;
            }
            let room = KEPT.saturating_sub(this.request_start.len());
            this.request_start
                .extend_from_slice(&read[..room.min(read.len())]);
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> RefusingIo<T> {
    /// What becomes of the write of `buf` (hyper starts an answer with its head): `None` lets
    /// it through to the socket, else the write's outcome.
    fn intercept(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<usize>>> {
        if let Poll::Ready(Err(e)) = self.drain(cx) {
            return Some(Poll::Ready(Err(e)));
        }
        if !self.pending.is_empty() {
            // `drain` registered the waker with the socket.
            return Some(Poll::Pending);
        }
        self.answered = true;
        if asks_to_drop(buf) {
            return Some(Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection dropped by a fault rule",
            ))));
        }
        let (status, message) = automatic_refusal(buf)?;
        let path = self.request_path();
        self.pending = wire_bytes(refusal(&path, status, message));
        // hyper's own bytes count as written; ours go out before anything else.
        Some(match self.drain(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(buf.len())),
        })
    }
}

/// Writes are not vectored (`is_write_vectored` stays false), so hyper copies an answer's head
/// and body into one buffer and writes it once: measured against passing `writev` through,
/// that was faster for Graph's answers, most of which are under a few KiB (bench/README).
impl<T: AsyncWrite + Unpin> AsyncWrite for RefusingIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(outcome) = this.intercept(cx, buf) {
            return outcome;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Marks a request that arrived over TLS (so links back to us use https).
#[derive(Debug, Clone, Copy)]
pub struct Https;

/// Scheme and host for links back to us: the configured public URL, else the request's own
/// scheme (https when it came through the TLS listener or a proxy says so) and Host header.
pub(crate) fn request_base(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &http::Extensions,
) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host =
        header_str(headers, "host").filter(|h| !h.is_empty() && !h.contains(['/', ' ', '?', '#']));
    let https = extensions.get::<Https>().is_some()
        || header_str(headers, "x-forwarded-proto") == Some("https");
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{}", host.unwrap_or("localhost"))
}

/// The peer's address, as handlers extract it (`ConnectInfo<PeerAddr>`) on both listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The source address of a request, when it came through one of our listeners.
pub(crate) fn source_ip(extensions: &http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<PeerAddr>>()
        .map(|c| c.0 .0.ip())
}

/// The plain-HTTP listener: accepted sockets wrapped in [`RefusingIo`].
pub struct EdgeListener(pub TcpListener);

impl axum::serve::Listener for EdgeListener {
    type Io = RefusingIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (RefusingIo::new(stream), addr);
                }
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, EdgeListener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, EdgeListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_path() {
        for (path, expected) in [
            ("/v1.0/security/identities/sensors", Family::Graph),
            ("/BETA/devicelogin", Family::Graph),
            ("/v1.0/oauth2/v2.0/token", Family::Graph),
            ("/agent/v1/enroll", Family::Agent),
            ("/admin/v1/clock/advance", Family::Agent),
            ("/contoso.com/oauth2/v2.0/token", Family::TokenService),
            ("/x/discovery/v2.0/keys", Family::TokenService),
            ("/unknown", Family::Graph),
            ("", Family::Graph),
        ] {
            assert_eq!(family(path), expected, "{path}");
        }
    }

    #[test]
    fn drop_marker_is_the_fault_header() {
        let marker = format!("\r\n{}: 1\r\n", crate::response::DROP_CONNECTION);
        assert_eq!(DROP_MARKER, marker.as_bytes());
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nX-Picket-Drop-Connection: 1\r\n\r\nok";
        assert!(asks_to_drop(head.as_bytes()));
        assert!(!asks_to_drop(
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
        ));
        // A body that merely mentions the header is not a head that carries it.
        assert!(!asks_to_drop(
            b"{\"x\": \"\r\nx-picket-drop-connection: 1\r\n\"}"
        ));
    }

    #[test]
    fn recognises_only_hypers_empty_refusals() {
        let head =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(
            automatic_refusal(head).map(|r| r.0),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 120\r\n\r\n";
        assert_eq!(automatic_refusal(ours), None);
        let ok = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_refusal(ok), None);
    }

    #[test]
    fn rewritten_answer_is_complete_http() {
        let bytes = wire_bytes(refusal("/v1.0/x", StatusCode::URI_TOO_LONG, "too long"));
        let text = String::from_utf8(bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "RequestUriTooLong");
        assert_eq!(json["error"]["message"], "too long");

        let oauth = wire_bytes(refusal(
            "/contoso.com/oauth2/v2.0/token",
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "big",
        ));
        let text = String::from_utf8(oauth).unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1;
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"], "invalid_request");
        assert!(json["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS90023: big"));
    }
}
