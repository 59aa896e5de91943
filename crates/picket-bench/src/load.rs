//! The load generator: N tasks, each on its own HTTP/1.1 keep-alive connection to 127.0.0.1,
//! sending requests back to back for a warm-up and then a measured window, recording each
//! request's latency in an HDR histogram.

use crate::procs;
use anyhow::{anyhow, ensure, Context, Result};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// One request may take this long before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Latencies are recorded in microseconds, from 1 µs to 60 s, to three significant digits.
const MAX_LATENCY_US: u64 = 60_000_000;

/// What to hit: requests pick one of `paths` at random.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub paths: Arc<Vec<Uri>>,
    pub auth: Option<HeaderValue>,
    /// A JSON body to PATCH with; GET when absent.
    pub patch: Option<Bytes>,
}

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

pub struct Outcome {
    /// Requests that started inside the measured window and got an answer of any status.
    pub requests: u64,
    /// Non-2xx answers, transport errors and timeouts over warm-up and window alike.
    pub errors: u64,
    pub first_error: Option<String>,
    /// From the window's start to the last measured answer.
    pub window: Duration,
    /// Latency of the measured 2xx answers, in microseconds.
    pub latency: Histogram<u64>,
    /// Cores the server process used during the window (CPU seconds / wall seconds).
    pub server_cpu: Option<f64>,
    /// Cores this process (the load generator) used during the window.
    pub generator_cpu: Option<f64>,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64().max(1e-9)
    }
    pub fn p50_ms(&self) -> f64 {
        self.latency.value_at_quantile(0.50) as f64 / 1000.0
    }
    pub fn p99_ms(&self) -> f64 {
        self.latency.value_at_quantile(0.99) as f64 / 1000.0
    }
}

fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
        .map_err(|e| anyhow!("cannot create a histogram: {e:?}"))
}

/// Runs the plan against the target; `server_pid`, when given, is sampled for CPU use during
/// the window. `on_window` runs once, as the measured window opens.
pub async fn run(
    target: &Target,
    plan: Plan,
    server_pid: Option<u32>,
    rng_seed: u64,
    on_window: impl FnOnce(),
) -> Result<Outcome> {
    ensure!(!target.paths.is_empty(), "no request paths");
    let start = Instant::now();
    let window_start = start + plan.warmup;
    let end = window_start + plan.duration;
    let workers: Vec<_> = (0..plan.connections)
        .map(|n| {
            tokio::spawn(worker(
                target.clone(),
                window_start,
                end,
                rng_seed.wrapping_add(n as u64),
            ))
        })
        .collect();

    tokio::time::sleep_until(window_start.into()).await;
    on_window();
    let cpu_before = cpu_pair(server_pid);
    tokio::time::sleep_until(end.into()).await;
    let cpu_after = cpu_pair(server_pid);
    let wall = end.saturating_duration_since(window_start).as_secs_f64();
    let used = |before: Option<f64>, after: Option<f64>| Some((after? - before?) / wall);

    let mut outcome = Outcome {
        requests: 0,
        errors: 0,
        first_error: None,
        window: plan.duration,
        latency: histogram()?,
        server_cpu: used(cpu_before.0, cpu_after.0),
        generator_cpu: used(cpu_before.1, cpu_after.1),
    };
    let mut last_answer = window_start;
    for handle in workers {
        let w = handle.await.context("a load task panicked")??;
        outcome.requests += w.requests;
        outcome.errors += w.errors;
        outcome.first_error = outcome.first_error.or(w.first_error);
        outcome
            .latency
            .add(&w.latency)
            .map_err(|e| anyhow!("cannot merge histograms: {e:?}"))?;
        last_answer = last_answer.max(w.last_answer);
    }
    if last_answer > window_start {
        outcome.window = last_answer - window_start;
    }
    Ok(outcome)
}

fn cpu_pair(server_pid: Option<u32>) -> (Option<f64>, Option<f64>) {
    (
        server_pid.and_then(|pid| procs::cpu_seconds(pid).ok()),
        procs::cpu_seconds(std::process::id()).ok(),
    )
}

struct WorkerResult {
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    last_answer: Instant,
    latency: Histogram<u64>,
}

fn fail(result: &mut WorkerResult, error: String) {
    result.errors += 1;
    result.first_error.get_or_insert(error);
}

/// One connection's closed loop; reconnects after a transport error until `end`.
async fn worker(
    target: Target,
    window_start: Instant,
    end: Instant,
    rng_seed: u64,
) -> Result<WorkerResult> {
    let mut rng = StdRng::seed_from_u64(rng_seed);
    let host = host_header(target.addr)?;
    let mut result = WorkerResult {
        requests: 0,
        errors: 0,
        first_error: None,
        last_answer: window_start,
        latency: histogram()?,
    };
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    while Instant::now() < end {
        if sender.is_none() {
            match connect(target.addr).await {
                Ok(conn) => sender = Some(conn),
                Err(e) => {
                    fail(&mut result, format!("connect: {e:#}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        let Some(conn) = sender.as_mut() else {
            continue;
        };
        let uri = &target.paths[rng.gen_range(0..target.paths.len())];
        let request = build(uri, &host, target.auth.as_ref(), target.patch.as_ref())?;
        let started = Instant::now();
        let answer = exchange(conn, request).await;
        let done = Instant::now();
        let measured = started >= window_start;
        match answer {
            Ok((status, _, _)) => {
                if measured {
                    result.requests += 1;
                    result.last_answer = done;
                }
                if !status.is_success() {
                    fail(&mut result, format!("{uri} answered {status}"));
                } else if measured {
                    let micros =
                        u64::try_from((done - started).as_micros()).unwrap_or(MAX_LATENCY_US);
                    result.latency.saturating_record(micros.max(1));
                }
            }
            Err(e) => {
                sender = None;
                fail(&mut result, format!("{uri}: {e:#}"));
            }
        }
    }
    Ok(result)
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // Drives the connection; ends when the sender is dropped or the peer closes.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

fn host_header(addr: SocketAddr) -> Result<HeaderValue> {
    Ok(HeaderValue::from_str(&addr.to_string())?)
}

fn build(
    uri: &Uri,
    host: &HeaderValue,
    auth: Option<&HeaderValue>,
    patch: Option<&Bytes>,
) -> Result<Request<Full<Bytes>>> {
    let method = if patch.is_some() {
        hyper::Method::PATCH
    } else {
        hyper::Method::GET
    };
    let mut request = Request::builder()
        .method(method)
        .uri(uri.clone())
        .header(HOST, host.clone());
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth.clone());
    }
    let body = match patch {
        Some(body) => {
            request = request.header(CONTENT_TYPE, "application/json");
            Full::new(body.clone())
        }
        None => Full::new(Bytes::new()),
    };
    Ok(request.body(body)?)
}

/// Sends one request and reads the whole body.
async fn exchange(
    conn: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, HeaderMap, Bytes)> {
    let answer = async {
        conn.ready().await?;
        let (parts, body) = conn.send_request(request).await?.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok::<_, anyhow::Error>((parts.status, parts.headers, body))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, answer)
        .await
        .map_err(|_| anyhow!("no answer within {REQUEST_TIMEOUT:?}"))?
}

/// One request on a fresh connection: (status, content type, body).
pub async fn fetch(
    addr: SocketAddr,
    uri: &Uri,
    auth: Option<&HeaderValue>,
) -> Result<(StatusCode, String, Bytes)> {
    let mut conn = connect(addr).await?;
    let request = build(uri, &host_header(addr)?, auth, None)?;
    let (status, headers, body) = exchange(&mut conn, request).await?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    Ok((status, content_type, body))
}
