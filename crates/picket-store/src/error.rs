//! Why a store call failed, in terms the server maps to Graph errors.

use picket_domain::rules::RuleViolation;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain rule refused the change (400).
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    /// `activate` named ids that are neither candidates nor activated sensors (400).
    #[error("Unknown sensor candidate ids: {}", .0.join(", "))]
    UnknownCandidates(Vec<String>),
    /// A fixture row conflicts with stored data (e.g. a duplicate id).
    #[error("Fixture conflicts with stored data: {0}")]
    Conflict(String),
    /// A snapshot or backup was refused before anything was written (400): a bad name, rows
    /// outside their scope, a checksum that does not match.
    #[error("{0}")]
    Invalid(String),
    /// The database cannot be reached or is busy (503).
    #[error("The store is unavailable: {0}")]
    Unavailable(String),
    /// The database schema is older than this build; `picket migrate` brings it up to date.
    #[error("{0}")]
    SchemaBehind(String),
    /// Anything else the engine reported (500, logged).
    #[error("Store failure: {0}")]
    Internal(String),
}
