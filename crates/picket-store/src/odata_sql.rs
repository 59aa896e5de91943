//! Validated OData (`$filter`, `$orderby`) to SQL. User values only ever become bound
//! parameters; the SQL text is built from our own column names and operators alone.
//! Columns holding text are declared `COLLATE NOCASE`, so comparisons are case-insensitive
//! as in Graph.

use picket_odata::{CmpOp, Expr, LambdaKind, Literal, Operand, OrderBy, StrFunc};

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    Null,
}

/// How a property is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Scalar,
    /// 0/1 integer.
    Bool,
    /// A JSON array of strings.
    JsonList,
}

/// Canonical property name → column. Built from our own constants only.
pub struct Column {
    pub property: &'static str,
    pub column: &'static str,
    pub kind: ColumnKind,
}

pub const fn col(property: &'static str, column: &'static str, kind: ColumnKind) -> Column {
    Column {
        property,
        column,
        kind,
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("property '{0}' has no column")]
pub struct UnmappedProperty(pub String);

/// A WHERE fragment and its parameters, in order of appearance.
#[derive(Debug, Default)]
pub struct SqlFragment {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

pub fn filter_sql(expr: &Expr, columns: &[Column]) -> Result<SqlFragment, UnmappedProperty> {
    let mut out = SqlFragment::default();
    write_expr(expr, columns, None, &mut out)?;
    Ok(out)
}

/// `ORDER BY` terms for `$orderby`, with `id` appended so paging is stable.
pub fn order_sql(
    order: &[OrderBy],
    columns: &[Column],
    default: &str,
) -> Result<String, UnmappedProperty> {
    if order.is_empty() {
        return Ok(default.to_string());
    }
    let mut terms = Vec::with_capacity(order.len() + 1);
    for o in order {
        let c = lookup(columns, o.property)?;
        terms.push(format!(
            "{} {}",
            c.column,
            if o.descending { "DESC" } else { "ASC" }
        ));
    }
    if !order.iter().any(|o| o.property == "id") {
        terms.push("id ASC".into());
    }
    Ok(terms.join(", "))
}

fn lookup<'a>(columns: &'a [Column], property: &str) -> Result<&'a Column, UnmappedProperty> {
    columns
        .iter()
        .find(|c| c.property == property)
        .ok_or_else(|| UnmappedProperty(property.to_string()))
}

fn operand_sql<'a>(
    operand: &'a Operand,
    columns: &'a [Column],
    item: Option<&'a str>,
) -> Result<(&'a str, ColumnKind), UnmappedProperty> {
    match operand {
        Operand::Property(p) => {
            let c = lookup(columns, p)?;
            Ok((c.column, c.kind))
        }
        // Inside a lambda: the json_each value, compared case-insensitively like other text.
        Operand::LambdaItem => Ok((item.unwrap_or("NULL"), ColumnKind::Scalar)),
    }
}

fn literal_value(lit: &Literal) -> SqlValue {
    match lit {
        Literal::String(s) | Literal::Enum(s) | Literal::DateTime(s) => SqlValue::Text(s.clone()),
        Literal::Int(i) => SqlValue::Int(*i),
        Literal::Bool(b) => SqlValue::Int(i64::from(*b)),
        Literal::Null => SqlValue::Null,
    }
}

/// Escapes LIKE wildcards so `contains(displayName,'50%')` means a literal percent sign.
fn like_pattern(func: StrFunc, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    match func {
        StrFunc::StartsWith => format!("{escaped}%"),
        StrFunc::EndsWith => format!("%{escaped}"),
        StrFunc::Contains => format!("%{escaped}%"),
    }
}

