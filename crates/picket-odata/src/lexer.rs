//! Splits `$filter` text into tokens, each with the char offset where it starts.
//!
//! Offsets count chars, not bytes, because they are shown to clients who count what they typed.

use crate::ODataError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    Colon,
    /// Identifiers joined by `/` with no spaces: a property path, a keyword, an operator or a
    /// function name; the parser decides which from context.
    Path(Vec<String>),
    Str(String),
    Int(i64),
    /// Text as written; already checked to be an RFC 3339 date-time.
    DateTime(String),
    Enum {
        type_name: String,
        value: String,
    },
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

pub(crate) fn err(message: impl Into<String>, position: usize) -> ODataError {
    ODataError::InvalidFilter {
        message: message.into(),
        position,
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Chars that may appear in an unquoted number or date-time (`-5`, `2024-01-01T00:00:00+02:00`).
fn is_literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-')
}

/// Whether `text` lexes as a date-time literal.
pub(crate) fn is_datetime(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, ODataError> {
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        pos: 0,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.tok == Tok::Eof;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn next_token(&mut self) -> Result<Token, ODataError> {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let tok = match c {
            '(' | ')' | ',' | ':' => {
                self.pos += 1;
                match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    ',' => Tok::Comma,
                    _ => Tok::Colon,
                }
            }
            '\'' => Tok::Str(self.string()?),
            c if is_ident_start(c) => self.word()?,
            c if c.is_ascii_digit()
                || (c == '-' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.number_or_datetime()?
            }
            c => return Err(err(format!("unexpected character '{c}'"), start)),
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        self.chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// A property path, or a qualified enum literal such as `ns.Type'value'`.
    fn word(&mut self) -> Result<Tok, ODataError> {
        let first = self.ident();
        if self.peek() == Some('.') {
            let mut type_name = first;
            while self.peek() == Some('.') {
                self.pos += 1;
                if !self.peek().is_some_and(is_ident_start) {
                    return Err(err("expected a name after '.'", self.pos));
                }
                type_name.push('.');
                type_name.push_str(&self.ident());
            }
            if self.peek() != Some('\'') {
                return Err(err(
                    format!("expected a quoted enum value after '{type_name}'"),
                    self.pos,
                ));
            }
            let value = self.string()?;
            return Ok(Tok::Enum { type_name, value });
        }
        let mut segments = vec![first];
        while self.peek() == Some('/') {
            self.pos += 1;
            if !self.peek().is_some_and(is_ident_start) {
                return Err(err("expected a property name after '/'", self.pos));
            }
            segments.push(self.ident());
        }
        Ok(Tok::Path(segments))
    }

    /// A single-quoted string; `''` stands for one quote.
    fn string(&mut self) -> Result<String, ODataError> {
        let open = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(err("unterminated string literal", open)),
                Some('\'') if self.peek_at(1) == Some('\'') => {
                    value.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(value);
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn number_or_datetime(&mut self) -> Result<Tok, ODataError> {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(is_literal_char) {
            self.pos += 1;
        }
        let text: String = self
            .chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect();
        let digits = text.strip_prefix('-').unwrap_or(&text);
        if digits.chars().all(|c| c.is_ascii_digit()) {
            return text
                .parse()
                .map(Tok::Int)
                .map_err(|_| err(format!("integer literal '{text}' is out of range"), start));
        }
        if is_datetime(&text) {
            return Ok(Tok::DateTime(text));
        }
        Err(err(format!("invalid literal '{text}'"), start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> Tok {
        Tok::Path(s.split('/').map(String::from).collect())
    }

    fn check(input: &str, expected: Result<Vec<(Tok, usize)>, (&str, usize)>) {
        let actual = tokenize(input).map(|tokens| {
            tokens
                .into_iter()
                .filter(|t| t.tok != Tok::Eof)
                .map(|t| (t.tok, t.start))
                .collect::<Vec<_>>()
        });
        let expected = expected.map_err(|(message, position)| err(message, position));
        assert_eq!(actual, expected, "input: {input:?}");
    }

    #[test]
    fn table() {
        let s = |v: &str| Tok::Str(v.to_string());
        let dt = |v: &str| Tok::DateTime(v.to_string());
        check("", Ok(vec![]));
        check(" \t ", Ok(vec![]));
        check(
            "status eq 'open'",
            Ok(vec![(path("status"), 0), (path("eq"), 7), (s("open"), 10)]),
        );
        check(
            "a/b/any(s:s)",
            Ok(vec![
                (path("a/b/any"), 0),
                (Tok::LParen, 7),
                (path("s"), 8),
                (Tok::Colon, 9),
                (path("s"), 10),
                (Tok::RParen, 11),
            ]),
        );
        check("'it''s'", Ok(vec![(s("it's"), 0)]));
        check("''''", Ok(vec![(s("'"), 0)]));
        check("''", Ok(vec![(s(""), 0)]));
        check("'é ü'", Ok(vec![(s("é ü"), 0)]));
        check("-42 7", Ok(vec![(Tok::Int(-42), 0), (Tok::Int(7), 4)]));
        check("-9223372036854775808", Ok(vec![(Tok::Int(i64::MIN), 0)]));
        check(
            "9223372036854775808",
            Err(("integer literal '9223372036854775808' is out of range", 0)),
        );
        check(
            "2023-11-16T09:41:24.2585071Z)",
            Ok(vec![
                (dt("2023-11-16T09:41:24.2585071Z"), 0),
                (Tok::RParen, 28),
            ]),
        );
        check(
            "2024-01-01T00:00:00+02:00",
            Ok(vec![(dt("2024-01-01T00:00:00+02:00"), 0)]),
        );
        check("2024-01-01", Err(("invalid literal '2024-01-01'", 0)));
        check("5eq", Err(("invalid literal '5eq'", 0)));
        check(
            "x eq ns.T'a''b'",
            Ok(vec![
                (path("x"), 0),
                (path("eq"), 2),
                (
                    Tok::Enum {
                        type_name: "ns.T".into(),
                        value: "a'b".into(),
                    },
                    5,
                ),
            ]),
        );
        check(
            "a.b eq 1",
            Err(("expected a quoted enum value after 'a.b'", 3)),
        );
        check("a. b", Err(("expected a name after '.'", 2)));
        check("a/ b", Err(("expected a property name after '/'", 2)));
        check("a/1", Err(("expected a property name after '/'", 2)));
        check("'abc", Err(("unterminated string literal", 0)));
        check("a eq 'x''", Err(("unterminated string literal", 5)));
        check("é", Err(("unexpected character 'é'", 0)));
        check("ab é", Err(("unexpected character 'é'", 3)));
        check("- 1", Err(("unexpected character '-'", 0)));
        check("a\nb", Err(("unexpected character '\n'", 1)));
    }
}
