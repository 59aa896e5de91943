//! OData query options for Picket's Graph collections: parsed from the raw query string,
//! validated against an entity schema, and handed to the store as a [`ValidatedQuery`].
//! Pure: no HTTP, no SQL, no runtime.

mod ast;
mod error;
pub mod eval;
mod filter;
mod lexer;
mod options;
#[cfg(test)]
mod proptests;
mod schema;
mod skiptoken;
#[cfg(test)]
mod test_schemas;
mod validate;

pub use ast::{CmpOp, Expr, LambdaKind, Literal, Operand, StrFunc};
pub use error::ODataError;
pub use filter::{
    parse_filter, validate_filter, LambdaBody, Pos, RawExpr, RawLiteral, RawOperand, MAX_DEPTH,
    MAX_FILTER_LEN,
};
pub use options::{
    parse_query, validate_query, OrderBy, RawQuery, ValidatedQuery, MAX_LIST_ITEMS,
    MAX_ORDERBY_TERMS, MAX_TOP,
};
pub use schema::{EntitySchema, PropType, Property};
pub use skiptoken::{KeyValue, SkipToken};
pub use validate::{MAX_FILTER_NESTING, MAX_FILTER_TERMS};
