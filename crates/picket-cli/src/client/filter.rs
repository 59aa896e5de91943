//! OData `$filter` text built from flags: values quoted with doubled single quotes (spec §1.9),
//! several values of one flag joined with `or`, flags with `and`, `--filter` text appended as is.

/// A string literal: `it's` → `'it''s'`.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[derive(Default)]
pub struct FilterBuilder {
    clauses: Vec<String>,
}

impl FilterBuilder {
    /// `property eq 'v'` for each value, or-ed.
    pub fn any_eq(&mut self, property: &str, values: &[String]) -> &mut Self {
        let parts: Vec<String> = values
            .iter()
            .map(|v| format!("{property} eq {}", literal(v)))
            .collect();
        self.push_or(parts)
    }

    /// `collection/any(x:x eq 'v')` for each value, or-ed.
    pub fn any_in(&mut self, collection: &str, values: &[String]) -> &mut Self {
        let parts: Vec<String> = values
            .iter()
            .map(|v| format!("{collection}/any(x:x eq {})", literal(v)))
            .collect();
        self.push_or(parts)
    }

    /// A sensor given by its short name matches every FQDN that starts with `name.`.
    pub fn any_sensor(&mut self, collection: &str, values: &[String]) -> &mut Self {
        let parts: Vec<String> = values
            .iter()
            .map(|v| {
                if v.contains('.') {
                    format!("{collection}/any(x:x eq {})", literal(v))
                } else {
                    format!(
                        "{collection}/any(x:startswith(x,{}))",
                        literal(&format!("{v}."))
                    )
                }
            })
            .collect();
        self.push_or(parts)
    }

    pub fn raw(&mut self, text: Option<&str>) -> &mut Self {
        if let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) {
            self.clauses.push(format!("({t})"));
        }
        self
    }

    fn push_or(&mut self, parts: Vec<String>) -> &mut Self {
        match parts.len() {
            0 => {}
            1 => self.clauses.extend(parts),
            _ => self.clauses.push(format!("({})", parts.join(" or "))),
        }
        self
    }

    pub fn build(&self) -> Option<String> {
        (!self.clauses.is_empty()).then(|| self.clauses.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn filters_from_flags() {
        let cases: Vec<(FilterBuilder, Option<&str>)> = vec![
            (FilterBuilder::default(), None),
            ({ let mut b = FilterBuilder::default(); b.any_eq("status", &s(&["open"])); b }, Some("status eq 'open'")),
            (
                { let mut b = FilterBuilder::default(); b.any_eq("status", &s(&["open", "suppressed"])).any_eq("severity", &s(&["high"])); b },
                Some("(status eq 'open' or status eq 'suppressed') and severity eq 'high'"),
            ),
            (
                { let mut b = FilterBuilder::default(); b.any_in("domainNames", &s(&["o'hare.com"])); b },
                Some("domainNames/any(x:x eq 'o''hare.com')"),
            ),
            (
                { let mut b = FilterBuilder::default(); b.any_sensor("sensorDNSNames", &s(&["DC1", "dc2.contoso.com"])); b },
                Some("(sensorDNSNames/any(x:startswith(x,'DC1.')) or sensorDNSNames/any(x:x eq 'dc2.contoso.com'))"),
            ),
            (
                { let mut b = FilterBuilder::default(); b.any_eq("healthStatus", &s(&["healthy"])).raw(Some("version ne '1'")).raw(Some(" ")); b },
                Some("healthStatus eq 'healthy' and (version ne '1')"),
            ),
        ];
        for (builder, expected) in cases {
            assert_eq!(builder.build().as_deref(), expected);
        }
        assert_eq!(literal("it's"), "'it''s'");
    }
}
