//! The small part of OData the client uses: query strings, `eq` filters, bind references.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use uuid::Uuid;

/// Percent-decode (`+` stays `+`, as OData query values are not form-encoded).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse `a=b&c=d` into decoded pairs.
pub fn query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// `column eq 'literal'` (case-insensitive compare, as Dataverse string filters are).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Column.
    pub column: String,
    /// Literal, unescaped.
    pub value: String,
}

impl Filter {
    /// Does a record match?
    pub fn matches(&self, r: &Map<String, Value>) -> bool {
        r.get(&self.column)
            .and_then(Value::as_str)
            .is_some_and(|v| v.to_lowercase() == self.value.to_lowercase())
    }
}

/// Parse a filter of the form `column eq 'text'` (with `''` for a quote). Anything else is a
/// 400 with Dataverse's wording.
pub fn parse_filter(f: &str) -> Result<Filter, String> {
    let f = f.trim();
    let (column, rest) = f
        .split_once(' ')
        .ok_or_else(|| format!("Syntax error at position {} in '{f}'.", f.len()))?;
    let rest = rest.trim_start();
    let literal = rest
        .strip_prefix("eq ")
        .map(str::trim_start)
        .ok_or_else(|| {
            format!("Syntax error: only 'eq' is supported by this emulator in '{f}'.")
        })?;
    let inner = literal.strip_prefix('\'').ok_or_else(|| {
        format!(
            "Syntax error at position {} in '{f}'.",
            f.len() - literal.len()
        )
    })?;
    let mut value = String::new();
    let mut chars = inner.chars().peekable();
    let mut closed = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                value.push('\'');
                continue;
            }
            closed = true;
            break;
        }
        value.push(c);
    }
    if !closed {
        return Err(format!(
            "There is an unterminated literal at position {} in '{f}'.",
            f.len() - literal.len()
        ));
    }
    let trailing: String = chars.collect();
    if trailing.matches('\'').count() % 2 == 1 {
        // A stray quote opens a literal that never closes, which is how Dataverse reads an
        // unescaped quote ("lastname eq 'O'Bryan'").
        return Err(format!(
            "There is an unterminated literal at position {} in '{f}'.",
            f.len() - 1
        ));
    }
    if !trailing.trim().is_empty() {
        return Err(format!(
            "Syntax error at position {} in '{f}': unexpected '{}'.",
            f.len() - trailing.len(),
            trailing.trim()
        ));
    }
    Ok(Filter {
        column: column.to_string(),
        value,
    })
}

/// `/contacts(<id>)` or `contacts(<id>)` -> (set, id).
pub fn parse_bind(s: &str) -> Option<(String, Uuid)> {
    let s = s.trim_start_matches('/');
    let s = s.rsplit("/api/data/v9.2/").next().unwrap_or(s);
    let (set, rest) = s.split_once('(')?;
    let id = Uuid::parse_str(rest.strip_suffix(')')?).ok()?;
    Some((set.to_string(), id))
}

/// The quoted argument after `key` in `LogicalName='incident')...`.
pub fn quoted_arg(s: &str, key: &str) -> Option<String> {
    let start = s.find(key)? + key.len();
    let rest = s.get(start..)?.strip_prefix('\'')?;
    Some(rest.split('\'').next()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert_eq!(
            parse_filter("emailaddress1 eq 'o''brien@x.com'").map(|f| f.value),
            Ok("o'brien@x.com".to_string())
        );
        assert!(parse_filter("lastname eq 'O'Bryan'").is_err());
        assert!(parse_filter("emailaddress1 eq 'x' or emailaddress1 ne 'y'").is_err());
        assert!(parse_filter("emailaddress1 eq 'x").is_err());
    }
}