fn write_expr(
    expr: &Expr,
    columns: &[Column],
    item: Option<&str>,
    out: &mut SqlFragment,
) -> Result<(), UnmappedProperty> {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            out.sql.push('(');
            write_expr(a, columns, item, out)?;
            out.sql.push_str(if matches!(expr, Expr::And(..)) {
                " AND "
            } else {
                " OR "
            });
            write_expr(b, columns, item, out)?;
            out.sql.push(')');
        }
        Expr::Not(inner) => {
            out.sql.push_str("NOT (");
            write_expr(inner, columns, item, out)?;
            out.sql.push(')');
        }
        Expr::Compare { left, op, right } => {
            let (column, _) = operand_sql(left, columns, item)?;
            let collate = if item.is_some() {
                " COLLATE NOCASE"
            } else {
                ""
            };
            // `IS`/`IS NOT` are null-safe, so `not (description eq 'x')` keeps rows without a
            // description, as OData's null semantics require. Ordering comparisons on NULL are
            // false, never NULL, via COALESCE.
            match op {
                CmpOp::Eq => out.sql.push_str(&format!("({column}{collate} IS ?)")),
                CmpOp::Ne => out.sql.push_str(&format!("({column}{collate} IS NOT ?)")),
                _ => {
                    let sym = match op {
                        CmpOp::Gt => ">",
                        CmpOp::Ge => ">=",
                        CmpOp::Lt => "<",
                        _ => "<=",
                    };
                    out.sql
                        .push_str(&format!("COALESCE({column}{collate} {sym} ?, 0)"));
                }
            }
            out.params.push(literal_value(right));
        }
        Expr::Call { func, arg, value } => {
            let (column, _) = operand_sql(arg, columns, item)?;
            out.sql
                .push_str(&format!("COALESCE({column} LIKE ? ESCAPE '\\', 0)"));
            out.params.push(SqlValue::Text(like_pattern(*func, value)));
        }
        Expr::Lambda {
            kind,
            collection,
            body,
        } => {
            let c = lookup(columns, collection)?;
            match (kind, body) {
                (_, None) => out
                    .sql
                    .push_str(&format!("(json_array_length({}) > 0)", c.column)),
                (LambdaKind::Any, Some(body)) => {
                    out.sql.push_str(&format!(
                        "EXISTS (SELECT 1 FROM json_each({}) WHERE ",
                        c.column
                    ));
                    write_expr(body, columns, Some("json_each.value"), out)?;
                    out.sql.push(')');
                }
                (LambdaKind::All, Some(body)) => {
                    out.sql.push_str(&format!(
                        "NOT EXISTS (SELECT 1 FROM json_each({}) WHERE NOT COALESCE(",
                        c.column
                    ));
                    write_expr(body, columns, Some("json_each.value"), out)?;
                    out.sql.push_str(", 0))");
                }
            }
        }
        Expr::BoolProperty(p) => {
            let c = lookup(columns, p)?;
            out.sql.push_str(&format!("({} = 1)", c.column));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        col("status", "status", ColumnKind::Scalar),
        col("domainNames", "domain_names", ColumnKind::JsonList),
        col(
            "settings/isDelayedDeploymentEnabled",
            "is_delayed",
            ColumnKind::Bool,
        ),
    ];

    fn check(expr: Expr, sql: &str, params: Vec<SqlValue>) {
        let f = filter_sql(&expr, COLUMNS).expect("mapped");
        assert_eq!(f.sql, sql);
        assert_eq!(f.params, params);
    }

    #[test]
    fn translations() {
        let eq = Expr::Compare {
            left: Operand::Property("status".into()),
            op: CmpOp::Eq,
            right: Literal::Enum("open".into()),
        };
        check(
            eq.clone(),
            "(status IS ?)",
            vec![SqlValue::Text("open".into())],
        );
        check(
            Expr::Not(Box::new(eq.clone())),
            "NOT ((status IS ?))",
            vec![SqlValue::Text("open".into())],
        );
        check(
            Expr::Lambda {
                kind: LambdaKind::Any,
                collection: "domainNames".into(),
                body: Some(Box::new(Expr::Call { func: StrFunc::EndsWith, arg: Operand::LambdaItem, value: "50%_x".into() })),
            },
            "EXISTS (SELECT 1 FROM json_each(domain_names) WHERE COALESCE(json_each.value LIKE ? ESCAPE '\\', 0))",
            vec![SqlValue::Text("%50\\%\\_x".into())],
        );
        check(
            Expr::BoolProperty("settings/isDelayedDeploymentEnabled".into()),
            "(is_delayed = 1)",
            vec![],
        );
        let injected = Expr::Compare {
            left: Operand::Property("status".into()),
            op: CmpOp::Eq,
            right: Literal::String("'; DROP TABLE x; --".into()),
        };
        check(
            injected,
            "(status IS ?)",
            vec![SqlValue::Text("'; DROP TABLE x; --".into())],
        );
        assert!(filter_sql(&Expr::BoolProperty("nope".into()), COLUMNS).is_err());
    }
}
