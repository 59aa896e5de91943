//! Picket's Graph API end to end: each test starts the real server on a free port over a fresh
//! SQLite file and talks HTTP to it, as the Graph SDKs do.

mod access_key;
mod agent_protocol;
mod auth;
mod batch;
mod candidates;
mod device_code;
mod errors;
mod fleet;
mod health_issues;
mod hostile;
mod identity;
mod identity_container;
mod metadata;
mod odata;
mod sensors;
mod support;
mod test_double;
