//! The request journal: every Graph request of a tenant (each inner request of a `$batch` on
//! its own) kept in a bounded ring per tenant, in the server's memory, so that a test can ask
//! what its automation called (`picket requests list|show|verify`, `/admin/v1/requests`).
//! Bodies are kept with every value under a secret-looking name replaced. The agents'
//! check-ins and the token service are not journaled.

use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Requests kept per tenant by default.
pub const DEFAULT_SIZE: usize = 1_000;
/// Body bytes kept per request (bodies are at most 1 MiB; a journal of 1,000 of those would be
/// a gigabyte).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// One journaled request. Kept as cheaply as possible on the request path (no formatting,
/// one clone per string); the time and the path are formatted when the journal is read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Increasing across the server: a test can ask for what came after a point.
    pub id: u64,
    #[serde(serialize_with = "graph_time")]
    pub time: picket_domain::time::Timestamp,
    /// `app:CLIENT_ID` or `user:UPN`, as in the audit log.
    #[serde(serialize_with = "actor")]
    pub actor: std::sync::Arc<picket_auth::Caller>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    pub method: String,
    /// With the version, e.g. `/v1.0/security/identities/sensors`.
    #[serde(serialize_with = "full_path")]
    pub path: (&'static str, String),
    pub query: String,
    /// The operation routed to; absent when the path matched none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    pub status: u16,
    pub latency_ms: f64,
    pub request_id: String,
    pub client_request_id: String,
    /// The JSON body with secrets removed (truncated bodies are kept as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The fault rule that answered or delayed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injected_fault: Option<String>,
}

fn graph_time<S: serde::Serializer>(
    t: &picket_domain::time::Timestamp,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&picket_domain::time::format_timestamp(t))
}

fn actor<S: serde::Serializer>(
    c: &std::sync::Arc<picket_auth::Caller>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&c.actor())
}

fn full_path<S: serde::Serializer>(p: &(&'static str, String), s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("/{}/{}", p.0, p.1))
}

impl Entry {
    /// The path as the journal shows it.
    pub fn full_path(&self) -> String {
        format!("/{}/{}", self.path.0, self.path.1)
    }
}

/// The journal of this server.
pub struct Journal {
    size: usize,
    next_id: AtomicU64,
    tenants: Mutex<HashMap<String, VecDeque<Arc<Entry>>>>,
}

impl Default for Journal {
    fn default() -> Self {
        Self::new(DEFAULT_SIZE)
    }
}

impl Journal {
    /// A journal keeping `size` requests per tenant (0: off).
    pub fn new(size: usize) -> Self {
        Self {
            size,
            next_id: AtomicU64::new(1),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.size > 0
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn record(&self, tenant: &str, entry: Entry) {
        if !self.enabled() {
            return;
        }
        let entry = Arc::new(entry);
        // The old entry is dropped after the lock is released.
        let evicted = {
            let Ok(mut tenants) = self.tenants.lock() else {
                return;
            };
            let ring = match tenants.get_mut(tenant) {
                Some(ring) => ring,
                None => tenants.entry(tenant.to_string()).or_default(),
            };
            let evicted = (ring.len() >= self.size)
                .then(|| ring.pop_front())
                .flatten();
            ring.push_back(entry);
            evicted
        };
        drop(evicted);
    }

    /// The tenant's requests, oldest first.
    pub fn list(&self, tenant: &str) -> Vec<Arc<Entry>> {
        self.tenants
            .lock()
            .ok()
            .and_then(|t| t.get(tenant).map(|r| r.iter().cloned().collect()))
            .unwrap_or_default()
    }

    /// Forgets the tenant's requests; returns how many.
    pub fn clear(&self, tenant: &str) -> usize {
        self.tenants
            .lock()
            .ok()
            .and_then(|mut t| t.remove(tenant).map(|r| r.len()))
            .unwrap_or(0)
    }
}

/// Names whose values are never kept (compared without case, anywhere in the name).
const SECRET_NAMES: [&str; 6] = [
    "secret",
    "password",
    "key",
    "token",
    "credential",
    "assertion",
];

/// A request body as the journal keeps it: JSON with secret values replaced by `"***"`, or
/// the text itself when it is not JSON, cut at [`MAX_BODY_BYTES`].
pub fn kept_body(body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    if body.len() <= MAX_BODY_BYTES {
        if let Ok(mut v) = serde_json::from_slice::<Value>(body) {
            redact(&mut v);
            return Some(v);
        }
    }
    let cut = &body[..body.len().min(MAX_BODY_BYTES)];
    Some(Value::String(format!(
        "(not kept as JSON: {} bytes{})",
        body.len(),
        if std::str::from_utf8(cut).is_ok() && body.len() > MAX_BODY_BYTES {
            ", too long"
        } else {
            ""
        }
    )))
}

fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, value) in map.iter_mut() {
                let lower = k.to_ascii_lowercase();
                if SECRET_NAMES.iter().any(|s| lower.contains(s)) {
                    *value = Value::String("***".into());
                } else {
                    redact(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(j: &Journal, path: &str) -> Entry {
        let caller = picket_auth::Caller {
            tenant: picket_domain::TenantId::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779f").unwrap(),
            principal: picket_auth::Principal::App { app_id: "x".into() },
            permissions: Default::default(),
            roles: Vec::new(),
        };
        Entry {
            id: j.next_id(),
            time: chrono::Utc::now(),
            actor: std::sync::Arc::new(caller),
            app_id: None,
            method: "GET".into(),
            path: ("v1.0", path.trim_start_matches('/').into()),
            query: String::new(),
            operation: None,
            status: 200,
            latency_ms: 0.1,
            request_id: "r".into(),
            client_request_id: "c".into(),
            body: None,
            injected_fault: None,
        }
    }

    #[test]
    fn each_tenant_keeps_its_last_n() {
        let j = Journal::new(2);
        for p in ["/a", "/b", "/c"] {
            j.record("t1", entry(&j, p));
        }
        j.record("t2", entry(&j, "/z"));
        let paths: Vec<String> = j.list("t1").iter().map(|e| e.full_path()).collect();
        assert_eq!(paths, ["/v1.0/b", "/v1.0/c"]);
        assert_eq!(j.list("t2").len(), 1);
        assert_eq!(j.clear("t1"), 2);
        assert!(j.list("t1").is_empty());
        let off = Journal::new(0);
        off.record("t1", entry(&off, "/a"));
        assert!(off.list("t1").is_empty());
    }

    #[test]
    fn secrets_never_reach_the_journal() {
        let body = json!({"serverIds": ["a"], "clientSecret": "s3cr3t", "nested": [{"accessKey": "k", "name": "n"}]});
        let kept = kept_body(body.to_string().as_bytes()).unwrap();
        let text = kept.to_string();
        assert!(
            !text.contains("s3cr3t") && !text.contains("\"k\""),
            "{text}"
        );
        assert_eq!(kept["serverIds"], json!(["a"]));
        assert_eq!(kept["nested"][0]["name"], json!("n"));
        assert_eq!(
            kept_body(b"not json").unwrap(),
            json!("(not kept as JSON: 8 bytes)")
        );
        assert!(kept_body(b"").is_none());
    }
}
