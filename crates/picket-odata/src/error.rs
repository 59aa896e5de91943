//! Why a query option was rejected. Messages follow Graph's style: no trailing period,
//! say what is wrong and where.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ODataError {
    /// `$filter` text that does not parse or does not fit the schema, e.g.
    /// `Invalid filter clause: unknown property 'helthStatus' at 0`.
    #[error("Invalid filter clause: {message} at {position}")]
    InvalidFilter { message: String, position: usize },
    /// Any other bad query option (`$top=0`, unknown `$select` property, duplicated option, `$search`…).
    #[error("{0}")]
    InvalidOption(String),
}
