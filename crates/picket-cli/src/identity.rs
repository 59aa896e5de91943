//! `picket tenants|apps|users|issuers|keys|audit`: the identity side, run against the
//! database directly (the server picks changes up within seconds). Every change is written to
//! the audit log as `operator:{login}`; secrets are printed once and stored only as hashes.

use crate::config::StoreArgs;
use crate::{open_store, parse_tenant};
use anyhow::{bail, Context, Result};
use chrono::{Duration, Utc};
use clap::Subcommand;
use picket_auth::credentials::{certificate_credential, new_client_secret};
use picket_auth::{DirectoryRole, Permission};
use picket_domain::identity::{App, ConsoleRegistration, TrustedIssuer, User};
use picket_domain::time::{format_timestamp, parse_timestamp, Timestamp};
use picket_domain::TenantId;
use picket_store::{AuditQuery, NewAuditEntry, Store};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant (a random id unless --id is given).
    ///
    /// Example: picket tenants create --name Contoso
    Create {
        #[arg(long)]
        name: String,
        /// Tenant id (GUID).
        #[arg(long)]
        id: Option<String>,
        /// Without Defender for Identity: every call under /security/identities answers the
        /// real service's 403 until the first sensor enrols (or `picket tenants onboard`).
        #[arg(long)]
        not_onboarded: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Onboard a tenant created with --not-onboarded, as its first sensor would.
    ///
    /// Example: picket tenants onboard --id 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47
    Onboard {
        /// Tenant id (GUID).
        #[arg(long)]
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(clap::Args)]
pub struct TenantArg {
    /// Tenant id (GUID).
    #[arg(long, env = "PICKET_TENANT")]
    pub tenant: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The tenant and store for `issuers add/remove`, whose `--issuer` names the trusted issuer:
/// the store's own `--issuer` flag would clash with it, and these commands do not sign.
#[derive(clap::Args)]
pub struct IssuerTenantArg {
    /// Tenant id (GUID).
    #[arg(long, env = "PICKET_TENANT")]
    pub tenant: String,
    /// Directory for the embedded database and the issuer's signing key.
    #[arg(long, env = "PICKET_DATA_DIR", default_value_os_t = crate::config::default_data_dir())]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://PATH (default: DATA_DIR/picket.db) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=CA.pem]
    /// (sslmode as in libpq: disable, prefer (default), require, verify-ca, verify-full).
    #[arg(long, env = "PICKET_DATABASE_URL")]
    pub database: Option<String>,
    /// PostgreSQL only: connections in the pool.
    #[arg(long, env = "PICKET_DATABASE_POOL_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: u32,
    /// PostgreSQL only: statements running longer are cancelled (e.g. 500ms, 5s, 1m).
    #[arg(long, env = "PICKET_DATABASE_STATEMENT_TIMEOUT", default_value = "5s",
          value_parser = crate::config::parse_timeout)]
    pub database_statement_timeout: std::time::Duration,
}

impl IssuerTenantArg {
    fn tenant_arg(&self) -> TenantArg {
        TenantArg {
            tenant: self.tenant.clone(),
            store: StoreArgs {
                data_dir: self.data_dir.clone(),
                database: self.database.clone(),
                database_pool_size: self.database_pool_size,
                database_statement_timeout: self.database_statement_timeout,
                issuer: crate::config::DEFAULT_ISSUER.to_string(),
            },
        }
    }
}

