//! Checks a `$filter` syntax tree against an entity schema: names become canonical, literals
//! become typed and normalised, and anything the store could not run faithfully is rejected.

use crate::filter::{cmp_op_text, func_text, LambdaBody, RawExpr, RawLiteral, RawOperand};
use crate::lexer::err;
use crate::{CmpOp, EntitySchema, Expr, Literal, ODataError, Operand, PropType, Property, StrFunc};

/// Resolves names case-insensitively to canonical ones, types every literal against its property,
/// and moves literals to the right of comparisons. Runs of `and` (or of `or`) come back as a
/// balanced tree, so that code recursing over the result stays shallow for any accepted filter.
pub fn validate_filter(raw: &RawExpr, schema: &EntitySchema) -> Result<Expr, ODataError> {
    let expr = Validator { schema, var: None }.expr(raw)?;
    check_complexity(&expr)?;
    Ok(expr)
}

/// Most conditions (comparisons, function calls, lambdas, boolean properties) in one `$filter`.
pub const MAX_FILTER_TERMS: usize = 400;
/// Deepest accepted filter, counted as the store's SQL nests it: each `not`, each level of
/// the (balanced) `and`/`or` tree, each condition, and two for a lambda. Set well below what
/// SQLite's parser takes (~45 nested `NOT (…)` overflow it), so no accepted filter reaches a
/// database limit.
pub const MAX_FILTER_NESTING: usize = 24;

/// Refuses a validated filter too large or too deep for the store's engines, naming the limit.
fn check_complexity(expr: &Expr) -> Result<(), ODataError> {
    let (terms, nesting) = measure(expr);
    if terms > MAX_FILTER_TERMS {
        return Err(err(
            format!(
                "filter has {terms} conditions; at most {MAX_FILTER_TERMS} are allowed (limit: terms)"
            ),
            0,
        ));
    }
    if nesting > MAX_FILTER_NESTING {
        return Err(err(
            format!(
                "filter nests {nesting} levels deep; at most {MAX_FILTER_NESTING} are allowed (limit: nesting depth)"
            ),
            0,
        ));
    }
    Ok(())
}

/// (conditions, nesting) of a validated tree. Recursion is bounded: the parser caps `not`,
/// parentheses and lambdas, and `and`/`or` runs come back balanced.
fn measure(expr: &Expr) -> (usize, usize) {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            let (ta, da) = measure(a);
            let (tb, db) = measure(b);
            (ta + tb, 1 + da.max(db))
        }
        Expr::Not(inner) => {
            let (t, d) = measure(inner);
            (t, d + 1)
        }
        Expr::Lambda { body, .. } => match body {
            Some(body) => {
                let (t, d) = measure(body);
                (t, d + 2)
            }
            None => (1, 1),
        },
        Expr::Compare { .. } | Expr::Call { .. } | Expr::BoolProperty(_) => (1, 1),
    }
}

/// Parses an RFC 3339 date-time and prints it the way the store keeps them:
/// UTC with exactly seven fractional digits, so that text order is time order.
pub(crate) fn normalize_datetime(text: &str) -> Option<String> {
    let utc = chrono::DateTime::parse_from_rfc3339(text)
        .ok()?
        .with_timezone(&chrono::Utc);
    // Truncated rather than rounded: rounding could carry into the seconds.
    let ticks = utc.timestamp_subsec_nanos() % 1_000_000_000 / 100;
    Some(format!("{}.{ticks:07}Z", utc.format("%Y-%m-%dT%H:%M:%S")))
}

/// What a property path in the filter refers to.
enum Target<'s> {
    Prop(&'s Property),
    Item,
}

struct Validator<'a> {
    schema: &'a EntitySchema,
    /// The range variable while inside a lambda body.
    var: Option<&'a str>,
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        other => other,
    }
}

fn is_equality(op: CmpOp) -> bool {
    matches!(op, CmpOp::Eq | CmpOp::Ne)
}

