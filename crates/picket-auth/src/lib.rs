//! Who is calling and what they may do: verification of RS256 bearer tokens, the `Caller`
//! they yield, Graph permission names, and the signing key of Picket's built-in issuer.

mod caller;
mod keys;
mod permission;
mod verify;

pub use caller::{Caller, Principal};
pub use keys::{IssuedToken, SigningKey, TokenRequest};
pub use permission::{Permission, PermissionSet};
pub use verify::{AuthError, TokenVerifier, GRAPH_AUDIENCES};
