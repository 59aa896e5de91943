//! The Microsoft Graph API (`/v1.0`, `/beta` `/security/identities/…`, `$batch`,
//! `$metadata`): a request enters at `entry`, goes through `dispatch` (authenticate, throttle,
//! route, authorize, handler, audit, journal) and answers Graph's JSON or Graph's error
//! envelope.
//!
//! - `entry`: HTTP in (ids, version root, 1 MiB body limit) and out (Graph's headers);
//! - `dispatch`: one request from start to finish, alone or inside `$batch` (`batch`);
//! - `routes`: the one table of path + method → [`routes::Operation`] and its permissions;
//! - `permissions`: whether a caller's token and directory roles allow an operation;
//! - `handlers/`: one thin function per operation; `body`, `collection` and `render` are what
//!   they read bodies and query options with and render entities by;
//! - `metadata`: the CSDL document.

pub(crate) mod batch;
pub(crate) mod body;
pub(crate) mod collection;
pub(crate) mod dispatch;
pub(crate) mod entry;
pub(crate) mod handlers;
pub mod metadata;
pub(crate) mod permissions;
pub(crate) mod render;
pub mod routes;

pub use entry::MAX_BODY_BYTES;
