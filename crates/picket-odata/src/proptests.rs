//! Property tests: hostile input never panics, and printed filters re-parse to the same tree.

use proptest::prelude::*;

use crate::test_schemas::health_issue;
use crate::{
    parse_filter, parse_query, validate_filter, validate_query, CmpOp, LambdaBody, LambdaKind, Pos,
    RawExpr, RawLiteral, RawOperand, StrFunc,
};

const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "true",
    "false",
    "null",
    "any",
    "all",
    "startswith",
    "endswith",
    "contains",
];

fn ident() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_filter("keywords would read as something else", |s| {
        !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
    })
}

fn path() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(ident(), 1..4)
}

fn datetime() -> impl Strategy<Value = String> {
    let offset = prop_oneof![
        Just("Z".to_string()),
        (0..24u32, 0..60u32, prop::bool::ANY).prop_map(|(h, m, minus)| {
            format!("{}{h:02}:{m:02}", if minus { '-' } else { '+' })
        }),
    ];
    let fraction = prop::option::of("[0-9]{1,9}").prop_map(|f| f.map(|f| format!(".{f}")));
    (
        (1000..=9999u32, 1..=12u32, 1..=28u32),
        (0..24u32, 0..60u32, 0..60u32),
        fraction,
        offset,
    )
        .prop_map(|((y, mo, d), (h, mi, s), fraction, offset)| {
            let fraction = fraction.unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{offset}")
        })
}

fn literal() -> impl Strategy<Value = RawLiteral> {
    prop_oneof![
        any::<String>().prop_map(RawLiteral::String),
        any::<i64>().prop_map(RawLiteral::Int),
        any::<bool>().prop_map(RawLiteral::Bool),
        Just(RawLiteral::Null),
        datetime().prop_map(RawLiteral::DateTime),
        (prop::collection::vec(ident(), 2..4), any::<String>()).prop_map(|(names, value)| {
            RawLiteral::Enum {
                type_name: names.join("."),
                value,
            }
        }),
    ]
}

fn operand() -> impl Strategy<Value = RawOperand> {
    prop_oneof![
        path().prop_map(|segments| RawOperand::Path {
            segments,
            at: Pos(0)
        }),
        literal().prop_map(|value| RawOperand::Literal { value, at: Pos(0) }),
    ]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Lt,
        CmpOp::Le,
    ])
}

fn leaf() -> impl Strategy<Value = RawExpr> {
    let func = prop::sample::select(vec![
        StrFunc::StartsWith,
        StrFunc::EndsWith,
        StrFunc::Contains,
    ]);
    prop_oneof![
        (operand(), cmp_op(), operand()).prop_map(|(left, op, right)| RawExpr::Compare {
            left,
            op,
            right
        }),
        (func, operand(), operand()).prop_map(|(func, arg, value)| RawExpr::Call {
            func,
            arg,
            value,
            at: Pos(0),
        }),
        operand().prop_map(RawExpr::Operand),
    ]
}

fn combine(leaf: impl Strategy<Value = RawExpr> + 'static) -> impl Strategy<Value = RawExpr> {
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| RawExpr::Or(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone())
                .prop_map(|(l, r)| RawExpr::And(Box::new(l), Box::new(r))),
            inner.prop_map(|e| RawExpr::Not(Box::new(e))),
        ]
    })
}

/// Lambdas only at the outer level: the grammar refuses nested ones.
fn expr() -> impl Strategy<Value = RawExpr> {
    let body = prop::option::of((ident(), combine(leaf())));
    let lambda = (path(), prop::bool::ANY, body).prop_map(|(collection, all, body)| {
        // `all()` needs a body, so a generated `all` without one becomes `any`.
        let kind = if all && body.is_some() {
            LambdaKind::All
        } else {
            LambdaKind::Any
        };
        RawExpr::Lambda {
            collection,
            kind,
            body: body.map(|(var, expr)| LambdaBody {
                var,
                expr: Box::new(expr),
            }),
            at: Pos(0),
        }
    });
    combine(prop_oneof![3 => leaf(), 1 => lambda])
}

const SOUP: &[&str] = &[
    "(",
    ")",
    ",",
    ":",
    "/",
    "'",
    "''",
    "'open'",
    "'x''y'",
    "and",
    "OR",
    "not",
    "eq",
    "gt",
    "le",
    "status",
    "Status",
    "displayName",
    "createdDateTime",
    "domainNames",
    "domainNames/any",
    "domainNames/all",
    "s",
    "startswith",
    "endswith(",
    "contains",
    "any(",
    "true",
    "null",
    "1",
    "-1",
    "9223372036854775808",
    "2023-11-16T09:41:24Z",
    "2024-01-01T00:00:00+02:00",
    "ns.T'open'",
    "ns.",
    "$filter=",
    "&",
    "%24top=",
    "top=",
    "+",
    "%",
    "%ZZ",
    "%27",
    "=",
    ".",
    " ",
    "\t",
    "é",
    "\u{0}",
    "💥",
];

fn soup() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(SOUP), 0..40),
        prop::bool::ANY,
    )
        .prop_map(|(tokens, spaced)| tokens.join(if spaced { " " } else { "" }))
}

/// Runs every entry point on `text`; reaching the end means nothing panicked.
fn exercise(text: &str) {
    let schema = health_issue();
    if let Ok(raw) = parse_filter(text) {
        let _ = validate_filter(&raw, &schema);
        let printed = raw.to_string();
        assert_eq!(parse_filter(&printed), Ok(raw), "printed: {printed:?}");
    }
    for query in [text.to_string(), format!("$filter={text}")] {
        if let Ok(raw) = parse_query(&query) {
            let _ = raw.present();
            let _ = validate_query(&raw, &schema);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        exercise(&text);
    }

    #[test]
    fn token_soup_never_panics(text in soup()) {
        exercise(&text);
    }

    #[test]
    fn printed_trees_reparse_identically(tree in expr()) {
        let printed = tree.to_string();
        prop_assert_eq!(parse_filter(&printed), Ok(tree), "printed: {:?}", printed);
    }
}
