//! Identity accounts and their response actions (spec §7.4): the entity as Graph shapes it,
//! which actions each source system offers, and the decision on an `invokeAction` request —
//! pure, with table tests; the store keeps the accounts as documents and the server applies
//! what this decides.

use crate::enums::{AccountAction, IdentityProvider};
use serde::{Deserialize, Serialize};

/// One source system's record of an identity (`microsoft.graph.security.account`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub identifier: String,
    pub identity_provider: IdentityProvider,
    pub actions: Vec<AccountAction>,
}

/// `microsoft.graph.security.identityAccounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityAccount {
    pub id: String,
    pub display_name: String,
    pub domain: String,
    pub is_enabled: bool,
    #[serde(default)]
    pub cloud_security_identifier: Option<String>,
    #[serde(default)]
    pub on_premises_security_identifier: Option<String>,
    pub accounts: Vec<Account>,
}

/// The actions each source system carries out (observed on the real service, spec §7.4).
/// Entra ID lists its actions, but the service does not carry them out yet.
pub fn actions_of(provider: IdentityProvider) -> Vec<AccountAction> {
    use AccountAction::*;
    match provider {
        IdentityProvider::ActiveDirectory => vec![Disable, Enable, ForcePasswordReset],
        IdentityProvider::Okta => vec![Disable, Enable, RevokeAllSessions],
        IdentityProvider::EntraId => vec![
            Disable,
            Enable,
            RevokeAllSessions,
            RequireUserToSignInAgain,
            MarkUserAsCompromised,
        ],
        IdentityProvider::UnknownFutureValue => vec![],
    }
}

/// How an accepted action is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// On-premises AD: by a sensor of the account's domain, on its next check-in.
    ToSensorOf,
    /// Okta: at once.
    AtOnce,
}

/// Why an `invokeAction` is refused (each a 400, in the real service's words where known).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionRefusal {
    #[error("The account '{0}' is not one of this identity's accounts")]
    NoSuchAccount(String),
    #[error("The account '{account}' is not a {provider} account")]
    WrongProvider {
        account: String,
        provider: IdentityProvider,
    },
    #[error("The action '{action}' is not supported for the account '{account}'")]
    NotOffered {
        account: String,
        action: AccountAction,
    },
    #[error("EntraID actions are not yet supported")]
    EntraIdNotSupported,
}

/// Decides an `invokeAction` on `identity`: which account entry it targets and how it is
/// carried out.
pub fn decide_action(
    identity: &IdentityAccount,
    account_id: &str,
    provider: IdentityProvider,
    action: AccountAction,
) -> Result<Delivery, ActionRefusal> {
    let entry = identity
        .accounts
        .iter()
        .find(|a| a.identifier.eq_ignore_ascii_case(account_id))
        .ok_or_else(|| ActionRefusal::NoSuchAccount(account_id.to_string()))?;
    if entry.identity_provider != provider {
        return Err(ActionRefusal::WrongProvider {
            account: account_id.to_string(),
            provider,
        });
    }
    if !entry.actions.contains(&action) || action == AccountAction::UnknownFutureValue {
        return Err(ActionRefusal::NotOffered {
            account: account_id.to_string(),
            action,
        });
    }
    match provider {
        IdentityProvider::ActiveDirectory => Ok(Delivery::ToSensorOf),
        IdentityProvider::Okta => Ok(Delivery::AtOnce),
        IdentityProvider::EntraId | IdentityProvider::UnknownFutureValue => {
            Err(ActionRefusal::EntraIdNotSupported)
        }
    }
}

/// What a carried-out action does to the identity: `disable` and `enable` flip `isEnabled`.
pub fn apply(identity: &mut IdentityAccount, action: AccountAction) {
    match action {
        AccountAction::Disable => identity.is_enabled = false,
        AccountAction::Enable => identity.is_enabled = true,
        _ => {}
    }
}

/// An account a domain controller's sensor reports from its domain's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportedAccount {
    pub sam_account_name: String,
    pub display_name: String,
    #[serde(default = "enabled")]
    pub is_enabled: bool,
    #[serde(default)]
    pub on_premises_security_identifier: Option<String>,
    /// The same person's accounts in other systems (Entra ID, Okta), by identifier.
    #[serde(default)]
    pub also: Vec<(IdentityProvider, String)>,
}

fn enabled() -> bool {
    true
}

