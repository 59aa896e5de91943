//! Where the commands go and as whom: `--endpoint graph` (a national cloud's Graph host) or a
//! Picket server's URL, the API version, and the credential, merged from flags, a profile and
//! the environment variables azure-identity reads.

use super::error::ClientError;
use super::profile::{self, Profile};
use std::path::PathBuf;

/// Connection flags, accepted after any client subcommand.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection and sign-in")]
pub struct ConnectArgs {
    /// Profile from profiles.toml ($XDG_CONFIG_HOME/picket or ~/.config/picket) [env: PICKET_PROFILE].
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// `graph` (Microsoft Graph, the default) or the URL of a Picket server [env: PICKET_ENDPOINT].
    #[arg(long, global = true, value_name = "graph|URL")]
    pub endpoint: Option<String>,
    /// National cloud for --endpoint graph: global, usgov, usgovdod.
    #[arg(long, global = true, value_name = "CLOUD")]
    pub cloud: Option<String>,
    /// Another host for --endpoint graph, e.g. a recording proxy [env: PICKET_GRAPH_URL].
    #[arg(long, global = true, value_name = "URL", hide_short_help = true)]
    pub graph_url: Option<String>,
    /// API version: beta (default) or v1.0.
    #[arg(long, global = true, value_name = "VERSION")]
    pub api: Option<String>,
    /// Directory (tenant) id [env: AZURE_TENANT_ID].
    #[arg(long, global = true, value_name = "ID")]
    pub tenant: Option<String>,
    /// Application (client) id [env: AZURE_CLIENT_ID].
    #[arg(long, global = true, value_name = "ID")]
    pub client_id: Option<String>,
    /// Client secret; prefer the environment variable [env: AZURE_CLIENT_SECRET].
    // Entra's secret alphabet includes `-`, so a secret may begin with one: take it as the value.
    #[arg(
        long,
        global = true,
        value_name = "SECRET",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub client_secret: Option<String>,
    /// PEM file with the certificate and its RSA private key [env: AZURE_CLIENT_CERTIFICATE_PATH].
    #[arg(long, global = true, value_name = "PATH")]
    pub certificate: Option<PathBuf>,
    /// Sign in as a user with the device code flow.
    #[arg(long, global = true)]
    pub device_code: bool,
    /// Token service base URL, e.g. https://login.microsoftonline.com or a Picket HTTPS address
    /// [env: AZURE_AUTHORITY_HOST].
    #[arg(long, global = true, value_name = "URL")]
    pub authority: Option<String>,
    /// A ready bearer token [env: PICKET_TOKEN].
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Extra CA certificates (PEM) to trust, e.g. Picket's generated CA [env: SSL_CERT_FILE,
    /// REQUESTS_CA_BUNDLE].
    #[arg(long, global = true, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Do not read or write the token cache.
    #[arg(long, global = true)]
    pub no_token_cache: bool,
    /// Attempts for a throttled (429) or unavailable (503, 504) request.
    #[arg(long, global = true, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Global,
    UsGov,
    UsGovDod,
}

impl Cloud {
    fn parse(text: &str) -> Result<Cloud, ClientError> {
        match text.to_ascii_lowercase().as_str() {
            "global" | "public" => Ok(Cloud::Global),
            "usgov" | "usgovernment" => Ok(Cloud::UsGov),
            "usgovdod" | "dod" => Ok(Cloud::UsGovDod),
            _ => Err(ClientError::usage(format!(
                "unknown cloud '{text}': expected global, usgov or usgovdod"
            ))),
        }
    }

    pub fn graph_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
        }
    }

    pub fn login_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
        }
    }
}

/// How the client gets its bearer token.
#[derive(Clone)]
pub enum Credential {
    Bearer(String),
    Secret {
        tenant: String,
        client_id: String,
        secret: String,
    },
    Certificate {
        tenant: String,
        client_id: String,
        path: PathBuf,
    },
    DeviceCode {
        tenant: String,
        client_id: String,
    },
}