impl<'a> Validator<'a> {
    fn expr(&self, raw: &'a RawExpr) -> Result<Expr, ODataError> {
        Ok(match raw {
            RawExpr::Or(..) | RawExpr::And(..) => self.chain(raw)?,
            RawExpr::Not(inner) => Expr::Not(Box::new(self.expr(inner)?)),
            RawExpr::Compare { left, op, right } => self.compare(left, *op, right)?,
            RawExpr::Call {
                func, arg, value, ..
            } => self.call(*func, arg, value)?,
            RawExpr::Lambda {
                collection,
                kind,
                body,
                at,
            } => {
                if self.var.is_some() {
                    return Err(err("nested lambdas are not supported", at.0));
                }
                let prop = self.property(&collection.join("/"), at.0)?;
                if prop.ty != PropType::StringCollection {
                    return Err(err(
                        format!("property '{}' is not a collection", prop.name),
                        at.0,
                    ));
                }
                let body = match body {
                    Some(LambdaBody { var, expr }) => {
                        let inner = Validator {
                            schema: self.schema,
                            var: Some(var),
                        };
                        Some(Box::new(inner.expr(expr)?))
                    }
                    None => None,
                };
                Expr::Lambda {
                    kind: *kind,
                    collection: prop.name.to_string(),
                    body,
                }
            }
            RawExpr::Operand(operand) => self.predicate(operand)?,
        })
    }

    /// A run of `and`s (or of `or`s), validated term by term and joined into a balanced tree.
    ///
    /// The parser builds such runs left-deep, one level per term; a filter of maximal length
    /// holds ~800 terms, deep enough to overflow a 2 MiB thread stack when recursed over in
    /// a debug build. Both operators are associative, so rebalancing keeps the meaning.
    fn chain(&self, raw: &'a RawExpr) -> Result<Expr, ODataError> {
        let is_and = matches!(raw, RawExpr::And(..));
        let mut terms = Vec::new();
        let mut stack = vec![raw];
        while let Some(node) = stack.pop() {
            match node {
                RawExpr::And(l, r) if is_and => stack.extend([&**r, &**l]),
                RawExpr::Or(l, r) if !is_and => stack.extend([&**r, &**l]),
                term => terms.push(self.expr(term)?),
            }
        }
        let make = if is_and { Expr::And } else { Expr::Or };
        // Never empty: an and/or node has two sides.
        join(terms, make).ok_or_else(|| err("expected a condition", 0))
    }

