//! Fault injection for the engineers who test their automation against Picket: rules, matched
//! by tenant, app, operation, path glob and method, that answer a Graph call the way the real
//! service fails (429 or 503 with `Retry-After`, 500, 502, 504, the not-onboarded 403, the
//! missing-permission 403), slow it down, or drop its connection; on every call, with a
//! probability, every Nth call or the next N calls; optionally expiring. Rules live in the
//! server's memory (each replica has its own), are managed through `/admin/v1/faults`,
//! `picket faults` or `serve --faults FILE`, never touch `/healthz` or the agents' check-ins,
//! and touch the token service only when a rule asks for it.

use picket_domain::TenantId;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// What a rule does to the calls it fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EffectKind {
    #[serde(rename = "429")]
    TooManyRequests,
    #[serde(rename = "500")]
    InternalServerError,
    #[serde(rename = "502")]
    BadGateway,
    #[serde(rename = "503")]
    ServiceUnavailable,
    #[serde(rename = "504")]
    GatewayTimeout,
    #[serde(rename = "notOnboarded")]
    NotOnboarded,
    #[serde(rename = "missingPermission")]
    MissingPermission,
    #[serde(rename = "latency")]
    Latency,
    #[serde(rename = "drop")]
    Drop,
}

/// A rule as users write it (admin API body, `picket faults add`, an entry of `--faults FILE`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSpec {
    /// The tenant whose calls it matches; set from the caller's token on the admin API, and
    /// required in a `--faults` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Only calls of this app (client id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Only this operation (as the audit log and the journal name it, e.g. `listSensors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Only paths (below the version, e.g. `/security/identities/sensors/*`) matching this glob:
    /// `*` any run of characters, `?` one character.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Only this HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub effect: Option<EffectKind>,
    /// `Retry-After` of a 429 or 503 (default 1 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// Added latency (effect `latency`), plus a uniform random part up to `jitterMs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<u64>,
    /// Fire with this probability (0 < p ≤ 1)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// …or on every Nth matching call…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_nth: Option<u64>,
    /// …or on the next N matching calls, then never again. Without any of the three: every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_n: Option<u64>,
    /// The rule is removed this long after it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<u64>,
    /// Also match the tenant's token endpoint (operation `issueToken`); off by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub token_service: bool,
}

/// The longest added latency: a fault must not hold a connection for minutes.
pub const MAX_LATENCY_MS: u64 = 60_000;
/// Rules per server: enough for any test suite, bounded against a runaway script.
pub const MAX_RULES: usize = 1_000;

impl RuleSpec {
    fn check(&self) -> Result<EffectKind, String> {
        let effect = self.effect.ok_or("a rule needs an effect: 429, 500, 502, 503, 504, notOnboarded, missingPermission, latency or drop")?;
        let triggers = [
            self.probability.is_some(),
            self.every_nth.is_some(),
            self.next_n.is_some(),
        ];
        if triggers.iter().filter(|t| **t).count() > 1 {
            return Err("choose one of probability, everyNth and nextN".into());
        }
        if let Some(p) = self.probability {
            if !(p > 0.0 && p <= 1.0) {
                return Err("probability must be above 0 and at most 1".into());
            }
        }
        if self.every_nth == Some(0) || self.next_n == Some(0) {
            return Err("everyNth and nextN must be at least 1".into());
        }
        let latency = self.latency_ms.unwrap_or(0) + self.jitter_ms.unwrap_or(0);
        if latency > MAX_LATENCY_MS {
            return Err(format!(
                "latencyMs + jitterMs must be at most {MAX_LATENCY_MS}"
            ));
        }
        if effect == EffectKind::Latency && latency == 0 {
            return Err("effect latency needs latencyMs or jitterMs".into());
        }
        if self.retry_after_seconds.is_some_and(|s| s > 3_600) {
            return Err("retryAfterSeconds must be at most 3600".into());
        }
        for (name, value) in [
            ("appId", &self.app_id),
            ("operation", &self.operation),
            ("path", &self.path),
            ("method", &self.method),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.is_empty() || v.len() > 512)
            {
                return Err(format!("{name} must be 1 to 512 characters"));
            }
        }
        Ok(effect)
    }
}

/// A stored rule and its counters.
struct Rule {
    id: String,
    tenant: String,
    spec: RuleSpec,
    effect: EffectKind,
    expires: Option<Instant>,
    matched: AtomicU64,
    fired: AtomicU64,
}

