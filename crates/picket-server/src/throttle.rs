//! Token-bucket throttling (spec §3.7): limits per (tenant, app) and per tenant, separately for
//! reads, writes and the token endpoint. A request must pass both buckets of its class; the
//! answer to one that does not is 429 with `Retry-After`.
//!
//! Buckets are GCRA cells from `governor`, keyed by tenant or (tenant, app). Refused requests
//! do not consume a cell (Graph says throttled calls still count; here a client that keeps
//! retrying early simply keeps being refused, which has the same effect on its throughput).
//! Idle keys are dropped every [`SWEEP_EVERY`] checks, so memory follows the active callers.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

/// COUNT per PERIOD with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_period: NonZeroU32,
    pub period: Duration,
    pub burst: NonZeroU32,
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `100/s`, `6000/min`, `20/10s`, `50/s:200` (burst after `:`; default: the count).
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("'{text}' is not a rate like 100/s, 6000/min, 20/10s or 50/s:200");
        let (rate, burst) = match text.trim().split_once(':') {
            Some((r, b)) => (r, Some(b)),
            None => (text.trim(), None),
        };
        let (count, period) = rate.split_once('/').ok_or_else(bad)?;
        let per_period: NonZeroU32 = count.trim().parse().map_err(|_| bad())?;
        let period = parse_period(period.trim()).ok_or_else(bad)?;
        let burst = match burst {
            Some(b) => b.trim().parse().map_err(|_| bad())?,
            None => per_period,
        };
        Ok(Rate {
            per_period,
            period,
            burst,
        })
    }
}

/// `s`, `min`, `h`, or a count of them (`10s`, `100ms`).
fn parse_period(text: &str) -> Option<Duration> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = if n.is_empty() { 1 } else { n.parse().ok()? };
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" | "sec" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return None,
    };
    (!d.is_zero()).then_some(d)
}

/// `off` → no limit; anything else a [`Rate`].
pub fn parse_limit(text: &str) -> Result<Option<Rate>, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        Ok(None)
    } else {
        text.parse().map(Some)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Read,
    Write,
    Token,
}

impl Class {
    /// The `class` label of `picket_throttled_requests_total`.
    pub fn name(self) -> &'static str {
        match self {
            Class::Read => "read",
            Class::Write => "write",
            Class::Token => "token",
        }
    }
}

/// The `class` label of refusals for too many failed credentials.
pub const FAILED_CREDENTIALS: &str = "failed_credentials";

/// Each limit may be off (`None`). `Default` is all off (tests); production uses
/// [`ThrottleSettings::defaults`].
#[derive(Debug, Clone, Default)]
pub struct ThrottleSettings {
    pub app_reads: Option<Rate>,
    pub app_writes: Option<Rate>,
    pub tenant_reads: Option<Rate>,
    pub tenant_writes: Option<Rate>,
    pub app_tokens: Option<Rate>,
    pub tenant_tokens: Option<Rate>,
    /// Failed credentials (a wrong deployment access key at enrolment, a failed client
    /// authentication at the token endpoint) per source address; the burst is ignored.
    pub source_failures: Option<Rate>,
    /// The same failures per tenant, whatever their source.
    pub tenant_failures: Option<Rate>,
}

impl ThrottleSettings {
    /// Generous enough that a busy automation never notices, tight enough that a runaway loop
    /// cannot starve a tenant: writes are cheaper to throttle than reads (spec §3.7).
    pub fn defaults() -> Self {
        let rate = |s: &str| s.parse::<Rate>().ok();
        Self {
            app_reads: rate("1000/s:2000"),
            app_writes: rate("100/s:200"),
            tenant_reads: rate("5000/s:10000"),
            tenant_writes: rate("500/s:1000"),
            app_tokens: rate("20/s:50"),
            tenant_tokens: rate("100/s:200"),
            // A sensor or an app with a right credential never fails; a guesser does, often.
            source_failures: rate("20/min"),
            tenant_failures: rate("200/min"),
        }
    }
}

type Limiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// One class's two buckets.
struct Pair {
    app: Option<Limiter<(String, String)>>,
    tenant: Option<Limiter<String>>,
}

impl Pair {
    fn new(app: Option<Rate>, tenant: Option<Rate>) -> Self {
        Self {
            app: app.map(|r| RateLimiter::keyed(quota(r))),
            tenant: tenant.map(|r| RateLimiter::keyed(quota(r))),
        }
    }
}

fn quota(r: Rate) -> Quota {
    // One cell every period/count, up to `burst` at once.
    let interval = r.period / r.per_period.get();
    Quota::with_period(interval.max(Duration::from_nanos(1)))
        .unwrap_or_else(|| Quota::per_second(r.per_period))
        .allow_burst(r.burst)
}

/// How long to wait before retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
}

/// Checks between sweeps of idle keys.
const SWEEP_EVERY: u64 = 4096;

pub struct Throttle {
    reads: Pair,
    writes: Pair,
    tokens: Pair,
    /// Failed credentials by source address and by tenant.
    pub failures: Failures,
    checks: AtomicU64,
    clock: DefaultClock,
}