impl std::fmt::Debug for Credential {
    // Secrets never reach a log or an error message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credential::Secret { client_id, .. } => write!(f, "Secret({client_id}, <redacted>)"),
            Credential::Certificate {
                client_id, path, ..
            } => {
                write!(f, "Certificate({client_id}, {})", path.display())
            }
            Credential::DeviceCode { client_id, .. } => write!(f, "DeviceCode({client_id})"),
        }
    }
}

/// Everything a command needs to reach the API.
#[derive(Debug, Clone)]
pub struct Target {
    /// The version root, e.g. `https://graph.microsoft.com/beta`.
    pub root: String,
    /// `https://graph.microsoft.com/.default` or the national cloud's.
    pub scope: String,
    /// `--endpoint graph`: the requests are meant for Microsoft Graph, whatever host
    /// `--graph-url` names, so only tokens Microsoft Entra ID issued may go there.
    pub graph: bool,
    pub authority: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub credential: Credential,
    /// Names the token cache file.
    pub profile_name: String,
    pub token_cache: bool,
    pub attempts: u32,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl ConnectArgs {
    pub fn resolve(&self) -> Result<Target, ClientError> {
        let profile_name = self.profile.clone().or_else(|| env("PICKET_PROFILE"));
        let profile = profile::load(profile_name.as_deref())?.unwrap_or_default();
        self.resolve_with(
            &profile,
            profile_name.unwrap_or_else(|| "default".into()),
            env,
        )
    }

    /// Flags win over the profile, the profile over the environment.
    pub fn resolve_with(
        &self,
        p: &Profile,
        profile_name: String,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Target, ClientError> {
        let pick = |flag: &Option<String>, prof: &Option<String>, var: &str| {
            flag.clone().or_else(|| prof.clone()).or_else(|| env(var))
        };
        let cloud = match self.cloud.clone().or_else(|| p.cloud.clone()) {
            Some(c) => Cloud::parse(&c)?,
            None => Cloud::Global,
        };
        let api = match pick(&self.api, &p.api, "PICKET_API").as_deref() {
            None | Some("beta") => "beta",
            Some("v1.0") | Some("v1") => "v1.0",
            Some(other) => {
                return Err(ClientError::usage(format!(
                    "unknown API version '{other}': expected beta or v1.0"
                )))
            }
        };
        let endpoint =
            pick(&self.endpoint, &p.endpoint, "PICKET_ENDPOINT").unwrap_or_else(|| "graph".into());
        let (host, picket) = if endpoint.eq_ignore_ascii_case("graph") {
            let host = pick(&self.graph_url, &p.graph_url, "PICKET_GRAPH_URL")
                .unwrap_or_else(|| cloud.graph_host().to_string());
            (host, false)
        } else {
            (endpoint, true)
        };
        let mut host = check_url(&host, "--endpoint")?;
        // A version root given as the endpoint (…/beta, …/v1.0) names the version too.
        let mut api = api;
        for version in ["beta", "v1.0"] {
            if let Some(base) = host.strip_suffix(&format!("/{version}")) {
                if self.api.is_none() && p.api.is_none() {
                    api = version;
                }
                host = base.to_string();
                break;
            }
        }
        let authority = match pick(&self.authority, &p.authority, "AZURE_AUTHORITY_HOST") {
            Some(a) => Some(check_url(&a, "--authority")?),
            // Picket's token service is on its HTTPS listener, usually the endpoint itself.
            None if picket => host.starts_with("https://").then(|| host.clone()),
            None => Some(cloud.login_host().to_string()),
        };
        let tenant = pick(&self.tenant, &p.tenant, "AZURE_TENANT_ID");
        let client_id = pick(&self.client_id, &p.client_id, "AZURE_CLIENT_ID");
        let credential = credential(self, p, &env, tenant, client_id)?;
        let ca_file = self
            .ca_file
            .clone()
            .or_else(|| p.ca_file.clone())
            .or_else(|| env("SSL_CERT_FILE").map(PathBuf::from))
            .or_else(|| env("REQUESTS_CA_BUNDLE").map(PathBuf::from));
        if !matches!(credential, Credential::Bearer(_)) && authority.is_none() {
            return Err(ClientError::usage(
                "signing in to a Picket server over http needs --authority https://HOST:PORT (its --tls-listen address)",
            ));
        }
        // Every request to the endpoint carries the bearer token; signing in sends the secret
        // (or a signed assertion, or a refresh token) to the token service.
        require_tls_off_loopback(&host, "the bearer token")?;
        if let Some(authority) = &authority {
            let what = match &credential {
                Credential::Bearer(_) => None,
                Credential::Secret { .. } => Some("the client secret"),
                Credential::Certificate { .. } => Some("the client assertion"),
                Credential::DeviceCode { .. } => Some("the device code sign-in"),
            };
            if let Some(what) = what {
                require_tls_off_loopback(authority, what)?;
            }
        }
        Ok(Target {
            root: format!("{host}/{api}"),
            // Picket accepts Graph's own audience, so the scope is Graph's for a Picket server too.
            scope: format!(
                "{}/.default",
                if picket {
                    Cloud::Global.graph_host()
                } else {
                    cloud.graph_host()
                }
            ),
            graph: !picket,
            authority,
            ca_file,
            credential,
            profile_name,
            token_cache: !self.no_token_cache,
            attempts: self.attempts,
        })
    }
}

/// The first source that names a credential decides: flags, then the profile, then
/// `PICKET_TOKEN`, then azure-identity's variables.
fn credential(
    a: &ConnectArgs,
    p: &Profile,
    env: &impl Fn(&str) -> Option<String>,
    tenant: Option<String>,
    client_id: Option<String>,
) -> Result<Credential, ClientError> {
    let need = |what: &str| -> Result<(String, String), ClientError> {
        let t = tenant.clone().ok_or_else(|| {
            ClientError::usage(format!("{what} needs --tenant (or AZURE_TENANT_ID)"))
        })?;
        let c = client_id.clone().ok_or_else(|| {
            ClientError::usage(format!("{what} needs --client-id (or AZURE_CLIENT_ID)"))
        })?;
        Ok((t, c))
    };
    let from = |token: Option<String>,
                cert: Option<PathBuf>,
                secret: Option<String>,
                device: bool|
     -> Result<Option<Credential>, ClientError> {
        if let Some(t) = token {
            return Ok(Some(Credential::Bearer(t)));
        }
        if let Some(path) = cert {
            let (tenant, client_id) = need("a certificate")?;
            return Ok(Some(Credential::Certificate {
                tenant,
                client_id,
                path,
            }));
        }
        if let Some(secret) = secret {
            let (tenant, client_id) = need("a client secret")?;
            return Ok(Some(Credential::Secret {
                tenant,
                client_id,
                secret,
            }));
        }
        if device {
            let client_id = client_id.clone().ok_or_else(|| {
                ClientError::usage("--device-code needs --client-id (or AZURE_CLIENT_ID)")
            })?;
            // Entra's multi-tenant alias, for work accounts.
            let tenant = tenant.clone().unwrap_or_else(|| "organizations".into());
            return Ok(Some(Credential::DeviceCode { tenant, client_id }));
        }
        Ok(None)
    };
    let sources = [
        (
            a.token.clone(),
            a.certificate.clone(),
            a.client_secret.clone(),
            a.device_code,
        ),
        (
            None,
            p.certificate.clone(),
            p.client_secret.clone(),
            p.device_code.unwrap_or(false),
        ),
        (env("PICKET_TOKEN"), None, None, false),
        (
            None,
            env("AZURE_CLIENT_CERTIFICATE_PATH").map(PathBuf::from),
            env("AZURE_CLIENT_SECRET"),
            false,
        ),
    ];
    for (token, cert, secret, device) in sources {
        if let Some(c) = from(token, cert, secret, device)? {
            return Ok(c);
        }
    }
    Err(ClientError::Auth(
        "no credential: pass --token, --client-secret, --certificate or --device-code (with --tenant and --client-id), a --profile, or set PICKET_TOKEN or AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET".into(),
    ))
}

fn check_url(text: &str, flag: &str) -> Result<String, ClientError> {
    let trimmed = text.trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(trimmed.to_string())
        }
        _ => Err(ClientError::usage(format!(
            "{flag} '{text}' is not an http(s) URL"
        ))),
    }
}