/// A rule as listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    pub id: String,
    #[serde(flatten)]
    pub spec: RuleSpec,
    /// Calls that matched the rule's filters.
    pub matched: u64,
    /// Calls it fired on.
    pub fired: u64,
    /// Seconds left before it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

impl Rule {
    fn view(&self, now: Instant) -> RuleView {
        RuleView {
            id: self.id.clone(),
            spec: self.spec.clone(),
            matched: self.matched.load(Ordering::Relaxed),
            fired: self.fired.load(Ordering::Relaxed),
            expires_in: self
                .expires
                .map(|e| e.saturating_duration_since(now).as_secs()),
        }
    }

    fn matches(&self, call: &Call<'_>) -> bool {
        fn same(want: &Option<String>, got: Option<&str>) -> bool {
            want.as_deref()
                .is_none_or(|w| got.is_some_and(|g| w.eq_ignore_ascii_case(g)))
        }
        self.tenant.eq_ignore_ascii_case(call.tenant)
            && call.token_service == self.spec.token_service
            && same(&self.spec.app_id, call.app)
            && same(&self.spec.operation, Some(call.operation))
            && same(&self.spec.method, Some(call.method))
            && self
                .spec
                .path
                .as_deref()
                .is_none_or(|glob| glob_match(glob.as_bytes(), call.path.as_bytes()))
    }

    /// Counts a matching call and says whether the rule fires on it.
    fn fires(&self) -> bool {
        let n = self.matched.fetch_add(1, Ordering::Relaxed) + 1;
        let fire = match (self.spec.probability, self.spec.every_nth, self.spec.next_n) {
            (Some(p), _, _) => rand::thread_rng().gen_bool(p),
            (_, Some(every), _) => n.is_multiple_of(every),
            (_, _, Some(next)) => {
                // Claimed one at a time, so concurrent calls never fire more than N times.
                return self
                    .fired
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| {
                        (f < next).then_some(f + 1)
                    })
                    .is_ok();
            }
            _ => true,
        };
        if fire {
            self.fired.fetch_add(1, Ordering::Relaxed);
        }
        fire
    }
}

/// `*` any run of characters, `?` one; everything else literal (ASCII case-insensitive).
pub fn glob_match(glob: &[u8], text: &[u8]) -> bool {
    let (mut g, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if g < glob.len() && (glob[g] == b'?' || glob[g].eq_ignore_ascii_case(&text[t])) {
            g += 1;
            t += 1;
        } else if g < glob.len() && glob[g] == b'*' {
            star = Some(g);
            mark = t;
            g += 1;
        } else if let Some(s) = star {
            g = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|c| *c == b'*')
}

/// One call as the rules see it.
pub struct Call<'a> {
    pub tenant: &'a str,
    pub app: Option<&'a str>,
    pub operation: &'a str,
    /// Below the version root, with a leading `/`.
    pub path: &'a str,
    pub method: &'a str,
    pub token_service: bool,
}

/// What a fired rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Answer at once with this Graph error.
    Answer {
        status: u16,
        code: &'static str,
        message: &'static str,
        retry_after: Option<u64>,
    },
    /// Wait, then serve the call as usual.
    Delay(Duration),
    /// Close the connection without an answer.
    Drop,
}

/// The real service's wording for a tenant without Defender for Identity.
pub use crate::onboarding::NOT_ONBOARDED;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub rule: String,
    pub effect: Effect,
}

impl Fired {
    /// How the journal and the log name it: `rule-id:effect`.
    pub fn label(&self) -> String {
        let what = match &self.effect {
            Effect::Answer { status, code, .. } => format!("{status} {code}"),
            Effect::Delay(d) => format!("latency {} ms", d.as_millis()),
            Effect::Drop => "drop".into(),
        };
        format!("{} ({what})", self.rule)
    }
}