    fn property(&self, name: &str, at: usize) -> Result<&'a Property, ODataError> {
        let prop = self
            .schema
            .property(name)
            .ok_or_else(|| err(format!("unknown property '{name}'"), at))?;
        if !prop.filterable {
            return Err(err(
                format!("property '{}' cannot be filtered", prop.name),
                at,
            ));
        }
        Ok(prop)
    }

    fn target(&self, segments: &[String], at: usize) -> Result<Target<'a>, ODataError> {
        match self.var {
            // The range variable is matched case-sensitively, as OData identifiers are.
            Some(var) if segments.first().is_some_and(|s| s == var) => {
                if segments.len() == 1 {
                    Ok(Target::Item)
                } else {
                    Err(err(
                        format!("'{var}' is a string and has no properties"),
                        at,
                    ))
                }
            }
            Some(var) => Err(err(format!("lambda bodies may only refer to '{var}'"), at)),
            None => Ok(Target::Prop(self.property(&segments.join("/"), at)?)),
        }
    }

    fn compare(
        &self,
        left: &RawOperand,
        op: CmpOp,
        right: &RawOperand,
    ) -> Result<Expr, ODataError> {
        let (segments, path_at, op, literal, literal_at) = match (left, right) {
            (
                RawOperand::Path { segments, at },
                RawOperand::Literal {
                    value,
                    at: literal_at,
                },
            ) => (segments, at.0, op, value, literal_at.0),
            (
                RawOperand::Literal {
                    value,
                    at: literal_at,
                },
                RawOperand::Path { segments, at },
            ) => (segments, at.0, flip(op), value, literal_at.0),
            (RawOperand::Literal { at, .. }, RawOperand::Literal { .. }) => {
                return Err(err("a comparison needs a property on one side", at.0));
            }
            (
                RawOperand::Path { segments, at },
                RawOperand::Path {
                    segments: other,
                    at: other_at,
                },
            ) => {
                self.target(segments, at.0)?;
                self.target(other, other_at.0)?;
                return Err(err(
                    "cannot compare two properties; one side must be a literal",
                    other_at.0,
                ));
            }
        };
        let (left, right) = match self.target(segments, path_at)? {
            Target::Item => {
                let var = self.var.unwrap_or_default();
                if !is_equality(op) {
                    return Err(err(
                        format!("operator '{}' cannot be used with '{var}'", cmp_op_text(op)),
                        path_at,
                    ));
                }
                let RawLiteral::String(s) = literal else {
                    return Err(err(
                        format!("expected a string value for '{var}'"),
                        literal_at,
                    ));
                };
                (Operand::LambdaItem, Literal::String(s.clone()))
            }
            Target::Prop(prop) => (
                Operand::Property(prop.name.to_string()),
                typed_literal(prop, op, literal, path_at, literal_at)?,
            ),
        };
        Ok(Expr::Compare { left, op, right })
    }

    fn call(
        &self,
        func: StrFunc,
        arg: &RawOperand,
        value: &RawOperand,
    ) -> Result<Expr, ODataError> {
        let name = func_text(func);
        let RawOperand::Path { segments, at } = arg else {
            return Err(err(
                format!("the first argument of '{name}' must be a property"),
                arg.at(),
            ));
        };
        let arg = match self.target(segments, at.0)? {
            Target::Item => Operand::LambdaItem,
            Target::Prop(prop) if prop.ty == PropType::String => {
                Operand::Property(prop.name.to_string())
            }
            Target::Prop(prop) => {
                return Err(err(
                    format!(
                        "function '{name}' needs a string property, but '{}' is not a string",
                        prop.name
                    ),
                    at.0,
                ))
            }
        };
        let RawOperand::Literal {
            value: RawLiteral::String(value),
            ..
        } = value
        else {
            return Err(err(
                format!("the second argument of '{name}' must be a string literal"),
                value.at(),
            ));
        };
        Ok(Expr::Call {
            func,
            arg,
            value: value.clone(),
        })
    }

    fn predicate(&self, operand: &RawOperand) -> Result<Expr, ODataError> {
        let RawOperand::Path { segments, at } = operand else {
            return Err(err("a literal cannot stand alone", operand.at()));
        };
        match self.target(segments, at.0)? {
            Target::Prop(prop) if prop.ty == PropType::Bool => {
                Ok(Expr::BoolProperty(prop.name.to_string()))
            }
            Target::Prop(prop) => Err(err(
                format!(
                    "property '{}' is not boolean and cannot stand alone",
                    prop.name
                ),
                at.0,
            )),
            Target::Item => Err(err(
                format!(
                    "'{}' is a string and cannot stand alone",
                    self.var.unwrap_or_default()
                ),
                at.0,
            )),
        }
    }
}

/// Joins terms, in order, into a balanced tree: runs of two or three stay left-deep.
fn join(mut terms: Vec<Expr>, make: fn(Box<Expr>, Box<Expr>) -> Expr) -> Option<Expr> {
    let right = terms.split_off(terms.len().div_ceil(2));
    if right.is_empty() {
        return terms.pop();
    }
    Some(make(
        Box::new(join(terms, make)?),
        Box::new(join(right, make)?),
    ))
}