/// Plain http only to this machine: a token or secret sent in the clear to another host can be
/// read (and replayed) by anyone on the path.
fn require_tls_off_loopback(url: &str, what: &str) -> Result<(), ClientError> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Ok(());
    };
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    if is_loopback(&host) {
        return Ok(());
    }
    Err(ClientError::usage(format!(
        "not sending {what} over plain http to {url}: only a loopback address (127.0.0.0/8, ::1, localhost) may be reached without TLS; use https://{rest}"
    )))
}

/// `127.0.0.0/8`, `::1` (also as `::ffff:127.x.y.z`) or `localhost`.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        args: ConnectArgs,
        p: Profile,
        vars: &[(&str, &str)],
    ) -> Result<Target, ClientError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        args.resolve_with(&p, "default".into(), move |k| {
            vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn clouds_pick_their_graph_and_login_hosts() {
        let t = resolve(
            ConnectArgs {
                cloud: Some("usgovdod".into()),
                token: Some("t".into()),
                ..Default::default()
            },
            Profile::default(),
            &[],
        )
        .expect("resolves");
        assert_eq!(t.root, "https://dod-graph.microsoft.us/beta");
        assert_eq!(t.scope, "https://dod-graph.microsoft.us/.default");
        assert_eq!(
            t.authority.as_deref(),
            Some("https://login.microsoftonline.us")
        );
        let t = resolve(
            ConnectArgs {
                api: Some("v1.0".into()),
                ..Default::default()
            },
            Profile::default(),
            &[("PICKET_TOKEN", "x")],
        )
        .expect("resolves");
        assert_eq!(t.root, "https://graph.microsoft.com/v1.0");
        assert_eq!(
            t.authority.as_deref(),
            Some("https://login.microsoftonline.com")
        );
    }

    #[test]
    fn flags_beat_the_profile_which_beats_the_environment() {
        let profile = Profile {
            tenant: Some("from-profile".into()),
            client_secret: Some("s".into()),
            ..Default::default()
        };
        let vars = [
            ("AZURE_TENANT_ID", "from-env"),
            ("AZURE_CLIENT_ID", "app"),
            ("AZURE_CLIENT_SECRET", "e"),
        ];
        let t = resolve(ConnectArgs::default(), profile.clone(), &vars).expect("resolves");
        match t.credential {
            Credential::Secret { tenant, secret, .. } => {
                assert_eq!((tenant.as_str(), secret.as_str()), ("from-profile", "s"))
            }
            other => panic!("{other:?}"),
        }
        let args = ConnectArgs {
            tenant: Some("from-flag".into()),
            ..Default::default()
        };
        match resolve(args, Profile::default(), &vars)
            .expect("resolves")
            .credential
        {
            Credential::Secret { tenant, secret, .. } => {
                assert_eq!((tenant.as_str(), secret.as_str()), ("from-flag", "e"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_version_root_as_endpoint_names_the_version() {
        let t = |endpoint: &str, api: Option<&str>| {
            resolve(
                ConnectArgs {
                    endpoint: Some(endpoint.into()),
                    api: api.map(str::to_string),
                    token: Some("t".into()),
                    ..Default::default()
                },
                Profile::default(),
                &[],
            )
            .expect("resolves")
            .root
        };
        assert_eq!(t("https://h:1/v1.0/", None), "https://h:1/v1.0");
        assert_eq!(t("https://h:1/beta", Some("v1.0")), "https://h:1/v1.0");
        assert_eq!(t("http://127.0.0.1:1", None), "http://127.0.0.1:1/beta");
    }

    #[test]
    fn picket_over_http_needs_an_authority_to_sign_in() {
        let args = ConnectArgs {
            endpoint: Some("http://127.0.0.1:8080/".into()),
            tenant: Some("t".into()),
            client_id: Some("c".into()),
            client_secret: Some("s".into()),
            ..Default::default()
        };
        assert!(matches!(
            resolve(args.clone(), Profile::default(), &[]),
            Err(ClientError::Usage(_))
        ));
        let t = resolve(
            ConnectArgs {
                authority: Some("https://127.0.0.1:8443".into()),
                ..args
            },
            Profile::default(),
            &[],
        )
        .expect("resolves");
        assert_eq!(t.root, "http://127.0.0.1:8080/beta");
        assert_eq!(t.scope, "https://graph.microsoft.com/.default");
        assert!(matches!(
            resolve(ConnectArgs::default(), Profile::default(), &[]),
            Err(ClientError::Auth(_))
        ));
        assert!(matches!(
            resolve(
                ConnectArgs {
                    endpoint: Some("ftp://x".into()),
                    token: Some("t".into()),
                    ..Default::default()
                },
                Profile::default(),
                &[]
            ),
            Err(ClientError::Usage(_))
        ));
    }

    #[test]
    fn tokens_and_secrets_go_over_plain_http_only_to_loopback() {
        let with = |endpoint: &str, authority: Option<&str>, secret: bool| {
            resolve(
                ConnectArgs {
                    endpoint: Some(endpoint.into()),
                    authority: authority.map(str::to_string),
                    token: (!secret).then(|| "t".into()),
                    tenant: Some("t".into()),
                    client_id: Some("c".into()),
                    client_secret: secret.then(|| "s".into()),
                    ..Default::default()
                },
                Profile::default(),
                &[],
            )
        };
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3:8080",
            "http://[::1]:8080",
            "http://[::ffff:127.0.0.1]:8080",
            "http://localhost:8080",
            "http://LOCALHOST.:8080",
            "https://picket.example:8443",
            "https://192.0.2.1:8443",
        ] {
            assert!(with(ok, None, false).is_ok(), "{ok}");
        }
        for refused in [
            "http://192.0.2.1:8080",
            "http://picket.example",
            "http://[2001:db8::1]:8080",
            "http://localhost.example:8080",
            "http://0.0.0.0:8080",
        ] {
            match with(refused, None, false) {
                Err(ClientError::Usage(m)) => {
                    assert!(m.contains(refused) && m.contains("use https://"), "{m}")
                }
                other => panic!("{refused}: {other:?}"),
            }
        }
        match with(
            "https://picket.example:8443",
            Some("http://login.example"),
            true,
        ) {
            Err(ClientError::Usage(m)) => assert_eq!(
                m,
                "not sending the client secret over plain http to http://login.example: only a loopback address (127.0.0.0/8, ::1, localhost) may be reached without TLS; use https://login.example"
            ),
            other => panic!("{other:?}"),
        }
        assert!(with(
            "https://picket.example:8443",
            Some("http://127.0.0.1:9"),
            true
        )
        .is_ok());
        // --graph-url is checked the same way; the graph flag survives it.
        let t = resolve(
            ConnectArgs {
                graph_url: Some("http://127.0.0.1:9".into()),
                token: Some("t".into()),
                ..Default::default()
            },
            Profile::default(),
            &[],
        )
        .expect("resolves");
        assert!(t.graph);
        assert!(resolve(
            ConnectArgs {
                graph_url: Some("http://graph.example".into()),
                token: Some("t".into()),
                ..Default::default()
            },
            Profile::default(),
            &[],
        )
        .is_err());
    }
}