fn effect_of(rule: &Rule) -> Effect {
    let retry = Some(rule.spec.retry_after_seconds.unwrap_or(1));
    let answer = |status, code, message, retry_after| Effect::Answer {
        status,
        code,
        message,
        retry_after,
    };
    match rule.effect {
        EffectKind::TooManyRequests => {
            answer(429, "TooManyRequests", "Please retry again later.", retry)
        }
        EffectKind::InternalServerError => answer(
            500,
            "InternalServerError",
            "An internal server error occurred",
            None,
        ),
        EffectKind::BadGateway => answer(
            502,
            "BadGateway",
            "The service is temporarily unavailable; retry later",
            None,
        ),
        EffectKind::ServiceUnavailable => answer(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable; retry later",
            retry,
        ),
        EffectKind::GatewayTimeout => answer(504, "GatewayTimeout", "The request timed out", None),
        EffectKind::NotOnboarded => answer(403, "Forbidden", NOT_ONBOARDED, None),
        // The real service's answer to a token without the permission: code, no message.
        EffectKind::MissingPermission => answer(403, "UnknownError", "", None),
        EffectKind::Latency => {
            let jitter = rule.spec.jitter_ms.unwrap_or(0);
            let extra = if jitter > 0 {
                rand::thread_rng().gen_range(0..=jitter)
            } else {
                0
            };
            Effect::Delay(Duration::from_millis(
                rule.spec.latency_ms.unwrap_or(0) + extra,
            ))
        }
        EffectKind::Drop => Effect::Drop,
    }
}

/// The rules of this server.
#[derive(Default)]
pub struct Faults {
    rules: RwLock<Vec<Arc<Rule>>>,
    /// False while there is no rule: the common case costs one atomic load per call.
    any: AtomicBool,
}

impl Faults {
    /// Adds a rule for `tenant` (the caller's, or the spec's own in a file).
    pub fn add(&self, mut spec: RuleSpec, tenant: &TenantId) -> Result<RuleView, String> {
        let effect = spec.check()?;
        spec.tenant_id = Some(tenant.to_string());
        let now = Instant::now();
        let rule = Arc::new(Rule {
            id: uuid::Uuid::new_v4().to_string(),
            tenant: tenant.to_string(),
            expires: spec
                .expires_in_seconds
                .map(|s| now + Duration::from_secs(s)),
            spec,
            effect,
            matched: AtomicU64::new(0),
            fired: AtomicU64::new(0),
        });
        let mut rules = self
            .rules
            .write()
            .map_err(|_| "the rules are unavailable")?;
        rules.retain(|r| r.expires.is_none_or(|e| e > now));
        if rules.len() >= MAX_RULES {
            return Err(format!("at most {MAX_RULES} rules; remove some first"));
        }
        rules.push(rule.clone());
        self.any.store(true, Ordering::Release);
        Ok(rule.view(now))
    }

    /// Reads a `--faults` file: a JSON array of rules, each with its `tenantId`.
    pub fn load_file(&self, text: &str) -> Result<usize, String> {
        let specs: Vec<RuleSpec> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (i, spec) in specs.iter().enumerate() {
            let tenant = spec
                .tenant_id
                .as_deref()
                .and_then(TenantId::parse)
                .ok_or_else(|| format!("rule {}: tenantId must be a tenant id (a GUID)", i + 1))?;
            self.add(spec.clone(), &tenant)
                .map_err(|e| format!("rule {}: {e}", i + 1))?;
        }
        Ok(specs.len())
    }

    pub fn list(&self, tenant: &TenantId) -> Vec<RuleView> {
        let now = Instant::now();
        let Ok(rules) = self.rules.read() else {
            return Vec::new();
        };
        rules
            .iter()
            .filter(|r| r.tenant == tenant.as_str() && r.expires.is_none_or(|e| e > now))
            .map(|r| r.view(now))
            .collect()
    }

    /// False when the tenant has no such rule.
    pub fn remove(&self, tenant: &TenantId, id: &str) -> bool {
        let Ok(mut rules) = self.rules.write() else {
            return false;
        };
        let before = rules.len();
        rules.retain(|r| !(r.tenant == tenant.as_str() && r.id == id));
        self.any.store(!rules.is_empty(), Ordering::Release);
        rules.len() < before
    }

    /// Removes every rule of the tenant; returns how many.
    pub fn clear(&self, tenant: &TenantId) -> usize {
        let Ok(mut rules) = self.rules.write() else {
            return 0;
        };
        let before = rules.len();
        rules.retain(|r| r.tenant != tenant.as_str());
        self.any.store(!rules.is_empty(), Ordering::Release);
        before - rules.len()
    }