impl Throttle {
    pub fn new(s: ThrottleSettings) -> Self {
        Self {
            reads: Pair::new(s.app_reads, s.tenant_reads),
            writes: Pair::new(s.app_writes, s.tenant_writes),
            tokens: Pair::new(s.app_tokens, s.tenant_tokens),
            failures: Failures {
                by_source: s.source_failures.map(Window::new),
                by_tenant: s.tenant_failures.map(Window::new),
            },
            checks: AtomicU64::new(0),
            clock: DefaultClock::default(),
        }
    }

    /// Ok when both buckets admit the request; otherwise how long to wait.
    pub fn check(&self, tenant: &str, app: &str, class: Class) -> Result<(), Throttled> {
        let pair = match class {
            Class::Read => &self.reads,
            Class::Write => &self.writes,
            Class::Token => &self.tokens,
        };
        if pair.app.is_none() && pair.tenant.is_none() {
            return Ok(());
        }
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        let now = self.clock.now();
        let refuse = |not_until: governor::NotUntil<_>| {
            let wait = not_until.wait_time_from(now);
            // Whole seconds, rounded up, at least one.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Throttled {
                retry_after_secs: secs.max(1),
            }
        };
        // The app's own bucket first: a noisy app is refused without spending its tenant's cells.
        if let Some(app_limiter) = &pair.app {
            app_limiter
                .check_key(&(tenant.to_string(), app.to_string()))
                .map_err(refuse)?;
        }
        if let Some(tenant_limiter) = &pair.tenant {
            tenant_limiter
                .check_key(&tenant.to_string())
                .map_err(refuse)?;
        }
        Ok(())
    }

    fn sweep(&self) {
        for pair in [&self.reads, &self.writes, &self.tokens] {
            if let Some(l) = &pair.app {
                l.retain_recent();
                l.shrink_to_fit();
            }
            if let Some(l) = &pair.tenant {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
    }
}

/// Counts failed credentials in fixed windows. Once a source address or a tenant has failed
/// its limit within a window, its further attempts are refused before the credential is looked
/// at, until the window ends: guessing costs a guesser time, never a right caller's sensor.
/// (governor's buckets cannot be looked at without spending a cell, hence this small count.)
pub struct Failures {
    by_source: Option<Window<IpAddr>>,
    by_tenant: Option<Window<String>>,
}

impl Failures {
    /// Whether an attempt from `source` for `tenant` may be checked at all.
    pub fn check(&self, source: Option<IpAddr>, tenant: &str) -> Result<(), Throttled> {
        let now = Instant::now();
        if let (Some(w), Some(ip)) = (&self.by_source, source) {
            w.check(&ip, now)?;
        }
        if let Some(w) = &self.by_tenant {
            w.check(&tenant.to_string(), now)?;
        }
        Ok(())
    }

    /// Counts one failed attempt.
    pub fn record(&self, source: Option<IpAddr>, tenant: &str) {
        let now = Instant::now();
        if let (Some(w), Some(ip)) = (&self.by_source, source) {
            w.record(ip, now);
        }
        if let Some(w) = &self.by_tenant {
            w.record(tenant.to_string(), now);
        }
    }
}

/// Most keys a failure window keeps; past it, ended windows are dropped first.
const MAX_FAILURE_KEYS: usize = 100_000;

struct Window<K> {
    limit: u32,
    period: Duration,
    seen: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: std::hash::Hash + Eq + Clone> Window<K> {
    fn new(rate: Rate) -> Self {
        Self {
            limit: rate.per_period.get(),
            period: rate.period,
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn check(&self, key: &K, now: Instant) -> Result<(), Throttled> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get(key) {
            Some(&(start, count)) if count >= self.limit && now < start + self.period => {
                let wait = start + self.period - now;
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(Throttled {
                    retry_after_secs: secs.max(1),
                })
            }
            _ => Ok(()),
        }
    }

    fn record(&self, key: K, now: Instant) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MAX_FAILURE_KEYS {
            let period = self.period;
            seen.retain(|_, (start, _)| now < *start + period);
            if seen.len() >= MAX_FAILURE_KEYS {
                // Still full of live windows: forget the oldest half rather than grow.
                let mut starts: Vec<Instant> = seen.values().map(|v| v.0).collect();
                starts.sort();
                let cut = starts[starts.len() / 2];
                seen.retain(|_, (start, _)| *start > cut);
            }
        }
        let entry = seen.entry(key).or_insert((now, 0));
        if now >= entry.0 + self.period {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_windows_refuse_after_the_limit_until_the_window_ends() {
        let w = Window::new("3/min".parse().expect("rate"));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(w.check(&"a", t0).is_ok(), "attempt {i}");
            w.record("a", t0);
        }
        let refused = w
            .check(&"a", t0 + Duration::from_secs(20))
            .expect_err("over limit");
        assert_eq!(refused.retry_after_secs, 40);
        assert!(w.check(&"b", t0).is_ok(), "other keys are not affected");
        assert!(
            w.check(&"a", t0 + Duration::from_secs(60)).is_ok(),
            "window over"
        );
        w.record("a", t0 + Duration::from_secs(61));
        assert!(
            w.check(&"a", t0 + Duration::from_secs(61)).is_ok(),
            "count restarted"
        );
    }

    #[test]
    fn failures_by_source_and_by_tenant() {
        let f = Failures {
            by_source: Some(Window::new("2/min".parse().expect("rate"))),
            by_tenant: Some(Window::new("3/min".parse().expect("rate"))),
        };
        let a: IpAddr = "127.0.0.1".parse().expect("ip");
        let b: IpAddr = "127.0.0.2".parse().expect("ip");
        f.record(Some(a), "t");
        f.record(Some(a), "t");
        assert!(f.check(Some(a), "t").is_err(), "source over its limit");
        assert!(f.check(Some(b), "t").is_ok());
        f.record(Some(b), "t");
        assert!(f.check(Some(b), "t").is_err(), "tenant over its limit");
        assert!(f.check(Some(b), "u").is_ok());
    }

    fn rate(s: &str) -> Option<Rate> {
        Some(s.parse().expect("rate"))
    }

    #[test]
    fn parses_rates() {
        let r: Rate = "100/s".parse().expect("rate");
        assert_eq!(
            (r.per_period.get(), r.period, r.burst.get()),
            (100, Duration::from_secs(1), 100)
        );
        let r: Rate = "6000/min".parse().expect("rate");
        assert_eq!(r.period, Duration::from_secs(60));
        let r: Rate = "20/10s:5".parse().expect("rate");
        assert_eq!(
            (r.per_period.get(), r.period, r.burst.get()),
            (20, Duration::from_secs(10), 5)
        );
        let r: Rate = "5/100ms".parse().expect("rate");
        assert_eq!(r.period, Duration::from_millis(100));
        for bad in [
            "",
            "100",
            "0/s",
            "x/s",
            "10/",
            "10/fortnight",
            "10/0s",
            "10/s:0",
            "10/s:x",
            "-1/s",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        assert_eq!(parse_limit("off"), Ok(None));
        assert!(parse_limit("OFF").expect("off").is_none());
        assert!(parse_limit("nope").is_err());
    }

    #[test]
    fn app_bucket_then_refusal_with_retry_after() {
        let t = Throttle::new(ThrottleSettings {
            app_reads: rate("2/10s"),
            ..Default::default()
        });
        assert!(t.check("t", "a", Class::Read).is_ok());
        assert!(t.check("t", "a", Class::Read).is_ok());
        let refused = t
            .check("t", "a", Class::Read)
            .expect_err("third is refused");
        assert!((1..=5).contains(&refused.retry_after_secs), "{refused:?}");
        // Another app has its own bucket; writes and tokens are other classes.
        assert!(t.check("t", "b", Class::Read).is_ok());
        assert!(t.check("t", "a", Class::Write).is_ok());
        assert!(t.check("t", "a", Class::Token).is_ok());
        // Same app id in another tenant is another key.
        assert!(t.check("u", "a", Class::Read).is_ok());
    }

    #[test]
    fn tenant_bucket_is_shared_by_its_apps() {
        let t = Throttle::new(ThrottleSettings {
            app_writes: rate("10/s"),
            tenant_writes: rate("3/10s"),
            ..Default::default()
        });
        assert!(t.check("t", "a", Class::Write).is_ok());
        assert!(t.check("t", "b", Class::Write).is_ok());
        assert!(t.check("t", "c", Class::Write).is_ok());
        assert!(t.check("t", "d", Class::Write).is_err());
        assert!(t.check("other", "d", Class::Write).is_ok());
    }

    #[test]
    fn off_is_unlimited_and_buckets_refill() {
        let t = Throttle::new(ThrottleSettings::default());
        for _ in 0..10_000 {
            assert!(t.check("t", "a", Class::Read).is_ok());
        }
        let t = Throttle::new(ThrottleSettings {
            app_reads: rate("5/100ms:1"),
            ..Default::default()
        });
        assert!(t.check("t", "a", Class::Read).is_ok());
        assert!(t.check("t", "a", Class::Read).is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(t.check("t", "a", Class::Read).is_ok());
    }

    #[test]
    fn many_keys_are_swept() {
        let t = Throttle::new(ThrottleSettings {
            app_reads: rate("1000/s"),
            ..Default::default()
        });
        let len = |t: &Throttle| t.reads.app.as_ref().map_or(0, |l| l.len());
        for i in 0..1000 {
            assert!(t.check("t", &i.to_string(), Class::Read).is_ok());
        }
        assert_eq!(len(&t), 1000);
        // Once every bucket has refilled, its key is indistinguishable from a new one: dropped.
        std::thread::sleep(Duration::from_millis(20));
        t.sweep();
        assert_eq!(len(&t), 0);
    }
}
