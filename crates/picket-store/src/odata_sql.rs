//! Validated OData (`$filter`, `$orderby`) to SQL. User values only ever become bound
//! parameters; the SQL text is built from our own column names and operators alone.
//! Two dialects: SQLite (`?` placeholders, `json_each`, text columns declared `COLLATE NOCASE`)
//! and PostgreSQL (`$n` placeholders, `jsonb_array_elements_text`, and `lower()` on both sides
//! of case-insensitive columns, which are declared `COLLATE "C"` so `lower()` folds ASCII only
//! and orders bytewise, exactly as SQLite's NOCASE does).

use picket_odata::{CmpOp, Expr, LambdaKind, Literal, Operand, OrderBy, StrFunc};

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    Null,
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}
impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}
impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Int(v.into())
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// How a property is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Scalar,
    /// Text compared and ordered case-insensitively (SQLite: declared `COLLATE NOCASE`).
    NoCase,
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

/// The SQL dialect to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    /// `first_param` is the number of parameters bound before this fragment, so its
    /// placeholders start at `$first_param + 1`.
    Postgres {
        first_param: usize,
    },
}

/// The SQLite WHERE fragment for a validated `$filter`.
pub fn filter_sql(expr: &Expr, columns: &[Column]) -> Result<SqlFragment, UnmappedProperty> {
    filter_sql_for(expr, columns, Dialect::Sqlite)
}

pub fn filter_sql_for(
    expr: &Expr,
    columns: &[Column],
    dialect: Dialect,
) -> Result<SqlFragment, UnmappedProperty> {
    let mut out = SqlFragment::default();
    let mut w = Writer {
        columns,
        dialect,
        numbered_from: None,
        out: &mut out,
    };
    w.expr(expr, None)?;
    Ok(out)
}

/// The WHERE fragment for `engine`, its placeholders written `$n` from `$first_param + 1` on
/// both engines (shared statements are written that way; see `crate::sql::Stmt`).
pub fn filter_sql_numbered(
    expr: &Expr,
    columns: &[Column],
    engine: crate::sql::Engine,
    first_param: usize,
) -> Result<SqlFragment, UnmappedProperty> {
    let mut out = SqlFragment::default();
    let mut w = Writer {
        columns,
        dialect: dialect_of(engine),
        numbered_from: Some(first_param),
        out: &mut out,
    };
    w.expr(expr, None)?;
    Ok(out)
}

/// The dialect an engine's statements are written in.
pub fn dialect_of(engine: crate::sql::Engine) -> Dialect {
    match engine {
        crate::sql::Engine::Sqlite => Dialect::Sqlite,
        crate::sql::Engine::Postgres => Dialect::Postgres { first_param: 0 },
    }
}

/// `ORDER BY` terms for `$orderby` (SQLite), with `id` appended so paging is stable.
pub fn order_sql(
    order: &[OrderBy],
    columns: &[Column],
    default: &str,
) -> Result<String, UnmappedProperty> {
    order_sql_for(order, columns, default, Dialect::Sqlite)
}

/// `ORDER BY` terms in either dialect. PostgreSQL sorts NULLs last ascending where SQLite
/// sorts them first, so its terms say where NULLs go.
pub fn order_sql_for(
    order: &[OrderBy],
    columns: &[Column],
    default: &str,
    dialect: Dialect,
) -> Result<String, UnmappedProperty> {
    if order.is_empty() {
        return Ok(default.to_string());
    }
    let mut terms = Vec::with_capacity(order.len() + 1);
    for o in order {
        let c = lookup(columns, o.property)?;
        let term = match (dialect, c.kind) {
            (Dialect::Sqlite, _) => {
                format!("{} {}", c.column, if o.descending { "DESC" } else { "ASC" })
            }
            (Dialect::Postgres { .. }, kind) => {
                let column = if kind == ColumnKind::NoCase {
                    format!("lower({})", c.column)
                } else {
                    c.column.to_string()
                };
                let dir = if o.descending {
                    "DESC NULLS LAST"
                } else {
                    "ASC NULLS FIRST"
                };
                format!("{column} {dir}")
            }
        };
        terms.push(term);
    }
    if !order.iter().any(|o| o.property == "id") {
        terms.push("id ASC".into());
    }
    Ok(terms.join(", "))
}

/// One term of a listing's order, as the ORDER BY, the keyset predicate and the key read back
/// from each row all use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// A column, or PostgreSQL's `lower(column)` for case-insensitive text.
    pub expr: String,
    pub descending: bool,
    /// Whether the column may hold NULL (properties a client sorts by; the default orders and
    /// `id` are NOT NULL columns).
    pub nullable: bool,
}

