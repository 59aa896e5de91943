//! The operators' console at `/console/`: static files embedded in the binary (the folder
//! `crates/picket-server/console/`, see build.rs), served with a strict Content-Security-Policy,
//! the read endpoints the Graph API has no equivalent for (`api.rs`), and the code redemption
//! of a sign-in through an external provider the tenant trusts (`external.rs`). Everything else
//! the console shows or changes goes through the Graph API itself, with the signed-in user's
//! token, so the console can do exactly what the API allows that user and nothing more.

mod api;
mod external;

use crate::state::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// Scripts, styles, images and fetches from this origin only; no inline script or style, no
/// framing, no plugins, forms posting nowhere else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(index))
        .route("/console/views.js", get(views_module))
        .route("/console/api/config", get(api::config))
        .route("/console/api/token", post(external::token))
        .route("/console/api/session", get(api::session))
        .route("/console/api/overview", get(api::overview))
        .route("/console/api/audit", get(api::audit_log))
        .route("/console/{*file}", get(asset))
}

struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    etag: String,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The embedded files and the generated view list, by path under `/console/`.
fn assets() -> &'static HashMap<&'static str, Asset> {
    static MAP: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<&'static str, Asset> = ASSETS
            .iter()
            .map(|(path, bytes)| {
                let asset = Asset {
                    bytes,
                    content_type: content_type(path),
                    etag: etag(bytes),
                };
                (*path, asset)
            })
            .collect();
        let views: &'static [u8] = Box::leak(views_source().into_bytes().into_boxed_slice());
        map.insert(
            "views.js",
            Asset {
                bytes: views,
                content_type: content_type("views.js"),
                etag: etag(views),
            },
        );
        map
    })
}

/// A module importing every file of `views/`: each view registers itself by existing.
fn views_source() -> String {
    let mut names: Vec<&str> = ASSETS
        .iter()
        .map(|(path, _)| *path)
        .filter(|p| p.starts_with("views/") && p.ends_with(".js"))
        .collect();
    names.sort_unstable();
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        out.push_str(&format!("import * as v{i} from \"./{name}\";\n"));
    }
    let list: Vec<String> = (0..names.len()).map(|i| format!("v{i}")).collect();
    out.push_str(&format!("export default [{}];\n", list.join(", ")));
    out
}

/// Headers every console answer carries.
pub(crate) fn harden(headers: &mut HeaderMap) {
    let mut put = |name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    put("content-security-policy", CONTENT_SECURITY_POLICY);
    put("x-content-type-options", "nosniff");
    put("x-frame-options", "DENY");
    put("referrer-policy", "no-referrer");
    put("cross-origin-opener-policy", "same-origin");
}

fn serve(path: &str, request_headers: &HeaderMap) -> Response {
    let Some(asset) = assets().get(path) else {
        let mut r = (StatusCode::NOT_FOUND, "Not found").into_response();
        harden(r.headers_mut());
        return r;
    };
    let fresh = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == asset.etag);
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response()
    };
    let headers = r.headers_mut();
    harden(headers);
    // Revalidated on every load (cheap: a 304), so an upgraded server is seen at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&asset.etag) {
        headers.insert(header::ETAG, v);
    }
    r
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn views_module(headers: HeaderMap) -> Response {
    serve("views.js", &headers)
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&file, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_is_imported_by_the_generated_module() {
        let source = views_source();
        let views = ASSETS
            .iter()
            .filter(|(p, _)| p.starts_with("views/"))
            .count();
        assert!(views >= 8, "the console has its views");
        assert_eq!(source.matches("import * as").count(), views);
        assert!(assets().contains_key("index.html"));
    }
}
