//! `identityAccounts` and `invokeAction` (spec §7.4). The identities are documents queried in
//! memory (`picket_odata::eval`); the decision on an action is the domain's
//! (`identity_accounts::decide_action`): Okta actions apply at once, Active Directory ones wait
//! for a sensor of the account's domain, Entra ID ones are refused as the real service does.

use super::Call;
use crate::error::ApiError;
use crate::graph::body::{self, unknown_property, wrong_type};
use crate::graph::collection::{
    collection, document_page, entity_query, filter_and_sort, select_fragment, CollectionQuery,
};
use crate::graph::render::{DocumentView, Entity};
use crate::response::GraphResponse;
use picket_domain::identity_accounts::{apply, decide_action, Delivery};
use picket_domain::schema::identity_accounts_schema;
use picket_domain::time::format_timestamp;
use picket_domain::{AccountAction, IdentityProvider};
use picket_store::identity_accounts::{self as store, ActionRecord, ActionStatus};
use picket_store::NewAuditEntry;
use serde_json::{json, Value};

pub const IDENTITY_ACCOUNTS_TYPE: &str = "#microsoft.graph.security.identityAccounts";
pub const INVOKE_ACTION_RESULT_TYPE: &str = "#microsoft.graph.security.invokeActionResult";

/// The tenant's identities that pass `$filter`, in `$orderby` order (then by id).
async fn matching(call: &Call<'_>, query: &CollectionQuery) -> Result<Vec<Value>, ApiError> {
    Ok(filter_and_sort(
        store::list_documents(call.state.store.as_ref(), call.tenant()).await?,
        &query.valid,
        "id",
    ))
}

pub async fn list(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let query = CollectionQuery::parse(call.query, identity_accounts_schema())?;
    let page_request = query.page_request(call.state.settings.default_page_size);
    let docs = matching(call, &query).await?;
    let total = query.valid.count.then_some(docs.len() as u64);
    let page = document_page(docs, page_request);
    let select = query.valid.select.as_deref();
    let body = collection(
        call.ctx,
        "security/identities/identityAccounts",
        &query,
        page_request,
        &page,
        total,
        |doc| DocumentView {
            doc,
            odata_type: IDENTITY_ACCOUNTS_TYPE,
            select,
        },
    );
    GraphResponse::serialized(200, &body)
}

pub async fn count(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let query = CollectionQuery::parse(call.query, identity_accounts_schema())?;
    Ok(GraphResponse::text(
        matching(call, &query).await?.len().to_string(),
    ))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Identity account '{id}' was not found"))
}

pub async fn get(call: &Call<'_>, id: &str) -> Result<GraphResponse, ApiError> {
    let query = entity_query(call.query, identity_accounts_schema())?;
    let identity = store::find(call.state.store.as_ref(), call.tenant(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let doc = serde_json::to_value(&identity).map_err(|e| ApiError::Internal(e.to_string()))?;
    let body = Entity {
        context: call.ctx.metadata(&select_fragment(
            "security/identities/identityAccounts/$entity",
            &query,
        )),
        fields: DocumentView {
            doc: &doc,
            odata_type: IDENTITY_ACCOUNTS_TYPE,
            select: query.select.as_deref(),
        },
    };
    GraphResponse::serialized(200, &body)
}

/// `{"accountId", "action", "identityProvider"}`, each required.
fn parse_request(call: &Call<'_>) -> Result<(String, AccountAction, IdentityProvider), ApiError> {
    let body = body::json_object(call.body)?;
    let (mut account, mut action, mut provider) = (None, None, None);
    for (name, value) in &body {
        let text = || value.as_str().ok_or_else(|| wrong_type(name, "a string"));
        match name.as_str() {
            "accountId" => account = Some(text()?.to_string()),
            "action" => {
                let t = text()?;
                action = Some(AccountAction::parse(t).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "'{t}' is not a valid value for property 'action'; expected one of: {}",
                        AccountAction::MEMBERS.join(", ")
                    ))
                })?)
            }
            "identityProvider" => {
                let t = text()?;
                provider = Some(IdentityProvider::parse(t).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "'{t}' is not a valid value for property 'identityProvider'; expected one of: {}",
                        IdentityProvider::MEMBERS.join(", ")
                    ))
                })?)
            }
            other => return Err(unknown_property(other, "invokeAction")),
        }
    }
    let required = |what: &str| ApiError::BadRequest(format!("Property '{what}' is required"));
    let account = account
        .filter(|a| !a.is_empty())
        .ok_or_else(|| required("accountId"))?;
    if account.len() > picket_domain::limits::MAX_ID_LEN {
        return Err(ApiError::BadRequest(
            "Property 'accountId' is too long".into(),
        ));
    }
    Ok((
        account,
        action.ok_or_else(|| required("action"))?,
        provider.ok_or_else(|| required("identityProvider"))?,
    ))
}

pub async fn invoke_action(call: &Call<'_>, id: &str) -> Result<GraphResponse, ApiError> {
    let (account_id, action, provider) = parse_request(call)?;
    let s = call.state.store.as_ref();
    let mut identity = store::find(s, call.tenant(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let delivery = decide_action(&identity, &account_id, provider, action)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let now = format_timestamp(&call.now);
    let mut record = ActionRecord {
        correlation_id: correlation_id.clone(),
        identity_id: identity.id.clone(),
        account_id: account_id.clone(),
        identity_provider: provider,
        action,
        domain: identity.domain.clone(),
        status: ActionStatus::Pending,
        requested_date_time: now.clone(),
        completed_date_time: None,
        requested_by: call.caller.actor(),
        detail: None,
    };
    match delivery {
        Delivery::AtOnce => {
            apply(&mut identity, action);
            record.status = ActionStatus::Done;
            record.completed_date_time = Some(now);
            record.detail = Some(format!("carried out by {}", provider.as_str()));
            store::record_action(s, call.tenant(), &record, Some(&identity)).await?;
        }
        Delivery::ToSensorOf => {
            record.detail = Some(format!("waiting for a sensor of {}", identity.domain));
            store::record_action(s, call.tenant(), &record, None).await?;
            call.state.pending_actions.queued(call.tenant());
        }
    }
    audit_action(call, &record).await;
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": call.ctx.metadata("microsoft.graph.security.invokeActionResult"),
            "@odata.type": INVOKE_ACTION_RESULT_TYPE,
            "accountId": account_id,
            "action": action.as_str(),
            "identityProvider": provider.as_str(),
            "correlationId": correlation_id,
        }),
    ))
}

/// An audit entry naming the action, its correlation id and where it stands.
pub async fn audit_action(call: &Call<'_>, record: &ActionRecord) {
    let entry = NewAuditEntry {
        time: call.now,
        tenant: call.tenant().clone(),
        actor: call.caller.actor(),
        operation: "accountAction".into(),
        target: format!(
            "security/identities/identityAccounts/{}",
            record.identity_id
        ),
        result: record.status.as_str().into(),
        request_id: call.ctx.ids.request_id.clone(),
        detail: Some(format!(
            "correlationId {}; {} {} ({})",
            record.correlation_id,
            record.action.as_str(),
            record.account_id,
            record.identity_provider.as_str()
        )),
    };
    crate::audit::record(call.state, &entry).await;
}
