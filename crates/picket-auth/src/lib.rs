//! Who is calling and what they may do: verification of RS256 bearer tokens, the `Caller`
//! they yield, Graph permission names, and the signing key of Picket's built-in issuer.

mod caller;
pub mod credentials;
mod jwks;
mod keys;
mod permission;
pub mod roles;
mod verify;

pub use caller::{Caller, Principal};
pub use jwks::{Discovery, JwksCache, JwksError, JwksSettings};
pub use keys::{IssuedToken, SigningKey, TokenRequest};
pub use permission::{Permission, PermissionSet};
pub use roles::{Access, DirectoryRole};

/// The web console's client id: a public client (no secret; PKCE) that exists in every tenant
/// without registration, redirected only to the console of the server it signed in on.
pub const CONSOLE_CLIENT_ID: &str = "ab4d260b-98d9-40df-bb86-d9a47934fb27";
pub use verify::{AuthError, KeyRing, TokenVerifier, TrustedIssuers, GRAPH_AUDIENCES};
