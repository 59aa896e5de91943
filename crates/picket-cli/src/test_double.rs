//! The commands test authors use against a running Picket: `picket faults` (fault rules) and
//! `picket requests` (the request journal, and `verify` for CI assertions). Both call the
//! server's `/admin/v1` with a token of the tenant they concern.

use crate::config::EndpointArg;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// Where and as whom.
#[derive(clap::Args, Debug, Clone)]
pub struct AdminArgs {
    #[command(flatten)]
    endpoint: EndpointArg,
    /// A token of the tenant (ReadWrite.All for changes); e.g. from `picket token`.
    #[arg(long, env = "PICKET_TOKEN")]
    token: String,
}

impl AdminArgs {
    fn url(&self, path: &str) -> String {
        format!(
            "{}/admin/v1/{path}",
            self.endpoint.endpoint.trim_end_matches('/')
        )
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let url = self.url(path);
        let mut request = reqwest::Client::new()
            .request(method, &url)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "{status}: {}",
                body["error"]["message"].as_str().unwrap_or("no message")
            );
        }
        Ok(body)
    }
}

#[derive(clap::Subcommand)]
pub enum FaultsCommand {
    /// Add a rule: the calls it matches and what they get instead of their answer.
    ///
    /// Example: picket faults add --operation listSensors --effect 503 --retry-after 2 --next 3
    Add(Box<AddFault>),
    /// List the tenant's rules with how often each matched and fired.
    ///
    /// Example: picket faults list
    List {
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Remove one rule.
    ///
    /// Example: picket faults remove 0b7e3a52-5a0e-4b8e-9f57-2d2f3c1e9a10
    Remove {
        id: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Remove every rule of the tenant.
    ///
    /// Example: picket faults clear
    Clear {
        #[command(flatten)]
        admin: AdminArgs,
    },
}

#[derive(clap::Args)]
pub struct AddFault {
    /// 429, 500, 502, 503, 504, notOnboarded, missingPermission, latency or drop.
    #[arg(long)]
    effect: String,
    /// Only this operation (e.g. listSensors, activateSensorCandidates).
    #[arg(long)]
    operation: Option<String>,
    /// Only paths matching this glob (below the version: /security/identities/sensors*).
    #[arg(long)]
    path: Option<String>,
    /// Only this HTTP method.
    #[arg(long)]
    method: Option<String>,
    /// Only calls of this app (client id).
    #[arg(long)]
    app: Option<String>,
    /// Retry-After of a 429 or 503, in seconds.
    #[arg(long, value_name = "SECONDS")]
    retry_after: Option<u64>,
    /// Added latency (effect latency).
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,
    /// A random extra latency of up to this much.
    #[arg(long, value_name = "MS")]
    jitter_ms: Option<u64>,
    /// Fire with this probability (0 < P ≤ 1).
    #[arg(long, conflicts_with_all = ["every", "next"])]
    probability: Option<f64>,
    /// Fire on every Nth matching call.
    #[arg(long, value_name = "N", conflicts_with = "next")]
    every: Option<u64>,
    /// Fire on the next N matching calls only.
    #[arg(long, value_name = "N")]
    next: Option<u64>,
    /// Remove the rule after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    expires_in: Option<u64>,
    /// Also apply to the tenant's token endpoint.
    #[arg(long)]
    token_service: bool,
    #[command(flatten)]
    admin: AdminArgs,
}

pub async fn faults(command: FaultsCommand) -> Result<()> {
    match command {
        FaultsCommand::Add(a) => {
            let mut rule = json!({ "effect": a.effect });
            for (name, value) in [
                ("operation", a.operation.map(Value::from)),
                ("path", a.path.map(Value::from)),
                ("method", a.method.map(Value::from)),
                ("appId", a.app.map(Value::from)),
                ("retryAfterSeconds", a.retry_after.map(Value::from)),
                ("latencyMs", a.latency_ms.map(Value::from)),
                ("jitterMs", a.jitter_ms.map(Value::from)),
                ("probability", a.probability.map(Value::from)),
                ("everyNth", a.every.map(Value::from)),
                ("nextN", a.next.map(Value::from)),
                ("expiresInSeconds", a.expires_in.map(Value::from)),
            ] {
                if let Some(v) = value {
                    rule[name] = v;
                }
            }
            if a.token_service {
                rule["tokenService"] = Value::Bool(true);
            }
            let added = a
                .admin
                .call(reqwest::Method::POST, "faults", Some(rule))
                .await?;
            println!("{}", added["id"].as_str().unwrap_or("?"));
        }
        FaultsCommand::List { admin } => {
            let list = admin.call(reqwest::Method::GET, "faults", None).await?;
            let rules = list["value"].as_array().cloned().unwrap_or_default();
            if rules.is_empty() {
                println!("no fault rules");
            }
            for r in rules {
                println!("{}", describe_rule(&r));
            }
        }
        FaultsCommand::Remove { id, admin } => {
            admin
                .call(reqwest::Method::DELETE, &format!("faults/{id}"), None)
                .await?;
            println!("removed {id}");
        }
        FaultsCommand::Clear { admin } => {
            let done = admin.call(reqwest::Method::DELETE, "faults", None).await?;
            println!("removed {} rules", done["removed"]);
        }
    }
    Ok(())
}

fn describe_rule(r: &Value) -> String {
    let mut filters = Vec::new();
    for key in ["operation", "method", "path", "appId"] {
        if let Some(v) = r[key].as_str() {
            filters.push(format!("{key}={v}"));
        }
    }
    let when = if let Some(p) = r["probability"].as_f64() {
        format!("p={p}")
    } else if let Some(n) = r["everyNth"].as_u64() {
        format!("every {n}")
    } else if let Some(n) = r["nextN"].as_u64() {
        format!("next {n}")
    } else {
        "always".into()
    };
    format!(
        "{}  {:<18} {:<10} {}  (matched {}, fired {})",
        r["id"].as_str().unwrap_or("?"),
        r["effect"].as_str().unwrap_or("?"),
        when,
        if filters.is_empty() {
            "every call".to_string()
        } else {
            filters.join(" ")
        },
        r["matched"],
        r["fired"]
    )
}

#[derive(clap::Subcommand)]
pub enum RequestsCommand {
    /// The tenant's recent Graph requests, oldest first.
    ///
    /// Example: picket requests list --operation listSensors
    List {
        /// Only this operation.
        #[arg(long)]
        operation: Option<String>,
        /// Only the newest N.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        /// The entries as JSON lines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// One request in full (its body with secrets removed).
    ///
    /// Example: picket requests show 1
    Show {
        id: u64,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Forget the tenant's journal.
    ///
    /// Example: picket requests clear
    Clear {
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Exit 0 when exactly (or at least) the expected number of requests match, else 1 with
    /// what was seen: for CI assertions on what an automation called.
    ///
    /// Example: picket requests verify --operation activateSensorCandidates --count 0
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The operation (e.g. activateSensorCandidates).
    #[arg(long)]
    operation: Option<String>,
    /// The HTTP method.
    #[arg(long)]
    method: Option<String>,
    /// The request body (as JSON text) contains this.
    #[arg(long, value_name = "TEXT")]
    body_contains: Option<String>,
    /// The answer's status.
    #[arg(long)]
    status: Option<u16>,
    /// Exactly this many must match (default 1 unless --at-least).
    #[arg(long, value_name = "N", conflicts_with = "at_least")]
    count: Option<usize>,
    /// At least this many must match.
    #[arg(long, value_name = "N")]
    at_least: Option<usize>,
    #[command(flatten)]
    admin: AdminArgs,
}

/// One line per request.
fn line(e: &Value) -> String {
    let query = e["query"].as_str().unwrap_or("");
    format!(
        "{:>5}  {}  {:<6} {} {}{}{}  → {} ({:.1} ms){}",
        e["id"],
        e["time"].as_str().unwrap_or(""),
        e["method"].as_str().unwrap_or(""),
        e["operation"].as_str().unwrap_or("-"),
        e["path"].as_str().unwrap_or(""),
        if query.is_empty() { "" } else { "?" },
        query,
        e["status"],
        e["latencyMs"].as_f64().unwrap_or(0.0),
        e["injectedFault"]
            .as_str()
            .map(|f| format!("  [fault {f}]"))
            .unwrap_or_default()
    )
}

/// False when `verify` found a mismatch.
pub async fn requests(command: RequestsCommand) -> Result<bool> {
    match command {
        RequestsCommand::List {
            operation,
            top,
            json,
            admin,
        } => {
            let mut path = "requests?".to_string();
            if let Some(o) = operation {
                path.push_str(&format!(
                    "operation={}&",
                    percent_encoding::utf8_percent_encode(&o, percent_encoding::NON_ALPHANUMERIC)
                ));
            }
            if let Some(t) = top {
                path.push_str(&format!("top={t}"));
            }
            let list = admin.call(reqwest::Method::GET, &path, None).await?;
            if list["enabled"] == Value::Bool(false) {
                eprintln!("note: the journal is off on this server (serve --journal-size 0)");
            }
            for e in list["value"].as_array().cloned().unwrap_or_default() {
                if json {
                    println!("{e}");
                } else {
                    println!("{}", line(&e));
                }
            }
        }
        RequestsCommand::Show { id, admin } => {
            let e = admin
                .call(reqwest::Method::GET, &format!("requests/{id}"), None)
                .await?;
            println!("{}", serde_json::to_string_pretty(&e)?);
        }
        RequestsCommand::Clear { admin } => {
            let done = admin
                .call(reqwest::Method::DELETE, "requests", None)
                .await?;
            println!("removed {} requests", done["removed"]);
        }
        RequestsCommand::Verify(v) => return verify(v).await,
    }
    Ok(true)
}

async fn verify(v: VerifyArgs) -> Result<bool> {
    let list = v.admin.call(reqwest::Method::GET, "requests", None).await?;
    let all = list["value"].as_array().cloned().unwrap_or_default();
    let same = |want: &Option<String>, got: &Value| {
        want.as_deref()
            .is_none_or(|w| got.as_str().is_some_and(|g| g.eq_ignore_ascii_case(w)))
    };
    // Near misses: the same operation (and method), whatever the body or status.
    let near: Vec<&Value> = all
        .iter()
        .filter(|e| same(&v.operation, &e["operation"]) && same(&v.method, &e["method"]))
        .collect();
    let matching: Vec<&Value> = near
        .iter()
        .copied()
        .filter(|e| {
            v.status
                .is_none_or(|s| e["status"].as_u64() == Some(s.into()))
                && v.body_contains.as_deref().is_none_or(|text| {
                    e.get("body").is_some_and(|b| {
                        b.as_str()
                            .map_or_else(|| b.to_string(), str::to_string)
                            .contains(text)
                    })
                })
        })
        .collect();
    let (ok, expected) = match (v.count, v.at_least) {
        (_, Some(n)) => (matching.len() >= n, format!("at least {n}")),
        (Some(n), None) => (matching.len() == n, format!("exactly {n}")),
        (None, None) => (matching.len() == 1, "exactly 1".to_string()),
    };
    if ok {
        println!(
            "ok: {} matching requests ({expected} expected)",
            matching.len()
        );
        return Ok(true);
    }
    println!(
        "FAILED: {} matching requests, {expected} expected",
        matching.len()
    );
    println!("matching:");
    for e in &matching {
        println!(
            "  + {}{}",
            line(e),
            e.get("body")
                .map(|b| format!("\n      body: {b}"))
                .unwrap_or_default()
        );
    }
    let others: Vec<&&Value> = near
        .iter()
        .filter(|e| !matching.iter().any(|m| m["id"] == e["id"]))
        .collect();
    if !others.is_empty() {
        println!("same operation, not matching:");
        for e in others {
            println!(
                "  - {}{}",
                line(e),
                e.get("body")
                    .map(|b| format!("\n      body: {b}"))
                    .unwrap_or_default()
            );
        }
    }
    if near.is_empty() {
        println!(
            "({} requests in the journal, none of that operation)",
            all.len()
        );
    }
    Ok(false)
}
