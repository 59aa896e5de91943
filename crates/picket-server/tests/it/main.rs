//! Picket's Graph API end to end: each test starts the real server on a free port over a fresh
//! SQLite file and talks HTTP to it, as the Graph SDKs do.

mod access_key;
mod agent_protocol;
mod auth;
mod batch;
mod candidates;
mod console;
mod console_external;
mod console_sign_in;
mod device_code;
mod errors;
mod fleet;
mod health_issues;
mod hostile;
mod identity;
mod identity_container;
mod metadata;
mod metrics;
mod odata;
mod private_postgres;
mod read_after_write;
mod sensors;
mod support;
mod test_double;
