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
pub use jwks::{JwksCache, JwksError, JwksSettings};
pub use keys::{IssuedToken, SigningKey, TokenRequest};
pub use permission::{Permission, PermissionSet};
pub use roles::{Access, DirectoryRole};
pub use verify::{AuthError, KeyRing, TokenVerifier, TrustedIssuers, GRAPH_AUDIENCES};
