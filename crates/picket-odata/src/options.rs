//! The query string as a whole: which `$` options were sent (the `$` is optional and names are
//! case-insensitive, spec §3.5), and their validation against an entity schema.

use crate::{parse_filter, validate_filter, EntitySchema, Expr, ODataError, PropType};

/// Largest page a client may ask for; larger `$top` values are clamped (spec §3.5).
pub const MAX_TOP: u32 = 1000;

/// Query options as sent, percent-decoded (`+` is a space), before validation.
/// Unknown parameters without `$` are ignored; unknown `$` parameters are an error.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RawQuery {
    pub filter: Option<String>,
    pub select: Option<String>,
    pub expand: Option<String>,
    pub orderby: Option<String>,
    pub top: Option<String>,
    pub skip: Option<String>,
    pub count: Option<String>,
    pub format: Option<String>,
    pub skiptoken: Option<String>,
}

impl RawQuery {
    /// Names (canonical, with `$`) of the options present, in a fixed order.
    pub fn present(&self) -> Vec<&'static str> {
        [
            ("$filter", &self.filter),
            ("$select", &self.select),
            ("$expand", &self.expand),
            ("$orderby", &self.orderby),
            ("$top", &self.top),
            ("$skip", &self.skip),
            ("$count", &self.count),
            ("$format", &self.format),
            ("$skiptoken", &self.skiptoken),
        ]
        .into_iter()
        .filter(|(_, value)| value.is_some())
        .map(|(name, _)| name)
        .collect()
    }

    fn slot(&mut self, name: &str) -> Option<(&'static str, &mut Option<String>)> {
        Some(match name {
            "filter" => ("$filter", &mut self.filter),
            "select" => ("$select", &mut self.select),
            "expand" => ("$expand", &mut self.expand),
            "orderby" => ("$orderby", &mut self.orderby),
            "top" => ("$top", &mut self.top),
            "skip" => ("$skip", &mut self.skip),
            "count" => ("$count", &mut self.count),
            "format" => ("$format", &mut self.format),
            "skiptoken" => ("$skiptoken", &mut self.skiptoken),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// Canonical property name.
    pub property: &'static str,
    pub descending: bool,
}

/// Query options checked against a schema: the only form the store accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidatedQuery {
    pub filter: Option<Expr>,
    /// Canonical top-level property names, in the order asked, without duplicates.
    pub select: Option<Vec<&'static str>>,
    /// Canonical navigation property names.
    pub expand: Vec<&'static str>,
    pub orderby: Vec<OrderBy>,
    /// Already clamped to [`MAX_TOP`].
    pub top: Option<u32>,
    pub skip: u64,
    pub count: bool,
    /// Where the page starts (keyset), from a `$skiptoken` this service issued.
    pub skiptoken: Option<crate::SkipToken>,
}

/// Splits and decodes a raw query string (without the leading `?`).
pub fn parse_query(query: &str) -> Result<RawQuery, ODataError> {
    let mut raw = RawQuery::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let lower = name.to_ascii_lowercase();
        let has_dollar = lower.starts_with('$');
        let bare = lower.strip_prefix('$').unwrap_or(&lower);
        if let Some((canonical, slot)) = raw.slot(bare) {
            if slot.is_some() {
                return Err(invalid(format!(
                    "Query option '{canonical}' was specified more than once"
                )));
            }
            if value.is_empty() {
                return Err(invalid(format!(
                    "Query option '{canonical}' must have a value"
                )));
            }
            *slot = Some(value.into_owned());
        } else if bare == "search" {
            // Known OData options this server does not implement: refuse rather than ignore,
            // so clients don't take an unsearched result for a searched one.
            return Err(invalid(format!("Query option '${bare}' is not supported")));
        } else if has_dollar {
            return Err(invalid(format!("Query option '{name}' is not supported")));
        }
    }
    Ok(raw)
}

fn invalid(message: String) -> ODataError {
    ODataError::InvalidOption(message)
}