#[derive(Subcommand)]
pub enum AppsCommand {
    /// Register an app; prints its client id and a one-time client secret (or registers --cert).
    ///
    /// Example: picket apps create --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47 --name soar --grant SecurityIdentitiesSensors.ReadWrite.All
    Create {
        #[arg(long)]
        name: String,
        /// Application permission to grant; repeatable.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Register this PEM certificate instead of creating a secret.
        #[arg(long)]
        cert: Option<PathBuf>,
        /// Secret lifetime in days.
        #[arg(long, default_value_t = 180)]
        secret_days: i64,
        /// A public client (no secret): signs users in at this tenant's authorization endpoint
        /// with the authorization code flow and PKCE, e.g. another Picket's console.
        #[arg(long, requires = "redirect_uris", conflicts_with = "cert")]
        public: bool,
        /// Exact redirect URI of a --public client; repeatable.
        #[arg(long = "redirect-uri", requires = "public")]
        redirect_uris: Vec<String>,
        #[command(flatten)]
        t: TenantArg,
    },
    /// List apps with their grants and credentials.
    List {
        #[command(flatten)]
        t: TenantArg,
    },
    /// Show one app.
    Show {
        client_id: String,
        #[command(flatten)]
        t: TenantArg,
    },
    /// Grant application permissions.
    Grant {
        client_id: String,
        #[arg(required = true)]
        permissions: Vec<String>,
        #[command(flatten)]
        t: TenantArg,
    },
    /// Revoke application permissions.
    Revoke {
        client_id: String,
        #[arg(required = true)]
        permissions: Vec<String>,
        #[command(flatten)]
        t: TenantArg,
    },
    /// Add a client secret (printed once).
    AddSecret {
        client_id: String,
        /// Lifetime in days.
        #[arg(long, default_value_t = 180)]
        days: i64,
        /// Exact expiry (RFC 3339), instead of --days.
        #[arg(long)]
        expires: Option<String>,
        #[command(flatten)]
        t: TenantArg,
    },
    /// Register a certificate credential (PEM).
    AddCert {
        client_id: String,
        #[arg(long)]
        cert: PathBuf,
        #[command(flatten)]
        t: TenantArg,
    },
    /// Revoke a secret or certificate by its key id: it stops working at once.
    RemoveCredential {
        client_id: String,
        key_id: String,
        #[command(flatten)]
        t: TenantArg,
    },
    /// Delete an app and all its credentials.
    Delete {
        client_id: String,
        #[command(flatten)]
        t: TenantArg,
    },
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Create a user with directory roles.
    ///
    /// Example: picket users create --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47 --upn ana@contoso.test --role "Security Administrator"
    Create {
        #[arg(long)]
        upn: String,
        #[arg(long)]
        name: Option<String>,
        /// Directory role (name or template id); repeatable.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[command(flatten)]
        t: TenantArg,
    },
    List {
        #[command(flatten)]
        t: TenantArg,
    },
    /// Replace a user's directory roles.
    SetRoles {
        /// Object id or user principal name.
        user: String,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[command(flatten)]
        t: TenantArg,
    },
    Delete {
        user: String,
        #[command(flatten)]
        t: TenantArg,
    },
}

#[derive(Subcommand)]
pub enum IssuersCommand {
    /// Trust an external OIDC issuer (e.g. Microsoft Entra ID) for a tenant.
    ///
    /// Example: picket issuers add --tenant T --issuer https://login.microsoftonline.com/T/v2.0 --discover
    Add {
        /// Exact `iss` value of accepted tokens.
        #[arg(long)]
        issuer: String,
        /// JWKS URL; or --discover to read it from ISSUER/.well-known/openid-configuration.
        #[arg(long, required_unless_present = "discover")]
        jwks_uri: Option<String>,
        #[arg(long)]
        discover: bool,
        /// Accepted audience besides Microsoft Graph's; repeatable.
        #[arg(long = "audience")]
        audiences: Vec<String>,
        #[command(flatten)]
        console: ConsoleRegistrationArgs,
        #[command(flatten)]
        t: IssuerTenantArg,
    },
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    Remove {
        #[arg(long)]
        issuer: String,
        #[command(flatten)]
        t: IssuerTenantArg,
    },
}

