//! Many simulated sensors in one process: mixed types and domains, a share of them failing
//! their updates, all enrolled with the access key, then checking in. With `--interval 0`
//! they check in back to back on `--concurrency` connections (the check-in benchmark), and
//! the run prints check-ins/s and latency percentiles.

use crate::protocol::{next_update, CallError, Client, Command, Identity, Report, UpdateStep};
use anyhow::{bail, Result};
use hdrhistogram::Histogram;
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    endpoint: crate::EndpointArg,
    #[arg(long, env = "PICKET_TENANT")]
    tenant: String,
    #[arg(long, env = "PICKET_ACCESS_KEY")]
    access_key: String,
    /// Simulated sensors.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    sensors: u32,
    /// Domains the sensors spread over.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    domains: u32,
    /// Share of updates that fail (0.0–1.0).
    #[arg(long, default_value_t = 0.1)]
    failure_rate: f64,
    /// Seconds between one sensor's check-ins; 0 = back to back (load).
    #[arg(long, default_value_t = 60.0)]
    interval: f64,
    /// How long to run after enrolment, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    duration: u64,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,
    /// Name prefix of the simulated computers.
    #[arg(long, default_value = "sim")]
    prefix: String,
    /// Before the measured run, check every sensor in twice (unmeasured, but the rates are
    /// printed): the first check-in after enrolment and the acknowledgement of its settings do
    /// more work than the steady state.
    #[arg(long)]
    first_round: bool,
    /// Before the run, drive a bare handler at this URL (`picket-bench baseline-server`) the
    /// same way for the same time, and print the throughput ratio.
    #[arg(long)]
    baseline: Option<String>,
}

const TYPES: [&str; 4] = [
    "domainControllerIntegrated",
    "domainControllerIntegrated",
    "adfsIntegrated",
    "adcsIntegrated",
];

#[derive(Clone)]
struct Sim {
    id: Identity,
    report: Report,
    fails_updates: bool,
}

#[derive(Default)]
struct Stats {
    ok: AtomicU64,
    errors: AtomicU64,
    updates: AtomicU64,
    stops: AtomicU64,
}

pub async fn simulate(args: SimulateArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.failure_rate) || args.interval < 0.0 {
        bail!("--failure-rate must be within 0..1 and --interval at least 0");
    }
    let client = Client::new(&args.endpoint.url(), None)?;
    let n = args.sensors as usize;
    let started = Instant::now();
    let sims = enroll_all(&client, &args).await?;
    let enroll_secs = started.elapsed().as_secs_f64();
    println!(
        "enrolled {} sensors in {:.2} s ({:.0}/s)",
        sims.len(),
        enroll_secs,
        n as f64 / enroll_secs.max(1e-9)
    );

    let shared = |sims: Vec<Sim>| -> Vec<Arc<tokio::sync::Mutex<Sim>>> {
        sims.into_iter()
            .map(|s| Arc::new(tokio::sync::Mutex::new(s)))
            .collect()
    };
    let duration = Duration::from_secs(args.duration);
    // Twice: the first check-in after enrolment, then the one acknowledging its settings.
    let sims = if args.first_round {
        let sims = first_round(&client, sims, &args).await?;
        first_round(&client, sims, &args).await?
    } else {
        sims
    };
    let (run, baseline) = match &args.baseline {
        // The same client, bodies, credentials and concurrency against a bare handler, in
        // alternating slices of the window, so both see the same machine (it is shared and
        // noisy) and the ratio compares only the servers' own work.
        Some(url) => {
            let (base_client, base_sims, sims) =
                (client.with_server(url), shared(sims.clone()), shared(sims));
            let slice = duration / BASELINE_SLICES;
            let (mut base, mut run) = (Run::empty()?, Run::empty()?);
            for _ in 0..BASELINE_SLICES {
                base.add(drive(&base_client, base_sims.clone(), &args, slice).await?)?;
                run.add(drive(&client, sims.clone(), &args, slice).await?)?;
            }
            println!("baseline {}", base.summary());
            (run, Some(base))
        }
        None => (drive(&client, shared(sims), &args, duration).await?, None),
    };
    println!("{}", run.summary());
    if let Some(base) = baseline {
        println!(
            "check-in throughput = {:.2} x the bare handler's ({:.0}/s vs {:.0}/s, same client)",
            run.rate() / base.rate().max(1e-9),
            run.rate(),
            base.rate()
        );
    }
    Ok(())
}