fn bad_value(option: &str, value: &str, why: &str) -> ODataError {
    invalid(format!(
        "Invalid value '{value}' for query option '{option}': {why}"
    ))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_top(value: &str) -> Result<u32, ODataError> {
    if !is_digits(value) || value.bytes().all(|b| b == b'0') {
        return Err(bad_value("$top", value, "must be a positive integer"));
    }
    // Digits only, so a parse failure means too large for u64: clamp like any other big value.
    let top = value.parse::<u64>().unwrap_or(u64::MAX);
    Ok(u32::try_from(top).unwrap_or(MAX_TOP).min(MAX_TOP))
}

fn parse_skip(value: &str) -> Result<u64, ODataError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|_| is_digits(value))
        .ok_or_else(|| bad_value("$skip", value, "must be a non-negative integer"))
}

/// Comma-separated items, trimmed; an empty item is an error.
fn items<'v>(option: &str, value: &'v str) -> Result<Vec<&'v str>, ODataError> {
    let count = value.split(',').count();
    if count > MAX_LIST_ITEMS {
        return Err(invalid(format!(
            "Query option '{option}' has {count} items; at most {MAX_LIST_ITEMS} are allowed"
        )));
    }
    value
        .split(',')
        .map(str::trim)
        .map(|item| {
            if item.is_empty() {
                Err(bad_value(option, value, "empty item in list"))
            } else {
                Ok(item)
            }
        })
        .collect()
}

fn not_found(kind: &str, name: &str, schema: &EntitySchema) -> ODataError {
    invalid(format!(
        "Could not find a {kind} named '{name}' on type '{}'",
        schema.entity
    ))
}

/// Matches `wanted` case-insensitively against canonical names.
fn lookup(names: &[&'static str], wanted: &str) -> Option<&'static str> {
    names
        .iter()
        .copied()
        .find(|name| name.eq_ignore_ascii_case(wanted))
}

fn parse_select(
    value: &str,
    schema: &EntitySchema,
) -> Result<Option<Vec<&'static str>>, ODataError> {
    let mut selected = Vec::new();
    let mut all = false;
    for item in items("$select", value)? {
        if item == "*" {
            all = true;
            continue;
        }
        let name =
            lookup(&schema.selectable, item).ok_or_else(|| not_found("property", item, schema))?;
        if !selected.contains(&name) {
            selected.push(name);
        }
    }
    Ok((!all).then_some(selected))
}

fn parse_expand(value: &str, schema: &EntitySchema) -> Result<Vec<&'static str>, ODataError> {
    let mut expanded = Vec::new();
    for item in items("$expand", value)? {
        if item.contains('(') {
            return Err(invalid(
                "Nested query options in $expand are not supported".to_string(),
            ));
        }
        if item == "*" {
            return Err(bad_value("$expand", value, "'*' is not supported"));
        }
        let name = lookup(&schema.expandable, item)
            .ok_or_else(|| not_found("navigation property", item, schema))?;
        if !expanded.contains(&name) {
            expanded.push(name);
        }
    }
    Ok(expanded)
}

/// Most `$orderby` terms; each property may appear once, so real clients never come close.
pub const MAX_ORDERBY_TERMS: usize = 16;
/// Most `$select` and `$expand` items, duplicates included.
pub const MAX_LIST_ITEMS: usize = 64;

fn parse_orderby(value: &str, schema: &EntitySchema) -> Result<Vec<OrderBy>, ODataError> {
    let terms = items("$orderby", value)?;
    if terms.len() > MAX_ORDERBY_TERMS {
        return Err(invalid(format!(
            "Query option '$orderby' has {} terms; at most {MAX_ORDERBY_TERMS} are allowed",
            terms.len()
        )));
    }
    let order: Vec<OrderBy> = terms
        .into_iter()
        .map(|item| {
            let mut words = item.split_whitespace();
            let name = words.next().unwrap_or_default();
            let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(_) => {
                    return Err(bad_value(
                        "$orderby",
                        value,
                        &format!("expected 'asc' or 'desc' after '{name}'"),
                    ))
                }
            };
            if words.next().is_some() {
                return Err(bad_value(
                    "$orderby",
                    value,
                    &format!("expected ',' after the direction of '{name}'"),
                ));
            }
            let prop = schema
                .property(name)
                .ok_or_else(|| not_found("property", name, schema))?;
            if !prop.sortable || prop.ty == PropType::StringCollection {
                return Err(invalid(format!(
                    "Property '{}' cannot be used in $orderby",
                    prop.name
                )));
            }
            Ok(OrderBy {
                property: prop.name,
                descending,
            })
        })
        .collect::<Result<_, _>>()?;
    for (i, term) in order.iter().enumerate() {
        if order[..i].iter().any(|o| o.property == term.property) {
            return Err(invalid(format!(
                "Duplicate property named '{}' is not supported in '$orderby'",
                term.property
            )));
        }
    }
    Ok(order)
}

