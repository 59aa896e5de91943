//! The living fleet: how a sensor's statuses and health issues follow from what Picket has
//! observed of it and from the time (spec §4). Pure: the server feeds observations and the
//! clock in, and stores what comes out.

pub mod agent;
pub mod health_rules;
pub mod issues;
pub mod migration;
pub mod releases;
pub mod rollout;
pub mod status;

pub use agent::{AgentCommand, AgentFacts, HostIssue, UpdateReport};
pub use releases::ReleaseCatalogue;
pub use status::{derive, Derived, Observed, Thresholds, UpdateState};
