//! Named connection profiles from `profiles.toml`, so an operator types `--profile prod` instead
//! of six flags. Every key is optional and means the same as the flag of the same name.

use super::error::ClientError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Profile {
    pub endpoint: Option<String>,
    pub graph_url: Option<String>,
    pub cloud: Option<String>,
    pub api: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub certificate: Option<PathBuf>,
    pub device_code: Option<bool>,
    pub authority: Option<String>,
    pub ca_file: Option<PathBuf>,
}

/// `$XDG_CONFIG_HOME/picket/profiles.toml`, else `~/.config/picket/profiles.toml`.
pub fn profiles_path() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
        .map(|base| base.join("picket").join("profiles.toml"))
}

/// The profile to use. A profile named explicitly must exist; without a name the `default`
/// profile is used when the file has one.
pub fn load(name: Option<&str>) -> Result<Option<Profile>, ClientError> {
    let Some(path) = profiles_path() else {
        return match name {
            Some(n) => Err(ClientError::usage(format!(
                "profile '{n}' asked for, but there is no home directory to find profiles.toml in"
            ))),
            None => Ok(None),
        };
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match name {
                Some(n) => Err(ClientError::usage(format!(
                    "profile '{n}' asked for, but {} does not exist",
                    path.display()
                ))),
                None => Ok(None),
            };
        }
        Err(e) => {
            return Err(ClientError::usage(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let all: BTreeMap<String, Profile> = toml::from_str(&text)
        .map_err(|e| ClientError::usage(format!("{}: {e}", path.display())))?;
    match name {
        Some(n) => all.get(n).cloned().map(Some).ok_or_else(|| {
            let known: Vec<&str> = all.keys().map(String::as_str).collect();
            ClientError::usage(format!(
                "no profile '{n}' in {} (profiles: {})",
                path.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        }),
        None => Ok(all.get("default").cloned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_unknown_keys_are_refused() {
        let all: BTreeMap<String, Profile> = toml::from_str(
            "[prod]\nendpoint = \"graph\"\ncloud = \"usgov\"\ntenant = \"t\"\nclient-id = \"c\"\ncertificate = \"/k.pem\"\n",
        )
        .expect("parses");
        assert_eq!(all["prod"].cloud.as_deref(), Some("usgov"));
        assert_eq!(all["prod"].certificate, Some(PathBuf::from("/k.pem")));
        assert!(toml::from_str::<BTreeMap<String, Profile>>("[p]\nclientid = \"x\"\n").is_err());
    }
}