/// Validates every present option against `schema`.
pub fn validate_query(raw: &RawQuery, schema: &EntitySchema) -> Result<ValidatedQuery, ODataError> {
    let mut query = ValidatedQuery::default();
    if let Some(top) = &raw.top {
        query.top = Some(parse_top(top)?);
    }
    if let Some(skip) = &raw.skip {
        query.skip = parse_skip(skip)?;
    }
    if let Some(count) = &raw.count {
        query.count = match count.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(bad_value("$count", count, "must be true or false")),
        };
    }
    if let Some(format) = &raw.format {
        if !format.eq_ignore_ascii_case("json") {
            return Err(bad_value("$format", format, "only json is supported"));
        }
    }
    if let Some(select) = &raw.select {
        query.select = parse_select(select, schema)?;
    }
    if let Some(expand) = &raw.expand {
        query.expand = parse_expand(expand, schema)?;
    }
    if let Some(orderby) = &raw.orderby {
        query.orderby = parse_orderby(orderby, schema)?;
    }
    if let Some(filter) = &raw.filter {
        query.filter = Some(validate_filter(&parse_filter(filter)?, schema)?);
    }
    if let Some(token) = &raw.skiptoken {
        query.skiptoken = Some(crate::SkipToken::decode(token, raw)?);
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_schemas::{health_issue, sensor};
    use crate::{CmpOp, Literal, Operand};

    /// The options present as `$name=value` pairs, in canonical order.
    fn pairs(raw: &RawQuery) -> Vec<String> {
        let values = [
            &raw.filter,
            &raw.select,
            &raw.expand,
            &raw.orderby,
            &raw.top,
            &raw.skip,
            &raw.count,
            &raw.format,
            &raw.skiptoken,
        ];
        let names = raw.present();
        values
            .into_iter()
            .flatten()
            .zip(names)
            .map(|(value, name)| format!("{name}={value}"))
            .collect()
    }

    fn check(input: &str, expected: Result<&[&str], &str>) {
        let actual = parse_query(input).map(|raw| pairs(&raw));
        let expected = expected
            .map(|pairs| pairs.iter().map(|p| p.to_string()).collect())
            .map_err(|message| invalid(message.to_string()));
        assert_eq!(actual, expected, "input: {input:?}");
    }

    #[test]
    fn parses_query_strings() {
        check("", Ok(&[]));
        check("$top=5", Ok(&["$top=5"]));
        check("%24top=5", Ok(&["$top=5"]));
        check("top=5", Ok(&["$top=5"]));
        check("$TOP=5", Ok(&["$top=5"]));
        check("Top=5", Ok(&["$top=5"]));
        check(
            "$filter=status+eq+%27open%27&$select=id,status",
            Ok(&["$filter=status eq 'open'", "$select=id,status"]),
        );
        check("$filter=a%2Bb", Ok(&["$filter=a+b"]));
        check(
            "$format=json&$count=true&$skip=1&$top=2&$orderby=id&$expand=x&$select=id&$filter=a",
            Ok(&[
                "$filter=a",
                "$select=id",
                "$expand=x",
                "$orderby=id",
                "$top=2",
                "$skip=1",
                "$count=true",
                "$format=json",
            ]),
        );
        check("api-version=1&top=3", Ok(&["$top=3"]));
        check("a=&&&b&$top=1&", Ok(&["$top=1"]));
        check(
            "$top=1&top=2",
            Err("Query option '$top' was specified more than once"),
        );
        check(
            "$filter=a&%24FILTER=b",
            Err("Query option '$filter' was specified more than once"),
        );
        check("$filter=", Err("Query option '$filter' must have a value"));
        check("$count", Err("Query option '$count' must have a value"));
        check(
            "$search=foo",
            Err("Query option '$search' is not supported"),
        );
        check("search=foo", Err("Query option '$search' is not supported"));
        // Accepted as an option; whether the token is one of ours is validation's question.
        check("$SkipToken=abc", Ok(&["$skiptoken=abc"]));
        check("$foo=1", Err("Query option '$foo' is not supported"));
        check(
            "$apply=x&$top=1",
            Err("Query option '$apply' is not supported"),
        );
        check("$=1", Err("Query option '$' is not supported"));
    }

    /// The non-default parts of a validated query, compactly.
    fn render(q: &ValidatedQuery) -> String {
        let mut parts = Vec::new();
        if let Some(filter) = &q.filter {
            parts.push(format!("filter={filter:?}"));
        }
        if let Some(select) = &q.select {
            parts.push(format!("select={}", select.join(",")));
        }
        if !q.expand.is_empty() {
            parts.push(format!("expand={}", q.expand.join(",")));
        }
        if !q.orderby.is_empty() {
            let items: Vec<String> = q
                .orderby
                .iter()
                .map(|o| format!("{}{}", o.property, if o.descending { " desc" } else { "" }))
                .collect();
            parts.push(format!("orderby={}", items.join(",")));
        }
        if let Some(top) = q.top {
            parts.push(format!("top={top}"));
        }
        if q.skip != 0 {
            parts.push(format!("skip={}", q.skip));
        }
        if q.count {
            parts.push("count".to_string());
        }
        parts.join(" ")
    }

    fn check_valid(query: &str, expected: Result<&str, &str>) {
        let actual = parse_query(query)
            .and_then(|raw| validate_query(&raw, &sensor()))
            .map(|q| render(&q));
        let expected = expected
            .map(str::to_string)
            .map_err(|message| invalid(message.to_string()));
        assert_eq!(actual, expected, "query: {query:?}");
    }

    #[test]
    fn validates_options() {
        check_valid("", Ok(""));
        check_valid("$top=5", Ok("top=5"));
        check_valid("$top=007", Ok("top=7"));
        check_valid("$top=1000", Ok("top=1000"));
        check_valid("$top=5000", Ok("top=1000"));
        check_valid("$top=99999999999999999999999", Ok("top=1000"));
        for bad in ["0", "-1", "1.5", "abc", "+5", " 5", "00"] {
            let message = format!(
                "Invalid value '{bad}' for query option '$top': must be a positive integer"
            );
            check_valid(&format!("$top={}", bad.replace('+', "%2B")), Err(&message));
        }
        check_valid("$skip=0", Ok(""));
        check_valid("$skip=20", Ok("skip=20"));
        check_valid(
            "$skip=-1",
            Err("Invalid value '-1' for query option '$skip': must be a non-negative integer"),
        );
        check_valid(
            "$skip=99999999999999999999999",
            Err("Invalid value '99999999999999999999999' for query option '$skip': must be a non-negative integer"),
        );
        check_valid("$count=TRUE", Ok("count"));
        check_valid("$count=false", Ok(""));
        check_valid(
            "$count=1",
            Err("Invalid value '1' for query option '$count': must be true or false"),
        );
        check_valid("$format=JSON", Ok(""));
        check_valid(
            "$format=xml",
            Err("Invalid value 'xml' for query option '$format': only json is supported"),
        );
        // $select
        check_valid(
            "$select=DisplayName, id ,displayname",
            Ok("select=displayName,id"),
        );
        check_valid("$select=settings", Ok("select=settings"));
        check_valid("$select=*", Ok(""));
        check_valid("$select=id,*", Ok(""));
        check_valid(
            "$select=foo",
            Err("Could not find a property named 'foo' on type 'microsoft.graph.security.sensor'"),
        );
        check_valid(
            "$select=settings/description",
            Err("Could not find a property named 'settings/description' on type 'microsoft.graph.security.sensor'"),
        );
        check_valid(
            "$select=id,,version",
            Err("Invalid value 'id,,version' for query option '$select': empty item in list"),
        );
        // $expand
        check_valid("$expand=HEALTHISSUES", Ok("expand=healthIssues"));
        check_valid(
            "$expand=healthIssues($select=id)",
            Err("Nested query options in $expand are not supported"),
        );
        check_valid(
            "$expand=*",
            Err("Invalid value '*' for query option '$expand': '*' is not supported"),
        );
        check_valid(
            "$expand=issues",
            Err("Could not find a navigation property named 'issues' on type 'microsoft.graph.security.sensor'"),
        );
        // $orderby
        check_valid("$orderby=displayName", Ok("orderby=displayName"));
        check_valid(
            "$orderby=createdDateTime%20DESC,DisplayName+asc",
            Ok("orderby=createdDateTime desc,displayName"),
        );
        check_valid(
            "$orderby=settings/description desc",
            Ok("orderby=settings/description desc"),
        );
        check_valid(
            "$orderby=nope",
            Err("Could not find a property named 'nope' on type 'microsoft.graph.security.sensor'"),
        );
        check_valid(
            "$orderby=deploymentStatus",
            Err("Property 'deploymentStatus' cannot be used in $orderby"),
        );
        check_valid(
            "$orderby=domainNames",
            Err("Property 'domainNames' cannot be used in $orderby"),
        );
        check_valid(
            "$orderby=id sideways",
            Err("Invalid value 'id sideways' for query option '$orderby': expected 'asc' or 'desc' after 'id'"),
        );
        check_valid(
            "$orderby=id asc desc",
            Err("Invalid value 'id asc desc' for query option '$orderby': expected ',' after the direction of 'id'"),
        );
        check_valid(
            "$orderby=id,",
            Err("Invalid value 'id,' for query option '$orderby': empty item in list"),
        );
        // $filter errors surface as InvalidFilter.
        assert_eq!(
            parse_query("$filter=helthStatus+eq+'healthy'")
                .and_then(|raw| validate_query(&raw, &sensor())),
            Err(ODataError::InvalidFilter {
                message: "unknown property 'helthStatus'".into(),
                position: 0
            })
        );
    }

    #[test]
    fn a_skiptoken_must_be_one_this_service_issued_for_the_query() {
        let issued = crate::SkipToken {
            after: vec![crate::KeyValue::Text("a".into())],
        };
        let raw = parse_query("$filter=status eq 'open'").expect("parses");
        let token = issued.encode(&raw);
        let sent = parse_query(&format!("$filter=status eq 'open'&$skiptoken={token}"))
            .and_then(|raw| validate_query(&raw, &health_issue()))
            .expect("valid");
        assert_eq!(sent.skiptoken, Some(issued));
        let moved = parse_query(&format!("$filter=status eq 'closed'&$skiptoken={token}"))
            .and_then(|raw| validate_query(&raw, &health_issue()));
        assert!(matches!(moved, Err(ODataError::InvalidOption(m)) if m.contains("$skiptoken")));
    }

    #[test]
    fn validates_a_full_query() {
        let raw = parse_query(
            "$filter=status+eq+'OPEN'&$top=10&$skip=5&$count=true&$select=id,status&$orderby=createdDateTime+desc",
        );
        let query = raw.and_then(|raw| validate_query(&raw, &health_issue()));
        let expected = ValidatedQuery {
            filter: Some(Expr::Compare {
                left: Operand::Property("status".into()),
                op: CmpOp::Eq,
                right: Literal::Enum("open".into()),
            }),
            select: Some(vec!["id", "status"]),
            expand: vec![],
            orderby: vec![OrderBy {
                property: "createdDateTime",
                descending: true,
            }],
            top: Some(10),
            skip: 5,
            count: true,
            skiptoken: None,
        };
        assert_eq!(query, Ok(expected));
    }

    #[test]
    fn error_display() {
        let err = ODataError::InvalidFilter {
            message: "unknown property 'helthStatus'".into(),
            position: 0,
        };
        assert_eq!(
            err.to_string(),
            "Invalid filter clause: unknown property 'helthStatus' at 0"
        );
    }
}
