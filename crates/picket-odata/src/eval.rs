//! A validated query applied to entities held as Graph JSON, for collections kept as documents
//! rather than columns (identity accounts, sensor migrations): the same semantics the SQL
//! writer gives the column-backed collections — text compared and ordered ASCII
//! case-insensitively, `null` for a missing value, lambdas over string collections.

use crate::ast::{CmpOp, Expr, LambdaKind, Literal, Operand, StrFunc};
use crate::options::OrderBy;
use serde_json::Value;
use std::cmp::Ordering;

/// The value at a slash-named property (`settings/description`).
fn at<'a>(item: &'a Value, path: &str) -> &'a Value {
    path.split('/')
        .fold(item, |v, key| v.get(key).unwrap_or(&Value::Null))
}

fn fold(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// A comparable form of a JSON value: numbers, booleans, or folded text.
#[derive(Debug, PartialEq, PartialOrd)]
enum Key {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
}

fn key(v: &Value) -> Key {
    match v {
        Value::Null => Key::Null,
        Value::Bool(b) => Key::Bool(*b),
        Value::Number(n) => Key::Int(n.as_i64().unwrap_or_default()),
        Value::String(s) => Key::Text(fold(s)),
        other => Key::Text(fold(&other.to_string())),
    }
}

fn literal_key(l: &Literal) -> Key {
    match l {
        Literal::Null => Key::Null,
        Literal::Bool(b) => Key::Bool(*b),
        Literal::Int(i) => Key::Int(*i),
        Literal::String(s) | Literal::Enum(s) | Literal::DateTime(s) => Key::Text(fold(s)),
    }
}

fn compare(left: &Value, op: CmpOp, right: &Literal) -> bool {
    let (l, r) = (key(left), literal_key(right));
    if l == Key::Null || r == Key::Null {
        // As SQL's IS [NOT] NULL: only eq/ne mean anything with null.
        return match op {
            CmpOp::Eq => l == r,
            CmpOp::Ne => l != r,
            _ => false,
        };
    }
    let Some(ord) = l.partial_cmp(&r) else {
        return false;
    };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
    }
}

fn operand<'a>(item: &'a Value, lambda_item: Option<&'a Value>, o: &Operand) -> &'a Value {
    match o {
        Operand::Property(p) => at(item, p),
        Operand::LambdaItem => lambda_item.unwrap_or(&Value::Null),
    }
}

fn eval(expr: &Expr, item: &Value, lambda_item: Option<&Value>) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, item, lambda_item) && eval(b, item, lambda_item),
        Expr::Or(a, b) => eval(a, item, lambda_item) || eval(b, item, lambda_item),
        Expr::Not(e) => !eval(e, item, lambda_item),
        Expr::Compare { left, op, right } => compare(operand(item, lambda_item, left), *op, right),
        Expr::Call { func, arg, value } => {
            let Some(text) = operand(item, lambda_item, arg).as_str() else {
                return false;
            };
            let (text, value) = (fold(text), fold(value));
            match func {
                StrFunc::StartsWith => text.starts_with(&value),
                StrFunc::EndsWith => text.ends_with(&value),
                StrFunc::Contains => text.contains(&value),
            }
        }
        Expr::Lambda {
            kind,
            collection,
            body,
        } => {
            let items = at(item, collection)
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            match (kind, body) {
                (LambdaKind::Any, None) => !items.is_empty(),
                (LambdaKind::All, None) => true,
                (LambdaKind::Any, Some(b)) => items.iter().any(|x| eval(b, item, Some(x))),
                (LambdaKind::All, Some(b)) => items.iter().all(|x| eval(b, item, Some(x))),
            }
        }
        Expr::BoolProperty(p) => match p.as_str() {
            "true" => true,
            "false" => false,
            _ => at(item, p).as_bool() == Some(true),
        },
    }
}

/// Whether `item` (an entity as Graph JSON) passes `filter`.
pub fn matches(filter: &Expr, item: &Value) -> bool {
    eval(filter, item, None)
}

/// Orders entities by `$orderby`, then by `tie` (their key) ascending; nulls first, as in SQL.
pub fn sort(items: &mut [Value], order: &[OrderBy], tie: &str) {
    items.sort_by(|a, b| {
        for o in order {
            let ord = key(at(a, o.property))
                .partial_cmp(&key(at(b, o.property)))
                .unwrap_or(Ordering::Equal);
            let ord = if o.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        key(at(a, tie))
            .partial_cmp(&key(at(b, tie)))
            .unwrap_or(Ordering::Equal)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_schemas::schema_for_eval;
    use crate::{parse_query, validate_query};
    use serde_json::json;

    fn ids(filter: &str) -> Vec<&'static str> {
        let items = [
            json!({"id": "a", "displayName": "Alice", "isEnabled": true, "domain": "contoso.com", "tags": ["x", "y"]}),
            json!({"id": "b", "displayName": "bob", "isEnabled": false, "domain": "Contoso.com", "tags": []}),
            json!({"id": "c", "displayName": "Carol", "isEnabled": true, "domain": null, "tags": ["y"]}),
        ];
        let q = validate_query(
            &parse_query(&format!("$filter={}", urlencode(filter))).expect("parses"),
            schema_for_eval(),
        )
        .expect("valid");
        let f = q.filter.expect("filter");
        items
            .iter()
            .filter(|i| matches(&f, i))
            .map(|i| match i["id"].as_str() {
                Some("a") => "a",
                Some("b") => "b",
                _ => "c",
            })
            .collect()
    }

    fn urlencode(s: &str) -> String {
        s.replace('%', "%25")
            .replace(' ', "%20")
            .replace('\'', "%27")
            .replace('&', "%26")
    }

    #[test]
    fn filters_mean_what_the_sql_means() {
        let cases: &[(&str, &[&str])] = &[
            ("displayName eq 'BOB'", &["b"]),
            ("domain eq 'contoso.com'", &["a", "b"]),
            ("domain eq null", &["c"]),
            ("domain ne null", &["a", "b"]),
            ("isEnabled", &["a", "c"]),
            ("not isEnabled", &["b"]),
            (
                "isEnabled eq false or startswith(displayName,'car')",
                &["b", "c"],
            ),
            ("contains(displayName,'o')", &["b", "c"]),
            ("displayName gt 'b'", &["b", "c"]),
            ("tags/any(t: t eq 'y')", &["a", "c"]),
            ("tags/any()", &["a", "c"]),
            ("tags/all(t: t eq 'y')", &["b", "c"]),
        ];
        for (filter, want) in cases {
            assert_eq!(ids(filter), *want, "{filter}");
        }
    }

    #[test]
    fn sorting_folds_case_and_puts_nulls_first() {
        let mut items = vec![
            json!({"id": "2", "displayName": "bob"}),
            json!({"id": "1", "displayName": "Alice"}),
            json!({"id": "3"}),
        ];
        sort(
            &mut items,
            &[OrderBy {
                property: "displayName",
                descending: false,
            }],
            "id",
        );
        let got: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(got, ["3", "1", "2"]);
    }
}
