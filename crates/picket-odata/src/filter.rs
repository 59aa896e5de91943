//! `$filter` grammar: recursive-descent parser to a syntax tree ([`RawExpr`]) that prints back
//! to text. Validation against a schema lives in `validate.rs`.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparison. `not` binds looser than a
//! comparison (`not a eq 'x'` is `not (a eq 'x')`), which is what people mean when they write it.

use std::fmt;

use crate::lexer::{err, tokenize, Tok, Token};
use crate::{CmpOp, LambdaKind, ODataError, StrFunc};

pub use crate::validate::validate_filter;

/// Longest `$filter` accepted, in chars.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not` and lambdas accepted; keeps the parser's recursion
/// bounded. What the store can run is bounded further after validation
/// ([`crate::validate::MAX_FILTER_NESTING`]).
pub const MAX_DEPTH: usize = 64;

/// Where a node starts in the filter text (0-based char offset), for error messages.
///
/// Ignored by `==`: trees compare by structure, so a tree equals its printed-and-reparsed self.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pos(pub usize);

impl PartialEq for Pos {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Pos {}

/// Syntax tree of a `$filter`, names as written, literals untyped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawExpr {
    Or(Box<RawExpr>, Box<RawExpr>),
    And(Box<RawExpr>, Box<RawExpr>),
    Not(Box<RawExpr>),
    Compare {
        left: RawOperand,
        op: CmpOp,
        right: RawOperand,
    },
    /// `startswith(arg, value)` and friends; argument kinds are checked by validation.
    Call {
        func: StrFunc,
        arg: RawOperand,
        value: RawOperand,
        at: Pos,
    },
    /// `collection/any(var: body)`, `collection/all(var: body)` or `collection/any()`.
    Lambda {
        collection: Vec<String>,
        kind: LambdaKind,
        body: Option<LambdaBody>,
        at: Pos,
    },
    /// A property path or literal standing alone as a condition.
    Operand(RawOperand),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaBody {
    /// The range variable, e.g. `s` in `any(s: s eq 'x')`.
    pub var: String,
    pub expr: Box<RawExpr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawOperand {
    /// Identifiers as written, e.g. `["settings", "description"]`.
    Path {
        segments: Vec<String>,
        at: Pos,
    },
    Literal {
        value: RawLiteral,
        at: Pos,
    },
}

impl RawOperand {
    pub fn at(&self) -> usize {
        match self {
            RawOperand::Path { at, .. } | RawOperand::Literal { at, .. } => at.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawLiteral {
    String(String),
    Int(i64),
    Bool(bool),
    Null,
    /// Text as written (`2024-01-01T00:00:00+02:00`); normalised by validation.
    DateTime(String),
    /// `type_name'value'`, e.g. `microsoft.graph.security.healthIssueStatus'open'`.
    Enum {
        type_name: String,
        value: String,
    },
}

/// Parses `$filter` text (already percent-decoded). Errors carry the char offset of the problem;
/// text longer than [`MAX_FILTER_LEN`] or nesting deeper than [`MAX_DEPTH`] is refused, so
/// hostile input cannot exhaust the stack.
pub fn parse_filter(text: &str) -> Result<RawExpr, ODataError> {
    let len = text.chars().count();
    if len > MAX_FILTER_LEN {
        return Err(err(
            format!("filter is longer than {MAX_FILTER_LEN} characters"),
            MAX_FILTER_LEN,
        ));
    }
    let mut parser = Parser {
        text: text.chars().collect(),
        tokens: tokenize(text)?,
        next: 0,
        depth: 0,
        in_lambda: false,
    };
    let expr = parser.or_expr()?;
    let token = parser.peek();
    if token.tok != Tok::Eof {
        return Err(parser.expected("operator or end of filter", token));
    }
    Ok(expr)
}

struct Parser {
    text: Vec<char>,
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
    in_lambda: bool,
}

fn keyword(token: &Token) -> Option<String> {
    match &token.tok {
        Tok::Path(segments) => match segments.as_slice() {
            [only] => Some(only.to_ascii_lowercase()),
            _ => None,
        },
        _ => None,
    }
}

/// Words that cannot name a range variable because they would read as something else.
fn is_reserved(word: &str) -> bool {
    ["true", "false", "null", "not", "and", "or"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(word))
}

fn cmp_op(word: &str) -> Option<CmpOp> {
    Some(match word {
        "eq" => CmpOp::Eq,
        "ne" => CmpOp::Ne,
        "gt" => CmpOp::Gt,
        "ge" => CmpOp::Ge,
        "lt" => CmpOp::Lt,
        "le" => CmpOp::Le,
        _ => return None,
    })
}

fn str_func(word: &str) -> Option<StrFunc> {
    Some(match word {
        "startswith" => StrFunc::StartsWith,
        "endswith" => StrFunc::EndsWith,
        "contains" => StrFunc::Contains,
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> Token {
        // The token list always ends with Eof, and `next` never moves past it.
        self.tokens
            .get(self.next)
            .or(self.tokens.last())
            .cloned()
            .unwrap_or(Token {
                tok: Tok::Eof,
                start: self.text.len(),
                end: self.text.len(),
            })
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.tok != Tok::Eof {
            self.next += 1;
        }
        token
    }

    fn peek_keyword(&self, word: &str) -> bool {
        keyword(&self.peek()).is_some_and(|k| k == word)
    }

    fn expected(&self, what: &str, found: Token) -> ODataError {
        let desc = if found.tok == Tok::Eof {
            "end of filter".to_string()
        } else {
            let text: String = self
                .text
                .get(found.start..found.end)
                .unwrap_or_default()
                .iter()
                .take(40)
                .collect();
            format!("'{text}'")
        };
        err(format!("expected {what}, found {desc}"), found.start)
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Token, ODataError> {
        let token = self.peek();
        if token.tok == tok {
            Ok(self.bump())
        } else {
            Err(self.expected(what, token))
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), ODataError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err("filter nests too deeply", at));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<RawExpr, ODataError> {
        let mut left = self.and_expr()?;
        while self.peek_keyword("or") {
            self.bump();
            let right = self.and_expr()?;
            left = RawExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<RawExpr, ODataError> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.bump();
            let right = self.unary()?;
            left = RawExpr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<RawExpr, ODataError> {
        if self.peek_keyword("not") {
            let token = self.bump();
            self.enter(token.start)?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(RawExpr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<RawExpr, ODataError> {
        let token = self.peek();
        match &token.tok {
            Tok::LParen => {
                self.bump();
                self.enter(token.start)?;
                let inner = self.or_expr()?;
                let close = self.peek();
                if close.tok != Tok::RParen {
                    return Err(self.expected("operator or ')'", close));
                }
                self.bump();
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Path(segments)
                if self
                    .tokens
                    .get(self.next + 1)
                    .is_some_and(|t| t.tok == Tok::LParen) =>
            {
                let segments = segments.clone();
                self.bump();
                self.call_or_lambda(segments, token.start)
            }
            _ => {
                let left = self.operand()?;
                let Some(op) = keyword(&self.peek()).and_then(|k| cmp_op(&k)) else {
                    return Ok(RawExpr::Operand(left));
                };
                self.bump();
                let right = self.operand()?;
                Ok(RawExpr::Compare { left, op, right })
            }
        }
    }

    fn operand(&mut self) -> Result<RawOperand, ODataError> {
        let token = self.peek();
        let at = Pos(token.start);
        let word = keyword(&token).unwrap_or_default();
        let value = match token.tok {
            Tok::Path(segments) => match word.as_str() {
                "true" => RawLiteral::Bool(true),
                "false" => RawLiteral::Bool(false),
                "null" => RawLiteral::Null,
                _ => {
                    self.bump();
                    return Ok(RawOperand::Path { segments, at });
                }
            },
            Tok::Str(s) => RawLiteral::String(s),
            Tok::Int(i) => RawLiteral::Int(i),
            Tok::DateTime(d) => RawLiteral::DateTime(d),
            Tok::Enum { type_name, value } => RawLiteral::Enum { type_name, value },
            _ => return Err(self.expected("a property, a literal or '('", token)),
        };
        self.bump();
        Ok(RawOperand::Literal { value, at })
    }

    /// After `name` and before its `(`: a string function or `collection/any|all`.
    fn call_or_lambda(
        &mut self,
        mut segments: Vec<String>,
        at: usize,
    ) -> Result<RawExpr, ODataError> {
        let last = segments
            .last()
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        let kind = match last.as_str() {
            "any" if segments.len() > 1 => LambdaKind::Any,
            "all" if segments.len() > 1 => LambdaKind::All,
            _ => {
                let func = (segments.len() == 1)
                    .then(|| str_func(&last))
                    .flatten()
                    .ok_or_else(|| err(format!("unknown function '{}'", segments.join("/")), at))?;
                self.bump();
                let arg = self.operand()?;
                self.expect(Tok::Comma, "','")?;
                let value = self.operand()?;
                self.expect(Tok::RParen, "')'")?;
                return Ok(RawExpr::Call {
                    func,
                    arg,
                    value,
                    at: Pos(at),
                });
            }
        };
        segments.pop();
        if self.in_lambda {
            return Err(err("nested lambdas are not supported", at));
        }
        let open = self.bump();
        let body = if self.peek().tok == Tok::RParen {
            if kind == LambdaKind::All {
                return Err(err("'all' needs a lambda expression", open.start));
            }
            None
        } else {
            let token = self.peek();
            let var = match &token.tok {
                Tok::Path(var) => match var.as_slice() {
                    [var] if !is_reserved(var) => var.clone(),
                    _ => return Err(self.expected("a range variable", token)),
                },
                _ => return Err(self.expected("a range variable", token)),
            };
            self.bump();
            self.expect(Tok::Colon, "':'")?;
            self.enter(open.start)?;
            self.in_lambda = true;
            let expr = self.or_expr()?;
            self.in_lambda = false;
            self.depth -= 1;
            Some(LambdaBody {
                var,
                expr: Box::new(expr),
            })
        };
        let close = self.peek();
        if close.tok != Tok::RParen {
            return Err(self.expected("operator or ')'", close));
        }
        self.bump();
        Ok(RawExpr::Lambda {
            collection: segments,
            kind,
            body,
            at: Pos(at),
        })
    }
}

pub(crate) fn cmp_op_text(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "eq",
        CmpOp::Ne => "ne",
        CmpOp::Gt => "gt",
        CmpOp::Ge => "ge",
        CmpOp::Lt => "lt",
        CmpOp::Le => "le",
    }
}

pub(crate) fn func_text(func: StrFunc) -> &'static str {
    match func {
        StrFunc::StartsWith => "startswith",
        StrFunc::EndsWith => "endswith",
        StrFunc::Contains => "contains",
    }
}

/// Binding strength, loosest first; printing adds parentheses only where the parser needs them,
/// so printed text never nests deeper than the text it came from.
fn precedence(expr: &RawExpr) -> u8 {
    match expr {
        RawExpr::Or(..) => 0,
        RawExpr::And(..) => 1,
        RawExpr::Not(_) => 2,
        _ => 3,
    }
}

fn write_child(f: &mut fmt::Formatter<'_>, expr: &RawExpr, min: u8) -> fmt::Result {
    if precedence(expr) < min {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    write!(f, "'{}'", s.replace('\'', "''"))
}

impl fmt::Display for RawExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Both operators are left-associative: a right child of the same level needs parentheses.
            RawExpr::Or(l, r) => {
                write_child(f, l, 0)?;
                f.write_str(" or ")?;
                write_child(f, r, 1)
            }
            RawExpr::And(l, r) => {
                write_child(f, l, 1)?;
                f.write_str(" and ")?;
                write_child(f, r, 2)
            }
            RawExpr::Not(inner) => {
                f.write_str("not ")?;
                write_child(f, inner, 2)
            }
            RawExpr::Compare { left, op, right } => {
                write!(f, "{left} {} {right}", cmp_op_text(*op))
            }
            RawExpr::Call {
                func, arg, value, ..
            } => write!(f, "{}({arg},{value})", func_text(*func)),
            RawExpr::Lambda {
                collection,
                kind,
                body,
                ..
            } => {
                let kind = match kind {
                    LambdaKind::Any => "any",
                    LambdaKind::All => "all",
                };
                write!(f, "{}/{kind}(", collection.join("/"))?;
                if let Some(LambdaBody { var, expr }) = body {
                    write!(f, "{var}:{expr}")?;
                }
                f.write_str(")")
            }
            RawExpr::Operand(operand) => write!(f, "{operand}"),
        }
    }
}

impl fmt::Display for RawOperand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawOperand::Path { segments, .. } => f.write_str(&segments.join("/")),
            RawOperand::Literal { value, .. } => write!(f, "{value}"),
        }
    }
}

impl fmt::Display for RawLiteral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawLiteral::String(s) => write_quoted(f, s),
            RawLiteral::Int(i) => write!(f, "{i}"),
            RawLiteral::Bool(b) => write!(f, "{b}"),
            RawLiteral::Null => f.write_str("null"),
            RawLiteral::DateTime(text) => f.write_str(text),
            RawLiteral::Enum { type_name, value } => {
                f.write_str(type_name)?;
                write_quoted(f, value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fully parenthesised prefix form, so that tests show the tree's shape.
    pub(crate) fn sexp(expr: &RawExpr) -> String {
        match expr {
            RawExpr::Or(l, r) => format!("(or {} {})", sexp(l), sexp(r)),
            RawExpr::And(l, r) => format!("(and {} {})", sexp(l), sexp(r)),
            RawExpr::Not(inner) => format!("(not {})", sexp(inner)),
            RawExpr::Compare { left, op, right } => {
                format!(
                    "({} {} {})",
                    cmp_op_text(*op),
                    operand(left),
                    operand(right)
                )
            }
            RawExpr::Call {
                func, arg, value, ..
            } => format!("({} {} {})", func_text(*func), operand(arg), operand(value)),
            RawExpr::Lambda {
                collection,
                kind,
                body,
                ..
            } => {
                let kind = if *kind == LambdaKind::Any {
                    "any"
                } else {
                    "all"
                };
                match body {
                    Some(LambdaBody { var, expr }) => {
                        format!("({kind} {} {var}: {})", collection.join("/"), sexp(expr))
                    }
                    None => format!("({kind} {})", collection.join("/")),
                }
            }
            RawExpr::Operand(o) => operand(o),
        }
    }

    fn operand(o: &RawOperand) -> String {
        match o {
            RawOperand::Path { segments, .. } => segments.join("/"),
            RawOperand::Literal {
                value: RawLiteral::DateTime(text),
                ..
            } => format!("dt:{text}"),
            RawOperand::Literal {
                value: RawLiteral::Enum { type_name, value },
                ..
            } => format!("enum:{type_name}:{value}"),
            RawOperand::Literal { value, .. } => value.to_string(),
        }
    }

    /// `expected` is the tree in prefix form, or the error message and position.
    fn check(input: &str, expected: Result<&str, (&str, usize)>) {
        let parsed = parse_filter(input);
        let actual = parsed.as_ref().map(sexp).map_err(Clone::clone);
        let expected = expected
            .map(str::to_string)
            .map_err(|(message, position)| err(message, position));
        assert_eq!(actual, expected, "input: {input:?}");
        if let Ok(tree) = parsed {
            let printed = tree.to_string();
            assert_eq!(parse_filter(&printed), Ok(tree), "printed: {printed:?}");
        }
    }

    #[test]
    fn parses() {
        check("Status eq 'open'", Ok("(eq Status 'open')"));
        check(
            "Status eq 'open' and healthIssueType eq 'global'",
            Ok("(and (eq Status 'open') (eq healthIssueType 'global'))"),
        );
        check(
            "Status eq 'open' and severity eq 'medium'",
            Ok("(and (eq Status 'open') (eq severity 'medium'))"),
        );
        check(
            "Status eq 'open' and healthIssueType eq 'global' and domainNames/any(s:endswith(s,'contoso.com'))",
            Ok("(and (and (eq Status 'open') (eq healthIssueType 'global')) (any domainNames s: (endswith s 'contoso.com')))"),
        );
        check(
            "Status eq 'open' and healthIssueType eq 'global' and sensorDNSNames/any(s:endswith(s,'contoso.com'))",
            Ok("(and (and (eq Status 'open') (eq healthIssueType 'global')) (any sensorDNSNames s: (endswith s 'contoso.com')))"),
        );
        // Precedence: not > and > or, all left-associative.
        check(
            "a eq 'x' or b eq 'y' and c eq 'z'",
            Ok("(or (eq a 'x') (and (eq b 'y') (eq c 'z')))"),
        );
        check(
            "a eq 'x' and b eq 'y' or c eq 'z'",
            Ok("(or (and (eq a 'x') (eq b 'y')) (eq c 'z'))"),
        );
        check(
            "(a eq 'x' or b eq 'y') and c eq 'z'",
            Ok("(and (or (eq a 'x') (eq b 'y')) (eq c 'z'))"),
        );
        check("a or b or c", Ok("(or (or a b) c)"));
        check("a and b and c", Ok("(and (and a b) c)"));
        check("a and (b and c)", Ok("(and a (and b c))"));
        check("not a eq 'x' and b", Ok("(and (not (eq a 'x')) b)"));
        check("not (a or b)", Ok("(not (or a b))"));
        check("NOT not a", Ok("(not (not a))"));
        check("((a))", Ok("a"));
        // Keywords, operators and functions are case-insensitive; names are kept as written.
        check(
            "A EQ 'x' AND b Ne 5 Or c GT -3",
            Ok("(or (and (eq A 'x') (ne b 5)) (gt c -3))"),
        );
        check(
            "x ge 1 and x le 2 and x lt 3",
            Ok("(and (and (ge x 1) (le x 2)) (lt x 3))"),
        );
        check(
            "StartsWith(displayName, 'ab')",
            Ok("(startswith displayName 'ab')"),
        );
        check("endswith(a/b,'x')", Ok("(endswith a/b 'x')"));
        check("contains( name , 'it''s' )", Ok("(contains name 'it''s')"));
        check(
            "settings/isDelayedDeploymentEnabled",
            Ok("settings/isDelayedDeploymentEnabled"),
        );
        check("true", Ok("true"));
        check("False or NULL", Ok("(or false null)"));
        check("'open' eq status", Ok("(eq 'open' status)"));
        check("5 lt count", Ok("(lt 5 count)"));
        check(
            "d gt 2023-11-16T09:41:24.2585071Z",
            Ok("(gt d dt:2023-11-16T09:41:24.2585071Z)"),
        );
        check(
            "d le 2024-01-01T00:00:00+02:00",
            Ok("(le d dt:2024-01-01T00:00:00+02:00)"),
        );
        check(
            "status eq microsoft.graph.security.healthIssueStatus'open'",
            Ok("(eq status enum:microsoft.graph.security.healthIssueStatus:open)"),
        );
        check("tags/any()", Ok("(any tags)"));
        check(
            "tags/ANY( x : x eq 'a' or x eq 'b')",
            Ok("(any tags x: (or (eq x 'a') (eq x 'b')))"),
        );
        check(
            "a/b/all(t: not startswith(t, 'z'))",
            Ok("(all a/b t: (not (startswith t 'z')))"),
        );
        check("\tx eq 'a b'\t", Ok("(eq x 'a b')"));
        check("x eq ''", Ok("(eq x '')"));
        // Comparing a function result, or a literal standing alone, is for validation to refuse.
        check("'x'", Ok("'x'"));
        check("x eq y", Ok("(eq x y)"));
    }

    #[test]
    fn rejects() {
        check(
            "",
            Err((
                "expected a property, a literal or '(', found end of filter",
                0,
            )),
        );
        check(
            "   ",
            Err((
                "expected a property, a literal or '(', found end of filter",
                3,
            )),
        );
        check(
            "status eq",
            Err((
                "expected a property, a literal or '(', found end of filter",
                9,
            )),
        );
        check(
            "status eq 'open' and",
            Err((
                "expected a property, a literal or '(', found end of filter",
                20,
            )),
        );
        check(
            "status equals 'x'",
            Err(("expected operator or end of filter, found 'equals'", 7)),
        );
        check(
            "status 'open'",
            Err(("expected operator or end of filter, found ''open''", 7)),
        );
        check(
            "a eq 'x' eq 'y'",
            Err(("expected operator or end of filter, found 'eq'", 9)),
        );
        check(
            "(a eq 'x'",
            Err(("expected operator or ')', found end of filter", 9)),
        );
        check(
            "a eq 'x')",
            Err(("expected operator or end of filter, found ')'", 8)),
        );
        check(
            "()",
            Err(("expected a property, a literal or '(', found ')'", 1)),
        );
        check(
            "a eq (1)",
            Err(("expected a property, a literal or '(', found '('", 5)),
        );
        check("tolower(a) eq 'x'", Err(("unknown function 'tolower'", 0)));
        check(
            "a/startswith(a,'x')",
            Err(("unknown function 'a/startswith'", 0)),
        );
        check("any(s:s)", Err(("unknown function 'any'", 0)));
        check("startswith(a)", Err(("expected ',', found ')'", 12)));
        check(
            "startswith(a,'x','y')",
            Err(("expected ')', found ','", 16)),
        );
        check(
            "startswith(a,'x') eq true",
            Err(("expected operator or end of filter, found 'eq'", 18)),
        );
        check("tags/all()", Err(("'all' needs a lambda expression", 8)));
        check("tags/any(s)", Err(("expected ':', found ')'", 10)));
        check("tags/any(s s)", Err(("expected ':', found 's'", 11)));
        check(
            "tags/any(null: true)",
            Err(("expected a range variable, found 'null'", 9)),
        );
        check(
            "tags/any('x': true)",
            Err(("expected a range variable, found ''x''", 9)),
        );
        check(
            "tags/any(s: s eq 'x'",
            Err(("expected operator or ')', found end of filter", 20)),
        );
        check(
            "tags/any(s: s/any(t: t eq 'x'))",
            Err(("nested lambdas are not supported", 12)),
        );
        check("a eq 'x", Err(("unterminated string literal", 5)));
        check("a eq 2024-01-01", Err(("invalid literal '2024-01-01'", 5)));
        check("a eq 1.5", Err(("invalid literal '1.5'", 5)));
        check(
            "a eq ns'x'",
            Err(("expected operator or end of filter, found ''x''", 7)),
        );
        check(
            "a eq ns.T",
            Err(("expected a quoted enum value after 'ns.T'", 9)),
        );
        check("a % b", Err(("unexpected character '%'", 2)));
        check("é eq 'x'", Err(("unexpected character 'é'", 0)));
        check("a eq 'é' and é", Err(("unexpected character 'é'", 13)));
        let deep = format!("{}a{}", "(".repeat(64), ")".repeat(64));
        check(&deep, Ok("a"));
        let too_deep = format!("{}a{}", "(".repeat(65), ")".repeat(65));
        check(&too_deep, Err(("filter nests too deeply", 64)));
        check(&"not ".repeat(65), Err(("filter nests too deeply", 256)));
        let long = format!("a eq '{}'", "x".repeat(MAX_FILTER_LEN));
        check(&long, Err(("filter is longer than 4096 characters", 4096)));
    }

    #[test]
    fn long_chains_print_and_validate_without_overflow() {
        // As long as the length limit allows: the deepest tree a client can send.
        let schema = crate::test_schemas::health_issue();
        for op in [" or ", " and "] {
            let chain = vec!["status eq 'open'"; MAX_FILTER_LEN / 21].join(op);
            let tree = parse_filter(&chain);
            assert!(tree.is_ok(), "{tree:?}");
            if let Ok(tree) = tree {
                assert_eq!(parse_filter(&tree.to_string()), Ok(tree.clone()));
                assert!(crate::validate_filter(&tree, &schema).is_ok());
            }
            // `(a)or(a)or(a)…`: the most terms that fit.
            let term = format!("{}(a)", op.trim());
            let shortest = format!("(a){}", term.repeat((MAX_FILTER_LEN - 3) / term.len()));
            let tree = parse_filter(&shortest);
            assert!(tree.is_ok());
            if let Ok(tree) = tree {
                assert_eq!(parse_filter(&tree.to_string()), Ok(tree.clone()));
                assert_eq!(
                    crate::validate_filter(&tree, &schema),
                    Err(err("unknown property 'a'", 1))
                );
            }
        }
    }

    #[test]
    fn positions_do_not_affect_equality() {
        assert_eq!(parse_filter("a eq 'x'"), parse_filter("  a   eq   'x'"));
        assert_ne!(parse_filter("a eq 'x'"), parse_filter("a eq 'y'"));
    }

    #[test]
    fn display_is_canonical() {
        let printed = |s: &str| parse_filter(s).map(|e| e.to_string());
        assert_eq!(
            printed("A  EQ 'it''s' AND (b Or c) or Not (d or e)"),
            Ok("A eq 'it''s' and (b or c) or not (d or e)".to_string())
        );
        assert_eq!(
            printed("x/ANY( s : StartsWith(s,'a'))"),
            Ok("x/any(s:startswith(s,'a'))".to_string())
        );
        assert_eq!(printed("not (a eq 1)"), Ok("not a eq 1".to_string()));
        assert_eq!(printed("a or (b or c)"), Ok("a or (b or c)".to_string()));
        assert_eq!(
            printed("s eq ns.T'a''b'"),
            Ok("s eq ns.T'a''b'".to_string())
        );
    }
}
