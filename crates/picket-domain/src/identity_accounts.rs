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
