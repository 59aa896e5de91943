//! A migration written once for both engines (`migrations/both/`), made PostgreSQL's: the
//! logical schema is the same, and only these spellings differ.
//!
//! - `TEXT` is `TEXT COLLATE "C"`: bytewise, as SQLite's BINARY, so ordering and paging match.
//! - `COLLATE NOCASE` is dropped: PostgreSQL compares such columns as `lower(column)`, which
//!   under "C" folds ASCII only, exactly as NOCASE does.
//! - `INTEGER` is `BIGINT` (SQLite's integers are 64-bit).
//!
//! What cannot be spelt once is refused, so it is written per engine instead: an index in a
//! migration that declares NOCASE columns (PostgreSQL indexes them as `lower(column)`), and
//! SQLite's `WITHOUT ROWID`. Quoted text and comments pass through unchanged.

/// Why a shared migration cannot be spelt once.
#[derive(Debug, PartialEq, Eq)]
pub struct NotShared(pub &'static str);

/// The PostgreSQL text of a shared migration.
pub fn for_postgres(sql: &str) -> Result<String, NotShared> {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut words = Vec::new();
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        let len = if rest.starts_with("--") {
            rest.find('\n').unwrap_or(rest.len())
        } else if c == '\'' || c == '"' {
            rest[1..].find(c).map_or(rest.len(), |end| end + 2)
        } else if c.is_ascii_alphanumeric() || c == '_' {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        let (token, tail) = rest.split_at(len);
        rest = tail;
        if !(c.is_ascii_alphabetic() || c == '_') {
            out.push_str(token);
            continue;
        }
        let word = token.to_ascii_uppercase();
        match word.as_str() {
            "TEXT" => out.push_str("TEXT COLLATE \"C\""),
            "INTEGER" => out.push_str("BIGINT"),
            "NOCASE" if words.last().map(String::as_str) == Some("COLLATE") => {
                // Drop the `COLLATE` already written and the blank before it.
                let kept = out.trim_end().len() - "COLLATE".len();
                out.truncate(out[..kept].trim_end().len());
            }
            "ROWID" if words.last().map(String::as_str) == Some("WITHOUT") => {
                return Err(NotShared("WITHOUT ROWID is SQLite's alone"));
            }
            _ => out.push_str(token),
        }
        words.push(word);
    }
    if words.iter().any(|w| w == "NOCASE") && words.iter().any(|w| w == "INDEX") {
        return Err(NotShared(
            "PostgreSQL indexes NOCASE columns as lower(column): write this migration per engine",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_the_types_as_postgresql_does() {
        assert_eq!(
            for_postgres(
                "-- a TEXT note\nALTER TABLE sensors ADD COLUMN notes TEXT COLLATE NOCASE;\n\
                 ALTER TABLE sensors ADD COLUMN n integer NOT NULL DEFAULT 0;\n\
                 UPDATE sensors SET notes = 'TEXT';"
            ),
            Ok(
                "-- a TEXT note\nALTER TABLE sensors ADD COLUMN notes TEXT COLLATE \"C\";\n\
                ALTER TABLE sensors ADD COLUMN n BIGINT NOT NULL DEFAULT 0;\n\
                UPDATE sensors SET notes = 'TEXT';"
                    .to_string()
            )
        );
    }

    #[test]
    fn refuses_what_differs_beyond_spelling() {
        assert_eq!(
            for_postgres("CREATE TABLE t (a TEXT) WITHOUT ROWID;"),
            Err(NotShared("WITHOUT ROWID is SQLite's alone"))
        );
        let nocase_index =
            "ALTER TABLE t ADD COLUMN a TEXT COLLATE NOCASE; CREATE INDEX t_a ON t (tenant_id, a);";
        assert!(for_postgres(nocase_index).is_err_and(|e| e.0.contains("lower(column)")));
        assert!(for_postgres("CREATE INDEX t_a ON t (tenant_id, a);").is_ok());
    }
}