/// The console's registration at a trusted issuer (`issuers add … --console-client-id`): people
/// of the tenant then sign in to the console through that provider.
#[derive(clap::Args)]
pub struct ConsoleRegistrationArgs {
    /// The client id of Picket's console registered at this provider (a single-page app or
    /// public client whose redirect URI is https://YOUR-PICKET/console/).
    #[arg(long)]
    console_client_id: Option<String>,
    /// Scope the console asks for; repeatable (default: AUDIENCE/.default with --audience,
    /// else https://graph.microsoft.com/.default).
    #[arg(long = "console-scope", requires = "console_client_id")]
    console_scopes: Vec<String>,
    /// What the console's button says: "Sign in with NAME" (default: the issuer's host).
    #[arg(long, requires = "console_client_id")]
    console_name: Option<String>,
    /// The provider's authorization endpoint (default: from --discover).
    #[arg(long, requires = "console_client_id")]
    authorization_endpoint: Option<String>,
    /// The provider's token endpoint (default: from --discover).
    #[arg(long, requires = "console_client_id")]
    token_endpoint: Option<String>,
}

/// An absolute http(s) URL without a fragment (redirect URIs, endpoints).
fn check_url(what: &str, text: &str) -> Result<()> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !text.contains('#') => Ok(()),
        _ => bail!("{what} must be an absolute http(s) URL without a fragment, not '{text}'"),
    }
}

