//! How results are shown: aligned tables with coloured statuses for people, JSON, JSON lines
//! and CSV for scripts. Lists are written page by page; only the table waits for the end,
//! since its columns are as wide as their widest cell.

use super::error::ClientError;
use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use serde_json::value::RawValue;
use serde_json::Value;
use std::io::{BufWriter, IsTerminal, Stdout, Write};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned columns (colour on a terminal unless NO_COLOR is set).
    #[default]
    Table,
    /// One JSON document (an array for lists).
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(clap::Args, Debug, Clone, Copy, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value = "table")]
    pub output: Format,
}

/// What a column's values mean, for colour.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Health,
    Deployment,
    Service,
    IssueStatus,
    Severity,
}

/// A column: header, where its value is in the entity (a JSON pointer), what it means.
#[derive(Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub pointer: &'static str,
    pub kind: Kind,
}

pub const fn col(header: &'static str, pointer: &'static str, kind: Kind) -> Column {
    Column {
        header,
        pointer,
        kind,
    }
}

/// Colour only for a person at a terminal: not in pipes, files, or with `NO_COLOR` set.
pub fn colour_enabled() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

pub fn colour_of(kind: Kind, value: &str) -> Option<Color> {
    let good = Some(Color::Green);
    let warn = Some(Color::Yellow);
    let bad = Some(Color::Red);
    match (kind, value) {
        (Kind::Health, "healthy") => good,
        (Kind::Health, "notHealthyLow" | "notHealthyMedium") => warn,
        (Kind::Health, "notHealthyHigh") => bad,
        (Kind::Deployment, "upToDate") => good,
        (Kind::Deployment, "updating" | "syncing" | "outdated" | "notConfigured") => warn,
        (Kind::Deployment, _) => bad,
        (Kind::Service, "running") => good,
        (Kind::Service, "starting" | "onboarding") => warn,
        (Kind::Service, "stopped" | "disabled" | "unknown") => bad,
        (Kind::IssueStatus, "open") => bad,
        (Kind::IssueStatus, "closed") => good,
        (Kind::IssueStatus, "suppressed") => Some(Color::DarkGrey),
        (Kind::Severity, "high") => bad,
        (Kind::Severity, "medium") => warn,
        _ => None,
    }
}

/// A cell's text: strings as they are, lists joined with ", ", absent as empty.
pub fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| text(Some(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub fn csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",")
}

/// A table as text, without the trailing blanks of the last column's padding; `colour`
/// decides whether status cells are coloured.
pub fn table(columns: &[Column], rows: &[Vec<String>], colour: bool) -> String {
    let text = build_table(columns, rows, colour).to_string();
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

fn build_table(columns: &[Column], rows: &[Vec<String>], colour: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    // Fit a terminal of a known, usable width; otherwise (a pipe, a file, a pseudo-terminal
    // without a size) never wrap, since one character per line helps nobody.
    match terminal_width() {
        Some(width) => {
            t.set_content_arrangement(ContentArrangement::Dynamic);
            t.set_width(width);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    if colour {
        t.enforce_styling();
    }
    t.set_header(columns.iter().map(|c| Cell::new(c.header)));
    for row in rows {
        t.add_row(row.iter().zip(columns).map(|(value, c)| {
            let cell = Cell::new(value);
            match colour.then(|| colour_of(c.kind, value)).flatten() {
                Some(colour) => cell.fg(colour),
                None => cell,
            }
        }));
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 2));
    }
    t
}

fn terminal_width() -> Option<u16> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size()
        .ok()
        .map(|(w, _)| w)
        .filter(|w| *w >= 40)
}

pub fn row(item: &Value, columns: &[Column]) -> Vec<String> {
    columns
        .iter()
        .map(|c| text(item.pointer(c.pointer)))
        .collect()
}

/// Writes a list as its pages arrive.
pub struct ListWriter {
    format: Format,
    columns: &'static [Column],
    out: BufWriter<Stdout>,
    rows: Vec<Vec<String>>,
    written: usize,
}

impl ListWriter {
    pub fn new(format: Format, columns: &'static [Column]) -> Result<Self, ClientError> {
        let mut w = ListWriter {
            format,
            columns,
            out: BufWriter::with_capacity(1 << 16, std::io::stdout()),
            rows: Vec::new(),
            written: 0,
        };
        match format {
            Format::Json => w.out.write_all(b"[")?,
            Format::Csv => {
                let headers: Vec<String> = columns
                    .iter()
                    .map(|c| c.pointer.trim_start_matches('/').replace('/', "."))
                    .collect();
                writeln!(w.out, "{}", csv_line(&headers))?;
            }
            Format::Table | Format::Jsonl => {}
        }
        Ok(w)
    }

    pub fn page(&mut self, items: Vec<Box<RawValue>>) -> Result<(), ClientError> {
        for raw in items {
            self.item(&raw)?;
        }
        // Each page reaches the reader (a pipe, a file) before the next one is written.
        if self.format != Format::Table {
            self.out.flush()?;
        }
        Ok(())
    }

