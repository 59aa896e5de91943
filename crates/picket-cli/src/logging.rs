//! How `picket` logs: text for a person at a terminal, or one JSON object per line for log
//! collectors (`--log-format json` / `PICKET_LOG_FORMAT=json`). In JSON mode nothing else may
//! reach stdout or stderr as plain text, so the server's announcements (listening addresses,
//! the demo tenant) become log lines too, and the demo's ready-made token is left out: a
//! token in a log collector is a secret leaked.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Set once, when logging starts; read by [`announce`].
static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// The format `PICKET_LOG_FORMAT` asks for (commands without a `--log-format` flag).
pub fn from_env() -> LogFormat {
    match std::env::var("PICKET_LOG_FORMAT") {
        Ok(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
        _ => LogFormat::Text,
    }
}

/// Starts logging to stderr, filtered by `PICKET_LOG` (default `info`).
pub fn init(format: LogFormat) {
    use std::io::IsTerminal;
    let _ = FORMAT.set(format);
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("PICKET_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // The request span's fields (`request_id`) are in `span` of each line inside it.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        // Colour only for a person at a terminal, never into log files.
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

pub fn is_json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// A line for the person who started the server: printed on stdout, or logged in JSON mode.
pub fn announce(line: &str) {
    if is_json() {
        tracing::info!("{line}");
    } else {
        println!("{line}");
    }
}
