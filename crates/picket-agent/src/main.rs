//! The `picket-agent` binary; the agent itself is the library (`picket agent` runs it too).

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "picket-agent",
    version,
    about = "A sensor agent for Picket: enroll, check in, apply settings and updates"
)]
struct Cli {
    #[command(flatten)]
    agent: picket_agent::AgentCli,
}

#[tokio::main]
async fn main() -> ExitCode {
    picket_agent::init_logging();
    ExitCode::from(picket_agent::execute(Cli::parse().agent).await)
}
