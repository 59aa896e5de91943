//! `picket candidates`: list servers waiting to become sensors, and activate them by id, by DNS
//! name pattern, or all, after confirmation, in batches with a progress bar.

use super::commands::{ActivateArgs, CandidatesCommand};
use super::error::ClientError;
use super::filter::FilterBuilder;
use super::http::Graph;
use super::output::{col, Column, Format, Kind};
use super::{confirm, list, list_url, preview, progress, segment, IDENTITIES};
use reqwest::Method;
use serde_json::json;

pub const COLUMNS: &[Column] = &[
    col("COMPUTER", "/computerDnsName", Kind::Plain),
    col("SENSE VERSION", "/senseClientVersion", Kind::Plain),
    col("LAST SEEN", "/lastSeenDateTime", Kind::Plain),
    col("ID", "/id", Kind::Plain),
];

/// Ids per activate call: progress shows between calls, and no call grows without bound.
const BATCH: usize = 50;

pub async fn run(graph: &Graph, format: Format, cmd: CandidatesCommand) -> Result<(), ClientError> {
    let base = format!("{IDENTITIES}/sensorCandidates");
    match cmd {
        CandidatesCommand::List(args) => {
            let mut f = FilterBuilder::default();
            f.raw(args.filter.as_deref());
            list(graph, &base, f.build(), &args, format, COLUMNS).await
        }
        CandidatesCommand::Show { id } => {
            let candidate = graph.get_json(&format!("{base}/{}", segment(&id)?)).await?;
            super::output::print_object(&candidate, format, COLUMNS)
        }
        CandidatesCommand::Activate(args) => activate(graph, format, &base, args).await,
    }
}

async fn activate(
    graph: &Graph,
    format: Format,
    base: &str,
    args: ActivateArgs,
) -> Result<(), ClientError> {
    if args.ids.is_empty() && args.names.is_empty() && !args.all {
        return Err(ClientError::usage(
            "name candidates to activate: ids, --name GLOB, or --all",
        ));
    }
    // (id, name) of everything chosen; names are known only when we listed.
    let mut chosen: Vec<(String, String)> =
        args.ids.iter().map(|i| (i.clone(), i.clone())).collect();
    if args.all || !args.names.is_empty() {
        let all = graph
            .collect(list_url(graph, base, None, Some(1000), &[]), None)
            .await?;
        let mut unmatched: Vec<&str> = args.names.iter().map(String::as_str).collect();
        for c in &all {
            let (Some(id), Some(name)) = (c["id"].as_str(), c["computerDnsName"].as_str()) else {
                continue;
            };
            let hit: Vec<&String> = args.names.iter().filter(|g| glob_match(g, name)).collect();
            unmatched.retain(|g| !hit.iter().any(|h| h.as_str() == *g));
            if (args.all || !hit.is_empty()) && !chosen.iter().any(|(i, _)| i == id) {
                chosen.push((id.to_string(), name.to_string()));
            }
        }
        if let Some(g) = unmatched.first() {
            return Err(ClientError::other(format!(
                "no candidate's computerDnsName matches '{g}'"
            )));
        }
        if chosen.is_empty() {
            println!("No candidates are waiting.");
            return Ok(());
        }
    }
    let names: Vec<&str> = chosen.iter().map(|(_, n)| n.as_str()).collect();
    let question = format!(
        "Activate {} candidate{} as sensors ({})?",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" },
        preview(&names)
    );
    if !confirm(&question, args.yes)? {
        return Err(ClientError::other("cancelled; nothing activated"));
    }
    let bar = progress(chosen.len(), "activated");
    let path = format!("{base}/microsoft.graph.security.activate");
    for batch in chosen.chunks(BATCH) {
        let ids: Vec<&str> = batch.iter().map(|(i, _)| i.as_str()).collect();
        graph
            .send_json(Method::POST, &path, Some(&json!({ "serverIds": ids })))
            .await?;
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    let ids: Vec<&str> = chosen.iter().map(|(i, _)| i.as_str()).collect();
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "activated": ids })).unwrap_or_default()
        ),
        Format::Jsonl => println!("{}", json!({ "activated": ids })),
        Format::Csv => {
            println!("id,computerDnsName");
            for (id, name) in &chosen {
                println!("{}", super::output::csv_line(&[id.clone(), name.clone()]));
            }
        }
        Format::Table => {
            for (id, name) in &chosen {
                if id == name {
                    println!("activated {id}");
                } else {
                    println!("activated {name} ({id})");
                }
            }
        }
    }
    Ok(())
}

/// `*` matches any run of characters, `?` one; case-insensitive, as DNS names are.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        for (p, t, hit) in [
            ("*.contoso.com", "dc4.contoso.com", true),
            ("*.contoso.com", "dc4.emea.contoso.com", true),
            ("dc?.contoso.com", "DC4.contoso.com", true),
            ("dc?.contoso.com", "dc44.contoso.com", false),
            ("dc4.*", "dc4.emea.contoso.com", true),
            ("*", "", true),
            ("", "x", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ] {
            assert_eq!(glob_match(p, t), hit, "{p} ~ {t}");
        }
    }
}