/// The literal a comparison with `prop` may use, typed and normalised.
fn typed_literal(
    prop: &Property,
    op: CmpOp,
    literal: &RawLiteral,
    path_at: usize,
    literal_at: usize,
) -> Result<Literal, ODataError> {
    let name = prop.name;
    let collection_only = || {
        err(
            format!("collection property '{name}' can only be used with any or all"),
            path_at,
        )
    };
    if prop.ty == PropType::StringCollection {
        return Err(collection_only());
    }
    if *literal == RawLiteral::Null {
        if !is_equality(op) {
            return Err(err("null can only be compared with eq or ne", literal_at));
        }
        return Ok(Literal::Null);
    }
    let ordered = matches!(
        prop.ty,
        PropType::String | PropType::DateTime | PropType::Int64
    );
    if !ordered && !is_equality(op) {
        return Err(err(
            format!(
                "operator '{}' cannot be used with property '{name}'",
                cmp_op_text(op)
            ),
            path_at,
        ));
    }
    let mismatch = |what: &str| {
        err(
            format!("expected {what} value for property '{name}'"),
            literal_at,
        )
    };
    match (prop.ty, literal) {
        (PropType::String, RawLiteral::String(s)) => Ok(Literal::String(s.clone())),
        (PropType::String, _) => Err(mismatch("a string")),
        (PropType::Enum(members), RawLiteral::String(v) | RawLiteral::Enum { value: v, .. }) => {
            members
                .iter()
                .find(|m| m.eq_ignore_ascii_case(v))
                .map(|m| Literal::Enum(m.to_string()))
                .ok_or_else(|| {
                    err(
                        format!(
                            "'{v}' is not a valid value for property '{name}'; expected one of: {}",
                            members.join(", ")
                        ),
                        literal_at,
                    )
                })
        }
        (PropType::Enum(_), _) => Err(mismatch("an enum")),
        (PropType::DateTime, RawLiteral::DateTime(text) | RawLiteral::String(text)) => {
            normalize_datetime(text)
                .map(Literal::DateTime)
                .ok_or_else(|| err(format!("'{text}' is not a valid date-time"), literal_at))
        }
        (PropType::DateTime, _) => Err(mismatch("a date-time")),
        (PropType::Int64, RawLiteral::Int(i)) => Ok(Literal::Int(*i)),
        (PropType::Int64, _) => Err(mismatch("an integer")),
        (PropType::Bool, RawLiteral::Bool(b)) => Ok(Literal::Bool(*b)),
        (PropType::Bool, _) => Err(mismatch("a boolean")),
        (PropType::StringCollection, _) => Err(collection_only()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_schemas::{health_issue, sensor};
    use crate::{parse_filter, LambdaKind};

    /// Fully parenthesised prefix form of a validated tree.
    fn sexp(expr: &Expr) -> String {
        let operand = |o: &Operand| match o {
            Operand::Property(name) => name.clone(),
            Operand::LambdaItem => "@item".to_string(),
        };
        match expr {
            Expr::And(l, r) => format!("(and {} {})", sexp(l), sexp(r)),
            Expr::Or(l, r) => format!("(or {} {})", sexp(l), sexp(r)),
            Expr::Not(inner) => format!("(not {})", sexp(inner)),
            Expr::Compare { left, op, right } => {
                let right = match right {
                    Literal::String(s) => format!("str:{s}"),
                    Literal::Enum(s) => format!("enum:{s}"),
                    Literal::Int(i) => format!("int:{i}"),
                    Literal::Bool(b) => format!("bool:{b}"),
                    Literal::DateTime(d) => format!("dt:{d}"),
                    Literal::Null => "null".to_string(),
                };
                format!("({} {} {right})", cmp_op_text(*op), operand(left))
            }
            Expr::Call { func, arg, value } => {
                format!("({} {} str:{value})", func_text(*func), operand(arg))
            }
            Expr::Lambda {
                kind,
                collection,
                body,
            } => {
                let kind = if *kind == LambdaKind::Any {
                    "any"
                } else {
                    "all"
                };
                match body {
                    Some(body) => format!("({kind} {collection} {})", sexp(body)),
                    None => format!("({kind} {collection})"),
                }
            }
            Expr::BoolProperty(name) => format!("(bool {name})"),
        }
    }

    fn check_with(schema: &EntitySchema, input: &str, expected: Result<&str, (&str, usize)>) {
        let actual = parse_filter(input)
            .and_then(|raw| validate_filter(&raw, schema))
            .map(|expr| sexp(&expr));
        let expected = expected
            .map(str::to_string)
            .map_err(|(message, position)| err(message, position));
        assert_eq!(actual, expected, "input: {input:?}");
    }

    fn check(input: &str, expected: Result<&str, (&str, usize)>) {
        check_with(&health_issue(), input, expected);
    }

    fn check_sensor(input: &str, expected: Result<&str, (&str, usize)>) {
        check_with(&sensor(), input, expected);
    }

    #[test]
    fn documented_filters() {
        check("Status eq 'open'", Ok("(eq status enum:open)"));
        check(
            "Status eq 'open' and healthIssueType eq 'global'",
            Ok("(and (eq status enum:open) (eq healthIssueType enum:global))"),
        );
        check(
            "Status eq 'open' and severity eq 'medium'",
            Ok("(and (eq status enum:open) (eq severity enum:medium))"),
        );
        check(
            "Status eq 'open' and healthIssueType eq 'global' and domainNames/any(s:endswith(s,'contoso.com'))",
            Ok("(and (and (eq status enum:open) (eq healthIssueType enum:global)) (any domainNames (endswith @item str:contoso.com)))"),
        );
        check(
            "Status eq 'open' and healthIssueType eq 'global' and sensorDNSNames/any(s:endswith(s,'contoso.com'))",
            Ok("(and (and (eq status enum:open) (eq healthIssueType enum:global)) (any sensorDNSNames (endswith @item str:contoso.com)))"),
        );
    }

    #[test]
    fn accepts() {
        // Enum values and names are canonicalised; qualified enum literals keep only the value.
        check("status eq 'OPEN'", Ok("(eq status enum:open)"));
        check(
            "healthIssueType eq 'Global'",
            Ok("(eq healthIssueType enum:global)"),
        );
        check(
            "STATUS ne 'unknownfuturevalue'",
            Ok("(ne status enum:unknownFutureValue)"),
        );
        check(
            "status eq microsoft.graph.security.healthIssueStatus'Closed'",
            Ok("(eq status enum:closed)"),
        );
        check("status eq any.Thing'open'", Ok("(eq status enum:open)"));
        check("status eq null", Ok("(eq status null)"));
        // A literal on the left moves right, mirroring the operator.
        check("'open' eq status", Ok("(eq status enum:open)"));
        check(
            "2023-01-01T00:00:00Z lt createdDateTime",
            Ok("(gt createdDateTime dt:2023-01-01T00:00:00.0000000Z)"),
        );
        check_sensor(
            "5 ge openHealthIssuesCount",
            Ok("(le openHealthIssuesCount int:5)"),
        );
        check_sensor(
            "5 ne openHealthIssuesCount",
            Ok("(ne openHealthIssuesCount int:5)"),
        );
        // Date-times become UTC with seven fractional digits.
        check(
            "createdDateTime gt 2023-11-16T09:41:24Z",
            Ok("(gt createdDateTime dt:2023-11-16T09:41:24.0000000Z)"),
        );
        check(
            "createdDateTime ge 2023-11-16T09:41:24.2585071Z",
            Ok("(ge createdDateTime dt:2023-11-16T09:41:24.2585071Z)"),
        );
        check(
            "createdDateTime le 2024-01-01T00:30:00.5+02:00",
            Ok("(le createdDateTime dt:2023-12-31T22:30:00.5000000Z)"),
        );
        check(
            "createdDateTime lt 2024-01-01T23:00:00.123456789-05:00",
            Ok("(lt createdDateTime dt:2024-01-02T04:00:00.1234567Z)"),
        );
        check(
            "createdDateTime eq '2023-11-16T09:41:24Z'",
            Ok("(eq createdDateTime dt:2023-11-16T09:41:24.0000000Z)"),
        );
        check("createdDateTime ne null", Ok("(ne createdDateTime null)"));
        // Strings.
        check("displayname gt 'm'", Ok("(gt displayName str:m)"));
        check("displayName eq 'it''s'", Ok("(eq displayName str:it's)"));
        check(
            "startswith(DisplayName,'DC')",
            Ok("(startswith displayName str:DC)"),
        );
        check(
            "not contains(displayName,'x')",
            Ok("(not (contains displayName str:x))"),
        );
        // Precedence survives validation.
        check(
            "status eq 'open' or severity eq 'high' and displayName eq 'z'",
            Ok("(or (eq status enum:open) (and (eq severity enum:high) (eq displayName str:z)))"),
        );
        // Lambdas.
        check("domainNames/any()", Ok("(any domainNames)"));
        check(
            "domainnames/all(d: d ne 'a' and not startswith(d, 'b'))",
            Ok("(all domainNames (and (ne @item str:a) (not (startswith @item str:b))))"),
        );
        check(
            "sensorDNSNames/any(x: 'dc1' eq x or contains(x,'dc'))",
            Ok("(any sensorDNSNames (or (eq @item str:dc1) (contains @item str:dc)))"),
        );
        // Slash-named sub-properties and boolean predicates.
        check_sensor(
            "settings/isDelayedDeploymentEnabled",
            Ok("(bool settings/isDelayedDeploymentEnabled)"),
        );
        check_sensor(
            "not Settings/IsDelayedDeploymentEnabled eq false",
            Ok("(not (eq settings/isDelayedDeploymentEnabled bool:false))"),
        );
        check_sensor(
            "startswith(settings/description, 'x')",
            Ok("(startswith settings/description str:x)"),
        );
        check_sensor(
            "openHealthIssuesCount gt -1",
            Ok("(gt openHealthIssuesCount int:-1)"),
        );
        check_sensor(
            "healthStatus eq 'NOTHEALTHYHIGH'",
            Ok("(eq healthStatus enum:notHealthyHigh)"),
        );
    }

    #[test]
    fn rejects() {
        check_sensor(
            "helthStatus eq 'healthy'",
            Err(("unknown property 'helthStatus'", 0)),
        );
        check_sensor(
            "id eq 'x' and settings/nope eq 1",
            Err(("unknown property 'settings/nope'", 14)),
        );
        check_sensor(
            "serviceStatus eq 'x'",
            Err(("property 'serviceStatus' cannot be filtered", 0)),
        );
        check(
            "status eq 'foo'",
            Err((
                "'foo' is not a valid value for property 'status'; expected one of: open, closed, suppressed, unknownFutureValue",
                10,
            )),
        );
        check(
            "status eq ns.T'nope'",
            Err((
                "'nope' is not a valid value for property 'status'; expected one of: open, closed, suppressed, unknownFutureValue",
                10,
            )),
        );
        check(
            "status gt 'open'",
            Err(("operator 'gt' cannot be used with property 'status'", 0)),
        );
        check(
            "status eq 1",
            Err(("expected an enum value for property 'status'", 10)),
        );
        check(
            "status lt null",
            Err(("null can only be compared with eq or ne", 10)),
        );
        check(
            "displayName eq 1",
            Err(("expected a string value for property 'displayName'", 15)),
        );
        check(
            "displayName eq ns.T'x'",
            Err(("expected a string value for property 'displayName'", 15)),
        );
        check(
            "createdDateTime gt 'yesterday'",
            Err(("'yesterday' is not a valid date-time", 19)),
        );
        check(
            "createdDateTime gt 5",
            Err((
                "expected a date-time value for property 'createdDateTime'",
                19,
            )),
        );
        check_sensor(
            "openHealthIssuesCount eq '5'",
            Err((
                "expected an integer value for property 'openHealthIssuesCount'",
                25,
            )),
        );
        check_sensor(
            "settings/isDelayedDeploymentEnabled eq 'true'",
            Err((
                "expected a boolean value for property 'settings/isDelayedDeploymentEnabled'",
                39,
            )),
        );
        check_sensor(
            "settings/isDelayedDeploymentEnabled gt true",
            Err((
                "operator 'gt' cannot be used with property 'settings/isDelayedDeploymentEnabled'",
                0,
            )),
        );
        check(
            "domainNames eq 'a'",
            Err((
                "collection property 'domainNames' can only be used with any or all",
                0,
            )),
        );
        check(
            "domainNames eq null",
            Err((
                "collection property 'domainNames' can only be used with any or all",
                0,
            )),
        );
        check(
            "displayName/any(s: s eq 'a')",
            Err(("property 'displayName' is not a collection", 0)),
        );
        check("nope/any()", Err(("unknown property 'nope'", 0)));
        check(
            "domainNames/any(s: status eq 'open')",
            Err(("lambda bodies may only refer to 's'", 19)),
        );
        check(
            "domainNames/any(s: S eq 'a')",
            Err(("lambda bodies may only refer to 's'", 19)),
        );
        check(
            "domainNames/any(s: s/length eq 1)",
            Err(("'s' is a string and has no properties", 19)),
        );
        check(
            "domainNames/any(s: s gt 'a')",
            Err(("operator 'gt' cannot be used with 's'", 19)),
        );
        check(
            "domainNames/any(s: s eq 1)",
            Err(("expected a string value for 's'", 24)),
        );
        check(
            "domainNames/any(s: s)",
            Err(("'s' is a string and cannot stand alone", 19)),
        );
        check("s eq 'a'", Err(("unknown property 's'", 0)));
        check(
            "startswith(status,'o')",
            Err((
                "function 'startswith' needs a string property, but 'status' is not a string",
                11,
            )),
        );
        check(
            "contains(domainNames,'o')",
            Err((
                "function 'contains' needs a string property, but 'domainNames' is not a string",
                9,
            )),
        );
        check(
            "endswith('abc','c')",
            Err(("the first argument of 'endswith' must be a property", 9)),
        );
        check(
            "endswith(displayName, displayName)",
            Err((
                "the second argument of 'endswith' must be a string literal",
                22,
            )),
        );
        check(
            "endswith(displayName, 1)",
            Err((
                "the second argument of 'endswith' must be a string literal",
                22,
            )),
        );
        check("true", Err(("a literal cannot stand alone", 0)));
        check(
            "status eq 'open' and false",
            Err(("a literal cannot stand alone", 21)),
        );
        check(
            "displayName",
            Err((
                "property 'displayName' is not boolean and cannot stand alone",
                0,
            )),
        );
        check(
            "'a' eq 'b'",
            Err(("a comparison needs a property on one side", 0)),
        );
        check(
            "displayName eq displayName",
            Err((
                "cannot compare two properties; one side must be a literal",
                15,
            )),
        );
        check("displayName eq nope", Err(("unknown property 'nope'", 15)));
    }

    #[test]
    fn long_runs_come_back_balanced() {
        check(
            "status eq 'open' or status eq 'closed' or severity eq 'low' or severity eq 'high'",
            Ok("(or (or (eq status enum:open) (eq status enum:closed)) (or (eq severity enum:low) (eq severity enum:high)))"),
        );
        check(
            "displayName eq 'a' and (displayName eq 'b' and displayName eq 'c') and displayName eq 'd' and displayName eq 'e'",
            Ok("(and (and (and (eq displayName str:a) (eq displayName str:b)) (eq displayName str:c)) (and (eq displayName str:d) (eq displayName str:e)))"),
        );
        // Other operators stay where they were.
        check(
            "displayName eq 'a' or displayName eq 'b' and displayName eq 'c' or displayName eq 'd'",
            Ok("(or (or (eq displayName str:a) (and (eq displayName str:b) (eq displayName str:c))) (eq displayName str:d))"),
        );
    }

    #[test]
    fn hand_built_nested_lambda_is_rejected() {
        use crate::{LambdaBody, Pos, RawExpr};
        let inner = RawExpr::Lambda {
            collection: vec!["domainNames".into()],
            kind: LambdaKind::Any,
            body: None,
            at: Pos(7),
        };
        let outer = RawExpr::Lambda {
            collection: vec!["domainNames".into()],
            kind: LambdaKind::Any,
            body: Some(LambdaBody {
                var: "s".into(),
                expr: Box::new(inner),
            }),
            at: Pos(0),
        };
        assert_eq!(
            validate_filter(&outer, &health_issue()),
            Err(err("nested lambdas are not supported", 7))
        );
    }

    #[test]
    fn normalizes_datetimes() {
        let cases = [
            ("2023-11-16T09:41:24Z", Some("2023-11-16T09:41:24.0000000Z")),
            (
                "2023-11-16T09:41:24.1Z",
                Some("2023-11-16T09:41:24.1000000Z"),
            ),
            (
                "2023-11-16T09:41:24.99999999Z",
                Some("2023-11-16T09:41:24.9999999Z"),
            ),
            (
                "2024-01-01T01:00:00+02:00",
                Some("2023-12-31T23:00:00.0000000Z"),
            ),
            (
                "2024-02-29T12:00:00-00:00",
                Some("2024-02-29T12:00:00.0000000Z"),
            ),
            ("2023-02-29T12:00:00Z", None),
            ("2023-11-16", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_datetime(input).as_deref(),
                expected,
                "input: {input:?}"
            );
        }
    }
}
