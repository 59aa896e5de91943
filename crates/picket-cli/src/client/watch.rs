//! `picket watch sensors`: the fleet on one screen, least healthy first, with counts by status,
//! redrawn every few seconds on the alternate screen; the terminal is restored on Ctrl-C.

use super::commands::WatchCommand;
use super::error::ClientError;
use super::http::Graph;
use super::output::{self, colour_enabled};
use super::{list_url, IDENTITIES};
use crossterm::{cursor, execute, terminal};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

pub async fn run(graph: &Graph, cmd: WatchCommand) -> Result<(), ClientError> {
    let WatchCommand::Sensors {
        interval,
        once,
        filter,
    } = cmd;
    let url = list_url(
        graph,
        &format!("{IDENTITIES}/sensors"),
        filter,
        Some(1000),
        &[],
    );
    if once {
        let sensors = graph.collect(url, None).await?;
        print!("{}", frame(graph.root(), &sensors, None, interval));
        std::io::stdout().flush()?;
        return Ok(());
    }
    let live = std::io::stdout().is_terminal();
    let _screen = if live { Some(Screen::enter()?) } else { None };
    loop {
        let text = match graph.collect(url.clone(), None).await {
            Ok(sensors) => {
                let rows =
                    live.then(|| terminal::size().map(|(_, h)| usize::from(h)).unwrap_or(40));
                frame(graph.root(), &sensors, rows, interval)
            }
            // A refusal of ours (a token that must not go there) will not pass on its own.
            Err(e @ ClientError::Usage(_)) => return Err(e),
            // A failed refresh is shown and retried; the view keeps running.
            Err(e) => format!("refresh failed: {e}\n"),
        };
        let mut out = std::io::stdout().lock();
        if live {
            execute!(
                out,
                cursor::MoveTo(0, 0),
                terminal::Clear(terminal::ClearType::All)
            )?;
            // No raw mode, so each line needs only its own newline; trim to avoid scrolling.
            out.write_all(text.trim_end().as_bytes())?;
        } else {
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        drop(out);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(interval)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// The alternate screen with a hidden cursor, left again on drop (also after Ctrl-C or error).
struct Screen;

impl Screen {
    fn enter() -> Result<Screen, ClientError> {
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )?;
        Ok(Screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
    }
}

/// Worst first, so the sensors that need someone are at the top.
fn health_rank(status: &str) -> u8 {
    match status {
        "notHealthyHigh" => 0,
        "notHealthyMedium" => 1,
        "notHealthyLow" => 2,
        "healthy" => 4,
        _ => 3,
    }
}

pub fn sort(sensors: &mut [Value]) {
    sensors.sort_by(|a, b| {
        let key = |s: &Value| {
            (
                health_rank(s["healthStatus"].as_str().unwrap_or("")),
                std::cmp::Reverse(s["openHealthIssuesCount"].as_u64().unwrap_or(0)),
                format!(
                    "{}.{}",
                    s["displayName"].as_str().unwrap_or(""),
                    s["domainName"].as_str().unwrap_or("")
                )
                .to_lowercase(),
            )
        };
        key(a).cmp(&key(b))
    });
}

fn counts(sensors: &[Value], property: &str, order: &[&str]) -> String {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for s in sensors {
        *by.entry(s[property].as_str().unwrap_or("unknown").to_string())
            .or_default() += 1;
    }
    let mut parts = Vec::new();
    for name in order {
        if let Some(n) = by.remove(*name) {
            parts.push(format!("{name} {n}"));
        }
    }
    parts.extend(by.into_iter().map(|(k, n)| format!("{k} {n}")));
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("  ")
    }
}

/// One screenful: title, counts, then the sensors (cut to `rows` lines when on a terminal).
pub fn frame(root: &str, sensors: &[Value], rows: Option<usize>, interval: u64) -> String {
    let mut sorted = sensors.to_vec();
    sort(&mut sorted);
    let now = chrono::Utc::now().format("%H:%M:%S UTC");
    let mut text = format!(
        "{} sensors at {root}   {now}   refresh every {interval} s, Ctrl-C quits\n",
        sorted.len()
    );
    text.push_str(&format!(
        "health:      {}\n",
        counts(
            &sorted,
            "healthStatus",
            &[
                "notHealthyHigh",
                "notHealthyMedium",
                "notHealthyLow",
                "healthy"
            ]
        )
    ));
    text.push_str(&format!(
        "deployment:  {}\n\n",
        counts(
            &sorted,
            "deploymentStatus",
            &[
                "upToDate",
                "syncing",
                "updating",
                "outdated",
                "notConfigured",
                "updateFailed",
                "startFailure",
                "disconnected",
                "unreachable"
            ]
        )
    ));
    let room = rows.map(|r| r.saturating_sub(6).max(1));
    let shown = room.map_or(sorted.len(), |r| r.min(sorted.len()));
    let table_rows: Vec<Vec<String>> = sorted[..shown]
        .iter()
        .map(|s| output::row(s, super::sensors::COLUMNS))
        .collect();
    if table_rows.is_empty() {
        text.push_str("No sensors.\n");
    } else {
        text.push_str(
            &output::table(super::sensors::COLUMNS, &table_rows, colour_enabled()).to_string(),
        );
        text.push('\n');
    }
    if shown < sorted.len() {
        text.push_str(&format!("… and {} more\n", sorted.len() - shown));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn worst_health_first_then_most_issues() {
        let mut s = vec![
            json!({"displayName": "A", "healthStatus": "healthy"}),
            json!({"displayName": "B", "healthStatus": "notHealthyLow", "openHealthIssuesCount": 1}),
            json!({"displayName": "C", "healthStatus": "notHealthyHigh", "openHealthIssuesCount": 1}),
            json!({"displayName": "D", "healthStatus": "notHealthyHigh", "openHealthIssuesCount": 3}),
        ];
        sort(&mut s);
        let names: Vec<&str> = s.iter().filter_map(|x| x["displayName"].as_str()).collect();
        assert_eq!(names, ["D", "C", "B", "A"]);
        assert_eq!(
            counts(&s, "healthStatus", &["notHealthyHigh", "healthy"]),
            "notHealthyHigh 2  healthy 1  notHealthyLow 1"
        );
    }
}
