//! The load generator: N tasks, each on its own HTTP/1.1 keep-alive connection to 127.0.0.1,
//! sending requests back to back for a warm-up and then a measured window, recording each
//! request's latency in an HDR histogram. Also one connection's sequential requests
//! ([`Conn`], [`sample`]), for costs measured one request at a time.

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
    /// Per path (same index as `paths`): its own `Authorization`, in place of `auth`.
    pub auths: Option<Arc<Vec<HeaderValue>>>,
    /// A JSON body to PATCH with; GET when absent.
    pub patch: Option<Bytes>,
    /// Per path (same index as `paths`): a JSON body to POST, in place of GET or PATCH.
    pub posts: Option<Arc<Vec<Bytes>>>,
}

impl Target {
    /// GETs of `paths`, all with `auth`.
    pub fn get(addr: SocketAddr, paths: Vec<Uri>, auth: Option<HeaderValue>) -> Self {
        Self {
            addr,
            paths: Arc::new(paths),
            auth,
            auths: None,
            patch: None,
            posts: None,
        }
    }

    fn request(&self, index: usize, host: &HeaderValue) -> Result<Request<Full<Bytes>>> {
        let auth = match &self.auths {
            Some(auths) => auths.get(index),
            None => self.auth.as_ref(),
        };
        let body = match &self.posts {
            Some(bodies) => Some((
                hyper::Method::POST,
                bodies
                    .get(index)
                    .ok_or_else(|| anyhow!("no body for path {index}"))?,
            )),
            None => self.patch.as_ref().map(|b| (hyper::Method::PATCH, b)),
        };
        build(&self.paths[index], host, auth, body)
    }
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
    if let Some(auths) = &target.auths {
        ensure!(
            auths.len() == target.paths.len(),
            "one Authorization per path"
        );
    }
    if let Some(posts) = &target.posts {
        ensure!(posts.len() == target.paths.len(), "one body per path");
    }
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
        let index = rng.gen_range(0..target.paths.len());
        let uri = &target.paths[index];
        let request = target.request(index, &host)?;
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

/// A GET, or the method given with its JSON body.
fn build(
    uri: &Uri,
    host: &HeaderValue,
    auth: Option<&HeaderValue>,
    body: Option<(hyper::Method, &Bytes)>,
) -> Result<Request<Full<Bytes>>> {
    let mut request = Request::builder()
        .uri(uri.clone())
        .header(HOST, host.clone());
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth.clone());
    }
    let body = match body {
        Some((method, body)) => {
            request = request
                .method(method)
                .header(CONTENT_TYPE, "application/json");
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

/// One keep-alive connection to 127.0.0.1 for requests one at a time; reconnects after a
/// transport error.
pub struct Conn {
    addr: SocketAddr,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
}

/// One answer and how long it took, from sending the request to the body's last byte.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
    pub took: Duration,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Result<Self> {
        Ok(Self {
            addr,
            host: host_header(addr)?,
            sender: None,
        })
    }

    /// GET `uri`, or POST `body` to it.
    pub async fn send(
        &mut self,
        uri: &Uri,
        auth: Option<&HeaderValue>,
        body: Option<&Bytes>,
    ) -> Result<Answer> {
        if self.sender.is_none() {
            self.sender = Some(connect(self.addr).await?);
        }
        let conn = self
            .sender
            .as_mut()
            .ok_or_else(|| anyhow!("not connected"))?;
        let request = build(
            uri,
            &self.host,
            auth,
            body.map(|b| (hyper::Method::POST, b)),
        )?;
        let started = Instant::now();
        match exchange(conn, request).await {
            Ok((status, _, body)) => Ok(Answer {
                status,
                body,
                took: started.elapsed(),
            }),
            Err(e) => {
                self.sender = None;
                Err(e)
            }
        }
    }
}

/// Latencies of requests sent one at a time.
pub struct Sampled {
    /// 2xx answers, in microseconds.
    pub latency: Histogram<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Sampled {
    pub fn new() -> Result<Self> {
        Ok(Self {
            latency: histogram()?,
            errors: 0,
            first_error: None,
        })
    }

    /// Records a 2xx answer's latency; anything else is an error.
    pub fn record(&mut self, uri: &Uri, answer: Result<&Answer, &anyhow::Error>) {
        match answer {
            Ok(a) if a.status.is_success() => {
                let micros = u64::try_from(a.took.as_micros()).unwrap_or(MAX_LATENCY_US);
                self.latency.saturating_record(micros.max(1));
            }
            Ok(a) => self.error(format!(
                "{uri} answered {}: {}",
                a.status,
                String::from_utf8_lossy(&a.body[..a.body.len().min(200)])
            )),
            Err(e) => self.error(format!("{uri}: {e:#}")),
        }
    }

    pub fn error(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }

    pub fn count(&self) -> u64 {
        self.latency.len()
    }

    /// The median of the 2xx answers in milliseconds (`None` without any).
    pub fn p50_ms(&self) -> Option<f64> {
        (!self.latency.is_empty()).then(|| self.latency.value_at_quantile(0.50) as f64 / 1000.0)
    }
}

/// GETs one of `requests` (path, authorization) at random, one at a time on one connection,
/// until `max_requests` were sent or `max_time` has passed (checked before each request).
pub async fn sample(
    addr: SocketAddr,
    requests: &[(Uri, HeaderValue)],
    max_requests: u64,
    max_time: Duration,
    rng_seed: u64,
) -> Result<Sampled> {
    ensure!(!requests.is_empty(), "no requests to sample");
    let mut rng = StdRng::seed_from_u64(rng_seed);
    let mut conn = Conn::new(addr)?;
    let mut sampled = Sampled::new()?;
    let deadline = Instant::now() + max_time;
    for _ in 0..max_requests {
        if Instant::now() >= deadline {
            break;
        }
        let (uri, auth) = &requests[rng.gen_range(0..requests.len())];
        let answer = conn.send(uri, Some(auth), None).await;
        sampled.record(uri, answer.as_ref());
    }
    Ok(sampled)
}