/// Every sensor checks in once, on `--concurrency` tasks; the answers are applied.
async fn first_round(client: &Client, sims: Vec<Sim>, args: &SimulateArgs) -> Result<Vec<Sim>> {
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
    let stats = Arc::new(Stats::default());
    let mut tasks = Vec::with_capacity(sims.len());
    for mut sim in sims {
        let permit = semaphore.clone().acquire_owned().await?;
        let (client, stats) = (client.clone(), stats.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let answer = client.check_in(&sim.id, &sim.report).await;
            match answer {
                Ok(a) => {
                    apply(&mut sim, &a.command, a.desired_settings_version, &stats);
                    sent_once(&mut sim.report);
                }
                Err(_) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            sim
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "first check-ins: {} in {secs:.2} s = {:.0}/s; errors {}",
        out.len(),
        out.len() as f64 / secs.max(1e-9),
        stats.errors.load(Ordering::Relaxed)
    );
    Ok(out)
}

/// After an accepted check-in: what an agent reports once (its adapters, its directory) is
/// not sent again until it changes, as `picket-agent run` does.
fn sent_once(report: &mut Report) {
    report.network_adapters = None;
    report.directory_accounts = None;
}

/// What one load run measured.
struct Run {
    stats: Stats,
    latency: Histogram<u64>,
    secs: f64,
}

/// With `--baseline`, the window is cut into this many slices, alternating bare handler and Picket.
const BASELINE_SLICES: u32 = 5;

impl Run {
    fn empty() -> Result<Self> {
        Ok(Self {
            stats: Stats::default(),
            latency: Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?,
            secs: 0.0,
        })
    }

    fn add(&mut self, other: Run) -> Result<()> {
        for (mine, theirs) in [
            (&self.stats.ok, &other.stats.ok),
            (&self.stats.errors, &other.stats.errors),
            (&self.stats.updates, &other.stats.updates),
            (&self.stats.stops, &other.stats.stops),
        ] {
            mine.fetch_add(theirs.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.latency.add(&other.latency)?;
        self.secs += other.secs;
        Ok(())
    }

    fn rate(&self) -> f64 {
        self.stats.ok.load(Ordering::Relaxed) as f64 / self.secs.max(1e-9)
    }

    fn summary(&self) -> String {
        let h = &self.latency;
        format!(
            "check-ins: {} in {:.2} s = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms; errors {}; updates started {}; stopped {}",
            self.stats.ok.load(Ordering::Relaxed),
            self.secs,
            self.rate(),
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            self.stats.errors.load(Ordering::Relaxed),
            self.stats.updates.load(Ordering::Relaxed),
            self.stats.stops.load(Ordering::Relaxed),
        )
    }
}

/// Checks the sensors in for `duration`, on at most `--concurrency` tasks.
async fn drive(
    client: &Client,
    sims: Vec<Arc<tokio::sync::Mutex<Sim>>>,
    args: &SimulateArgs,
    duration: Duration,
) -> Result<Run> {
    let stats = Arc::new(Stats::default());
    let latency = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let deadline = Instant::now() + duration;
    let workers = (args.concurrency as usize).min(sims.len()).max(1);
    let measured = Instant::now();
    let mut tasks = Vec::with_capacity(workers);
    for w in 0..workers {
        // Worker w drives sensors w, w + workers, …
        let mine: Vec<_> = sims.iter().skip(w).step_by(workers).cloned().collect();
        let (client, stats, latency) = (client.clone(), stats.clone(), latency.clone());
        let interval = args.interval;
        tasks.push(tokio::spawn(async move {
            let mut local = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).ok();
            let per_round = if interval > 0.0 {
                Duration::from_secs_f64(interval / mine.len().max(1) as f64)
            } else {
                Duration::ZERO
            };
            'outer: loop {
                for sim in &mine {
                    if Instant::now() >= deadline {
                        break 'outer;
                    }
                    let mut sim = sim.lock().await;
                    let t0 = Instant::now();
                    match client.check_in(&sim.id, &sim.report).await {
                        Ok(answer) => {
                            stats.ok.fetch_add(1, Ordering::Relaxed);
                            if let Some(h) = local.as_mut() {
                                let _ = h.record(t0.elapsed().as_micros() as u64);
                            }
                            apply(
                                &mut sim,
                                &answer.command,
                                answer.desired_settings_version,
                                &stats,
                            );
                            sent_once(&mut sim.report);
                            let computer = sim.id.sensor_id.clone();
                            crate::protocol::exchange_account_actions(
                                &mut sim.report,
                                &answer.account_actions,
                                &computer,
                            );
                        }
                        Err(_) => {
                            stats.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    drop(sim);
                    if !per_round.is_zero() {
                        tokio::time::sleep(per_round).await;
                    }
                }
            }
            if let (Some(h), Ok(mut all)) = (local, latency.lock()) {
                let _ = all.add(&h);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = measured.elapsed().as_secs_f64();
    let latency = latency
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|p| p.into_inner().clone());
    let stats = Arc::try_unwrap(stats).unwrap_or_else(|shared| Stats {
        ok: AtomicU64::new(shared.ok.load(Ordering::Relaxed)),
        errors: AtomicU64::new(shared.errors.load(Ordering::Relaxed)),
        updates: AtomicU64::new(shared.updates.load(Ordering::Relaxed)),
        stops: AtomicU64::new(shared.stops.load(Ordering::Relaxed)),
    });
    Ok(Run {
        stats,
        latency,
        secs,
    })
}

fn apply(sim: &mut Sim, command: &Command, desired: u64, stats: &Stats) {
    sim.report.applied_settings_version = desired;
    let updating = sim
        .report
        .update
        .as_ref()
        .and_then(|u| u.in_progress_target())
        .is_some();
    if let UpdateStep::Started(_) = next_update(&mut sim.report, command, sim.fails_updates) {
        stats.updates.fetch_add(1, Ordering::Relaxed);
    }
    if let (false, Command::Migrate { version }) = (updating, command) {
        // The classic service stops, the unified one starts: the next check-in says so.
        sim.report.version = version.clone();
    }
    if *command == Command::Stop {
        stats.stops.fetch_add(1, Ordering::Relaxed);
    }
}

async fn enroll_all(client: &Client, args: &SimulateArgs) -> Result<Vec<Sim>> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
    let mut tasks = Vec::with_capacity(args.sensors as usize);
    for i in 0..args.sensors {
        let permit = semaphore.clone().acquire_owned().await?;
        let client = client.clone();
        let (tenant, key) = (args.tenant.clone(), args.access_key.clone());
        let computer = format!("{}{i:06}.domain{}.sim.test", args.prefix, i % args.domains);
        let sensor_type = TYPES[i as usize % TYPES.len()];
        let domain = computer.split_once('.').map_or("", |(_, d)| d).to_string();
        let reads_directory = i < args.domains && sensor_type == "domainControllerIntegrated";
        let fails = rand::thread_rng().gen_bool(args.failure_rate);
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let mut attempt = 0;
            loop {
                match client
                    .enroll(&tenant, &key, &computer, sensor_type, "2.239.18124.58593")
                    .await
                {
                    Ok(id) => {
                        return Ok(Sim {
                            id,
                            report: Report {
                                network_adapters: Some(crate::protocol::host_adapters()),
                                // The first sensor of each domain reads its directory.
                                directory_accounts: reads_directory
                                    .then(|| crate::protocol::directory(&domain, 40)),
                                ..Report::running("2.239.18124.58593")
                            },
                            fails_updates: fails,
                        });
                    }
                    Err(CallError::Refused { status, message }) => {
                        return Err(anyhow::anyhow!("enrolment refused ({status}): {message}"))
                    }
                    Err(CallError::Unreachable(_) | CallError::Malformed { .. }) if attempt < 5 => {
                        attempt += 1;
                        tokio::time::sleep(crate::protocol::backoff(attempt)).await;
                    }
                    Err(e) => return Err(anyhow::anyhow!("enrolment failed: {e}")),
                }
            }
        }));
    }
    let mut sims = Vec::with_capacity(tasks.len());
    for t in tasks {
        sims.push(t.await??);
    }
    Ok(sims)
}
