//! `picket-agent` (also `picket agent`): a sensor agent for Picket's agent protocol.
//!
//! - `run`: one sensor. Enrolls with the deployment access key (or reports as a sensor
//!   candidate until activated), keeps its credential in an owner-only state file, checks in on
//!   the server's interval with jittered backoff while the server is down, applies settings,
//!   performs (simulated) updates, and exits cleanly when the sensor is deleted.
//! - `simulate`: N simulated sensors in one process, for demos and load.

mod protocol;
mod simulate;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use protocol::{backoff, CallError, Client, Command, Identity, Report, UpdateStep};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The agent's commands, as `picket-agent` and as `picket agent` take them.
#[derive(clap::Args)]
pub struct AgentCli {
    #[command(subcommand)]
    pub command: AgentCommand,
}

#[derive(Subcommand)]
pub enum AgentCommand {
    /// Run one sensor.
    ///
    /// Example: picket-agent run --endpoint http://127.0.0.1:8080 --tenant T --access-key KEY --computer dc1.contoso.com
    Run(RunArgs),
    /// Run many simulated sensors in this process (demo and load).
    ///
    /// Example: picket-agent simulate --endpoint http://127.0.0.1:8080 --tenant T --access-key KEY --sensors 1000
    Simulate(simulate::SimulateArgs),
}

/// Where `picket serve` listens when not told otherwise.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8080";

/// "Which Picket": the same name (`--endpoint`, `PICKET_ENDPOINT`) as the `picket` client's.
/// `--server` and `PICKET_SERVER`, the agent's older names, still work.
#[derive(clap::Args)]
pub struct EndpointArg {
    /// URL of the Picket server [env: PICKET_ENDPOINT] [default: http://127.0.0.1:8080].
    #[arg(long, alias = "server", value_name = "URL")]
    endpoint: Option<String>,
}

impl EndpointArg {
    /// The flag, else `PICKET_ENDPOINT`, else `PICKET_SERVER`, else the default.
    pub fn url(&self) -> String {
        self.url_with(|name| std::env::var(name).ok())
    }

    fn url_with(&self, env: impl Fn(&str) -> Option<String>) -> String {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        self.endpoint
            .clone()
            .or_else(|| set("PICKET_ENDPOINT"))
            .or_else(|| set("PICKET_SERVER"))
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
    }
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    endpoint: EndpointArg,
    /// Tenant id (GUID).
    #[arg(long, env = "PICKET_TENANT")]
    tenant: String,
    /// The tenant's deployment access key (getDeploymentAccessKey).
    #[arg(long, env = "PICKET_ACCESS_KEY")]
    access_key: String,
    /// This computer's fully qualified DNS name.
    #[arg(long)]
    computer: String,
    #[arg(long, default_value = "domainControllerIntegrated")]
    sensor_type: String,
    /// Installed classic sensor version.
    #[arg(long, default_value = "2.239.18124.58593")]
    version: String,
    /// Report as a machine onboarded to endpoint protection (a sensor candidate) and wait for
    /// activation instead of enrolling with the access key.
    #[arg(long)]
    candidate: bool,
    #[arg(long, default_value = "10.8760.19041.1000")]
    sense_client_version: String,
    /// Where the credential is kept.
    #[arg(long, default_value = "./picket-agent-state")]
    state_dir: PathBuf,
    /// Check in this often instead of the server's interval (e.g. 200ms, for tests).
    #[arg(long, value_parser = parse_every)]
    check_in_every: Option<Duration>,
    /// Simulated updates fail (to exercise updateFailed).
    #[arg(long)]
    fail_updates: bool,
    /// A migration to the unified sensor fails on this host (to exercise migrationFailed).
    #[arg(long)]
    fail_migration: bool,
    /// The host's advanced audit policy starts out not as the sensor needs it: the agent
    /// reports the auditing health issue until the server turns automatic auditing on, then
    /// configures the host and stops reporting it.
    #[arg(long)]
    auditing_not_configured: bool,
    /// Once configured, the host's audit policy drifts back (a group policy reverts it) as soon
    /// as automatic auditing is off; with it on, the sensor sets it again.
    #[arg(long)]
    auditing_drifts: bool,
    /// Report this many accounts of the domain's directory with the first check-in (a domain
    /// controller's sensor reads them; 0: none).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1000))]
    directory: u32,
    /// PEM CA file to trust for an https endpoint.
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

fn parse_every(text: &str) -> Result<Duration, String> {
    let bad = || format!("'{text}' is not a duration like 200ms, 5s or 1m");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(bad()),
    };
    if d < Duration::from_millis(10) {
        return Err(bad());
    }
    Ok(d)
}

