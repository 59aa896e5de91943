//! The comparison server (`picket-bench baseline-server`): a bare axum handler answering fixed
//! JSON bodies, captured from Picket so they are the same size, run in its own process.

use anyhow::{Context, Result};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use std::path::Path;

/// Path answering the body that stands for one sensor.
pub const ENTITY_PATH: &str = "/entity";
/// Path answering the body that stands for one page of the filtered list.
pub const LIST_PATH: &str = "/list";
/// The agent protocol's check-in route, same shape as Picket's, answering a fixed body:
/// `picket-agent simulate --baseline` drives it with the same client and bodies as Picket.
pub const CHECK_IN_PATH: &str = "/agent/v1/tenants/{tenant}/sensors/{sensor}/checkIn";

pub async fn serve(
    entity: &Path,
    list: &Path,
    check_in: Option<&Path>,
    content_type: &str,
) -> Result<()> {
    let read = |path: &Path| -> Result<Bytes> {
        std::fs::read(path)
            .map(Bytes::from)
            .with_context(|| format!("cannot read {}", path.display()))
    };
    let (entity, list) = (read(entity)?, read(list)?);
    let check_in = match check_in {
        Some(path) => read(path)?,
        None => entity.clone(),
    };
    let content_type = HeaderValue::from_str(content_type).context("bad --content-type")?;
    let answer = move |body: Bytes| {
        let content_type = content_type.clone();
        move || {
            let (content_type, body) = (content_type.clone(), body.clone());
            async move { ([(CONTENT_TYPE, content_type)], body) }
        }
    };
    let app = Router::new()
        .route(ENTITY_PATH, get(answer.clone()(entity)))
        .route(LIST_PATH, get(answer.clone()(list)))
        // The body is read in full, as Picket's handler does, before the fixed answer.
        .route(
            CHECK_IN_PATH,
            post({
                let reply = answer(check_in);
                move |_body: Bytes| reply()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1")?;
    println!("Baseline listening on http://{}", listener.local_addr()?);
    // The bench holds our stdin; when it goes away (even killed), so do we.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    axum::serve(listener, app)
        .await
        .context("baseline server failed")
}
