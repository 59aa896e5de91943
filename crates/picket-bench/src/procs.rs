//! Child server processes (address read from their startup line, killed by pid on drop) and
//! the `/proc` readings the report needs: resident memory and CPU time.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a server may take to print its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Linux reports CPU time in clock ticks of USER_HZ, which is 100 on every architecture.
const USER_HZ: f64 = 100.0;

/// A running server; dropping it kills the process (by its pid) and reaps it.
pub struct Server {
    name: &'static str,
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `command` (stdout piped, stderr to `log`) and waits for a line holding
    /// `listening on http://ADDR`, which both Picket and the baseline print.
    pub fn spawn(name: &'static str, mut command: Command, log: &Path) -> Result<Self> {
        let stderr = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start the {name} server ({:?})",
                    command.get_program()
                )
            })?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the {name} server has no stdout pipe");
        };
        let (tx, rx) = mpsc::channel();
        // Reads the address, then keeps draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::io::Result::ok)
            {
                if sent {
                    continue;
                }
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(
                        rest.trim()
                            .parse::<SocketAddr>()
                            .map_err(|e| format!("bad address in '{line}': {e}")),
                    );
                    sent = true;
                }
            }
        });
        let mut server = Self {
            name,
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let problem = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Ok(addr)) => {
                server.addr = addr;
                return Ok(server);
            }
            Ok(Err(e)) => e,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                format!("the {name} server printed no address within {STARTUP_TIMEOUT:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                format!("the {name} server exited before listening")
            }
        };
        // Dropping `server` kills the child.
        drop(server);
        Err(anyhow!(
            "{problem}; its stderr ends with:\n{}",
            tail(log, 20)
        ))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(e) = self.child.kill() {
            eprintln!(
                "warning: cannot stop the {} server (pid {}): {e}",
                self.name,
                self.child.id()
            );
        }
        let _ = self.child.wait();
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Resident set size now and at its peak, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: u64,
    pub peak: u64,
}

pub fn memory(pid: u32) -> Result<Memory> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let field = |name: &str| -> Result<u64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| anyhow!("no {name} in {}", path.display()))?;
        let kb: u64 = line
            .trim_start_matches(name)
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("cannot parse '{line}'"))?;
        Ok(kb * 1024)
    };
    Ok(Memory {
        rss: field("VmRSS:")?,
        peak: field("VmHWM:")?,
    })
}

/// User plus system CPU time the process has used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // The command name (field 2) may hold spaces; fields after it are plain.
    let after = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("malformed {path}"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 3 (state) is fields[0], so utime (14) and stime (15) are fields[11] and fields[12].
    let ticks = |i: usize| -> Result<f64> {
        let value = fields.get(i).ok_or_else(|| anyhow!("short {path}"))?;
        value
            .parse::<f64>()
            .with_context(|| format!("cannot parse '{value}' in {path}"))
    };
    Ok((ticks(11)? + ticks(12)?) / USER_HZ)
}
