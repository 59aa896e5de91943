//! `picket console-link`: a one-time sign-in link to the web console for a registered user.
//! Picket keeps no passwords; the link carries a ticket (stored only as its SHA-256) that the
//! console trades for a session. The ticket is in the URL fragment, so it never reaches a
//! server's access log.

use crate::config::StoreArgs;
use crate::identity::parse_duration;
use anyhow::{bail, Context, Result};
use picket_domain::time::{Clock, SystemClock};
use picket_domain::TenantId;
use picket_store::sign_ins::{self, Kind};
use picket_store::Store;

/// How long a link is valid when no --lifetime is given.
pub const DEFAULT_LIFETIME: &str = "10m";

#[derive(clap::Args)]
pub struct ConsoleLinkArgs {
    /// Tenant id (GUID).
    #[arg(long, env = "PICKET_TENANT")]
    tenant: String,
    /// The user who signs in: user principal name or object id (see `picket users`).
    #[arg(long)]
    user: String,
    /// The Picket server the console is served by (its address as the browser reaches it).
    #[arg(long, env = "PICKET_ENDPOINT", default_value = "http://127.0.0.1:8080")]
    endpoint: String,
    /// How long the link may wait to be opened (it signs in once): 90s, 10m, 2h.
    #[arg(long, default_value = DEFAULT_LIFETIME, value_parser = parse_duration)]
    lifetime: std::time::Duration,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: ConsoleLinkArgs) -> Result<()> {
    let tenant = crate::parse_tenant(&args.tenant)?;
    let store = crate::open_store(&args.store).await?;
    let link = make(
        store.as_ref(),
        &tenant,
        &args.user,
        &args.endpoint,
        args.lifetime,
    )
    .await?;
    println!("{link}");
    eprintln!(
        "Open it in a browser within {} to sign in as {} (it works once).",
        humanize(args.lifetime),
        args.user
    );
    Ok(())
}

/// Stores a ticket for the user and answers the link `{endpoint}/console/#tenant=…&ticket=…`.
pub async fn make(
    store: &dyn Store,
    tenant: &TenantId,
    user: &str,
    endpoint: &str,
    lifetime: std::time::Duration,
) -> Result<String> {
    if lifetime.is_zero() || lifetime > std::time::Duration::from_secs(7 * 86_400) {
        bail!("--lifetime must be between 1s and 7d");
    }
    let endpoint = endpoint.trim_end_matches('/');
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        bail!("--endpoint must be the server's http:// or https:// address, not '{endpoint}'");
    }
    if store.find_tenant(tenant).await?.is_none() {
        bail!("no tenant {tenant}; see 'picket tenants list'");
    }
    let found = store
        .find_user(tenant, user)
        .await?
        .with_context(|| {
            format!("no user '{user}' in tenant {tenant}; see 'picket users list' and 'picket users create'")
        })?;
    let lifetime = chrono::Duration::from_std(lifetime).context("--lifetime is too long")?;
    let ticket = sign_ins::create(
        store,
        tenant,
        Kind::Ticket,
        &found.object_id,
        None,
        lifetime,
        SystemClock.now(),
    )
    .await?;
    Ok(format!(
        "{endpoint}/console/#tenant={tenant}&ticket={}",
        ticket.expose()
    ))
}

/// `10 minutes`, `90 seconds`, `2 hours`.
pub fn humanize(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let (n, unit) = if secs.is_multiple_of(3600) {
        (secs / 3600, "hour")
    } else if secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
