//! The validated `$filter` tree the store turns into parameterised SQL.
//! Property names here are canonical and literals are typed and normalised.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrFunc {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaKind {
    Any,
    All,
}

/// What a comparison or string function reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A scalar property by canonical name (may be slash-named, e.g. `settings/description`).
    Property(String),
    /// The range variable of the enclosing `any`/`all` lambda (one element of a string collection).
    LambdaItem,
}

/// A typed literal. Enum values are canonical members; DateTimes are normalised to
/// `YYYY-MM-DDTHH:MM:SS.fffffffZ` UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    String(String),
    Enum(String),
    Int(i64),
    Bool(bool),
    DateTime(String),
    Null,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `operand op literal` (a literal on the left is normalised to the right, flipping the operator).
    Compare {
        left: Operand,
        op: CmpOp,
        right: Literal,
    },
    /// `startswith(operand,'x')`, `endswith(…)`, `contains(…)`.
    Call {
        func: StrFunc,
        arg: Operand,
        value: String,
    },
    /// `collection/any(x: body)`, `collection/all(x: body)`; `any()` without a body means non-empty.
    Lambda {
        kind: LambdaKind,
        collection: String,
        body: Option<Box<Expr>>,
    },
    /// A bare boolean property used as a predicate (`settings/isDelayedDeploymentEnabled`) or `true`/`false`.
    BoolProperty(String),
}