    /// Whether any rule is set (one atomic load): the request path skips the rules otherwise.
    pub fn active(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// The first rule (in the order added) that matches the call and fires on it.
    pub fn pick(&self, call: &Call<'_>) -> Option<Fired> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let now = Instant::now();
        let rules = self.rules.read().ok()?;
        rules
            .iter()
            .filter(|r| r.expires.is_none_or(|e| e > now) && r.matches(call))
            .find(|r| r.fires())
            .map(|r| Fired {
                rule: r.id.clone(),
                effect: effect_of(r),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";

    fn call<'a>(op: &'a str, path: &'a str, method: &'a str) -> Call<'a> {
        Call {
            tenant: T,
            app: Some("app-1"),
            operation: op,
            path,
            method,
            token_service: false,
        }
    }

    fn spec(effect: EffectKind) -> RuleSpec {
        RuleSpec {
            effect: Some(effect),
            ..RuleSpec::default()
        }
    }

    #[test]
    fn globs_match_like_shell_patterns() {
        let cases = [
            (
                "/security/identities/sensors*",
                "/security/identities/sensors/abc",
                true,
            ),
            (
                "/security/identities/sensors",
                "/security/identities/sensors/abc",
                false,
            ),
            ("*/healthIssues", "/security/identities/healthIssues", true),
            ("*/HEALTHISSUES", "/security/identities/healthissues", true),
            ("/a?c", "/abc", true),
            ("/a?c", "/ac", false),
            ("*", "", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ];
        for (glob, text, want) in cases {
            assert_eq!(
                glob_match(glob.as_bytes(), text.as_bytes()),
                want,
                "{glob} ~ {text}"
            );
        }
    }

    #[test]
    fn next_n_fires_exactly_n_times_then_never() {
        let faults = Faults::default();
        let t = TenantId::parse(T).unwrap();
        faults
            .add(
                RuleSpec {
                    next_n: Some(3),
                    operation: Some("listSensors".into()),
                    ..spec(EffectKind::ServiceUnavailable)
                },
                &t,
            )
            .unwrap();
        let fired: Vec<bool> = (0..6)
            .map(|_| faults.pick(&call("listSensors", "/x", "GET")).is_some())
            .collect();
        assert_eq!(fired, [true, true, true, false, false, false]);
        assert!(faults.pick(&call("getSensor", "/x", "GET")).is_none());
        let listed = faults.list(&t);
        assert_eq!((listed[0].matched, listed[0].fired), (6, 3));
    }

    #[test]
    fn every_nth_and_filters() {
        let faults = Faults::default();
        let t = TenantId::parse(T).unwrap();
        faults
            .add(
                RuleSpec {
                    every_nth: Some(2),
                    method: Some("GET".into()),
                    app_id: Some("app-1".into()),
                    ..spec(EffectKind::TooManyRequests)
                },
                &t,
            )
            .unwrap();
        let fired: Vec<bool> = (0..4)
            .map(|_| faults.pick(&call("listSensors", "/x", "get")).is_some())
            .collect();
        assert_eq!(fired, [false, true, false, true]);
        assert!(faults.pick(&call("x", "/x", "POST")).is_none());
        let other = Call {
            tenant: "11111111-2222-3333-4444-555555555555",
            ..call("listSensors", "/x", "GET")
        };
        for _ in 0..4 {
            assert!(faults.pick(&other).is_none(), "another tenant's calls");
        }
        let token = Call {
            token_service: true,
            ..call("issueToken", "/token", "POST")
        };
        for _ in 0..4 {
            assert!(
                faults.pick(&token).is_none(),
                "the token service only when asked"
            );
        }
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        let t = TenantId::parse(T).unwrap();
        let faults = Faults::default();
        let bad = [
            RuleSpec::default(),
            RuleSpec {
                probability: Some(0.0),
                ..spec(EffectKind::BadGateway)
            },
            RuleSpec {
                probability: Some(0.5),
                next_n: Some(2),
                ..spec(EffectKind::BadGateway)
            },
            RuleSpec {
                every_nth: Some(0),
                ..spec(EffectKind::BadGateway)
            },
            spec(EffectKind::Latency),
            RuleSpec {
                latency_ms: Some(MAX_LATENCY_MS + 1),
                ..spec(EffectKind::Latency)
            },
        ];
        for rule in bad {
            assert!(faults.add(rule.clone(), &t).is_err(), "{rule:?}");
        }
        assert!(faults.list(&t).is_empty());
    }

    #[test]
    fn the_real_services_answers() {
        let t = TenantId::parse(T).unwrap();
        let faults = Faults::default();
        faults.add(spec(EffectKind::NotOnboarded), &t).unwrap();
        let fired = faults.pick(&call("listSensors", "/x", "GET")).unwrap();
        assert_eq!(
            fired.effect,
            Effect::Answer {
                status: 403,
                code: "Forbidden",
                message: NOT_ONBOARDED,
                retry_after: None
            }
        );
        assert_eq!(faults.clear(&t), 1);
        assert!(faults.pick(&call("listSensors", "/x", "GET")).is_none());
    }
}
