//! `GET /{version}/$metadata`: the CSDL (XML) of the identityContainer subset Picket serves,
//! cut from Microsoft's published metadata by `scripts/extract_metadata.py` (provenance in
//! `metadata/SOURCE.md`). Graph serves `$metadata` without a token, so does Picket; a method
//! other than GET (or HEAD) is 405 in Graph's error envelope.

use crate::context::{ApiVersion, RequestIds};
use crate::error::ApiError;
use crate::response::{graph_http, Envelope, GraphResponse};
use axum::body::Body;
use axum::http::{header, HeaderValue, Method};
use axum::response::Response;

const V1: &str = include_str!("../../metadata/v1.0.xml");
const BETA: &str = include_str!("../../metadata/beta.xml");

/// The CSDL document of a version.
pub fn document(version: ApiVersion) -> &'static str {
    match version {
        ApiVersion::V1 => V1,
        ApiVersion::Beta => BETA,
    }
}

/// Whether the path below the version root is `$metadata`: one segment, case-insensitive,
/// percent-decoded, empty segments counting for nothing (as for every Graph path).
pub fn is_metadata_path(rest: &str) -> bool {
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    match (segments.next(), segments.next()) {
        (Some(segment), None) => percent_encoding::percent_decode_str(segment)
            .decode_utf8_lossy()
            .eq_ignore_ascii_case("$metadata"),
        _ => false,
    }
}

/// The answer to `{method} /{version}/$metadata`, with Graph's standard headers.
pub fn respond(method: &Method, version: ApiVersion, ids: &RequestIds) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::MethodNotAllowed.respond(Envelope::Graph(ids));
    }
    let mut response = graph_http(GraphResponse::empty(200), ids);
    *response.body_mut() = bytes::Bytes::from_static(document(version).as_bytes());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response.map(Body::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_metadata_segment_is_metadata() {
        for yes in [
            "$metadata",
            "$METADATA",
            "/$metadata/",
            "%24metadata",
            "$Metadata//",
        ] {
            assert!(is_metadata_path(yes), "{yes}");
        }
        for no in [
            "",
            "$metadata/x",
            "metadata",
            "security/$metadata",
            "$metadata2",
        ] {
            assert!(!is_metadata_path(no), "{no}");
        }
    }

    #[test]
    fn each_version_has_its_document() {
        assert!(document(ApiVersion::V1).contains("<edmx:Edmx"));
        assert!(!document(ApiVersion::V1).contains("sensorMigration"));
        assert!(document(ApiVersion::Beta).contains("\"sensorMigration\""));
    }
}