/// The terms a listing is ordered by: `$orderby` (then `id`), or the default order, given as
/// SQL terms of NOT NULL columns (`created_date_time DESC, id ASC`).
pub fn order_terms(
    order: &[OrderBy],
    columns: &[Column],
    default: &str,
    dialect: Dialect,
) -> Result<Vec<OrderTerm>, UnmappedProperty> {
    if order.is_empty() {
        return Ok(default
            .split(',')
            .map(|term| {
                let term = term.trim();
                let (expr, descending) = match term.rsplit_once(' ') {
                    Some((expr, dir)) if dir.eq_ignore_ascii_case("DESC") => (expr, true),
                    Some((expr, dir)) if dir.eq_ignore_ascii_case("ASC") => (expr, false),
                    _ => (term, false),
                };
                OrderTerm {
                    expr: expr.trim().to_string(),
                    descending,
                    nullable: false,
                }
            })
            .collect());
    }
    let mut terms = Vec::with_capacity(order.len() + 1);
    for o in order {
        let c = lookup(columns, o.property)?;
        let expr = match dialect {
            Dialect::Postgres { .. } if c.kind == ColumnKind::NoCase => {
                format!("lower({})", c.column)
            }
            _ => c.column.to_string(),
        };
        terms.push(OrderTerm {
            expr,
            descending: o.descending,
            nullable: o.property != "id",
        });
    }
    if !order.iter().any(|o| o.property == "id") {
        terms.push(OrderTerm {
            expr: "id".into(),
            descending: false,
            nullable: false,
        });
    }
    Ok(terms)
}