    fn item(&mut self, raw: &RawValue) -> Result<(), ClientError> {
        match self.format {
            // The server's compact JSON is written as it came, unless it spans lines.
            Format::Jsonl if !raw.get().contains('\n') => {
                self.out.write_all(raw.get().as_bytes())?;
                self.out.write_all(b"\n")?;
            }
            Format::Jsonl => {
                let v = self.parse(raw)?;
                writeln!(self.out, "{v}")?;
            }
            Format::Json => {
                let v = self.parse(raw)?;
                let sep = if self.written == 0 { "\n" } else { ",\n" };
                write!(self.out, "{sep}{}", indent(&v))?;
            }
            Format::Csv => {
                let v = self.parse(raw)?;
                writeln!(self.out, "{}", csv_line(&row(&v, self.columns)))?;
            }
            Format::Table => {
                let v = self.parse(raw)?;
                self.rows.push(row(&v, self.columns));
            }
        }
        self.written += 1;
        Ok(())
    }

    fn parse(&self, raw: &RawValue) -> Result<Value, ClientError> {
        serde_json::from_str(raw.get())
            .map_err(|e| ClientError::other(format!("unexpected item: {e}")))
    }

    pub fn finish(mut self) -> Result<usize, ClientError> {
        match self.format {
            Format::Json => {
                if self.written == 0 {
                    self.out.write_all(b"]\n")?;
                } else {
                    self.out.write_all(b"\n]\n")?;
                }
            }
            Format::Table if self.rows.is_empty() => writeln!(self.out, "No items.")?,
            Format::Table => writeln!(
                self.out,
                "{}",
                table(self.columns, &self.rows, colour_enabled())
            )?,
            Format::Jsonl | Format::Csv => {}
        }
        self.out.flush()?;
        Ok(self.written)
    }
}

pub const MASK: &str = "********";

/// A list item in a JSON array, indented one level.
fn indent(v: &Value) -> String {
    let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
    pretty
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One entity or result: a vertical property list as a table, else JSON / one line / CSV.
pub fn print_object(value: &Value, format: Format, columns: &[Column]) -> Result<(), ClientError> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        )?,
        Format::Jsonl => writeln!(out, "{value}")?,
        Format::Csv => {
            let headers: Vec<String> = columns
                .iter()
                .map(|c| c.pointer.trim_start_matches('/').replace('/', "."))
                .collect();
            writeln!(out, "{}", csv_line(&headers))?;
            writeln!(out, "{}", csv_line(&row(value, columns)))?;
        }
        Format::Table => {
            let colour = colour_enabled();
            let mut pairs = Vec::new();
            flatten("", value, &mut pairs);
            let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (key, val) in pairs {
                let kind = columns
                    .iter()
                    .find(|c| c.pointer.trim_start_matches('/').replace('/', ".") == key)
                    .map_or(Kind::Plain, |c| c.kind);
                let shown = match colour.then(|| colour_of(kind, &val)).flatten() {
                    Some(c) => paint(&val, c),
                    None => val,
                };
                writeln!(out, "{key:<width$}  {shown}")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `settings.description`-style keys for nested objects; `@odata.*` annotations left out.
fn flatten(prefix: &str, value: &Value, into: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k.starts_with('@') {
                    continue;
                }
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    Value::Object(_) => flatten(&key, v, into),
                    Value::Array(items) if items.iter().any(Value::is_object) => {
                        into.push((key, format!("{} item(s)", items.len())));
                    }
                    _ => into.push((key, text(Some(v)))),
                }
            }
        }
        other => into.push((prefix.to_string(), text(Some(other)))),
    }
}

fn paint(text: &str, colour: Color) -> String {
    use crossterm::style::Stylize;
    let c = match colour {
        Color::Green => crossterm::style::Color::Green,
        Color::Yellow => crossterm::style::Color::Yellow,
        Color::Red => crossterm::style::Color::Red,
        _ => crossterm::style::Color::DarkGrey,
    };
    text.with(c).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(
            csv_line(&["a".into(), "b,c".into(), "say \"hi\"".into()]),
            "a,\"b,c\",\"say \"\"hi\"\"\""
        );
    }

    #[test]
    fn nested_settings_flatten_and_annotations_drop() {
        let v = serde_json::json!({"@odata.type": "x", "id": "1", "settings": {"description": "d", "domainControllerDnsNames": ["a", "b"]}});
        let mut pairs = Vec::new();
        flatten("", &v, &mut pairs);
        assert_eq!(
            pairs,
            vec![
                ("id".to_string(), "1".to_string()),
                ("settings.description".to_string(), "d".to_string()),
                (
                    "settings.domainControllerDnsNames".to_string(),
                    "a, b".to_string()
                ),
            ]
        );
    }
}
