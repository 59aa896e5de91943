//! `$skiptoken`: where the next page of a collection starts, as the sort key of the last row
//! sent (keyset paging). A deep page then costs what the first one does, where `$skip` would
//! scan every row before it. The token is opaque to clients, who follow `@odata.nextLink`
//! verbatim (spec §0); it is bound to the `$filter` and `$orderby` it was issued for, so a
//! token carried over to another query is refused instead of starting at a meaningless place.
//! It is not a secret: it only holds values of rows the caller was just sent.

use crate::{ODataError, RawQuery};
use base64::Engine;
use serde_json::Value;

/// Largest token accepted (a key of a few values; anything bigger was not issued here).
const MAX_TOKEN_LEN: usize = 4096;

/// One value of a sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    Null,
    Int(i64),
    Text(String),
}

/// The sort key of the last row of a page: the next page starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipToken {
    pub after: Vec<KeyValue>,
}

/// What a token is bound to: the query's `$filter` and `$orderby` as sent.
fn fingerprint(raw: &RawQuery) -> String {
    // FNV-1a: a check against misuse, not against forgery (see the module's comment).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [raw.filter.as_deref(), raw.orderby.as_deref()] {
        for b in part.unwrap_or("").bytes().chain([0xff]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

fn refused() -> ODataError {
    ODataError::InvalidOption(
        "Invalid value for query option '$skiptoken': it was not issued for this query; \
         follow @odata.nextLink as returned"
            .into(),
    )
}

impl SkipToken {
    /// The token for the next page of the query `raw`.
    pub fn encode(&self, raw: &RawQuery) -> String {
        let key: Vec<Value> = self
            .after
            .iter()
            .map(|v| match v {
                KeyValue::Null => Value::Null,
                KeyValue::Int(i) => Value::from(*i),
                KeyValue::Text(s) => Value::from(s.as_str()),
            })
            .collect();
        let body = serde_json::json!({ "q": fingerprint(raw), "k": key });
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string())
    }

    /// Reads a token sent back with the query `raw`.
    pub fn decode(token: &str, raw: &RawQuery) -> Result<Self, ODataError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(refused());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| refused())?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|_| refused())?;
        if body.get("q").and_then(Value::as_str) != Some(fingerprint(raw).as_str()) {
            return Err(refused());
        }
        let key = body
            .get("k")
            .and_then(Value::as_array)
            .ok_or_else(refused)?;
        let after = key
            .iter()
            .map(|v| match v {
                Value::Null => Ok(KeyValue::Null),
                Value::String(s) => Ok(KeyValue::Text(s.clone())),
                Value::Number(n) => n.as_i64().map(KeyValue::Int).ok_or_else(refused),
                _ => Err(refused()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if after.is_empty() {
            return Err(refused());
        }
        Ok(Self { after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(filter: Option<&str>, orderby: Option<&str>) -> RawQuery {
        RawQuery {
            filter: filter.map(Into::into),
            orderby: orderby.map(Into::into),
            ..RawQuery::default()
        }
    }

    #[test]
    fn a_token_round_trips_with_its_query() {
        let raw = query(Some("healthStatus eq 'healthy'"), None);
        let token = SkipToken {
            after: vec![
                KeyValue::Text("2026-01-01T00:00:00Z".into()),
                KeyValue::Null,
                KeyValue::Int(-3),
            ],
        };
        let text = token.encode(&raw);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(SkipToken::decode(&text, &raw).expect("valid"), token);
    }

    #[test]
    fn a_token_is_refused_with_another_filter_or_order() {
        let raw = query(Some("healthStatus eq 'healthy'"), Some("displayName"));
        let token = SkipToken {
            after: vec![KeyValue::Text("a".into())],
        }
        .encode(&raw);
        for other in [
            query(
                Some("healthStatus eq 'notHealthyHigh'"),
                Some("displayName"),
            ),
            query(Some("healthStatus eq 'healthy'"), None),
            query(None, Some("displayName")),
        ] {
            assert!(SkipToken::decode(&token, &other).is_err());
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let raw = RawQuery::default();
        let json = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let fp = fingerprint(&raw);
        for bad in [
            "".to_string(),
            "abc".into(),
            "!!!".into(),
            json("[]"),
            json(&format!(r#"{{"q":"{fp}","k":[]}}"#)),
            json(&format!(r#"{{"q":"{fp}","k":[1.5]}}"#)),
            json(&format!(r#"{{"q":"{fp}","k":[{{}}]}}"#)),
            json(&format!(r#"{{"q":"{fp}"}}"#)),
            "A".repeat(MAX_TOKEN_LEN + 1),
        ] {
            let err = SkipToken::decode(&bad, &raw).expect_err(&bad);
            assert!(err.to_string().contains("$skiptoken"), "{err}");
        }
        let good = json(&format!(r#"{{"q":"{fp}","k":["x",2,null]}}"#));
        assert!(SkipToken::decode(&good, &raw).is_ok());
    }
}