/// The ORDER BY list of `terms`. PostgreSQL sorts NULLs last ascending where SQLite sorts them
/// first, so its nullable terms say where NULLs go; NOT NULL terms say nothing, so an index in
/// the default NULLS placement still serves them.
pub fn order_clause(terms: &[OrderTerm], dialect: Dialect) -> String {
    let pg = matches!(dialect, Dialect::Postgres { .. });
    terms
        .iter()
        .map(|t| match (t.descending, pg && t.nullable) {
            (true, true) => format!("{} DESC NULLS LAST", t.expr),
            (false, true) => format!("{} ASC NULLS FIRST", t.expr),
            (true, false) => format!("{} DESC", t.expr),
            (false, false) => format!("{} ASC", t.expr),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows after `key` (one value per term) in the order of `terms`, placeholders numbered
/// `$n` from `$first_param + 1`. NULLs sort first ascending and last descending on both engines
/// (see [`order_clause`]). Terms of one direction with no NULL in the key use a row-value
/// comparison, which both engines serve from an index on those columns.
pub fn keyset_sql(terms: &[OrderTerm], key: &[SqlValue], first_param: usize) -> SqlFragment {
    let mut out = SqlFragment::default();
    let bind = |out: &mut SqlFragment, v: &SqlValue| {
        out.params.push(v.clone());
        format!("${}", first_param + out.params.len())
    };
    let same_direction = terms.iter().all(|t| t.descending == terms[0].descending);
    let no_null = key.iter().all(|v| *v != SqlValue::Null);
    let nulls_after = terms.iter().any(|t| t.descending && t.nullable);
    if same_direction && no_null && !nulls_after {
        let exprs: Vec<&str> = terms.iter().map(|t| t.expr.as_str()).collect();
        let values: Vec<String> = key.iter().map(|v| bind(&mut out, v)).collect();
        let op = if terms[0].descending { "<" } else { ">" };
        out.sql = format!("({}) {op} ({})", exprs.join(", "), values.join(", "));
        return out;
    }
    // (t1 after v1) OR (t1 = v1 AND t2 after v2) OR …
    let mut branches = Vec::with_capacity(terms.len());
    for (k, (term, value)) in terms.iter().zip(key).enumerate() {
        let mut parts = Vec::with_capacity(k + 1);
        for (t, v) in terms.iter().zip(key).take(k) {
            parts.push(match v {
                SqlValue::Null => format!("{} IS NULL", t.expr),
                v => format!("{} = {}", t.expr, bind(&mut out, v)),
            });
        }
        let after = match (value, term.descending) {
            (SqlValue::Null, false) => format!("{} IS NOT NULL", term.expr),
            // Nothing sorts after NULL descending but other NULLs, which the next terms order.
            (SqlValue::Null, true) => continue,
            (v, false) => format!("{} > {}", term.expr, bind(&mut out, v)),
            (v, true) if term.nullable => {
                let p = bind(&mut out, v);
                format!("({e} < {p} OR {e} IS NULL)", e = term.expr)
            }
            (v, true) => format!("{} < {}", term.expr, bind(&mut out, v)),
        };
        parts.push(after);
        branches.push(format!("({})", parts.join(" AND ")));
    }
    out.sql = if branches.is_empty() {
        "(1 = 0)".into()
    } else {
        format!("({})", branches.join(" OR "))
    };
    out
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
        // Inside a lambda: the array element, compared case-insensitively like other text.
        Operand::LambdaItem => Ok((item.unwrap_or("NULL"), ColumnKind::NoCase)),
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

struct Writer<'a> {
    columns: &'a [Column],
    dialect: Dialect,
    /// Placeholders numbered `$n` from this on, whatever the dialect.
    numbered_from: Option<usize>,
    out: &'a mut SqlFragment,
}

impl Writer<'_> {
    /// Binds a value and returns its placeholder.
    fn bind(&mut self, value: SqlValue) -> String {
        self.out.params.push(value);
        if let Some(first_param) = self.numbered_from {
            return format!("${}", first_param + self.out.params.len());
        }
        match self.dialect {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres { first_param } => {
                format!("${}", first_param + self.out.params.len())
            }
        }
    }

    fn pg(&self) -> bool {
        matches!(self.dialect, Dialect::Postgres { .. })
    }

    /// A column (and a placeholder) as compared: PostgreSQL lower-cases both sides of
    /// case-insensitive text; in SQLite the column's NOCASE collation does it.
    fn side(&self, column: &str, kind: ColumnKind, lambda_item: bool) -> String {
        match (self.pg(), kind) {
            (true, ColumnKind::NoCase) => format!("lower({column})"),
            (false, _) if lambda_item => format!("{column} COLLATE NOCASE"),
            _ => column.to_string(),
        }
    }

    fn param_side(&self, placeholder: String, kind: ColumnKind) -> String {
        if self.pg() && kind == ColumnKind::NoCase {
            format!("lower({placeholder}::text COLLATE \"C\")")
        } else {
            placeholder
        }
    }

    fn expr(&mut self, expr: &Expr, item: Option<&str>) -> Result<(), UnmappedProperty> {
        match expr {
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.out.sql.push('(');
                self.expr(a, item)?;
                self.out.sql.push_str(if matches!(expr, Expr::And(..)) {
                    " AND "
                } else {
                    " OR "
                });
                self.expr(b, item)?;
                self.out.sql.push(')');
            }
            Expr::Not(inner) => {
                // SQL compares with NULL as unknown, OData as false. Only a negation can tell the
                // two apart (`and`, `or` and a WHERE treat unknown as false already), so this is
                // the one place that settles it: `not (description eq 'x')` stays true for rows
                // without one. Comparisons themselves stay bare, so an index can serve them.
                // `IS NOT TRUE` (false or unknown) says it in one test both engines parse, and
                // nests no deeper than a parenthesis (SQLite's parser stack is bounded).
                self.out.sql.push('(');
                self.expr(inner, item)?;
                self.out.sql.push_str(") IS NOT TRUE");
            }
            Expr::Compare { left, op, right } => {
                let (column, kind) = operand_sql(left, self.columns, item)?;
                let is_item = matches!(left, Operand::LambdaItem);
                let lhs = self.side(column, kind, is_item);
                let placeholder = self.bind(literal_value(right));
                let rhs = self.param_side(placeholder, kind);
                // `IS`/`IS NOT` (PostgreSQL: `IS [NOT] DISTINCT FROM`) are null-safe, so `eq null`
                // and `ne` mean what OData says. Ordering comparisons on NULL are unknown, which
                // counts as false wherever it lands (see `Expr::Not`).
                let (is, is_not) = if self.pg() {
                    ("IS NOT DISTINCT FROM", "IS DISTINCT FROM")
                } else {
                    ("IS", "IS NOT")
                };
                let sql = match op {
                    // PostgreSQL plans `IS NOT DISTINCT FROM` as a filter, never an index
                    // lookup; with a value on the right `=` means the same where it is true.
                    CmpOp::Eq if self.pg() && !matches!(right, Literal::Null) => {
                        format!("({lhs} = {rhs})")
                    }
                    CmpOp::Eq => format!("({lhs} {is} {rhs})"),
                    CmpOp::Ne => format!("({lhs} {is_not} {rhs})"),
                    _ => {
                        let sym = match op {
                            CmpOp::Gt => ">",
                            CmpOp::Ge => ">=",
                            CmpOp::Lt => "<",
                            _ => "<=",
                        };
                        format!("({lhs} {sym} {rhs})")
                    }
                };
                self.out.sql.push_str(&sql);
            }
            Expr::Call { func, arg, value } => {
                let (column, _) = operand_sql(arg, self.columns, item)?;
                let placeholder = self.bind(SqlValue::Text(like_pattern(*func, value)));
                // SQLite's LIKE ignores ASCII case; PostgreSQL's does not (and ILIKE would fold
                // more than ASCII), so both sides are lower-cased there.
                let sql = if self.pg() {
                    format!(
                        "(lower({column}) LIKE {} ESCAPE '\\')",
                        self.param_side(placeholder, ColumnKind::NoCase)
                    )
                } else {
                    format!("({column} LIKE {placeholder} ESCAPE '\\')")
                };
                self.out.sql.push_str(&sql);
            }
            Expr::Lambda {
                kind,
                collection,
                body,
            } => {
                let c = lookup(self.columns, collection)?;
                let (elements, element) = if self.pg() {
                    (
                        format!(
                            "jsonb_array_elements_text({}::jsonb) AS json_each(value)",
                            c.column
                        ),
                        "(json_each.value COLLATE \"C\")",
                    )
                } else {
                    (format!("json_each({})", c.column), "json_each.value")
                };
                match (kind, body) {
                    (_, None) => {
                        let sql = if self.pg() {
                            format!("(jsonb_array_length({}::jsonb) > 0)", c.column)
                        } else {
                            format!("(json_array_length({}) > 0)", c.column)
                        };
                        self.out.sql.push_str(&sql);
                    }
                    (LambdaKind::Any, Some(body)) => {
                        self.out
                            .sql
                            .push_str(&format!("EXISTS (SELECT 1 FROM {elements} WHERE "));
                        self.expr(body, Some(element))?;
                        self.out.sql.push(')');
                    }
                    (LambdaKind::All, Some(body)) => {
                        self.out
                            .sql
                            .push_str(&format!("NOT EXISTS (SELECT 1 FROM {elements} WHERE ("));
                        self.expr(body, Some(element))?;
                        self.out.sql.push_str(") IS NOT TRUE)");
                    }
                }
            }
            Expr::BoolProperty(p) => {
                let c = lookup(self.columns, p)?;
                self.out.sql.push_str(&format!("({} = 1)", c.column));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        col("status", "status", ColumnKind::Scalar),
        col("displayName", "display_name", ColumnKind::NoCase),
        col("openHealthIssuesCount", "open_count", ColumnKind::Scalar),
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
            "((status IS ?)) IS NOT TRUE",
            vec![SqlValue::Text("open".into())],
        );
        check(
            Expr::Lambda {
                kind: LambdaKind::Any,
                collection: "domainNames".into(),
                body: Some(Box::new(Expr::Call { func: StrFunc::EndsWith, arg: Operand::LambdaItem, value: "50%_x".into() })),
            },
            "EXISTS (SELECT 1 FROM json_each(domain_names) WHERE (json_each.value LIKE ? ESCAPE '\\'))",
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

    fn check_pg(expr: Expr, first_param: usize, sql: &str, params: Vec<SqlValue>) {
        let f = filter_sql_for(&expr, COLUMNS, Dialect::Postgres { first_param }).expect("mapped");
        assert_eq!(f.sql, sql);
        assert_eq!(f.params, params);
    }

    fn name_eq(v: &str) -> Expr {
        Expr::Compare {
            left: Operand::Property("displayName".into()),
            op: CmpOp::Eq,
            right: Literal::String(v.into()),
        }
    }

    #[test]
    fn postgres_translations() {
        check_pg(
            Expr::And(
                Box::new(name_eq("DC1")),
                Box::new(Expr::Compare {
                    left: Operand::Property("openHealthIssuesCount".into()),
                    op: CmpOp::Gt,
                    right: Literal::Int(2),
                }),
            ),
            1,
            "((lower(display_name) = lower($2::text COLLATE \"C\")) AND (open_count > $3))",
            vec![SqlValue::Text("DC1".into()), SqlValue::Int(2)],
        );
        check_pg(
            Expr::Not(Box::new(Expr::Compare {
                left: Operand::Property("status".into()),
                op: CmpOp::Ne,
                right: Literal::Null,
            })),
            0,
            "((status IS DISTINCT FROM $1)) IS NOT TRUE",
            vec![SqlValue::Null],
        );
        check_pg(
            Expr::Call {
                func: StrFunc::StartsWith,
                arg: Operand::Property("status".into()),
                value: "Op_".into(),
            },
            0,
            "(lower(status) LIKE lower($1::text COLLATE \"C\") ESCAPE '\\')",
            vec![SqlValue::Text("Op\\_%".into())],
        );
        check_pg(
            Expr::Lambda {
                kind: LambdaKind::All,
                collection: "domainNames".into(),
                body: Some(Box::new(Expr::Compare {
                    left: Operand::LambdaItem,
                    op: CmpOp::Eq,
                    right: Literal::String("Contoso.com".into()),
                })),
            },
            0,
            "NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(domain_names::jsonb) AS json_each(value) WHERE ((lower((json_each.value COLLATE \"C\")) = lower($1::text COLLATE \"C\"))) IS NOT TRUE)",
            vec![SqlValue::Text("Contoso.com".into())],
        );
        check_pg(
            Expr::Lambda {
                kind: LambdaKind::Any,
                collection: "domainNames".into(),
                body: None,
            },
            0,
            "(jsonb_array_length(domain_names::jsonb) > 0)",
            vec![],
        );
        check_pg(
            Expr::BoolProperty("settings/isDelayedDeploymentEnabled".into()),
            0,
            "(is_delayed = 1)",
            vec![],
        );
        // User text never reaches the SQL text, in either dialect.
        check_pg(
            name_eq("'; DROP TABLE x; --"),
            0,
            "(lower(display_name) = lower($1::text COLLATE \"C\"))",
            vec![SqlValue::Text("'; DROP TABLE x; --".into())],
        );
    }

    #[test]
    fn sqlite_lambda_items_ignore_case() {
        check(
            Expr::Lambda {
                kind: LambdaKind::Any,
                collection: "domainNames".into(),
                body: Some(Box::new(Expr::Compare {
                    left: Operand::LambdaItem,
                    op: CmpOp::Eq,
                    right: Literal::String("x".into()),
                })),
            },
            "EXISTS (SELECT 1 FROM json_each(domain_names) WHERE (json_each.value COLLATE NOCASE IS ?))",
            vec![SqlValue::Text("x".into())],
        );
    }

    #[test]
    fn orders_in_both_dialects() {
        let order = [
            OrderBy {
                property: "displayName",
                descending: true,
            },
            OrderBy {
                property: "status",
                descending: false,
            },
        ];
        assert_eq!(
            order_sql(&order, COLUMNS, "x").expect("mapped"),
            "display_name DESC, status ASC, id ASC"
        );
        assert_eq!(
            order_sql_for(&order, COLUMNS, "x", Dialect::Postgres { first_param: 0 })
                .expect("mapped"),
            "lower(display_name) DESC NULLS LAST, status ASC NULLS FIRST, id ASC"
        );
        assert_eq!(order_sql(&[], COLUMNS, "x").expect("mapped"), "x");
    }

    #[test]
    fn keysets_use_row_values_where_they_can() {
        let default = order_terms(
            &[],
            COLUMNS,
            "created_date_time ASC, id ASC",
            Dialect::Sqlite,
        )
        .expect("default");
        assert_eq!(
            order_clause(&default, Dialect::Sqlite),
            "created_date_time ASC, id ASC"
        );
        let key = [SqlValue::Text("t".into()), SqlValue::Text("i".into())];
        let f = keyset_sql(&default, &key, 2);
        assert_eq!(f.sql, "(created_date_time, id) > ($3, $4)");
        assert_eq!(f.params, key.to_vec());

        let order = [OrderBy {
            property: "displayName",
            descending: true,
        }];
        let pg = Dialect::Postgres { first_param: 0 };
        let terms = order_terms(&order, COLUMNS, "unused", pg).expect("mapped");
        assert_eq!(
            order_clause(&terms, pg),
            "lower(display_name) DESC NULLS LAST, id ASC"
        );
        let f = keyset_sql(&terms, &key, 0);
        assert_eq!(
            f.sql,
            "(((lower(display_name) < $1 OR lower(display_name) IS NULL)) \
             OR (lower(display_name) = $2 AND id > $3))"
        );
        let after_null = keyset_sql(&terms, &[SqlValue::Null, SqlValue::Text("i".into())], 0);
        assert_eq!(
            after_null.sql,
            "((lower(display_name) IS NULL AND id > $1))"
        );
    }
}
