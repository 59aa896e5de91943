//! Sign-in clients besides the console's own, written once over both engines (shared
//! statements run by [`PortableStore::read_rows`] and [`PortableStore::write_statements`]):
//! - public client apps: a registered app that signs users in at Picket's authorization
//!   endpoint, redirected only to one of its exact redirect URIs (PKCE required);
//! - console registrations: Picket's console registered at a trusted issuer (the client id
//!   there, that provider's endpoints and the scopes to ask for), so the console can sign
//!   people in through that provider.
//!
//! Each row goes with the app or trusted issuer it belongs to (foreign keys, cascading).

use crate::portable::{Cell, PortableStore};
use crate::StoreError;
use picket_domain::identity::ConsoleRegistration;
use picket_domain::time::{format_timestamp, parse_timestamp};
use picket_domain::TenantId;

mod sql {
    pub const PUT_PUBLIC: &str = "INSERT INTO public_clients (tenant_id, client_id, \
         redirect_uris) VALUES (?, ?, ?) ON CONFLICT (tenant_id, client_id) DO UPDATE SET \
         redirect_uris = excluded.redirect_uris";
    pub const GET_PUBLIC: &str =
        "SELECT redirect_uris FROM public_clients WHERE tenant_id = ? AND client_id = ?";
    pub const PUT_REGISTRATION: &str = "INSERT INTO console_registrations (tenant_id, issuer, \
         display_name, client_id, authorization_endpoint, token_endpoint, scopes, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, issuer) DO UPDATE SET \
         display_name = excluded.display_name, client_id = excluded.client_id, \
         authorization_endpoint = excluded.authorization_endpoint, \
         token_endpoint = excluded.token_endpoint, scopes = excluded.scopes";
    pub const LIST_REGISTRATIONS: &str = "SELECT issuer, display_name, client_id, \
         authorization_endpoint, token_endpoint, scopes, created_at FROM console_registrations \
         WHERE tenant_id = ? ORDER BY issuer";
    pub const DELETE_REGISTRATION: &str =
        "DELETE FROM console_registrations WHERE tenant_id = ? AND issuer = ?";
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn json_list(items: &[String]) -> Result<Cell, StoreError> {
    serde_json::to_string(items)
        .map(Cell::Text)
        .map_err(|e| StoreError::Internal(e.to_string()))
}

fn parse_list(cell: Option<&Cell>, what: &str) -> Result<Vec<String>, StoreError> {
    match cell {
        Some(Cell::Text(t)) => serde_json::from_str(t)
            .map_err(|_| StoreError::Internal(format!("a stored {what}: not a JSON list"))),
        _ => Err(StoreError::Internal(format!("a stored {what}: missing"))),
    }
}

/// Makes a registered app a public client with exactly these redirect URIs (replacing any).
/// The app must exist.
pub async fn set_public_client<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    client_id: &str,
    redirect_uris: &[String],
) -> Result<(), StoreError> {
    let params = vec![
        text(tenant.as_str()),
        text(client_id),
        json_list(redirect_uris)?,
    ];
    store
        .write_statements(tenant, vec![(sql::PUT_PUBLIC, params)])
        .await?;
    Ok(())
}

/// The redirect URIs of a public client app; `None` when the app is not one.
pub async fn public_client_redirect_uris<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    client_id: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let params = vec![text(tenant.as_str()), text(client_id)];
    match store.read_rows(sql::GET_PUBLIC, params).await?.first() {
        Some(row) => parse_list(row.first(), "redirect URI list").map(Some),
        None => Ok(None),
    }
}

/// Adds or replaces the console's registration at a trusted issuer of the tenant (which must
/// exist).
pub async fn save_registration<S: PortableStore + ?Sized>(
    store: &S,
    registration: &ConsoleRegistration,
) -> Result<(), StoreError> {
    let r = registration;
    let params = vec![
        text(r.tenant.as_str()),
        text(&r.issuer),
        text(&r.display_name),
        text(&r.client_id),
        text(&r.authorization_endpoint),
        text(&r.token_endpoint),
        json_list(&r.scopes)?,
        text(format_timestamp(&r.created_at)),
    ];
    store
        .write_statements(&r.tenant, vec![(sql::PUT_REGISTRATION, params)])
        .await?;
    Ok(())
}

/// The console's registrations at the tenant's trusted issuers, by issuer.
pub async fn registrations<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<Vec<ConsoleRegistration>, StoreError> {
    let rows = store
        .read_rows(sql::LIST_REGISTRATIONS, vec![text(tenant.as_str())])
        .await?;
    rows.iter()
        .map(|row| parse_registration(tenant, row))
        .collect()
}

/// The console's registration at one trusted issuer of the tenant.
pub async fn registration<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    issuer: &str,
) -> Result<Option<ConsoleRegistration>, StoreError> {
    Ok(registrations(store, tenant)
        .await?
        .into_iter()
        .find(|r| r.issuer == issuer))
}

/// False when there was none.
pub async fn remove_registration<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    issuer: &str,
) -> Result<bool, StoreError> {
    let params = vec![text(tenant.as_str()), text(issuer)];
    let changed = store
        .write_statements(tenant, vec![(sql::DELETE_REGISTRATION, params)])
        .await?;
    Ok(changed.first().copied().unwrap_or(0) > 0)
}

fn parse_registration(tenant: &TenantId, row: &[Cell]) -> Result<ConsoleRegistration, StoreError> {
    let bad =
        |what: &str| StoreError::Internal(format!("a stored console registration: bad {what}"));
    let text_at = |i: usize, what: &str| match row.get(i) {
        Some(Cell::Text(t)) => Ok(t.clone()),
        _ => Err(bad(what)),
    };
    let created = text_at(6, "created_at")?;
    Ok(ConsoleRegistration {
        tenant: tenant.clone(),
        issuer: text_at(0, "issuer")?,
        display_name: text_at(1, "display_name")?,
        client_id: text_at(2, "client_id")?,
        authorization_endpoint: text_at(3, "authorization_endpoint")?,
        token_endpoint: text_at(4, "token_endpoint")?,
        scopes: parse_list(row.get(5), "scope list")?,
        created_at: parse_timestamp(&created).ok_or_else(|| bad("created_at"))?,
    })
}
