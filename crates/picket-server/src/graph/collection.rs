//! Collection responses: page size from `$top` or the server default, `@odata.count` when
//! asked, and an `@odata.nextLink` that repeats every original option with a `$skiptoken`
//! after the page's last row (listings paged by key) or `$skip` advanced (documents),
//! absolute on the host the client called (spec §0, §3.6).

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::graph::render::Collection;
use picket_odata::{parse_query, validate_query, EntitySchema, RawQuery, ValidatedQuery};
use picket_store::{Page, PageRequest};

/// Query options of one request, raw (for nextLinks) and validated (for the store).
pub struct CollectionQuery {
    pub raw: RawQuery,
    pub valid: ValidatedQuery,
}

impl CollectionQuery {
    pub fn parse(query: &str, schema: &EntitySchema) -> Result<Self, ApiError> {
        let raw = parse_query(query)?;
        let valid = validate_query(&raw, schema)?;
        Ok(Self { raw, valid })
    }

    pub fn page_request(&self, default_size: u32) -> PageRequest {
        PageRequest {
            skip: self.valid.skip,
            size: self.valid.top.unwrap_or(default_size),
        }
    }
}

/// Refuses options that make no sense on a single entity (spec §1.9: `$select`/`$expand` only).
pub fn entity_query(query: &str, schema: &EntitySchema) -> Result<ValidatedQuery, ApiError> {
    let raw = parse_query(query)?;
    if let Some(option) = raw
        .present()
        .into_iter()
        .find(|o| !matches!(*o, "$select" | "$expand" | "$format"))
    {
        return Err(ApiError::BadRequest(format!(
            "Query option '{option}' is not allowed on a single entity"
        )));
    }
    Ok(validate_query(&raw, schema)?)
}

/// Characters escaped in nextLink values: everything but unreserved characters and a few
/// harmless sub-delimiters, so a value never breaks the query string it sits in.
const VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b':')
    .remove(b'/');

/// Where the next page starts: after a key (listings paged by key) or at a position.
enum Next {
    Token(String),
    Skip(u64),
}

fn next_link(ctx: &RequestContext, raw: &RawQuery, next: Next, size: u32) -> String {
    let top = size.to_string();
    let (skip, token) = match next {
        Next::Skip(n) => (Some(n.to_string()), None),
        Next::Token(t) => (None, Some(t)),
    };
    let options: [(&str, Option<&str>); 9] = [
        ("$filter", raw.filter.as_deref()),
        ("$select", raw.select.as_deref()),
        ("$expand", raw.expand.as_deref()),
        ("$orderby", raw.orderby.as_deref()),
        ("$count", raw.count.as_deref()),
        ("$format", raw.format.as_deref()),
        ("$top", Some(&top)),
        ("$skip", skip.as_deref()),
        ("$skiptoken", token.as_deref()),
    ];
    // Option names keep their literal `$`, as Graph's own links do (spec §0).
    let query: Vec<String> = options
        .iter()
        .filter_map(|(name, value)| {
            value.map(|v| format!("{name}={}", percent_encoding::utf8_percent_encode(v, VALUE)))
        })
        .collect();
    format!("{}/{}?{}", ctx.version_root(), ctx.path, query.join("&"))
}

/// One page as a [`Collection`]: context reflecting `$select`, count if asked, and a nextLink
/// when rows remain (spec §3.6).
pub fn collection<'a, T, V>(
    ctx: &RequestContext,
    context_fragment: &str,
    query: &CollectionQuery,
    page_request: PageRequest,
    page: &'a Page<T>,
    total: Option<u64>,
    view: impl FnMut(&'a T) -> V,
) -> Collection<V> {
    let next_link = page.has_more.then(|| {
        let next = match &page.next {
            Some(token) => Next::Token(token.encode(&query.raw)),
            None => Next::Skip(page_request.skip + u64::from(page_request.size)),
        };
        next_link(ctx, &query.raw, next, page_request.size)
    });
    Collection {
        context: ctx.metadata(&select_fragment(context_fragment, &query.valid)),
        count: total,
        next_link,
        items: page.items.iter().map(view).collect(),
    }
}

/// `sensors(a,b)` when `$select` narrowed the shape (spec §3.3).
pub fn select_fragment(fragment: &str, query: &ValidatedQuery) -> String {
    match &query.select {
        Some(props) => match fragment.split_once("/$entity") {
            Some((head, _)) => format!("{head}({})/$entity", props.join(",")),
            None => format!("{fragment}({})", props.join(",")),
        },
        None => fragment.to_string(),
    }
}

/// Entities held as Graph JSON documents (identity accounts, sensor migrations): `$filter`,
/// then `$orderby`, ties broken by `tie` — the meaning the SQL writer gives the column-backed
/// collections.
pub fn filter_and_sort(
    mut docs: Vec<serde_json::Value>,
    query: &ValidatedQuery,
    tie: &str,
) -> Vec<serde_json::Value> {
    if let Some(filter) = &query.filter {
        docs.retain(|d| picket_odata::eval::matches(filter, d));
    }
    picket_odata::eval::sort(&mut docs, &query.orderby, tie);
    docs
}

/// One page of documents already filtered and ordered.
pub fn document_page(
    mut docs: Vec<serde_json::Value>,
    page: PageRequest,
) -> Page<serde_json::Value> {
    let start = usize::try_from(page.skip)
        .unwrap_or(usize::MAX)
        .min(docs.len());
    let end = start.saturating_add(page.size as usize).min(docs.len());
    let has_more = end < docs.len();
    docs.truncate(end);
    Page {
        has_more,
        items: docs.split_off(start),
        next: None,
    }
}
