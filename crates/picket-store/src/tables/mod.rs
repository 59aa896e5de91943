//! The store's statements and row mappings, written once over both engines (see `crate::sql`).
//! Each module holds one group of tables; an engine's folder keeps only how it runs them
//! (pools, transactions, locks, batching) and calls these through its [`crate::sql::Db`]
//! adapter.

pub mod candidates;
pub mod fleet;
pub mod health;
pub mod health_issues;
pub mod heartbeat;
pub mod listing;
pub mod rows;
pub mod seed;
pub mod sensors;
pub mod tenants;
