//! `picket` as a client of the Graph sensor API: the same commands against Microsoft Graph (any
//! national cloud) or a Picket server. Commands never print secrets; exit codes are 0 ok,
//! 1 API error, 2 usage, 3 sign-in.

mod accounts;
mod auth;
mod candidates;
pub mod commands;
mod deployment;
mod error;
mod filter;
mod fixtures;
mod health_issues;
mod http;
mod output;
mod profile;
mod sensors;
mod target;
mod watch;

pub use commands::*;
pub use error::ClientError;

use http::Graph;
use output::Format;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use target::ConnectArgs;

/// Graph's path prefix for everything here.
pub const IDENTITIES: &str = "/security/identities";

/// A client command ready to run.
pub enum ClientCommand {
    Sensors(SensorsArgs),
    HealthIssues(HealthIssuesArgs),
    Candidates(CandidatesArgs),
    Activation(ActivationArgs),
    AccessKey(AccessKeyArgs),
    Package(PackageArgs),
    Watch(WatchArgs),
    Fixtures(FixturesArgs),
    Accounts(AccountsArgs),
    Auditing(AuditingArgs),
    Migration(MigrationArgs),
}

/// Runs the command; returns the process exit code. Errors are printed as one line.
pub async fn run(command: ClientCommand) -> i32 {
    match dispatch(command).await {
        Ok(()) => error::EXIT_OK,
        Err(ClientError::OutputClosed) => error::EXIT_OK,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

async fn dispatch(command: ClientCommand) -> Result<(), ClientError> {
    match command {
        ClientCommand::Sensors(a) => sensors::run(&connect(&a.conn)?, a.out.output, a.cmd).await,
        ClientCommand::HealthIssues(a) => {
            health_issues::run(&connect(&a.conn)?, a.out.output, a.cmd).await
        }
        ClientCommand::Candidates(a) => {
            candidates::run(&connect(&a.conn)?, a.out.output, a.cmd).await
        }
        ClientCommand::Activation(a) => {
            deployment::activation(&connect(&a.conn)?, a.out.output, a.cmd).await
        }
        ClientCommand::AccessKey(a) => {
            deployment::access_key(&connect(&a.conn)?, a.out.output, a.cmd).await
        }
        ClientCommand::Package(a) => {
            let (graph, http) = connect_with_http(&a.conn)?;
            deployment::package(&graph, &http, a.out.output, a.cmd).await
        }
        ClientCommand::Watch(a) => watch::run(&connect(&a.conn)?, a.cmd).await,
        ClientCommand::Fixtures(a) => fixtures::run(&connect(&a.conn)?, a.cmd).await,
        ClientCommand::Accounts(a) => accounts::run(&connect(&a.conn)?, a.out.output, a.cmd).await,
        ClientCommand::Migration(a) => {
            accounts::migration(&connect(&a.conn)?, a.out.output, a.cmd).await
        }
        ClientCommand::Auditing(a) => {
            accounts::auditing(&connect(&a.conn)?, a.out.output, a.cmd).await
        }
    }
}

fn connect(conn: &ConnectArgs) -> Result<Graph, ClientError> {
    connect_with_http(conn).map(|(g, _)| g)
}

fn connect_with_http(conn: &ConnectArgs) -> Result<(Graph, reqwest::Client), ClientError> {
    let target = conn.resolve()?;
    let http = http::build_client(target.ca_file.as_deref())?;
    let root = target.root.clone();
    let attempts = target.attempts;
    let tokens = Arc::new(auth::TokenSource::new(target, http.clone()));
    Ok((Graph::new(http.clone(), tokens, root, attempts), http))
}

/// `path?$filter=…&$top=…` with Graph's literal `$` names (spec §0).
pub(crate) fn list_url(
    graph: &Graph,
    path: &str,
    filter: Option<String>,
    top: Option<u32>,
    extra: &[(&str, String)],
) -> String {
    let mut query = Vec::new();
    if let Some(f) = filter {
        query.push(format!("$filter={}", http::encode(&f)));
    }
    if let Some(t) = top {
        query.push(format!("$top={t}"));
    }
    for (k, v) in extra {
        query.push(format!("{k}={}", http::encode(v)));
    }
    let url = graph.url(path);
    if query.is_empty() {
        url
    } else {
        format!("{url}?{}", query.join("&"))
    }
}

/// A list command: every page written as it arrives, or with `--count` only the total.
pub(crate) async fn list(
    graph: &Graph,
    path: &str,
    filter: Option<String>,
    args: &ListArgs,
    format: Format,
    columns: &'static [output::Column],
) -> Result<(), ClientError> {
    if args.count {
        // $count=true with the smallest page: the total is in @odata.count (spec §3.5).
        let url = list_url(graph, path, filter, Some(1), &[("$count", "true".into())]);
        let (_, body) = graph.call(reqwest::Method::GET, &url, None).await?;
        let count = http::parse_json(&body)?["@odata.count"]
            .as_u64()
            .ok_or_else(|| ClientError::other("the server did not answer with @odata.count"))?;
        match format {
            Format::Json | Format::Jsonl => println!("{}", serde_json::json!({ "count": count })),
            Format::Csv => println!("count\n{count}"),
            Format::Table => println!("{count}"),
        }
        return Ok(());
    }
    let url = list_url(graph, path, filter, args.top, &[]);
    print_list(graph, url, args.max, format, columns).await?;
    Ok(())
}

/// Writes a list with `columns` as its pages arrive.
pub(crate) async fn print_list(
    graph: &Graph,
    url: String,
    max: Option<u64>,
    format: Format,
    columns: &'static [output::Column],
) -> Result<usize, ClientError> {
    let mut writer = output::ListWriter::new(format, columns)?;
    let max = max.map(|m| usize::try_from(m).unwrap_or(usize::MAX));
    graph
        .for_each_page(url, max, |items| writer.page(items))
        .await?;
    writer.finish()
}

/// Asks on the terminal; `--yes` answers for the user. Without a terminal and without `--yes`
/// nothing is done (exit 2): a script must say what it means.
pub(crate) fn confirm(question: &str, yes: bool) -> Result<bool, ClientError> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(ClientError::usage(format!(
            "{question} — refusing without --yes, as there is no terminal to ask"
        )));
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The first few names and how many more, for a confirmation question.
pub(crate) fn preview(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    let head = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    match names.len().saturating_sub(SHOWN) {
        0 => head,
        more => format!("{head} and {more} more"),
    }
}

/// A progress bar on stderr for long runs at a terminal; hidden otherwise, so pipes and logs
/// get only the results.
pub(crate) fn progress(len: usize, done: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !std::io::stderr().is_terminal() || len < 20 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {done} ({{eta}} left)"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// An id as a path segment: quotes and slashes cannot change the path, and an empty id
/// cannot turn a read of one entity into a read of the collection.
pub(crate) fn segment(id: &str) -> Result<String, ClientError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(ClientError::usage("an id cannot be empty"));
    }
    Ok(http::encode(id))
}
