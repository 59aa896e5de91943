//! The configuration file: one TOML file holding any flag of any command, so `serve`, the store
//! commands and the client find the same installation wherever they are run from.
//!
//! Found at `--config FILE`, else `PICKET_CONFIG`, else the per-user default
//! (`$XDG_CONFIG_HOME/picket/config.toml`, `~/.config/picket/config.toml`; used only if it exists).
//! Keys are flag names (`listen`, `data-dir`, `throttle-app-reads`, …; `_` works for `-`).
//! Precedence: flag, then environment variable, then file, then the built-in default: each key
//! becomes the flag's environment variable unless that variable is already set, so clap's own
//! env handling applies it and every flag documented with an env variable is configurable.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the configuration came from, for `picket status`.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    /// Keys applied from the file (those not overridden by the environment).
    pub applied: Vec<String>,
}

/// The per-user default file.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("picket").join("config.toml"))
}

/// The file named by `--config` in `args` (before clap parses them) or `PICKET_CONFIG`.
fn named(args: &[String]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("PICKET_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Every long flag that has an environment variable, over every subcommand: flag → variable.
fn flag_variables(command: &clap::Command) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut stack = vec![command];
    while let Some(c) = stack.pop() {
        for arg in c.get_arguments() {
            if let (Some(long), Some(env)) = (arg.get_long(), arg.get_env()) {
                map.insert(long.to_string(), env.to_string_lossy().to_string());
            }
        }
        stack.extend(c.get_subcommands());
    }
    map
}

/// Reads the configuration file (if any) into the environment of this process, under the
/// variables of the flags its keys name. Called before clap parses the command line.
pub fn load(args: &[String], command: &clap::Command) -> Result<Loaded> {
    let (path, must_exist) = match named(args) {
        Some(p) => (p, true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(Loaded::default()),
        },
    };
    if !path.exists() {
        if must_exist {
            bail!("the configuration file {} does not exist", path.display());
        }
        return Ok(Loaded::default());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let pairs = parse(&text, &path, &flag_variables(command))?;
    let mut applied = Vec::new();
    for (key, variable, value) in pairs {
        if std::env::var_os(&variable).is_none() {
            std::env::set_var(&variable, value);
            applied.push(key);
        }
    }
    Ok(Loaded {
        path: Some(path),
        applied,
    })
}

/// (key, variable, value) for each key of the file; unknown keys and values that are not
/// strings, numbers, booleans or lists of them are errors naming the key.
fn parse(
    text: &str,
    path: &Path,
    variables: &BTreeMap<String, String>,
) -> Result<Vec<(String, String, String)>> {
    let table: toml::Table =
        toml::from_str(text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    let mut out = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let Some(variable) = variables.get(&flag) else {
            let known: Vec<&str> = variables.keys().map(String::as_str).collect();
            bail!(
                "{}: unknown key '{key}'; keys are flag names: {}",
                path.display(),
                known.join(", ")
            );
        };
        let scalar = |v: &toml::Value| -> Option<String> {
            match v {
                toml::Value::String(s) => Some(s.clone()),
                toml::Value::Integer(i) => Some(i.to_string()),
                toml::Value::Float(f) => Some(f.to_string()),
                toml::Value::Boolean(b) => Some(b.to_string()),
                _ => None,
            }
        };
        let text = match &value {
            toml::Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .map(|v| v.join(",")),
            other => scalar(other),
        }
        .with_context(|| {
            format!(
                "{}: '{key}' must be a string, a number, a boolean or a list of them",
                path.display()
            )
        })?;
        out.push((flag, variable.clone(), text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [
            ("listen", "PICKET_LISTEN"),
            ("data-dir", "PICKET_DATA_DIR"),
            ("tls-name", "PICKET_TLS_NAMES"),
            ("demo", "PICKET_DEMO"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    #[test]
    fn keys_become_the_flags_variables() {
        let text = "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/picket\"\ntls-name = [\"a\", \"b\"]\ndemo = true\n";
        let got = parse(text, Path::new("c.toml"), &vars()).expect("parses");
        assert_eq!(
            got,
            vec![
                (
                    "data-dir".into(),
                    "PICKET_DATA_DIR".into(),
                    "/srv/picket".into()
                ),
                ("demo".into(), "PICKET_DEMO".into(), "true".into()),
                (
                    "listen".into(),
                    "PICKET_LISTEN".into(),
                    "127.0.0.1:9000".into()
                ),
                ("tls-name".into(), "PICKET_TLS_NAMES".into(), "a,b".into()),
            ]
        );
    }

    #[test]
    fn unknown_keys_and_tables_are_refused_by_name() {
        let e = parse("lisen = 1", Path::new("c.toml"), &vars()).unwrap_err();
        assert!(e.to_string().contains("unknown key 'lisen'"), "{e}");
        let e = parse("[listen]\na = 1", Path::new("c.toml"), &vars()).unwrap_err();
        assert!(e.to_string().contains("'listen' must be"), "{e}");
        assert!(parse("listen = ", Path::new("c.toml"), &vars()).is_err());
    }

    #[test]
    fn config_flag_wins_over_the_variable() {
        let args: Vec<String> = ["picket", "serve", "--config", "/x.toml"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(named(&args), Some(PathBuf::from("/x.toml")));
        let args: Vec<String> = ["picket", "--config=/y.toml"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(named(&args), Some(PathBuf::from("/y.toml")));
    }
}
