//! The printed result: one table row per scenario, the server's memory, and verdicts against
//! the targets of the performance requirement (informational: a miss is reported, not fatal).

use crate::load::Outcome;
use crate::procs::Memory;

/// (a) Picket's get-by-id throughput as a share of the bare handler's.
const TARGET_A_RATIO: f64 = 0.6;
const TARGET_A_P99_MS: f64 = 5.0;
const TARGET_B_P50_MS: f64 = 10.0;
const TARGET_RSS_MB: f64 = 300.0;
/// The sensor count the memory target is stated for.
const TARGET_SENSORS: usize = 100_000;

pub struct Row {
    pub name: &'static str,
    pub what: String,
    pub body_bytes: usize,
    pub outcome: Outcome,
    /// Index of the baseline row this one is compared with.
    pub baseline: Option<usize>,
}

impl Row {
    fn ratio(&self, rows: &[Row]) -> Option<f64> {
        let base = rows.get(self.baseline?)?;
        Some(self.outcome.rate() / base.outcome.rate().max(1e-9))
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn cores(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

pub fn print(rows: &[Row], sensors: usize, idle: Memory, loaded: Memory) {
    println!();
    println!(
        "{:<16} {:>7} {:>9} {:>6} {:>10} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "scenario",
        "body B",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p99 ms",
        "vs bare",
        "srv cores",
        "gen cores"
    );
    for row in rows {
        let o = &row.outcome;
        let ratio = row
            .ratio(rows)
            .map_or_else(|| "-".into(), |r| format!("{r:.2}"));
        println!(
            "{:<16} {:>7} {:>9} {:>6} {:>10.0} {:>8.2} {:>8.2} {:>8} {:>9} {:>9}",
            row.name,
            row.body_bytes,
            o.requests,
            o.errors,
            o.rate(),
            o.p50_ms(),
            o.p99_ms(),
            ratio,
            cores(o.server_cpu),
            cores(o.generator_cpu),
        );
    }
    println!();
    for row in rows {
        println!("  {:<16} {}", row.name, row.what);
    }
    println!("  vs bare = req/s divided by the req/s of the bare axum handler returning a body of the same size;");
    println!("  srv cores / gen cores = CPU used by the server process / by the load generator during the window.");
    for row in rows {
        if let Some(e) = &row.outcome.first_error {
            println!("  {}: {} errors; first: {e}", row.name, row.outcome.errors);
        }
    }

    println!();
    println!(
        "picket RSS with {sensors} sensors: {:.1} MB after start, {:.1} MB after the load (peak VmHWM {:.1} MB)",
        mb(idle.rss),
        mb(loaded.rss),
        mb(loaded.peak)
    );

    println!();
    println!("targets (informational; a miss does not fail the bench):");
    let find = |name: &str| rows.iter().find(|r| r.name == name);
    if let Some(get) = find("picket-get") {
        if let Some(ratio) = get.ratio(rows) {
            println!(
                "  (a) get by id: req/s >= {TARGET_A_RATIO:.1} x bare    {ratio:>8.2}     {}",
                verdict(ratio >= TARGET_A_RATIO)
            );
        }
        let p99 = get.outcome.p99_ms();
        println!(
            "  (a) get by id: p99 <= {TARGET_A_P99_MS} ms           {p99:>8.2} ms  {}",
            verdict(p99 <= TARGET_A_P99_MS)
        );
    }
    if let Some(list) = find("picket-list") {
        let p50 = list.outcome.p50_ms();
        println!(
            "  (b) filtered list: p50 <= {TARGET_B_P50_MS} ms      {p50:>8.2} ms  {}",
            verdict(p50 <= TARGET_B_P50_MS)
        );
    }
    let peak = mb(loaded.peak);
    let note = if sensors == TARGET_SENSORS {
        String::new()
    } else {
        format!(" (target is for {TARGET_SENSORS} sensors; this run seeded {sensors})")
    };
    println!(
        "  server peak RSS <= {TARGET_RSS_MB} MB        {peak:>8.1} MB  {}{note}",
        verdict(peak <= TARGET_RSS_MB)
    );
}

/// Token validation against the server CPU one GET-sensor request costs (scenario (a)).
pub fn print_auth_cost(rows: &[Row], cost: &crate::auth_cost::AuthCost) {
    println!();
    println!("token validation (in-process, the server's verifier):");
    println!(
        "  cached (a token seen before): {:.0} ns per request; first sight (RS256 verify): {:.1} µs per token",
        cost.cached_ns, cost.uncached_us
    );
    let get = rows.iter().find(|r| r.name == "picket-get");
    if let Some((cpu, rate)) = get.and_then(|r| r.outcome.server_cpu.map(|c| (c, r.outcome.rate())))
    {
        let per_request_ns = cpu / rate.max(1e-9) * 1e9;
        let share = cost.cached_ns / per_request_ns * 100.0;
        println!(
            "  GET sensor costs {:.1} µs of server CPU per request; validation adds {:.2}% (target ≤ 10%: {})",
            per_request_ns / 1000.0,
            share,
            if share <= 10.0 { "met" } else { "MISSED" }
        );
    }
}