/// Colour codes only for a person at a terminal (and not with `NO_COLOR`), never into a log
/// file or a pipe.
fn log_colour(stderr_is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Runs an agent command to its end; the exit code to leave with (0 ok, 1 error, 3 the sensor
/// was deleted).
pub async fn execute(cli: AgentCli) -> u8 {
    let result = match cli.command {
        AgentCommand::Run(args) => tokio::select! {
            r = run(args) => r,
            _ = shutdown_signal() => {
                println!("stopping (signal); the sensor keeps its credential");
                Ok(0)
            }
        },
        AgentCommand::Simulate(args) => simulate::simulate(args).await.map(|()| 0),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        1
    })
}

/// The agent's log on stderr (`PICKET_AGENT_LOG`, default info), coloured only on a terminal.
pub fn init_logging() {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PICKET_AGENT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(log_colour(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ))
        .with_writer(std::io::stderr)
        .try_init();
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = term.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

const STATE_FILE: &str = "agent.json";

fn load_identity(dir: &Path) -> Result<Option<Identity>> {
    let path = dir.join(STATE_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!("{} is not an agent state file", path.display())
    })?))
}

/// Written to a temporary file (owner-only) and renamed, so a crash never leaves half a file.
fn save_identity(dir: &Path, id: &Identity) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!("{STATE_FILE}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(serde_json::to_string(id)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(STATE_FILE))?;
    Ok(())
}

/// Retries `call` with backoff while the server is unreachable; a refusal is final.
async fn with_retries<T, F, Fut>(what: &str, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(CallError::Refused { status, message }) => {
                bail!("{what} refused ({status}): {message}")
            }
            Err(e @ (CallError::Unreachable(_) | CallError::Malformed { .. })) => {
                let wait = backoff(attempt);
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "{what} failed");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}

async fn obtain_identity(client: &Client, args: &RunArgs) -> Result<Identity> {
    if let Some(id) = load_identity(&args.state_dir)? {
        return Ok(id);
    }
    let id = if args.candidate {
        let wait = args.check_in_every.unwrap_or(Duration::from_secs(60));
        loop {
            let reported = with_retries("candidate report", || {
                client.report_candidate(
                    &args.tenant,
                    &args.access_key,
                    &args.computer,
                    &args.sense_client_version,
                )
            })
            .await?;
            if let Some(id) = reported {
                println!("activated as sensor {}", id.sensor_id);
                break id;
            }
            println!("waiting for activation");
            tokio::time::sleep(wait).await;
        }
    } else {
        let id = with_retries("enrolment", || {
            client.enroll(
                &args.tenant,
                &args.access_key,
                &args.computer,
                &args.sensor_type,
                &args.version,
            )
        })
        .await?;
        println!("enrolled as sensor {}", id.sensor_id);
        id
    };
    save_identity(&args.state_dir, &id)?;
    Ok(id)
}