/// A stable identity id for an AD account: the same domain and name give the same id on
/// every report and every replica.
pub fn identity_id(domain: &str, sam: &str) -> String {
    fn fnv(seed: u64, text: &str) -> u64 {
        text.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
    let key = format!(
        "{}\\{}",
        domain.to_ascii_lowercase(),
        sam.to_ascii_lowercase()
    );
    let (a, b) = (
        fnv(0xcbf2_9ce4_8422_2325, &key),
        fnv(0x84222325_cbf29ce4, &key),
    );
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// Folds what a sensor reported of `domain` into the identities already known: a new account
/// makes a new identity; a known one takes the directory's name and enabled state and gains
/// the other systems' accounts it did not have. Returns the identities to write (new or
/// changed), in the order reported.
pub fn merge_reported(
    known: &[IdentityAccount],
    domain: &str,
    reported: &[ReportedAccount],
) -> Vec<IdentityAccount> {
    let mut out = Vec::new();
    for r in reported {
        let identifier = format!("{}@{}", r.sam_account_name, domain);
        let existing = known.iter().find(|i| {
            i.accounts.iter().any(|a| {
                a.identity_provider == IdentityProvider::ActiveDirectory
                    && a.identifier.eq_ignore_ascii_case(&identifier)
            })
        });
        let mut identity = existing.cloned().unwrap_or_else(|| IdentityAccount {
            id: identity_id(domain, &r.sam_account_name),
            display_name: r.display_name.clone(),
            domain: domain.to_string(),
            is_enabled: r.is_enabled,
            cloud_security_identifier: None,
            on_premises_security_identifier: None,
            accounts: vec![Account {
                identifier: identifier.clone(),
                identity_provider: IdentityProvider::ActiveDirectory,
                actions: actions_of(IdentityProvider::ActiveDirectory),
            }],
        });
        identity.display_name = r.display_name.clone();
        identity.is_enabled = r.is_enabled;
        if r.on_premises_security_identifier.is_some() {
            identity.on_premises_security_identifier = r.on_premises_security_identifier.clone();
        }
        for (provider, other) in &r.also {
            if *provider == IdentityProvider::UnknownFutureValue
                || identity
                    .accounts
                    .iter()
                    .any(|a| a.identifier.eq_ignore_ascii_case(other))
            {
                continue;
            }
            identity.accounts.push(Account {
                identifier: other.clone(),
                identity_provider: *provider,
                actions: actions_of(*provider),
            });
        }
        if existing != Some(&identity) {
            out.push(identity);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountAction::*;
    use IdentityProvider::*;

    fn identity() -> IdentityAccount {
        IdentityAccount {
            id: "i-1".into(),
            display_name: "Alice".into(),
            domain: "contoso.com".into(),
            is_enabled: true,
            cloud_security_identifier: Some("S-1-12-1-1".into()),
            on_premises_security_identifier: Some("S-1-5-21-1-1001".into()),
            accounts: vec![
                Account {
                    identifier: "alice@contoso.com".into(),
                    identity_provider: ActiveDirectory,
                    actions: actions_of(ActiveDirectory),
                },
                Account {
                    identifier: "alice@contoso.okta.com".into(),
                    identity_provider: Okta,
                    actions: actions_of(Okta),
                },
                Account {
                    identifier: "alice@contoso.onmicrosoft.com".into(),
                    identity_provider: EntraId,
                    actions: actions_of(EntraId),
                },
            ],
        }
    }

    #[test]
    fn decisions() {
        let i = identity();
        let cases: Vec<(
            &str,
            IdentityProvider,
            AccountAction,
            Result<Delivery, &str>,
        )> = vec![
            (
                "alice@contoso.com",
                ActiveDirectory,
                Disable,
                Ok(Delivery::ToSensorOf),
            ),
            (
                "ALICE@contoso.com",
                ActiveDirectory,
                ForcePasswordReset,
                Ok(Delivery::ToSensorOf),
            ),
            (
                "alice@contoso.okta.com",
                Okta,
                RevokeAllSessions,
                Ok(Delivery::AtOnce),
            ),
            (
                "alice@contoso.com",
                ActiveDirectory,
                RevokeAllSessions,
                Err("not supported"),
            ),
            (
                "alice@contoso.com",
                Okta,
                Disable,
                Err("is not a okta account"),
            ),
            (
                "bob@contoso.com",
                ActiveDirectory,
                Disable,
                Err("is not one of"),
            ),
            (
                "alice@contoso.onmicrosoft.com",
                EntraId,
                Disable,
                Err("EntraID actions are not yet supported"),
            ),
            (
                "alice@contoso.com",
                ActiveDirectory,
                AccountAction::UnknownFutureValue,
                Err("not supported"),
            ),
        ];
        for (account, provider, action, want) in cases {
            let got = decide_action(&i, account, provider, action).map_err(|e| e.to_string());
            match (got, want) {
                (Ok(d), Ok(w)) => assert_eq!(d, w, "{account} {action}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{account} {action}: {e}"),
                (got, want) => panic!("{account} {action}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn reports_make_or_update_identities() {
        let known = vec![identity()];
        let report =
            |sam: &str, enabled: bool, also: Vec<(IdentityProvider, String)>| ReportedAccount {
                sam_account_name: sam.into(),
                display_name: format!("{sam} (reported)"),
                is_enabled: enabled,
                on_premises_security_identifier: None,
                also,
            };
        let out = merge_reported(
            &known,
            "contoso.com",
            &[
                report(
                    "alice",
                    false,
                    vec![(Okta, "alice@contoso.okta.com".into())],
                ),
                report(
                    "svc-sql",
                    true,
                    vec![(EntraId, "svc-sql@contoso.onmicrosoft.com".into())],
                ),
            ],
        );
        assert_eq!(out.len(), 2);
        // Alice: the same identity, the directory's state, no duplicate Okta account.
        assert_eq!(out[0].id, "i-1");
        assert!(!out[0].is_enabled);
        assert_eq!(out[0].accounts.len(), 3);
        // A new one, with a stable id.
        assert_eq!(out[1].id, identity_id("CONTOSO.com", "SVC-SQL"));
        assert_eq!(out[1].accounts[1].identity_provider, EntraId);
        // Reporting the same again changes nothing.
        let mut now = known.clone();
        now.extend(out.clone());
        now.remove(0);
        let again = merge_reported(&now, "contoso.com", &[report("alice", false, vec![])]);
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn disable_and_enable_flip_is_enabled() {
        let mut i = identity();
        apply(&mut i, Disable);
        assert!(!i.is_enabled);
        apply(&mut i, ForcePasswordReset);
        assert!(!i.is_enabled);
        apply(&mut i, Enable);
        assert!(i.is_enabled);
    }
}
