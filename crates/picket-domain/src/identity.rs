//! The identity side of an installation: tenants, app registrations with their credentials,
//! users with directory roles, trusted external issuers, the issuer's signing keys, and the
//! audit trail. Plain data; secrets are held only as hashes, and `Debug` never prints key
//! material.

use crate::ids::TenantId;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    pub id: TenantId,
    pub display_name: String,
    pub created_at: Timestamp,
}

/// An app registration: a client id, the application permissions granted to it, and the
/// credentials it may prove itself with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub tenant: TenantId,
    pub client_id: String,
    pub display_name: String,
    /// Granted application permissions, by name (they become the token's `roles`).
    pub permissions: Vec<String>,
    pub created_at: Timestamp,
    pub secrets: Vec<AppSecret>,
    pub certificates: Vec<AppCertificate>,
}

/// A client secret. Only a salted SHA-256 of it is kept: secrets are 256 random bits, so a
/// slow password hash would add cost without adding safety.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret {
    pub key_id: String,
    /// The first three characters, as Entra shows them (`hint`).
    pub hint: String,
    pub salt: String,
    pub hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSecret")
            .field("key_id", &self.key_id)
            .field("hint", &self.hint)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A certificate credential: the public certificate only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCertificate {
    pub key_id: String,
    /// SHA-1 of the DER certificate, upper-case hex (what Entra shows and `x5t` encodes).
    pub thumbprint: String,
    /// SHA-256 of the DER certificate, lower-case hex (`x5t#S256`).
    pub thumbprint_sha256: String,
    pub certificate_pem: String,
    pub not_after: Timestamp,
    pub created_at: Timestamp,
}

/// A user who can be issued delegated tokens; `roles` are Entra role template ids (`wids`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub tenant: TenantId,
    pub object_id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub created_at: Timestamp,
}

/// An external OIDC issuer (e.g. Microsoft Entra ID) whose tokens a tenant accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    pub tenant: TenantId,
    /// Exact `iss` value tokens must carry.
    pub issuer: String,
    pub jwks_uri: String,
    /// Accepted `aud` values besides Microsoft Graph's.
    pub audiences: Vec<String>,
    pub created_at: Timestamp,
}

/// Picket's console registered as a public client at a trusted issuer (e.g. a single-page app in
/// Microsoft Entra ID): what the console needs to sign people in there, with the authorization
/// code flow and PKCE, for tokens this tenant accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleRegistration {
    pub tenant: TenantId,
    /// The trusted issuer (`TrustedIssuer::issuer`) this registration belongs to.
    pub issuer: String,
    /// What the sign-in button says ("Sign in with …").
    pub display_name: String,
    /// The console's client id at that provider.
    pub client_id: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// Scopes asked for, e.g. `api://picket/.default`.
    pub scopes: Vec<String>,
    pub created_at: Timestamp,
}

/// One of the built-in issuer's RSA keys. The newest unretired key signs; a retired key stays
/// published (and accepted) until `remove_after`, so tokens it signed live out their lifetime.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub private_pem: String,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
    pub remove_after: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("remove_after", &self.remove_after)
            .finish_non_exhaustive()
    }
}

impl SigningKeyRecord {
    /// Published in the JWKS and accepted by the verifier at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.remove_after.is_none_or(|t| t > now)
    }
}

/// One recorded write. `actor` is `app:{client id}`, `user:{object id}` or `operator:{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub time: Timestamp,
    pub tenant: TenantId,
    pub actor: String,
    pub operation: String,
    pub target: String,
    /// The HTTP status answered, or `ok`/`error` for commands.
    pub result: String,
    pub request_id: String,
    /// Extra non-secret facts (e.g. the changed properties).
    pub detail: Option<String>,
}