async fn run(args: RunArgs) -> Result<u8> {
    let client = Client::new(&args.endpoint.url(), args.ca_file.as_deref())?;
    let id = obtain_identity(&client, &args).await?;
    let mut report = Report {
        network_adapters: Some(protocol::host_adapters()),
        directory_accounts: (args.directory > 0).then(|| {
            let domain = args.computer.split_once('.').map_or("", |(_, d)| d);
            protocol::directory(domain, args.directory as usize)
        }),
        ..Report::running(if args.candidate {
            "3.1.25311.1"
        } else {
            &args.version
        })
    };
    let mut auditing_configured = !args.auditing_not_configured;
    if !auditing_configured {
        report.host_issues.push(protocol::auditing_issue());
    }
    let mut attempt = 0u32;
    let mut newer_server_noted = false;
    loop {
        let answer = match client.check_in(&id, &report).await {
            Ok(a) => a,
            Err(CallError::Refused { status, message }) => {
                eprintln!(
                    "check-in refused ({status}): {message}; the credential is no longer valid"
                );
                return Ok(3);
            }
            Err(e @ (CallError::Unreachable(_) | CallError::Malformed { .. })) => {
                let wait = backoff(attempt);
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "check-in failed");
                attempt += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        attempt = 0;
        if let Some(newer) = client
            .server_protocol_version()
            .filter(|v| *v > protocol::wire::PROTOCOL_VERSION && !newer_server_noted)
        {
            // Compatible (its new fields and commands are ignored), but worth an upgrade.
            newer_server_noted = true;
            tracing::info!(
                server = newer,
                agent = protocol::wire::PROTOCOL_VERSION,
                "the server speaks a newer agent protocol; what this agent does not know it ignores"
            );
        }
        // Sent once; the next change would send them again.
        report.network_adapters = None;
        report.directory_accounts = None;
        for (order, done) in
            protocol::exchange_account_actions(&mut report, &answer.account_actions, &args.computer)
        {
            println!(
                "account action {} {}: {}",
                order.action,
                order.account_id,
                if done { "done" } else { "failed" }
            );
        }
        if answer.auto_auditing && !auditing_configured {
            // Automatic auditing: the host's audit policy is set as the sensor needs it.
            auditing_configured = true;
            report
                .host_issues
                .retain(|i| i.issue_type_id != protocol::AUDITING_ISSUE);
            println!("auditing configured automatically");
        } else if !answer.auto_auditing && auditing_configured && args.auditing_drifts {
            // Turning automatic auditing off changes no host; this one drifts by itself.
            auditing_configured = false;
            report.host_issues.push(protocol::auditing_issue());
            println!("auditing drifted");
        }
        // Settings are applied as they arrive; the next check-in acknowledges them.
        report.applied_settings_version = answer.desired_settings_version;
        // A simulated update takes one check-in: in progress now, done (or failed) next time.
        match protocol::next_update(&mut report, &answer.command, args.fail_updates) {
            UpdateStep::Started(version) => println!("updating to {version}"),
            UpdateStep::Updated(version) => println!("updated to {version}"),
            UpdateStep::Unchanged => {}
        }
        if let Command::Migrate { version } = &answer.command {
            if args.fail_migration {
                if report.migration.is_none() {
                    println!("migration to {version} failed");
                    report.migration = Some(protocol::migration_failure(format!(
                        "{}: the unified sensor did not start",
                        args.computer
                    )));
                    report.host_issues.push(protocol::migration_issue());
                }
            } else {
                // The classic service stops and the unified one starts; the next check-in
                // reports the unified version.
                println!("migrated to the unified sensor {version}");
                report.version = version.clone();
            }
        }
        if answer.command == Command::Stop {
            let _ = std::fs::remove_file(args.state_dir.join(STATE_FILE));
            println!("sensor deleted: stopping");
            return Ok(0);
        }
        let wait = args
            .check_in_every
            .unwrap_or(Duration::from_secs(answer.next_check_in_seconds.max(1)));
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_comes_from_the_flag_then_picket_endpoint_then_picket_server() {
        let arg = |flag: Option<&str>| EndpointArg {
            endpoint: flag.map(str::to_string),
        };
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let both = vars(&[
            ("PICKET_ENDPOINT", "http://127.0.0.1:1"),
            ("PICKET_SERVER", "http://127.0.0.1:2"),
        ]);
        assert_eq!(arg(Some("http://h:3")).url_with(both), "http://h:3");
        assert_eq!(arg(None).url_with(both), "http://127.0.0.1:1");
        assert_eq!(
            arg(None).url_with(vars(&[
                ("PICKET_ENDPOINT", ""),
                ("PICKET_SERVER", "http://127.0.0.1:2")
            ])),
            "http://127.0.0.1:2"
        );
        assert_eq!(arg(None).url_with(vars(&[])), DEFAULT_ENDPOINT);
    }

    #[test]
    fn colour_only_at_a_terminal_without_no_color() {
        assert!(log_colour(true, None));
        assert!(log_colour(true, Some("".into())));
        assert!(!log_colour(true, Some("1".into())));
        assert!(!log_colour(false, None));
    }
}