/// The host of an issuer URL, for the sign-in button.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List the issuer's signing keys.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make a new signing key current; the old one stays published until its tokens expire.
    Rotate {
        /// How long the old key stays valid (default: token lifetime + 5 min skew).
        #[arg(long, default_value = "65m", value_parser = parse_duration)]
        retire_after: std::time::Duration,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Withdraw a retired key at once: tokens it signed stop working.
    Remove {
        kid: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(clap::Args)]
pub struct AuditArgs {
    /// Only entries at or after this time: RFC 3339, or an age like 30m, 12h, 7d.
    #[arg(long)]
    since: Option<String>,
    /// Only this operation (e.g. updateSensor, issueToken).
    #[arg(long)]
    operation: Option<String>,
    #[arg(long, default_value_t = 1000)]
    limit: u32,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    t: TenantArg,
}

/// `90s`, `65m`, `12h`, `7d`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 90s, 65m, 12h or 7d"))?;
    let secs = match unit {
        "s" => n,
        "m" | "" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit in '{text}': use s, m, h or d")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

fn operator() -> String {
    let login = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("operator:{login}")
}

async fn audit(
    store: &dyn Store,
    tenant: &TenantId,
    operation: &str,
    target: &str,
    detail: Option<String>,
) {
    let entry = NewAuditEntry {
        time: Utc::now(),
        tenant: tenant.clone(),
        actor: operator(),
        operation: operation.into(),
        target: target.into(),
        result: "ok".into(),
        request_id: uuid::Uuid::new_v4().to_string(),
        detail,
    };
    if let Err(e) = store.record_audit(&entry).await {
        eprintln!("warning: cannot write the audit log: {e}");
    }
}

fn check_permissions(names: &[String]) -> Result<()> {
    for name in names {
        if Permission::from_name(name).is_none() {
            let known: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
            bail!(
                "'{name}' is not a permission Picket grants; one of: {}",
                known.join(", ")
            );
        }
    }
    Ok(())
}

fn parse_roles(names: &[String]) -> Result<Vec<String>> {
    names
        .iter()
        .map(|n| {
            DirectoryRole::parse(n)
                .map(|r| r.template_id().to_string())
                .with_context(|| {
                    let known: Vec<&str> = DirectoryRole::ALL
                        .iter()
                        .map(|r| r.display_name())
                        .collect();
                    format!(
                        "'{n}' is not a directory role Picket knows; one of: {}",
                        known.join(", ")
                    )
                })
        })
        .collect()
}

fn role_names(ids: &[String]) -> String {
    let names: Vec<String> = ids
        .iter()
        .map(|id| {
            DirectoryRole::from_template_id(id)
                .map(|r| r.display_name().to_string())
                .unwrap_or_else(|| id.clone())
        })
        .collect();
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

async fn tenant_store(t: &TenantArg) -> Result<(std::sync::Arc<dyn Store>, TenantId)> {
    let tenant = parse_tenant(&t.tenant)?;
    let store = open_store(&t.store).await?;
    if store.find_tenant(&tenant).await?.is_none() {
        bail!("tenant {tenant} does not exist; create it with 'picket tenants create --id {tenant} --name NAME'");
    }
    Ok((store, tenant))
}

pub async fn tenants(cmd: TenantsCommand) -> Result<()> {
    match cmd {
        TenantsCommand::Create {
            name,
            id,
            not_onboarded,
            store,
        } => {
            let id = match id {
                Some(id) => parse_tenant(&id)?,
                None => parse_tenant(&uuid::Uuid::new_v4().to_string())?,
            };
            let store = open_store(&store).await?;
            let t = store.create_tenant(&id, &name).await?;
            if not_onboarded {
                picket_store::tenant_settings::set_onboarded(store.as_ref(), &id, false).await?;
            }
            audit(
                store.as_ref(),
                &id,
                "createTenant",
                id.as_str(),
                Some(format!("name: {name}")),
            )
            .await;
            println!("tenant {}  {}", t.id, t.display_name);
        }
        TenantsCommand::Onboard { id, store } => {
            let id = parse_tenant(&id)?;
            let store = open_store(&store).await?;
            picket_store::tenant_settings::set_onboarded(store.as_ref(), &id, true).await?;
            audit(store.as_ref(), &id, "onboardTenant", id.as_str(), None).await;
            println!("tenant {id} onboarded");
        }
        TenantsCommand::List { store } => {
            let store = open_store(&store).await?;
            for t in store.list_tenants().await? {
                println!(
                    "{}  {}  created {}",
                    t.id,
                    t.display_name,
                    format_timestamp(&t.created_at)
                );
            }
        }
    }
    Ok(())
}

fn print_app(app: &App, now: Timestamp) {
    println!("client id:    {}", app.client_id);
    println!("name:         {}", app.display_name);
    println!(
        "permissions:  {}",
        if app.permissions.is_empty() {
            "(none)".to_string()
        } else {
            app.permissions.join(", ")
        }
    );
    for s in &app.secrets {
        let state = if s.expires_at <= now {
            "EXPIRED"
        } else {
            "valid"
        };
        println!(
            "secret:       {}  hint {}…  expires {}  {state}",
            s.key_id,
            s.hint,
            format_timestamp(&s.expires_at)
        );
    }
    for c in &app.certificates {
        let state = if c.not_after <= now {
            "EXPIRED"
        } else {
            "valid"
        };
        println!(
            "certificate:  {}  thumbprint {}  expires {}  {state}",
            c.key_id,
            c.thumbprint,
            format_timestamp(&c.not_after)
        );
    }
}

fn expiry(days: i64, expires: Option<&str>) -> Result<Timestamp> {
    match expires {
        Some(text) => {
            parse_timestamp(text).with_context(|| format!("'{text}' is not an RFC 3339 time"))
        }
        None => {
            if !(1..=3650).contains(&days) {
                bail!("--days must be between 1 and 3650");
            }
            Ok(Utc::now() + Duration::days(days))
        }
    }
}

fn read_cert(path: &PathBuf) -> Result<picket_domain::identity::AppCertificate> {
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    certificate_credential(&pem, Utc::now()).with_context(|| format!("{}", path.display()))
}

pub async fn apps(cmd: AppsCommand) -> Result<()> {
    let now = Utc::now();
    match cmd {
        AppsCommand::Create {
            name,
            grants,
            cert,
            secret_days,
            public,
            redirect_uris,
            t,
        } => {
            check_permissions(&grants)?;
            for uri in &redirect_uris {
                check_url("--redirect-uri", uri)?;
            }
            let (store, tenant) = tenant_store(&t).await?;
            let mut app = App {
                tenant: tenant.clone(),
                client_id: uuid::Uuid::new_v4().to_string(),
                display_name: name.clone(),
                permissions: grants.clone(),
                created_at: now,
                secrets: vec![],
                certificates: vec![],
            };
            let mut secret_text = None;
            match &cert {
                Some(path) => app.certificates.push(read_cert(path)?),
                None if public => {}
                None => {
                    let (text, record) = new_client_secret(now, expiry(secret_days, None)?);
                    app.secrets.push(record);
                    secret_text = Some(text);
                }
            }
            store.create_app(&app).await?;
            if public {
                picket_store::console_clients::set_public_client(
                    store.as_ref(),
                    &tenant,
                    &app.client_id,
                    &redirect_uris,
                )
                .await?;
            }
            let mut detail = format!("name: {name}; permissions: {}", grants.join(" "));
            if public {
                detail.push_str(&format!(
                    "; public client, redirect URIs: {}",
                    redirect_uris.join(" ")
                ));
            }
            audit(
                store.as_ref(),
                &tenant,
                "createApp",
                &app.client_id,
                Some(detail),
            )
            .await;
            print_app(&app, now);
            if public {
                println!("public client: PKCE required, no secret");
                for uri in &redirect_uris {
                    println!("redirect URI: {uri}");
                }
            }
            if let Some(secret) = secret_text {
                println!("client secret: {secret}");
                println!("(shown once: store it now; Picket keeps only a hash)");
            }
        }
        AppsCommand::List { t } => {
            let (store, tenant) = tenant_store(&t).await?;
            for app in store.list_apps(&tenant).await? {
                print_app(&app, now);
                println!();
            }
        }
        AppsCommand::Show { client_id, t } => {
            let (store, tenant) = tenant_store(&t).await?;
            let app = store
                .find_app(&tenant, &client_id)
                .await?
                .with_context(|| format!("no app {client_id} in tenant {tenant}"))?;
            print_app(&app, now);
        }
        AppsCommand::Grant {
            client_id,
            permissions,
            t,
        } => {
            change_grants(&client_id, &permissions, &t, true).await?;
        }
        AppsCommand::Revoke {
            client_id,
            permissions,
            t,
        } => {
            change_grants(&client_id, &permissions, &t, false).await?;
        }
        AppsCommand::AddSecret {
            client_id,
            days,
            expires,
            t,
        } => {
            let (store, tenant) = tenant_store(&t).await?;
            let (text, record) = new_client_secret(now, expiry(days, expires.as_deref())?);
            if !store.add_app_secret(&tenant, &client_id, &record).await? {
                bail!("no app {client_id} in tenant {tenant}");
            }
            audit(
                store.as_ref(),
                &tenant,
                "addAppSecret",
                &client_id,
                Some(format!("key id: {}", record.key_id)),
            )
            .await;
            println!("key id:        {}", record.key_id);
            println!("expires:       {}", format_timestamp(&record.expires_at));
            println!("client secret: {text}");
            println!("(shown once: store it now; Picket keeps only a hash)");
        }
        AppsCommand::AddCert { client_id, cert, t } => {
            let (store, tenant) = tenant_store(&t).await?;
            let record = read_cert(&cert)?;
            if !store
                .add_app_certificate(&tenant, &client_id, &record)
                .await?
            {
                bail!("no app {client_id} in tenant {tenant}");
            }
            audit(
                store.as_ref(),
                &tenant,
                "addAppCertificate",
                &client_id,
                Some(format!(
                    "key id: {}; thumbprint: {}",
                    record.key_id, record.thumbprint
                )),
            )
            .await;
            println!("key id:      {}", record.key_id);
            println!("thumbprint:  {}", record.thumbprint);
            println!("expires:     {}", format_timestamp(&record.not_after));
        }
        AppsCommand::RemoveCredential {
            client_id,
            key_id,
            t,
        } => {
            let (store, tenant) = tenant_store(&t).await?;
            if !store
                .remove_app_credential(&tenant, &client_id, &key_id)
                .await?
            {
                bail!("app {client_id} has no credential {key_id}");
            }
            audit(
                store.as_ref(),
                &tenant,
                "removeAppCredential",
                &client_id,
                Some(format!("key id: {key_id}")),
            )
            .await;
            println!("removed credential {key_id} of {client_id}");
        }
        AppsCommand::Delete { client_id, t } => {
            let (store, tenant) = tenant_store(&t).await?;
            if !store.delete_app(&tenant, &client_id).await? {
                bail!("no app {client_id} in tenant {tenant}");
            }
            audit(store.as_ref(), &tenant, "deleteApp", &client_id, None).await;
            println!("deleted app {client_id}");
        }
    }
    Ok(())
}

async fn change_grants(
    client_id: &str,
    permissions: &[String],
    t: &TenantArg,
    grant: bool,
) -> Result<()> {
    check_permissions(permissions)?;
    let (store, tenant) = tenant_store(t).await?;
    let app = store
        .find_app(&tenant, client_id)
        .await?
        .with_context(|| format!("no app {client_id} in tenant {tenant}"))?;
    let mut granted = app.permissions.clone();
    if grant {
        for p in permissions {
            if !granted.contains(p) {
                granted.push(p.clone());
            }
        }
    } else {
        granted.retain(|p| !permissions.contains(p));
    }
    store
        .set_app_permissions(&tenant, client_id, &granted)
        .await?;
    let op = if grant {
        "grantAppPermissions"
    } else {
        "revokeAppPermissions"
    };
    audit(
        store.as_ref(),
        &tenant,
        op,
        client_id,
        Some(format!("permissions: {}", permissions.join(" "))),
    )
    .await;
    println!(
        "{client_id}: {}",
        if granted.is_empty() {
            "(no permissions)".to_string()
        } else {
            granted.join(", ")
        }
    );
    println!("(tokens issued before this change keep their roles until they expire)");
    Ok(())
}

pub async fn users(cmd: UsersCommand) -> Result<()> {
    match cmd {
        UsersCommand::Create {
            upn,
            name,
            roles,
            t,
        } => {
            let roles = parse_roles(&roles)?;
            let (store, tenant) = tenant_store(&t).await?;
            let user = User {
                tenant: tenant.clone(),
                object_id: uuid::Uuid::new_v4().to_string(),
                display_name: name
                    .unwrap_or_else(|| upn.split('@').next().unwrap_or(&upn).to_string()),
                user_principal_name: upn,
                roles,
                created_at: Utc::now(),
            };
            store.create_user(&user).await?;
            audit(
                store.as_ref(),
                &tenant,
                "createUser",
                &user.object_id,
                Some(format!(
                    "upn: {}; roles: {}",
                    user.user_principal_name,
                    role_names(&user.roles)
                )),
            )
            .await;
            println!(
                "{}  {}  roles: {}",
                user.object_id,
                user.user_principal_name,
                role_names(&user.roles)
            );
        }
        UsersCommand::List { t } => {
            let (store, tenant) = tenant_store(&t).await?;
            for u in store.list_users(&tenant).await? {
                println!(
                    "{}  {}  roles: {}",
                    u.object_id,
                    u.user_principal_name,
                    role_names(&u.roles)
                );
            }
        }
        UsersCommand::SetRoles { user, roles, t } => {
            let roles = parse_roles(&roles)?;
            let (store, tenant) = tenant_store(&t).await?;
            let u = store
                .find_user(&tenant, &user)
                .await?
                .with_context(|| format!("no user {user} in tenant {tenant}"))?;
            store.set_user_roles(&tenant, &u.object_id, &roles).await?;
            audit(
                store.as_ref(),
                &tenant,
                "setUserRoles",
                &u.object_id,
                Some(format!("roles: {}", role_names(&roles))),
            )
            .await;
            println!("{}  roles: {}", u.user_principal_name, role_names(&roles));
        }
        UsersCommand::Delete { user, t } => {
            let (store, tenant) = tenant_store(&t).await?;
            let u = store
                .find_user(&tenant, &user)
                .await?
                .with_context(|| format!("no user {user} in tenant {tenant}"))?;
            store.delete_user(&tenant, &u.object_id).await?;
            audit(store.as_ref(), &tenant, "deleteUser", &u.object_id, None).await;
            println!("deleted user {}", u.user_principal_name);
        }
    }
    Ok(())
}

pub async fn issuers(cmd: IssuersCommand) -> Result<()> {
    match cmd {
        IssuersCommand::Add {
            issuer,
            jwks_uri,
            discover,
            audiences,
            console,
            t,
        } => {
            let (store, tenant) = tenant_store(&t.tenant_arg()).await?;
            let discovered = if discover {
                Some(
                    picket_auth::JwksCache::new(Default::default())
                        .discover(&issuer)
                        .await
                        .with_context(|| format!("cannot discover the keys of {issuer}"))?,
                )
            } else {
                None
            };
            let jwks_uri = match (jwks_uri, &discovered) {
                (Some(uri), _) => uri,
                (None, Some(d)) => d.jwks_uri.clone(),
                (None, None) => bail!("give --jwks-uri or --discover"),
            };
            let registration =
                console_registration(&console, &tenant, &issuer, &audiences, discovered.as_ref())?;
            let record = TrustedIssuer {
                tenant: tenant.clone(),
                issuer: issuer.clone(),
                jwks_uri: jwks_uri.clone(),
                audiences,
                created_at: Utc::now(),
            };
            store.save_trusted_issuer(&record).await?;
            audit(
                store.as_ref(),
                &tenant,
                "trustIssuer",
                &issuer,
                Some(format!("jwks: {jwks_uri}")),
            )
            .await;
            println!("tenant {tenant} trusts {issuer} (keys: {jwks_uri})");
            if let Some(r) = registration {
                picket_store::console_clients::save_registration(store.as_ref(), &r).await?;
                audit(
                    store.as_ref(),
                    &tenant,
                    "registerConsole",
                    &issuer,
                    Some(format!(
                        "client id: {}; scopes: {}",
                        r.client_id,
                        r.scopes.join(" ")
                    )),
                )
                .await;
                println!(
                    "the console signs in through it: \"Sign in with {}\" (client id {}, scopes {}, redirect URI https://YOUR-PICKET/console/)",
                    r.display_name,
                    r.client_id,
                    r.scopes.join(" ")
                );
            }
        }
        IssuersCommand::List { tenant, store } => {
            let tenant = tenant.as_deref().map(parse_tenant).transpose()?;
            let store = open_store(&store).await?;
            let mut consoles: Vec<ConsoleRegistration> = Vec::new();
            for i in store.list_trusted_issuers(tenant.as_ref()).await? {
                println!(
                    "{}  {}  keys {}  audiences {}",
                    i.tenant,
                    i.issuer,
                    i.jwks_uri,
                    i.audiences.join(" ")
                );
                if !consoles.iter().any(|c| c.tenant == i.tenant) {
                    consoles.extend(
                        picket_store::console_clients::registrations(store.as_ref(), &i.tenant)
                            .await?,
                    );
                }
                if let Some(c) = consoles
                    .iter()
                    .find(|c| c.tenant == i.tenant && c.issuer == i.issuer)
                {
                    println!(
                        "    console sign-in \"{}\": client id {}  scopes {}  authorize {}  token {}",
                        c.display_name,
                        c.client_id,
                        c.scopes.join(" "),
                        c.authorization_endpoint,
                        c.token_endpoint
                    );
                }
            }
        }
        IssuersCommand::Remove { issuer, t } => {
            let (store, tenant) = tenant_store(&t.tenant_arg()).await?;
            if !store.remove_trusted_issuer(&tenant, &issuer).await? {
                bail!("tenant {tenant} does not trust {issuer}");
            }
            audit(store.as_ref(), &tenant, "untrustIssuer", &issuer, None).await;
            println!("tenant {tenant} no longer trusts {issuer}");
        }
    }
    Ok(())
}

/// The console registration `issuers add` was asked for, if any.
fn console_registration(
    args: &ConsoleRegistrationArgs,
    tenant: &TenantId,
    issuer: &str,
    audiences: &[String],
    discovered: Option<&picket_auth::Discovery>,
) -> Result<Option<ConsoleRegistration>> {
    let Some(client_id) = args.console_client_id.clone() else {
        return Ok(None);
    };
    let endpoint = |given: &Option<String>, found: Option<&String>, flag: &str| {
        let url = given.clone().or_else(|| found.cloned()).with_context(|| {
            format!("the console registration needs --{flag} (or --discover, from the issuer's discovery document)")
        })?;
        check_url(&format!("--{flag}"), &url)?;
        Ok::<_, anyhow::Error>(url)
    };
    let authorization_endpoint = endpoint(
        &args.authorization_endpoint,
        discovered.and_then(|d| d.authorization_endpoint.as_ref()),
        "authorization-endpoint",
    )?;
    let token_endpoint = endpoint(
        &args.token_endpoint,
        discovered.and_then(|d| d.token_endpoint.as_ref()),
        "token-endpoint",
    )?;
    let scopes = if !args.console_scopes.is_empty() {
        args.console_scopes.clone()
    } else {
        match audiences.first() {
            Some(a) => vec![format!("{}/.default", a.trim_end_matches('/'))],
            None => vec!["https://graph.microsoft.com/.default".to_string()],
        }
    };
    Ok(Some(ConsoleRegistration {
        tenant: tenant.clone(),
        issuer: issuer.to_string(),
        display_name: args
            .console_name
            .clone()
            .unwrap_or_else(|| host_of(issuer).to_string()),
        client_id,
        authorization_endpoint,
        token_endpoint,
        scopes,
        created_at: Utc::now(),
    }))
}

pub async fn keys(cmd: KeysCommand) -> Result<()> {
    let now = Utc::now();
    match cmd {
        KeysCommand::List { store } => {
            let store = open_store(&store).await?;
            picket_server::signing::ensure_keys(store.as_ref(), None, now).await?;
            for k in store.signing_keys().await? {
                let state = match (&k.retired_at, &k.remove_after) {
                    (None, _) => "current (signs new tokens)".to_string(),
                    (Some(_), Some(t)) if *t > now => {
                        format!("retired, accepted until {}", format_timestamp(t))
                    }
                    _ => "removed".to_string(),
                };
                println!(
                    "{}  created {}  {state}",
                    k.kid,
                    format_timestamp(&k.created_at)
                );
            }
        }
        KeysCommand::Rotate {
            retire_after,
            store,
        } => {
            let store = open_store(&store).await?;
            picket_server::signing::ensure_keys(store.as_ref(), None, now).await?;
            let key = picket_server::signing::rotate(store.as_ref(), now, retire_after).await?;
            println!("new signing key {}", key.kid);
            println!(
                "the previous key stays published and accepted until {} (running servers pick this up within seconds)",
                format_timestamp(&(now + Duration::from_std(retire_after).unwrap_or_default()))
            );
        }
        KeysCommand::Remove { kid, store } => {
            let store = open_store(&store).await?;
            if !store.remove_signing_key(&kid).await? {
                bail!("no signing key {kid}");
            }
            println!("removed key {kid}: tokens it signed are refused from now on");
        }
    }
    Ok(())
}

pub async fn audit_log(args: AuditArgs) -> Result<()> {
    let (store, tenant) = tenant_store(&args.t).await?;
    let since = match args.since.as_deref() {
        None => None,
        Some(text) => Some(match parse_timestamp(text) {
            Some(t) => t,
            None => {
                let age = parse_duration(text).map_err(anyhow::Error::msg)?;
                Utc::now() - Duration::from_std(age).unwrap_or_default()
            }
        }),
    };
    let query = AuditQuery {
        since,
        operation: args.operation,
        limit: args.limit,
        ..Default::default()
    };
    for e in store.audit_entries(&tenant, &query).await? {
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "seq": e.seq, "time": format_timestamp(&e.time), "tenant": e.tenant.as_str(),
                    "actor": e.actor, "operation": e.operation, "target": e.target,
                    "result": e.result, "requestId": e.request_id, "detail": e.detail,
                })
            );
        } else {
            println!(
                "{}  {:<28} {:<44} {:<28} {:<8} {}{}",
                format_timestamp(&e.time),
                e.operation,
                e.actor,
                e.target,
                e.result,
                e.request_id,
                e.detail.map(|d| format!("  ({d})")).unwrap_or_default()
            );
        }
    }
    Ok(())
}
