//! Identity accounts and the response actions asked for on them (spec §7.4), written once over
//! both engines: documents in Graph's JSON shape, read and written through the shared
//! statements of [`PortableStore`].

use crate::portable::{Cell, PortableStore};
use crate::StoreError;
use picket_domain::identity_accounts::IdentityAccount;
use picket_domain::{AccountAction, IdentityProvider, TenantId};
use serde::{Deserialize, Serialize};

mod sql {
    pub const LIST: &str = "SELECT body FROM identity_accounts WHERE tenant_id = ? ORDER BY id";
    pub const FIND: &str = "SELECT body FROM identity_accounts WHERE tenant_id = ? AND id = ?";
    pub const PUT: &str = "INSERT INTO identity_accounts (tenant_id, id, body) VALUES (?, ?, ?) \
         ON CONFLICT (tenant_id, id) DO UPDATE SET body = excluded.body";
    pub const PUT_ACTION: &str =
        "INSERT INTO account_actions (tenant_id, correlation_id, domain, status, body) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, correlation_id) DO UPDATE SET \
         status = excluded.status, body = excluded.body";
    pub const ACTIONS: &str =
        "SELECT body FROM account_actions WHERE tenant_id = ? ORDER BY correlation_id";
    pub const PENDING_IN_DOMAIN: &str = "SELECT body FROM account_actions \
         WHERE tenant_id = ? AND status = 'pending' AND lower(domain) = lower(?) ORDER BY correlation_id";
}

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionStatus {
    /// Waiting for a sensor of the account's domain (Active Directory).
    Pending,
    Done,
    Failed,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Pending => "pending",
            ActionStatus::Done => "done",
            ActionStatus::Failed => "failed",
        }
    }
}

/// One `invokeAction`, from request to outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRecord {
    pub correlation_id: String,
    /// The identity (`identityAccounts/{id}`).
    pub identity_id: String,
    /// The account entry's identifier.
    pub account_id: String,
    pub identity_provider: IdentityProvider,
    pub action: AccountAction,
    pub domain: String,
    pub status: ActionStatus,
    pub requested_date_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_date_time: Option<String>,
    /// Who asked (`app:…` or `user:…`).
    pub requested_by: String,
    /// The sensor that carried it out, or why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Internal(format!("a stored document: {e}")))
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

fn t(tenant: &TenantId) -> Cell {
    Cell::Text(tenant.to_string())
}

/// Every identity of the tenant, by id.
pub async fn list<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<Vec<IdentityAccount>, StoreError> {
    store
        .read_texts(sql::LIST, vec![t(tenant)])
        .await?
        .iter()
        .map(|b| parse(b))
        .collect()
}

/// The identity's document as stored (Graph JSON), for the in-memory query evaluator.
pub async fn list_documents<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<Vec<serde_json::Value>, StoreError> {
    store
        .read_texts(sql::LIST, vec![t(tenant)])
        .await?
        .iter()
        .map(|b| parse(b))
        .collect()
}

pub async fn find<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<IdentityAccount>, StoreError> {
    let found = store
        .read_texts(sql::FIND, vec![t(tenant), Cell::Text(id.into())])
        .await?;
    found.first().map(|b| parse(b)).transpose()
}

fn put_statement(
    tenant: &TenantId,
    identity: &IdentityAccount,
) -> Result<(&'static str, Vec<Cell>), StoreError> {
    Ok((
        sql::PUT,
        vec![
            t(tenant),
            Cell::Text(identity.id.clone()),
            Cell::Text(json(identity)?),
        ],
    ))
}

fn action_statement(
    tenant: &TenantId,
    record: &ActionRecord,
) -> Result<(&'static str, Vec<Cell>), StoreError> {
    Ok((
        sql::PUT_ACTION,
        vec![
            t(tenant),
            Cell::Text(record.correlation_id.clone()),
            Cell::Text(record.domain.clone()),
            Cell::Text(record.status.as_str().into()),
            Cell::Text(json(record)?),
        ],
    ))
}

/// Stores identities (replacing those with the same ids), all or none.
pub async fn put_all<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    identities: &[IdentityAccount],
) -> Result<(), StoreError> {
    let statements = identities
        .iter()
        .map(|i| put_statement(tenant, i))
        .collect::<Result<Vec<_>, _>>()?;
    store.write_statements(tenant, statements).await?;
    Ok(())
}

/// Records an action and, when given, the identity as it now is, in one transaction.
pub async fn record_action<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    record: &ActionRecord,
    identity: Option<&IdentityAccount>,
) -> Result<(), StoreError> {
    let mut statements = vec![action_statement(tenant, record)?];
    if let Some(identity) = identity {
        statements.push(put_statement(tenant, identity)?);
    }
    store.write_statements(tenant, statements).await?;
    Ok(())
}

/// Every action of the tenant, oldest correlation id first.
pub async fn actions<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<Vec<ActionRecord>, StoreError> {
    store
        .read_texts(sql::ACTIONS, vec![t(tenant)])
        .await?
        .iter()
        .map(|b| parse(b))
        .collect()
}

/// The actions waiting for a sensor of `domain`.
pub async fn pending_in_domain<S: PortableStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    domain: &str,
) -> Result<Vec<ActionRecord>, StoreError> {
    store
        .read_texts(
            sql::PENDING_IN_DOMAIN,
            vec![t(tenant), Cell::Text(domain.into())],
        )
        .await?
        .iter()
        .map(|b| parse(b))
        .collect()
}
