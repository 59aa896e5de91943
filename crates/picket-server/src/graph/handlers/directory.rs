//! The two directory reads tools make before they reach the sensors (Prowler, for one, reads
//! `organization` for the tenant id and `domains` before its Defender for Identity check):
//! answered from the tenant's name and its fleet's AD domains.

use super::Call;
use crate::error::ApiError;
use crate::response::GraphResponse;
use picket_store::tenant_settings;
use serde_json::{json, Value};

/// The tenant's initial `onmicrosoft.com` domain: its name in letters and digits, else the
/// first group of its id.
fn initial_domain(display_name: &str, tenant: &str) -> String {
    let slug: String = display_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(27)
        .collect();
    let slug = if slug.is_empty() {
        tenant.split('-').next().unwrap_or(tenant).to_string()
    } else {
        slug
    };
    format!("{slug}.onmicrosoft.com")
}

/// (name, isInitial) of each verified domain: the initial one first, then the fleet's.
async fn domains(call: &Call<'_>) -> Result<(String, Vec<(String, bool)>), ApiError> {
    let tenant = call.tenant();
    let name = call
        .state
        .store
        .find_tenant(tenant)
        .await?
        .map(|t| t.display_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("Tenant {}", tenant.as_str()));
    let mut out = vec![(initial_domain(&name, tenant.as_str()), true)];
    for d in tenant_settings::sensor_domains(call.state.store.as_ref(), tenant).await? {
        out.push((d, false));
    }
    Ok((name, out))
}

pub async fn list_organization(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let (name, domains) = domains(call).await?;
    let default = default_domain(&domains);
    let verified: Vec<Value> = domains
        .iter()
        .map(|(d, initial)| {
            json!({
                "capabilities": if *initial { "Email, OfficeCommunicationsOnline" } else { "None" },
                "isDefault": *d == default,
                "isInitial": initial,
                "name": d,
                "type": "Managed",
            })
        })
        .collect();
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": call.ctx.metadata("organization"),
            "value": [{
                "id": call.tenant().as_str(),
                "displayName": name,
                "tenantType": "AAD",
                "verifiedDomains": verified,
            }],
        }),
    ))
}

/// The first AD domain of the fleet is the default, as an organization that runs Defender for
/// Identity usually makes its own domain the default; without one, the initial domain.
fn default_domain(domains: &[(String, bool)]) -> String {
    domains
        .iter()
        .find(|(_, initial)| !initial)
        .or(domains.first())
        .map(|(d, _)| d.clone())
        .unwrap_or_default()
}

pub async fn list_domains(call: &Call<'_>) -> Result<GraphResponse, ApiError> {
    let (_, domains) = domains(call).await?;
    let default = default_domain(&domains);
    let value: Vec<Value> = domains
        .iter()
        .map(|(d, initial)| {
            json!({
                "id": d,
                "authenticationType": "Managed",
                "isAdminManaged": true,
                "isDefault": *d == default,
                "isInitial": initial,
                "isRoot": true,
                "isVerified": true,
                "supportedServices": if *initial { json!(["Email", "OfficeCommunicationsOnline"]) } else { json!([]) },
            })
        })
        .collect();
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": call.ctx.metadata("domains"),
            "value": value,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_domains_come_from_the_name_or_the_id() {
        assert_eq!(
            initial_domain("Contoso Ltd.", "x"),
            "contosoltd.onmicrosoft.com"
        );
        assert_eq!(
            initial_domain("", "6babcaad-604b-40ac-a9d7-9fd97c0b779f"),
            "6babcaad.onmicrosoft.com"
        );
        assert_eq!(
            default_domain(&[
                ("a.onmicrosoft.com".into(), true),
                ("contoso.com".into(), false)
            ]),
            "contoso.com"
        );
        assert_eq!(
            default_domain(&[("a.onmicrosoft.com".into(), true)]),
            "a.onmicrosoft.com"
        );
    }
}
