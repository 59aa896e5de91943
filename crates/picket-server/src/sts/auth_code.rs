//! The token endpoint's `authorization_code` grant (RFC 6749 §4.1.3 with PKCE, RFC 7636): a
//! code from `authorize` is redeemed once, by the client (the console or a public client app)
//! and redirect URI it was issued for,
//! with the verifier whose S256 digest is its challenge. The code is used up by the first
//! attempt, whether or not the rest checks out.

use crate::error::{ApiError, OAuthError};
use crate::sts::oauth::{Form, PublicGrant};
use axum::http::StatusCode;
use picket_auth::CONSOLE_CLIENT_ID;
use picket_store::sign_ins::{self, Kind, Refusal};
use sha2::{Digest, Sha256};

pub const GRANT_TYPE: &str = "authorization_code";

fn invalid_grant(code: u32, message: impl Into<String>) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", code, message)
}

fn required<'a>(form: &'a Form, name: &str) -> Result<&'a str, ApiError> {
    form.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
        .into()
    })
}

/// BASE64URL(SHA-256(verifier)), the S256 challenge of a verifier (RFC 7636 §4.2).
pub(crate) fn s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A verifier as RFC 7636 §4.1 shapes it: 43 to 128 unreserved characters.
fn well_formed_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The token endpoint's answer to an authorization code.
pub(crate) async fn redeem(grant: &PublicGrant<'_>) -> Result<serde_json::Value, ApiError> {
    let known = crate::sts::authorize::allowed_redirect_uris(
        grant.state,
        grant.tenant,
        grant.client_id,
        grant.base,
    )
    .await
    .map_err(|()| OAuthError::unavailable())?;
    if known.is_none() {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{}' was not found in the directory '{}'. Only the Picket console (client id {CONSOLE_CLIENT_ID}) and the tenant's public client apps sign in with the authorization_code grant.",
                grant.client_id, grant.tenant
            ),
        ).into());
    }
    let code = required(grant.form, "code")?;
    let redirect_uri = required(grant.form, "redirect_uri")?;
    let verifier = required(grant.form, "code_verifier")?;
    let store = grant.state.store.as_ref();
    let row = match sign_ins::redeem(store, grant.tenant, Kind::Code, code, chrono::Utc::now()).await {
        Ok(Ok(row)) => row,
        Ok(Err(Refusal::Used)) => return Err(invalid_grant(54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code.").into()),
        Ok(Err(Refusal::Expired)) => return Err(invalid_grant(70008, "The provided authorization code has expired. Send a new interactive authorization request for this user and resource.").into()),
        Ok(Err(Refusal::Unknown | Refusal::Revoked)) => return Err(invalid_grant(70000, "The provided value for the 'code' parameter is not valid.").into()),
        Err(_) => return Err(OAuthError::unavailable().into()),
    };
    let Some(binding) = row.code else {
        return Err(invalid_grant(
            70000,
            "The provided value for the 'code' parameter is not valid.",
        )
        .into());
    };
    if binding.client_id != grant.client_id {
        return Err(invalid_grant(70000, "The code was issued to another client.").into());
    }
    if binding.redirect_uri != redirect_uri {
        return Err(invalid_grant(
            70000,
            "The redirect_uri does not match the one the code was issued for.",
        )
        .into());
    }
    if !well_formed_verifier(verifier) || s256(verifier) != binding.code_challenge {
        return Err(invalid_grant(
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ).into());
    }
    let user = match store.find_user(grant.tenant, &row.user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Err(invalid_grant(
                50034,
                "The user account does not exist in the directory any more.",
            )
            .into())
        }
        Err(_) => return Err(OAuthError::unavailable().into()),
    };
    crate::sts::delegated::issue(grant, &user, &binding.scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        // (the appendix's verifier is 43 characters)
        assert!(well_formed_verifier(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        ));
        assert!(!well_formed_verifier("short"));
        assert!(!well_formed_verifier(&"a b".repeat(20)));
    }
}
